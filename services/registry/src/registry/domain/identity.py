"""National ID numbers (GB 11643): validation, masking and the platform-wide person key."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

from shared.errors import Invalid

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CODES = "10X98765432"


class InvalidNationalId(Invalid):
    type = "invalid-national-id"


def validate_national_id(value: str) -> str:
    """Returns the normalised number (upper-case X) or raises with what is wrong: length, date or check digit."""
    number = value.strip().upper()
    if len(number) != 18:
        raise InvalidNationalId("a national ID number has 18 characters", field="national_id_number")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise InvalidNationalId(
            "a national ID number is 17 digits and a digit or X", field="national_id_number"
        )
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidNationalId(
            "the birth date inside the national ID number is not a date", field="national_id_number"
        ) from None
    if born.year < 1900:
        raise InvalidNationalId(
            "the birth date inside the national ID number is before 1900", field="national_id_number"
        )
    expected = CHECK_CODES[sum(int(d) * w for d, w in zip(number[:17], WEIGHTS, strict=True)) % 11]
    if number[17] != expected:
        raise InvalidNationalId(
            "the check digit of the national ID number is wrong", field="national_id_number"
        )
    return number


def birth_date_of(number: str) -> date:
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def mask_national_id(number: str | None) -> str | None:
    """Only the last four characters: the region digits beside a shown birth date would leave a handful of
    candidates for the whole number (the check digit removes the rest)."""
    return None if not number else "*" * max(0, len(number) - 4) + number[-4:]


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return None
    return phone[:3] + "*" * max(0, len(phone) - 7) + phone[-4:] if len(phone) > 7 else "*" * len(phone)


def person_key(platform_secret: str, number: str) -> str:
    """One identity across tenants without storing the number in the clear."""
    return hmac.new(platform_secret.encode(), number.encode(), hashlib.sha256).hexdigest()
