"""Registry aggregates, their events and the registry's errors."""

from registry.domain.contact import CauseCode, ContactState, ContactStatus, TenantSettings
from registry.domain.declarations import DeclarationState, MobilityDeclaration
from registry.domain.errors import (
    AlreadyOnARoll,
    InvalidDecision,
    InvalidTree,
    MemberNotFound,
    NotOnRoll,
    OrganisationClosed,
    OrganisationNotFound,
    RegistrationStateError,
    TransferPending,
)
from registry.domain.members import (
    PERSONAL_FIELDS,
    PROFILE_FIELDS,
    DecisionKind,
    Member,
    MemberCategory,
    MembershipStatus,
    RollStatus,
)
from registry.domain.mobile import (
    ActivityCertificate,
    CertificateBook,
    CertificateState,
    MobileRegistration,
    MobilityKind,
    RegistrationState,
)
from registry.domain.organisations import ALLOWED_CHILDREN, ROOT_KINDS, Organisation, OrgKind
from registry.domain.participation import Outcome, ParticipantCommand, Person

__all__ = [
    "ALLOWED_CHILDREN",
    "PERSONAL_FIELDS",
    "PROFILE_FIELDS",
    "ROOT_KINDS",
    "ActivityCertificate",
    "AlreadyOnARoll",
    "CauseCode",
    "CertificateBook",
    "CertificateState",
    "ContactState",
    "ContactStatus",
    "DecisionKind",
    "DeclarationState",
    "InvalidDecision",
    "InvalidTree",
    "Member",
    "MemberCategory",
    "MemberNotFound",
    "MembershipStatus",
    "MobileRegistration",
    "MobilityDeclaration",
    "MobilityKind",
    "NotOnRoll",
    "OrgKind",
    "Organisation",
    "OrganisationClosed",
    "OrganisationNotFound",
    "Outcome",
    "ParticipantCommand",
    "Person",
    "RegistrationState",
    "RegistrationStateError",
    "RollStatus",
    "TenantSettings",
    "TransferPending",
]
