"""The registry's error hierarchy; each maps to one problem type."""

from __future__ import annotations

from shared.errors import Conflict, Invalid, NotFound


class OrganisationNotFound(NotFound):
    type = "organisation-not-found"


class MemberNotFound(NotFound):
    type = "member-not-found"


class OrganisationClosed(Conflict):
    type = "organisation-closed"


class InvalidTree(Invalid):
    type = "invalid-organisation-tree"


class TransferPending(Conflict):
    type = "transfer-pending"


class NotOnRoll(Conflict):
    type = "member-not-on-roll"


class AlreadyOnARoll(Conflict):
    type = "person-already-on-a-roll"


class InvalidDecision(Invalid):
    type = "invalid-decision"


class RegistrationStateError(Conflict):
    type = "registration-state"
