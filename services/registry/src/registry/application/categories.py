"""Counting the roll's 党员基本情况 categories at a reference date (ADR 0004): read the roll, count, publish.

Counted: members whose formal relation is on this tenant's roll (统计依据), registered on or before the reference
date, 停止党籍 apart (as in analytics' `members` statistic), as `readmodels.queries.roll_at` reads them.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

from registry.application.base import RegistryBase
from registry.domain.categories import CategoryCount, count, suppressed
from shared.meta import EventMeta


class CategoryUseCases(RegistryBase):
    def count_member_categories(
        self, *, tenant_id: str, reference_date: date, member_ids: list[UUID], meta: EventMeta
    ) -> tuple[CategoryCount, dict[str, int]]:
        """Loads each member (their profile is sealed in the event store, not in the read model), counts, and
        stores the suppressed counts as one event the relay publishes. Returns the stored count and the exact
        counts."""
        members = [self.get_member(tenant_id, member_id) for member_id in member_ids]
        exact = count(((m.profile, m.category.value) for m in members if m.on_roll), reference_date)
        counted = CategoryCount(
            id=uuid4(),
            tenant_id=tenant_id,
            reference_date=reference_date,
            counts=suppressed(exact),
            meta=dict(meta),
        )
        self.save(counted)
        return counted, exact
