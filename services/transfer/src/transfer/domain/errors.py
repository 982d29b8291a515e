"""The transfer service's error hierarchy."""

from __future__ import annotations

from shared.errors import Conflict, Forbidden, Invalid, NotFound


class CaseNotFound(NotFound):
    type = "transfer-case-not-found"


class StepNotAllowed(Conflict):
    """The case is not in a state where this step can happen."""

    type = "transfer-step-not-allowed"


class NotYourStep(Forbidden):
    type = "transfer-not-your-step"


class InvalidDestination(Invalid):
    type = "transfer-invalid-destination"
