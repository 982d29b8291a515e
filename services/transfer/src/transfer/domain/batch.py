"""Graduation-season batches (毕业生批量转接): rows validated one by one, approved together, progress per batch,
and a default destination (e.g. 生源地) for graduates still undecided at the cut-off date."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from transfer.domain.errors import StepNotAllowed


class BatchTransfer(Aggregate):
    TOPIC = "lianxin.transfer.BatchTransfer"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.transfer.BatchTransfer.Created"

    class Imported(Created):
        TOPIC = "lianxin.transfer.BatchTransfer.Imported"
        tenant_id: str
        title: str
        rows: list[dict[str, Any]]  # accepted rows: member, destination or "undecided"
        rejected: list[dict[str, Any]]
        default_destination: dict[str, Any] | None
        cut_off: date | None
        meta: dict[str, Any]

    class CasesOpened(Event):
        TOPIC = "lianxin.transfer.BatchTransfer.CasesOpened"
        cases: dict[str, str]  # member id -> case id
        meta: dict[str, Any]

    @event(Imported)
    def __init__(
        self,
        *,
        id: UUID,
        tenant_id: str,
        title: str,
        rows: list[dict[str, Any]],
        rejected: list[dict[str, Any]],
        default_destination: dict[str, Any] | None,
        cut_off: date | None,
        meta: dict[str, Any],
    ) -> None:
        self.tenant_id = tenant_id
        self.title = title
        self.rows = rows
        self.rejected = rejected
        self.default_destination = default_destination
        self.cut_off = cut_off
        self.cases: dict[str, str] = {}

    def rows_to_open(self, today: date) -> list[dict[str, Any]]:
        """Decided rows now; undecided ones get the default destination once the cut-off has passed."""
        due = []
        for row in self.rows:
            if row["member_id"] in self.cases:
                continue
            if row["destination"] != "undecided":
                due.append(row)
            elif self.default_destination and self.cut_off and today >= self.cut_off:
                due.append({**row, **self.default_destination})
        return due

    def opened(self, cases: dict[str, str], meta: dict[str, Any]) -> None:
        new = {m: c for m, c in cases.items() if m not in self.cases}
        if not new:
            raise StepNotAllowed(
                "nothing in the batch is ready to open (undecided rows wait for the cut-off)"
            )
        self._opened(cases=new, meta=meta)

    @event(CasesOpened)
    def _opened(self, cases: dict[str, str], meta: dict[str, Any]) -> None:
        self.cases.update(cases)
