"""Text that may enter the platform: one rule for every request model, query and path parameter.

PostgreSQL refuses NUL in text and lone surrogates in UTF-8; other control characters corrupt CSV, logs and
printed letters. Every request model derives from `StrictModel`, so one validator sees every string (nested
lists and mappings included) and answers 422 naming the field; `control_character` is what the HTTP guard uses
for query strings and paths.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationInfo, field_validator

from shared.errors import Invalid

# C0 controls but tab and line feed, DEL, C1 controls, lone surrogates; a CR is allowed only before a LF.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]|\r(?!\n)")


def control_character(value: str) -> str | None:
    """The first character text may not contain, as U+XXXX, or None when the text is clean."""
    found = _FORBIDDEN.search(value)
    return None if found is None else f"U+{ord(found.group()[0]):04X}"


def check_text(value: str) -> str:
    bad = control_character(value)
    if bad is not None:
        raise ValueError(f"control character {bad} is not allowed in text")
    return value


def _check_nested(value: Any) -> None:
    if isinstance(value, str):
        check_text(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_nested(key)
            _check_nested(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _check_nested(item)


Text = Annotated[str, AfterValidator(check_text)]


class StrictModel(BaseModel):
    """The base of every request model: unknown fields refused, whitespace stripped, no control characters."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value: Any, info: ValidationInfo) -> Any:
        _check_nested(value)
        return value


# A spreadsheet reads a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> str:
    """A CSV cell a spreadsheet program shows as text: a leading formula character gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def read_csv_rows(text: str) -> list[dict[str, Any]]:
    """The CSV's rows by header; a file the csv module cannot read (a bare CR, NUL) is one 422 naming the line."""
    text = text.lstrip("\ufeff")
    bare_cr = re.search("\r(?!\n)", text)
    if bare_cr is not None:
        line = text.count("\n", 0, bare_cr.start()) + 1
        raise Invalid(
            f"line {line}: a bare carriage return (U+000D); lines end in LF or CRLF", field="body", line=line
        )
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise Invalid(
            f"line {reader.line_num}: not readable as CSV ({exc})", field="body", line=reader.line_num
        ) from None
    for line, row in enumerate(rows, start=2):
        if None in row:  # DictReader files surplus values under None
            raise Invalid(
                f"line {line}: more values than the header has columns (quote a value with a comma)",
                field="body",
                line=line,
            )
    return rows
