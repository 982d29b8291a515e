"""National ID numbers: length, birth date and check digit; masks; one person key per number."""

from __future__ import annotations

import pytest

from registry.domain.identity import (
    InvalidNationalId,
    birth_date_of,
    mask_national_id,
    mask_phone,
    person_key,
    validate_national_id,
)

VALID = "11010519491231002X"  # the standard's own example


def test_a_valid_number_is_normalised_and_keeps_its_birth_date() -> None:
    assert validate_national_id(VALID.lower()) == VALID
    assert birth_date_of(VALID).isoformat() == "1949-12-31"


@pytest.mark.parametrize(
    ("number", "problem"),
    [
        ("1101051949123100", "18 characters"),
        ("11010519491231002Y", "17 digits"),
        ("110105194913310028", "not a date"),
        ("110105194912310021", "check digit"),
    ],
)
def test_invalid_numbers_say_what_is_wrong(number: str, problem: str) -> None:
    with pytest.raises(InvalidNationalId, match=problem) as raised:
        validate_national_id(number)
    assert raised.value.extensions["field"] == "national_id_number"


def test_masks_keep_only_the_ends() -> None:
    assert mask_national_id(VALID) == "**************002X"
    assert mask_phone("13812345678") == "138****5678"


def test_the_person_key_is_stable_and_secret_dependent() -> None:
    assert person_key("s1", VALID) == person_key("s1", VALID)
    assert person_key("s1", VALID) != person_key("s2", VALID)
    assert VALID not in person_key("s1", VALID)
