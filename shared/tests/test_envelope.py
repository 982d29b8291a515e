"""The CloudEvents envelope: valid against the CloudEvents 1.0 JSON schema, subjects derived from the type."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources

import jsonschema
import pytest
from pydantic import ValidationError

from shared.envelope import CloudEvent

SCHEMA = json.loads(resources.files("shared").joinpath("schemas/cloudevents-1.0.json").read_text())


def sample(**changes: object) -> CloudEvent:
    values: dict[str, object] = dict(
        id="0f8e:1",
        source="/lianxin/registry",
        type="cn.lianxin.registry.member_registered.v1",
        subject="0f8e",
        time=datetime(2026, 11, 22, tzinfo=UTC),
        tenantid="demo-university",
        sequence="42",
        correlationid="corr",
        data={"member_id": "0f8e"},
    )
    values.update(changes)
    return CloudEvent.model_validate(values)


def test_an_envelope_is_valid_cloudevents_json() -> None:
    jsonschema.validate(
        json.loads(sample().to_bytes()), SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )


def test_the_schema_refuses_an_envelope_without_a_source() -> None:
    document = json.loads(sample().to_bytes())
    del document["source"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, SCHEMA)


def test_the_subject_carries_service_tenant_and_event() -> None:
    assert sample().nats_subject() == "lianxin.registry.demo-university.member_registered"


def test_a_round_trip_keeps_the_notification_position() -> None:
    assert CloudEvent.from_bytes(sample().to_bytes()).notification_id == 42


@pytest.mark.parametrize("tenant", ["Demo", "a.b", "x", "demo university", "demo>"])
def test_tenant_ids_that_would_break_a_nats_subject_are_refused(tenant: str) -> None:
    with pytest.raises(ValidationError):
        sample(tenantid=tenant)
