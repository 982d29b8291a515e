"""CIPHER_KEY as a ring: the first key writes, every key reads, and what the library's AESCipher wrote before
still opens."""

from __future__ import annotations

import base64
import os

import pytest
from eventsourcing.cryptography import AESCipher
from eventsourcing.utils import Environment

from shared.fieldcrypt import FieldCipher
from shared.keyring import KeyRing, KeyRingCipher, key_id, parse_ring


def key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_the_first_key_writes_and_every_key_reads() -> None:
    old, new = key(), key()
    written_before = KeyRing.from_text(old).encrypt(b"before")
    ring = KeyRing.from_text(f"{new},{old}")
    assert ring.decrypt_with_index(written_before) == (b"before", 1)
    assert ring.decrypt_with_index(ring.encrypt(b"after")) == (b"after", 0)
    with pytest.raises(ValueError, match="no key"):
        KeyRing.from_text(new).decrypt(written_before)


def test_events_the_library_encrypted_open_under_the_ring() -> None:
    old = key()
    library = AESCipher(Environment(env={"CIPHER_KEY": old}))
    ring = KeyRingCipher(Environment(env={"CIPHER_KEY": f"{key()}, {old}"}))
    assert ring.decrypt(library.encrypt(b"state")) == b"state"
    assert library.decrypt(KeyRingCipher(Environment(env={"CIPHER_KEY": old})).encrypt(b"state")) == b"state"


def test_associated_data_binds_a_value_to_its_place() -> None:
    ring = KeyRing.from_text(key())
    sealed = ring.encrypt(b"subject key", b"subject-key:a")
    with pytest.raises(ValueError):
        ring.decrypt(sealed, b"subject-key:b")


def test_sealed_fields_open_under_a_ring_and_say_which_key() -> None:
    old, new = key(), key()
    token = FieldCipher(old).seal("王芳", "name")
    assert FieldCipher(f"{new},{old}").open_with_index(token or "", "name") == ("王芳", 1)


@pytest.mark.parametrize("value", ["", " , ", "bm90IGEga2V5", "not base64!"])
def test_a_bad_ring_is_refused(value: str) -> None:
    with pytest.raises(ValueError):
        parse_ring(value)


def test_key_ids_are_short_and_distinct() -> None:
    a, b = os.urandom(32), os.urandom(32)
    assert len(key_id(a)) == 16 and key_id(a) != key_id(b) and key_id(a) == key_id(a)
