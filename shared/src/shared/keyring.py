"""CIPHER_KEY as a key ring, so the key can be rotated while the services run.

`CIPHER_KEY` holds one base64 AES key, or several separated by commas: the first encrypts, every one decrypts
(AES-GCM's tag tells which key sealed a value). Rotation (`lianxin keys rotate`, docs/audit.md): put the new
key first on every instance, re-encrypt what is stored under the old ones, then drop them.
"""

from __future__ import annotations

import base64
import hashlib
import os
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import Cipher

if TYPE_CHECKING:
    from eventsourcing.utils import Environment

KEY_SIZES = (16, 24, 32)


def parse_ring(value: str) -> list[bytes]:
    keys = [base64.b64decode(part.strip(), validate=True) for part in value.split(",") if part.strip()]
    if not keys:
        raise ValueError("CIPHER_KEY is empty")
    for key in keys:
        if len(key) not in KEY_SIZES:
            raise ValueError(f"a CIPHER_KEY entry has {len(key)} bytes; AES needs 16, 24 or 32")
    return keys


def key_id(key: bytes) -> str:
    """A short public name for a key (its digest's prefix), for progress rows and logs."""
    return hashlib.sha256(b"lianxin-key-id:" + key).hexdigest()[:16]


class KeyRing:
    """AES-GCM with the eventsourcing library's layout (nonce, tag, ciphertext) under a ring of keys."""

    def __init__(self, keys: list[bytes]) -> None:
        self.keys = keys
        self._aeads = [AESGCM(k) for k in keys]

    @classmethod
    def from_text(cls, value: str) -> KeyRing:
        return cls(parse_ring(value))

    @property
    def current(self) -> bytes:
        return self.keys[0]

    def encrypt(self, plaintext: bytes, aad: bytes | None = None) -> bytes:
        nonce = os.urandom(12)
        sealed = self._aeads[0].encrypt(nonce, plaintext, aad)
        return nonce + sealed[-16:] + sealed[:-16]

    def decrypt_with_index(self, ciphertext: bytes, aad: bytes | None = None) -> tuple[bytes, int]:
        """The plaintext and the index in the ring of the key that opened it."""
        if len(ciphertext) < 28:
            raise ValueError("Damaged cipher text: too short")
        nonce, tag, body = ciphertext[:12], ciphertext[12:28], ciphertext[28:]
        for index, aead in enumerate(self._aeads):
            try:
                return aead.decrypt(nonce, body + tag, aad), index
            except InvalidTag:
                continue
        raise ValueError("Invalid cipher tag: no key in CIPHER_KEY opens this value")

    def decrypt(self, ciphertext: bytes, aad: bytes | None = None) -> bytes:
        return self.decrypt_with_index(ciphertext, aad)[0]


class KeyRingCipher(Cipher):
    """The event store's cipher (CIPHER_TOPIC): reads what any key of the ring wrote, writes with the first."""

    def __init__(self, environment: Environment) -> None:
        value = environment.get("CIPHER_KEY")
        if not value:
            raise OSError("'CIPHER_KEY' not in env")
        self.ring = KeyRing.from_text(value)

    def encrypt(self, plaintext: bytes) -> bytes:
        return self.ring.encrypt(plaintext)

    def decrypt(self, ciphertext: bytes) -> bytes:
        return self.ring.decrypt(ciphertext)
