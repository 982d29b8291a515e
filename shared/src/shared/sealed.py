"""Free-text read-model columns that may name or reach a person (an inbox body, a contact): sealed at rest.

A sealed value carries a prefix, so rows projected before a column was sealed still read as they were.
"""

from __future__ import annotations

from shared.fieldcrypt import FieldCipher

PREFIX = "sealed:"


def seal_column(cipher: FieldCipher, value: str, context: str) -> str:
    return PREFIX + (cipher.seal(value, context) or "")


def open_column(cipher: FieldCipher, stored: str | None, context: str) -> str | None:
    if stored is None or not stored.startswith(PREFIX):
        return stored
    return cipher.open(stored[len(PREFIX) :], context)
