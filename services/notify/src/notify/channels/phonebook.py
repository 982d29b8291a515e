"""The one place a phone number is read: from the registry, at send time, with the SMS sender's own service token.

The registry records every unmasked read (a disclosure with its purpose), so each SMS leaves an audit trail
there. The number is returned to the caller and dropped: never stored, logged or put in an event.
"""

from __future__ import annotations

import logging
from typing import Protocol
from uuid import UUID

import httpx

from notify.application.directory import RegistryDirectory
from shared.oauth import SCOPE_NAMES, SCOPE_PHONES, ServiceIdentityError

logger = logging.getLogger("lianxin.notify.phonebook")
PURPOSE = "SMS notification (notify)"


class PhonebookUnavailable(Exception):
    """The registry could not answer now: the attempt is retried later."""


class Phonebook(Protocol):
    def phone(self, tenant: str, member_id: UUID) -> str | None: ...


class NoPhonebook:
    def phone(self, tenant: str, member_id: UUID) -> str | None:
        raise PhonebookUnavailable("no service key to read phone numbers from the registry")


class RegistryPhonebook(RegistryDirectory):
    """Asks for `registry:names registry:phones` only: the registry then gives the name and the phone, no more."""

    def phone(self, tenant: str, member_id: UUID) -> str | None:
        try:
            headers = self.tokens.headers(tenant, [SCOPE_NAMES, SCOPE_PHONES])
            response = self.client.get(
                f"{self.base_url}/v1/members/{member_id}",
                params={"unmasked": "true", "purpose": PURPOSE},
                headers={**headers, "X-Purpose": "notification"},
            )
        except ServiceIdentityError as exc:
            raise PhonebookUnavailable(f"no service token for the registry ({exc})") from exc
        except (httpx.HTTPError, OSError) as exc:
            raise PhonebookUnavailable(f"registry unreachable ({type(exc).__name__})") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            logger.warning("registry did not give the phone number", extra={"status": response.status_code})
            raise PhonebookUnavailable(f"registry answered HTTP {response.status_code}")
        phone = response.json().get("phone")
        return str(phone) if phone else None
