"""A small event-sourced application on real PostgreSQL with the audit chain installed: the audit and key
rotation tests tamper with and re-encrypt its tables directly, and bench/audit.py times it."""

from __future__ import annotations

import base64
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse, urlunparse

import psycopg
from eventsourcing.domain import Aggregate, event

from shared import audit
from shared.dbsetup import provision
from shared.eventstore import ServiceApplication, persistence_env

SIGNED_AT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


class Account(Aggregate):
    TOPIC = "tests.audit:Account"

    class Event(Aggregate.Event):
        TOPIC = "tests.audit:Account.Event"

    class Created(Event, Aggregate.Created):
        TOPIC = "tests.audit:Account.Created"

    class Opened(Created):
        TOPIC = "tests.audit:Account.Opened"
        owner: str

    class Noted(Event):
        TOPIC = "tests.audit:Account.Noted"
        text: str

    @event(Opened)
    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.notes: list[str] = []

    @event(Noted)
    def note(self, text: str) -> None:
        self.notes.append(text)


class Ledger(ServiceApplication):
    name = "ledger"


@dataclass
class Store:
    admin_url: str
    owner_url: str
    app_url: str
    cipher_key: str
    signing_key: str

    def app(self, *, owner: bool = False, cipher_key: str | None = None) -> Ledger:
        return Ledger(
            persistence_env(
                self.owner_url if owner else self.app_url, cipher_key or self.cipher_key, create_table=owner
            )
        )

    def admin(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.admin_url, autocommit=True)

    def trusted(self) -> list[str]:
        return audit.trusted_keys_from(self.signing_key, None)

    def verify(self, **kwargs: Any) -> audit.Verification:
        with psycopg.connect(self.app_url) as conn:
            return audit.verify(conn, "ledger", audit.trusted_keys_from(self.signing_key, None), **kwargs)

    def checkpoint(self) -> audit.Checkpoint | None:
        with psycopg.connect(self.app_url) as conn:
            return audit.write_checkpoint(conn, "ledger", audit.load_signing_key(self.signing_key), SIGNED_AT)


def _db(admin_url: str, dbname: str) -> str:
    return urlunparse(urlparse(admin_url)._replace(path=f"/{dbname}"))


def new_store(admin_url: str, *, chained: bool = True) -> Store:
    """A fresh database with the ledger's tables, an owner and an application role, and (unless told not to)
    the audit chain."""
    prefix = f"au{uuid.uuid4().hex[:8]}"
    db = provision(admin_url, prefix=prefix, services=("ledger",))["ledger"]
    s = Store(
        _db(admin_url, f"{prefix}_ledger"),
        db.owner_url,
        db.app_url,
        base64.b64encode(os.urandom(32)).decode(),
        audit.new_signing_key(),
    )
    s.app(owner=True).close()
    if chained:
        audit.install(db.owner_url, "ledger", app_role=urlparse(db.app_url).username)
    return s


def fill(store: Store, accounts: int = 4, notes: int = 3) -> list[uuid.UUID]:
    app = store.app()
    ids = []
    for i in range(accounts):
        account = Account(owner=f"owner-{i}")
        for j in range(notes):
            account.note(f"note {j}")
        app.save(account)
        ids.append(account.id)
    app.close()
    return ids
