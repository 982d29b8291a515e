"""Subject keys on real PostgreSQL: created once (one statement), the same key for every later reader."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime
from uuid import uuid4

import psycopg
import pytest

from shared.shredding import Erased, PostgresKeyStore, install

pytestmark = pytest.mark.integration


def store(database_url: str, cipher_key: str) -> PostgresKeyStore:
    return PostgresKeyStore(lambda: psycopg.connect(database_url, autocommit=True), cipher_key)


async def test_a_key_is_created_once_and_every_store_reads_the_same_one(database_url: str) -> None:
    install(database_url, None)
    cipher_key = base64.b64encode(os.urandom(32)).decode()
    subject = uuid4()
    first, second = store(database_url, cipher_key), store(database_url, cipher_key)
    created = first.key_for(subject, create=True)
    assert created is not None and len(created) == 32
    assert second.key_for(subject, create=True) == created  # the existing row, not a new key
    assert store(database_url, cipher_key).key_for(subject, create=False) == created


async def test_an_erased_key_is_not_created_again(database_url: str) -> None:
    install(database_url, None)
    keys, subject = store(database_url, base64.b64encode(os.urandom(32)).decode()), uuid4()
    keys.key_for(subject, create=True)
    assert keys.erase(subject, by="committee", basis="test", at=datetime(2026, 11, 23, tzinfo=UTC))
    with pytest.raises(Erased):
        store(database_url, base64.b64encode(os.urandom(32)).decode()).key_for(subject, create=True)


async def test_only_keys_not_cached_are_left_to_fetch(database_url: str) -> None:
    install(database_url, None)
    keys, subject, other = store(database_url, base64.b64encode(os.urandom(32)).decode()), uuid4(), uuid4()
    assert sorted(keys.uncached([subject, other, subject])) == sorted([subject, other])
    keys.key_for(subject, create=True)
    assert keys.uncached([subject, other]) == [other]


def test_the_mapper_finds_a_topics_rule_again_after_its_personal_data_changes() -> None:
    from eventsourcing.persistence import JSONTranscoder

    from shared.shredding import PersonalData, ShreddingMapper

    mapper = ShreddingMapper(transcoder=JSONTranscoder())
    assert mapper._rule("lianxin.registry.Member.Registered") is None
    rule = PersonalData("lianxin.registry.Member.", ("name",))
    mapper.personal_data = (rule,)
    assert mapper._rule("lianxin.registry.Member.Registered") is rule
    assert (
        mapper._rule("lianxin.registry.Member.Registered") is rule
    )  # the second time from the mapper's table
    assert mapper._rule("lianxin.registry.Org.Created") is None
    assert ShreddingMapper(transcoder=JSONTranscoder())._rule("lianxin.registry.Member.Registered") is None
