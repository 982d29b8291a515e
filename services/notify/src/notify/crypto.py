"""AES-GCM for channel secrets and addresses, under the service's CIPHER_KEY, before they reach events or tables."""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "v1:"


class SecretBox:
    def __init__(self, cipher_key: str) -> None:
        self._aead = AESGCM(base64.b64decode(cipher_key))

    def seal(self, plaintext: str, *, context: str) -> str:
        """`context` (tenant and purpose) is bound as associated data: a ciphertext moved elsewhere fails to open."""
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return PREFIX + base64.b64encode(nonce + sealed).decode()

    def open(self, ciphertext: str, *, context: str) -> str:
        if not ciphertext.startswith(PREFIX):
            raise ValueError("not a sealed secret")
        raw = base64.b64decode(ciphertext[len(PREFIX) :])
        try:
            return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except InvalidTag as exc:
            raise ValueError("the secret does not open under this key and context") from exc
