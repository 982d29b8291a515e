"""The learning eventsourcing Application. Its use cases arrive with the learning issue; the plumbing runs already."""

from __future__ import annotations

from collections.abc import Mapping

from shared.clock import Clock, SystemClock
from shared.eventstore import ServiceApplication


class LearningApplication(ServiceApplication):
    name = "learning"

    def __init__(self, env: Mapping[str, str] | None = None, clock: Clock | None = None) -> None:
        super().__init__(env)
        self.clock = clock or SystemClock()
