"""AES-GCM for single values kept outside the event store's own cipher: read-model columns (names, ID numbers,
phones) and configuration secrets (channel addresses, webhook secrets)."""

from __future__ import annotations

import base64
import binascii
import os
from typing import overload

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.keyring import parse_ring

PREFIX = "v1:"


class FieldCipher:
    """`seal` gives text safe to store; `open` reverses it. A fresh nonce per value; the context (a column
    name, or tenant and purpose) is bound in as associated data, so a value moved elsewhere fails to open.

    Sealed text is `v1:` + base64(nonce + ciphertext). Values sealed before the prefix existed (the registry's
    read-model columns) are the same bytes without it, and still open.
    """

    def __init__(self, key_b64: str) -> None:
        # CIPHER_KEY may be a ring "new,old" while it is rotated (shared.keyring): seal with the first, open with any.
        self._aeads = [AESGCM(key) for key in parse_ring(key_b64)]
        self._aead = self._aeads[0]

    @overload
    def seal(self, value: str, context: str = "") -> str: ...

    @overload
    def seal(self, value: None, context: str = "") -> None: ...

    def seal(self, value: str | None, context: str = "") -> str | None:
        if value is None:
            return None
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, value.encode(), context.encode())
        return PREFIX + base64.b64encode(nonce + sealed).decode()

    @overload
    def open(self, token: str, context: str = "") -> str: ...

    @overload
    def open(self, token: None, context: str = "") -> None: ...

    def open(self, token: str | None, context: str = "") -> str | None:
        """Raises ValueError when the text is not sealed, or not under this key and context."""
        if token is None:
            return None
        return self.open_with_index(token, context)[0]

    def open_with_index(self, token: str, context: str = "") -> tuple[str, int]:
        """The value and the position in the ring of the key that sealed it (0: the current key)."""
        try:
            raw = base64.b64decode(token.removeprefix(PREFIX), validate=True)
        except binascii.Error as exc:
            raise ValueError("the value does not open under this key and context") from exc
        for index, aead in enumerate(self._aeads):
            try:
                return aead.decrypt(raw[:12], raw[12:], context.encode()).decode(), index
            except InvalidTag:
                continue
        raise ValueError("the value does not open under any key of CIPHER_KEY in this context")
