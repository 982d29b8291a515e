"""Domain errors every service builds on: a stable problem type and title, no transport.

Each service derives its own errors from these kinds; `shared.http` maps each kind to its HTTP status and
renders RFC 9457 problem+json, so domain modules never load a web framework.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """Base of every service's error hierarchy; subclasses fix a stable problem type and title."""

    type = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class NotFound(ServiceError):
    type, title = "not-found", "Not found"


class Conflict(ServiceError):
    type, title = "conflict", "Conflict"


class Invalid(ServiceError):
    type, title = "invalid", "Unprocessable content"


class Forbidden(ServiceError):
    type, title = "forbidden", "Forbidden"


class Unauthorized(ServiceError):
    type, title = "unauthorized", "Unauthorized"


class TooManyRequests(ServiceError):
    type, title = "rate-limited", "Too many requests"


class PayloadTooLarge(ServiceError):
    type, title = "payload-too-large", "Payload too large"


class Unavailable(ServiceError):
    """A collaborator (another service) did not answer; the caller may try again later."""

    type, title = "unavailable", "Unavailable"
