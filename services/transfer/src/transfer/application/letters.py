"""The introduction letter as the service signs it, and the personal data it carries."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import uuid5

from shared.shredding import PersonalData
from transfer.domain import LetterBook, TenantKeys, TransferCase, new_verification_code
from transfer.domain.letters import LETTER_NAMESPACE, RANDOM_CODE

# The member's name and ID number, in the letter's fields at the committee's approval and in the signed letter.
# The subject is the case: one key per case, destroyed for every case of a member the registry erased.
LETTER_PERSONAL_DATA = (
    PersonalData(
        "lianxin.transfer.TransferCase.Stepped",
        ("details.letter_fields.name", "details.letter_fields.national_id_number"),
    ),
    PersonalData("lianxin.transfer.TransferCase.LetterIssued", ("letter.name", "letter.national_id_number")),
)


def compose_letter(
    case: TransferCase, book: LetterBook, keys: TenantKeys, today: date, *, reissue: bool
) -> dict[str, Any]:
    """Number, fields and signature of the case's introduction letter; takes the next number from the book."""
    fields = case.letter_fields
    committee = book.committee
    letter_id = uuid5(LETTER_NAMESPACE, f"{case.id}/{len(case.letters_voided)}/{reissue}")
    valid_days = int(fields["valid_days"])
    letter = {
        "letter_no": book.take(today.year),
        "name": fields.get("name"),
        "gender": fields.get("gender"),
        "age": fields.get("age"),
        "ethnicity": fields.get("ethnicity"),
        "category": fields.get("category"),
        "national_id_number": fields.get("national_id_number"),
        "from_org": fields.get("from_org"),
        "to_org": case.receiving_org_name,
        "dues_paid_through": fields.get("dues_paid_through"),
        "valid_days": valid_days,
        "issued_on": today.isoformat(),
        "expires_on": (today + timedelta(days=valid_days)).isoformat(),
        "issuer_name": committee,
        "issuer_address": fields.get("issuer_address"),
        "issuer_phone": fields.get("issuer_phone"),
        "tenant": case.sending_tenant,
        "kid": keys.current,
        "code": new_verification_code(),
    }
    return {
        **letter,
        "signature": keys.sign(letter),
        "letter_id": str(letter_id),
        "code_kind": RANDOM_CODE,
    }
