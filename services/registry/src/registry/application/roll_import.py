"""CSV import of members, validated row by row: one use case on the registry application."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate
from pydantic import Field, ValidationError, field_validator

from registry.application.members import MemberUseCases
from registry.domain import Member, MemberCategory, Organisation
from registry.domain.identity import person_key as derive_person_key
from registry.domain.identity import validate_national_id
from shared.errors import Invalid, ServiceError
from shared.meta import EventMeta
from shared.text import StrictModel, read_csv_rows

IMPORT_NAMESPACE = UUID("e1a7c3b5-0f2d-4c6e-8a9b-5d4f3e2c1b07")
COLUMNS = (
    "name",
    "organisation_code",
    "category",
    "gender",
    "ethnicity",
    "birth_date",
    "education",
    "national_id_number",
    "phone",
    "joined_on",
    "regularised_on",
    "employer",
    "industry_code",
)
CATEGORY_WORDS = {"正式": "full", "正式党员": "full", "预备": "probationary", "预备党员": "probationary"}
GENDER_WORDS = {"男": "male", "女": "female"}
MAX_ROWS = 5000


class MemberRow(StrictModel):
    name: str = Field(min_length=1, max_length=100)
    organisation_code: str = Field(min_length=1, max_length=64)
    category: str
    gender: str | None = None
    ethnicity: str | None = None
    birth_date: date | None = None
    education: str | None = None
    national_id_number: str = Field(min_length=1, description="required on import: it keys the person")
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9-]{5,20}$")
    joined_on: date | None = None
    regularised_on: date | None = None
    employer: str | None = None
    industry_code: str | None = None

    @field_validator("category")
    @classmethod
    def _category(cls, value: str) -> str:
        value = CATEGORY_WORDS.get(value, value)
        if value not in ("full", "probationary"):
            raise ValueError("category is 正式/预备 (full/probationary)")
        return value

    @field_validator("gender")
    @classmethod
    def _gender(cls, value: str | None) -> str | None:
        value = GENDER_WORDS.get(value, value) if value else None
        if value not in (None, "male", "female"):
            raise ValueError("gender is 男/女 (male/female)")
        return value


@dataclass
class ImportReport:
    accepted: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)


class ImportUseCases(MemberUseCases):
    def import_members(self, tenant_id: str, text: str, *, dry_run: bool, meta: EventMeta) -> ImportReport:
        """Every good row is stored, in one transaction; every bad row is reported with its reasons.

        A row is the member's whole record or nothing. Ids come from the tenant and the ID number, so importing
        the same file again reports the rows as already imported instead of creating anyone twice.
        """
        rows = read_csv_rows(text)
        if not rows:
            raise Invalid("the CSV has no rows; the first line names the columns", field="body")
        if len(rows) > MAX_ROWS:
            raise Invalid(f"at most {MAX_ROWS} rows per import", field="body")
        unknown = set(rows[0]) - set(COLUMNS)
        if unknown:
            raise Invalid(
                f"unknown columns: {', '.join(sorted(unknown))}; allowed: {', '.join(COLUMNS)}", field="body"
            )
        report = ImportReport()
        to_save: list[Aggregate] = []
        seen: set[str] = set()
        for line, raw in enumerate(rows, start=2):
            values = {k: v for k, v in raw.items() if k and v not in (None, "")}
            try:
                row = MemberRow.model_validate(values)
                number = validate_national_id(row.national_id_number)
                if number in seen:
                    raise ServiceError(
                        "the same national ID number appears earlier in the file", field="national_id_number"
                    )
                seen.add(number)
                member_id = uuid5(IMPORT_NAMESPACE, f"{tenant_id}/{number}")
                if self.find(Member, member_id) is not None:
                    raise ServiceError("already imported", field="national_id_number")
                organisation = self.find(
                    Organisation, Organisation.create_id(tenant_id, row.organisation_code)
                )
                if organisation is None:
                    raise ServiceError(
                        f"no organisation with code {row.organisation_code!r}", field="organisation_code"
                    )
                profile = row.model_dump(exclude={"organisation_code", "category"}, exclude_none=True)
                profile["national_id_number"] = number
                aggregates = self.new_member_aggregates(
                    member_id=member_id,
                    tenant_id=tenant_id,
                    organisation=organisation,
                    category=MemberCategory(row.category),
                    profile=profile,
                    person_key=derive_person_key(self.platform_secret, number),
                    meta=meta,
                )
            except ValidationError as exc:
                report.rejected.append(
                    {
                        "line": line,
                        "reasons": [
                            f"{'.'.join(map(str, e['loc'])) or 'row'}: {e['msg']}" for e in exc.errors()
                        ],
                    }
                )
                continue
            except ServiceError as exc:
                field_name = exc.extensions.get("field")
                report.rejected.append(
                    {"line": line, "reasons": [f"{field_name}: {exc.detail}" if field_name else exc.detail]}
                )
                continue
            to_save.extend(aggregates)
            report.accepted.append({"line": line, "member_id": str(member_id)})
        if to_save and not dry_run:
            self.save(*to_save)
        return report
