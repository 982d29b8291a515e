"""Letter codes are drawn at random and kept in the letter; a letter whose code was derived (issued before)
still verifies by its stored code but can no longer complete a transfer without a token."""

from __future__ import annotations

import hashlib
from base64 import b32encode
from typing import Any
from uuid import UUID

import pytest

from shared.meta import event_meta
from transfer.application import TransferApplication
from transfer.domain import CaseNotFound, CaseState, DestinationKind, StepNotAllowed, TransferCase
from transfer.domain.letters import RANDOM_CODE

from .saga_world import issued


def derived(letter_id: UUID) -> str:
    """What codes used to be: anyone with the case id could compute them."""
    return b32encode(hashlib.sha256(letter_id.bytes).digest()).decode()[:16]


def test_a_new_code_is_random_and_not_derived_from_any_id(app: TransferApplication) -> None:
    cases = [issued(app, DestinationKind.OffPlatform) for _ in range(3)]
    codes = [c.letter["code"] for c in cases if c.letter is not None]
    assert len(set(codes)) == 3 and all(len(code) == 16 and code.isalnum() for code in codes)
    for case in cases:
        assert case.letter is not None and case.letter["code_kind"] == RANDOM_CODE
        assert case.letter["code"] != derived(UUID(case.letter["letter_id"]))


def test_a_wrong_code_confirms_nothing(app: TransferApplication) -> None:
    case = issued(app, DestinationKind.OffPlatform)
    with pytest.raises(CaseNotFound):
        app.confirm_by_code("A" * 16, {"handler_name": "张"}, case.id, event_meta("public"))
    assert app.get_case("uni", case.id).state is CaseState.LetterIssued


def test_a_letter_with_a_derived_code_cannot_be_confirmed_without_a_token(
    app: TransferApplication,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = app._letter

    def legacy(case: TransferCase, extra: list[Any], *, reissue: bool) -> dict[str, Any]:
        letter = original(case, extra, reissue=reissue)
        letter.pop("code_kind")
        return {**letter, "code": derived(UUID(letter["letter_id"]))}

    monkeypatch.setattr(app, "_letter", legacy)
    case = issued(app, DestinationKind.OffPlatform)
    assert case.letter is not None
    with pytest.raises(StepNotAllowed, match="paper receipt"):
        app.confirm_by_code(case.letter["code"], {"handler_name": "张"}, case.id, event_meta("public"))
    assert app.get_case("uni", case.id).state is CaseState.LetterIssued
