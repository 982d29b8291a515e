"""Introduction letters (党员组织关系介绍信): numbering per issuing committee, Ed25519 keys per tenant, signatures.

A letter is canonical JSON of its fields signed with the issuing tenant's current key; the key id travels with
it, and rotation keeps every earlier public key, so old letters stay verifiable offline and online.
"""

from __future__ import annotations

import base64
import json
import secrets
from datetime import date
from typing import Any
from uuid import UUID, uuid5

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from eventsourcing.domain import Aggregate, event

LETTER_NAMESPACE = UUID("b4e2a9c1-7d3f-4b6e-8a5c-0f1d2e3c4b59")
# Which fields a letter carries (DOMAIN.md section 1, the 2006 form): all of them are signed.
LETTER_FIELDS = (
    "letter_no",
    "name",
    "gender",
    "age",
    "ethnicity",
    "category",
    "national_id_number",
    "from_org",
    "to_org",
    "dues_paid_through",
    "valid_days",
    "issued_on",
    "expires_on",
    "issuer_name",
    "issuer_address",
    "issuer_phone",
    "tenant",
    "kid",
    "code",
)


def canonical(fields: dict[str, Any]) -> bytes:
    return json.dumps(
        {k: fields[k] for k in sorted(fields)}, ensure_ascii=False, separators=(",", ":"), default=str
    ).encode()


# Letters issued before codes were drawn at random carry a code derived from the letter id; they lack this mark
# and their code is only good for reading the status, never for the tokenless confirmation.
RANDOM_CODE = "random"


def new_verification_code() -> str:
    """16 characters (80 random bits), printed under the QR code: what an outsider types on the verification page.

    Drawn with `secrets` and stored in the letter (the LetterIssued event), never derived from an id."""
    return base64.b32encode(secrets.token_bytes(10)).decode()


class LetterBook(Aggregate):
    """Letter numbers per issuing committee and year; concurrent issues clash on the version and retry."""

    TOPIC = "lianxin.transfer.LetterBook"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.transfer.LetterBook.Created"

    class Opened(Created):
        TOPIC = "lianxin.transfer.LetterBook.Opened"
        tenant_id: str
        committee: str

    class NumberTaken(Event):
        TOPIC = "lianxin.transfer.LetterBook.NumberTaken"
        number: str
        year: int

    @staticmethod
    def create_id(tenant_id: str, committee: str) -> UUID:
        return uuid5(LETTER_NAMESPACE, f"book/{tenant_id}/{committee}")

    @event(Opened)
    def __init__(self, *, tenant_id: str, committee: str) -> None:
        self.committee = committee
        self.counts: dict[int, int] = {}

    def take(self, year: int) -> str:
        number = f"{year}第{self.counts.get(year, 0) + 1:04d}号"
        self._taken(number=number, year=year)
        return number

    @event(NumberTaken)
    def _taken(self, number: str, year: int) -> None:
        self.counts[year] = self.counts.get(year, 0) + 1


class TenantKeys(Aggregate):
    """The tenant's Ed25519 signing keys; private keys live only in this aggregate's encrypted events."""

    TOPIC = "lianxin.transfer.TenantKeys"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.transfer.TenantKeys.Created"

    class Started(Created):
        TOPIC = "lianxin.transfer.TenantKeys.Started"
        tenant_id: str

    class KeyAdded(Event):
        TOPIC = "lianxin.transfer.TenantKeys.KeyAdded"
        kid: str
        private_pem: str
        public_pem: str
        since: date

    @staticmethod
    def create_id(tenant_id: str) -> UUID:
        return uuid5(LETTER_NAMESPACE, f"keys/{tenant_id}")

    @event(Started)
    def __init__(self, *, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.keys: dict[str, dict[str, Any]] = {}
        self.current: str | None = None

    def rotate(self, today: date) -> str:
        key = Ed25519PrivateKey.generate()
        private_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        public_pem = (
            key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
        kid = f"{self.tenant_id}-{len(self.keys) + 1}"
        self._added(kid=kid, private_pem=private_pem, public_pem=public_pem, since=today)
        return kid

    @event(KeyAdded)
    def _added(self, kid: str, private_pem: str, public_pem: str, since: date) -> None:
        self.keys[kid] = {"private_pem": private_pem, "public_pem": public_pem, "since": since}
        self.current = kid

    def sign(self, fields: dict[str, Any]) -> str:
        assert self.current is not None
        private = serialization.load_pem_private_key(
            self.keys[self.current]["private_pem"].encode(), password=None
        )
        assert isinstance(private, Ed25519PrivateKey)
        return base64.b64encode(private.sign(canonical(fields))).decode()

    def public_keys(self) -> list[dict[str, Any]]:
        return [
            {
                "kid": kid,
                "alg": "EdDSA",
                "crv": "Ed25519",
                "public_pem": k["public_pem"],
                "since": k["since"].isoformat(),
            }
            for kid, k in self.keys.items()
        ]


def verify_signature(public_pem: str, fields: dict[str, Any], signature: str) -> bool:
    public = serialization.load_pem_public_key(public_pem.encode())
    if not isinstance(public, Ed25519PublicKey):
        return False
    try:
        public.verify(base64.b64decode(signature), canonical(fields))
    except (InvalidSignature, ValueError):
        return False
    return True
