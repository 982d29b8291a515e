"""AES-GCM for single fields of read models and configuration (names, ID numbers, phones, channel secrets)."""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class FieldCipher:
    """`seal` gives text safe to store; `open` reverses it. A fresh nonce per value, the column name bound in."""

    def __init__(self, key_b64: str) -> None:
        self._aead = AESGCM(base64.b64decode(key_b64))

    def seal(self, value: str | None, context: str = "") -> str | None:
        if value is None:
            return None
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, value.encode(), context.encode())
        return base64.b64encode(nonce + sealed).decode()

    def open(self, token: str | None, context: str = "") -> str | None:
        if token is None:
            return None
        raw = base64.b64decode(token)
        return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
