"""Transfer aggregates, their events and the service's errors."""

from transfer.domain.batch import BatchTransfer
from transfer.domain.case import TransferCase
from transfer.domain.destination import DestinationKind
from transfer.domain.errors import CaseNotFound, InvalidDestination, NotYourStep, StepNotAllowed
from transfer.domain.letters import (
    LETTER_FIELDS,
    LetterBook,
    TenantKeys,
    canonical,
    new_verification_code,
    verify_signature,
)
from transfer.domain.policy import TransferPolicy
from transfer.domain.saga import BEFORE_PIVOT, ENDED, CaseState

__all__ = [
    "BEFORE_PIVOT",
    "ENDED",
    "LETTER_FIELDS",
    "BatchTransfer",
    "CaseNotFound",
    "CaseState",
    "DestinationKind",
    "InvalidDestination",
    "LetterBook",
    "NotYourStep",
    "StepNotAllowed",
    "TenantKeys",
    "TransferCase",
    "TransferPolicy",
    "canonical",
    "new_verification_code",
    "verify_signature",
]
