"""The case's clocks: the letter's expiry date, its reminders, and the receipt due 30 days after check-in."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

RECEIPT_DUE_DAYS = 30
REMINDER_DAYS = (7, 1)  # T-7 and T-1 before expiry (DOMAIN.md section 0)


def expires_on(letter: dict[str, Any]) -> date:
    """The expiry date written on the letter."""
    return date.fromisoformat(letter["expires_on"])


def receipt_due_on(checked_in_on: date) -> date:
    return checked_in_on + timedelta(days=RECEIPT_DUE_DAYS)
