"""The one field cipher: round trips, context binding, and values sealed by the two wrappers it replaced."""

from __future__ import annotations

import base64
import os

import pytest

from shared.fieldcrypt import FieldCipher

# Sealed before the merge, under this key, by notify's SecretBox (prefixed) and the registry's FieldCipher (bare).
OLD_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
OLD_NOTIFY_SECRET = "v1:J4ifdDB0MMjIVP8YUnGr20ilyS5f8o2+PNi8pKWJjhyVd1gb4V1I7NSM/82qpKGkaBas7T7Sm2DeSOE="
OLD_REGISTRY_PHONE = "Ct+SRCkPCmGoq3Qd4lK6ZVxs4VWtJkx2ytMnCQ2FhgKmndFtrpRT"


def fresh() -> FieldCipher:
    return FieldCipher(base64.b64encode(os.urandom(32)).decode())


def test_a_secret_sealed_by_notifys_old_box_still_opens() -> None:
    assert (
        FieldCipher(OLD_KEY).open(OLD_NOTIFY_SECRET, context="t-1|channel|ops")
        == "https://hooks.example/secret-42"
    )


def test_a_column_sealed_by_the_registrys_old_cipher_still_opens() -> None:
    assert FieldCipher(OLD_KEY).open(OLD_REGISTRY_PHONE, "members.phone") == "13800001111"


def test_a_sealed_value_opens_only_under_its_own_context() -> None:
    cipher = fresh()
    sealed = cipher.seal("李华", "members.name")
    assert sealed != "李华" and cipher.open(sealed, "members.name") == "李华"
    with pytest.raises(ValueError):
        cipher.open(sealed, "members.phone")


def test_another_key_cannot_open_a_sealed_value() -> None:
    with pytest.raises(ValueError):
        fresh().open(OLD_NOTIFY_SECRET, context="t-1|channel|ops")


def test_text_that_was_never_sealed_is_refused() -> None:
    with pytest.raises(ValueError):
        fresh().open("not sealed at all", "members.name")


def test_none_stays_none() -> None:
    assert fresh().seal(None) is None and fresh().open(None) is None
