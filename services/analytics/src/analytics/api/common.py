"""What the routes share: the store from the app's state, and who may read statistics."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from analytics.store import AnalyticsStore
from shared.auth import require_roles
from shared.errors import Unavailable

READERS = ("committee", "tenant_admin", "auditor", "operator")
CanRead = require_roles(*READERS)
IsOperator = require_roles("operator")


async def get_store(request: Request) -> AnalyticsStore:
    store: AnalyticsStore | None = request.app.state.store
    if store is None:  # a standby instance: another one holds the DuckDB file (analytics.standby)
        raise Unavailable(
            str(getattr(request.app.state, "standby", None) or "the analytics store is not open")
        )
    return store


StoreDep = Annotated[AnalyticsStore, Depends(get_store)]
