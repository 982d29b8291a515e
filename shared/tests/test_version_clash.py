"""The one version-clash policy: reload and re-run a bounded number of times, then let the clash go up (409)."""

from __future__ import annotations

from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate, event

from shared.eventstore import CLASH_ATTEMPTS, IntegrityError, ServiceApplication, rerun_on_clash


class Counter(Aggregate):
    @event("Created")
    def __init__(self) -> None:
        self.value = 0

    @event("Incremented")
    def increment(self) -> None:
        self.value += 1


class Counters(ServiceApplication):
    def __init__(self) -> None:
        super().__init__({"PERSISTENCE_MODULE": "eventsourcing.popo"})
        self.races = 0

    @rerun_on_clash
    def increment(self, counter_id: UUID) -> int:
        counter = self.repository.get(counter_id)
        if self.races:
            # Another writer saves first, between this command's load and its save.
            self.races -= 1
            rival = self.repository.get(counter_id)
            rival.increment()
            self.save(rival)
        counter.increment()
        self.save(counter)
        return int(counter.value)


def new_counter(app: Counters) -> UUID:
    counter = Counter()
    app.save(counter)
    return counter.id


def test_a_command_that_lost_a_race_reloads_and_runs_again() -> None:
    app = Counters()
    counter_id = new_counter(app)
    app.races = 2
    assert app.increment(counter_id) == 3  # the two rivals' increments and its own, none lost


def test_a_command_that_keeps_losing_gives_up_with_the_clash() -> None:
    app = Counters()
    counter_id = new_counter(app)
    app.races = CLASH_ATTEMPTS
    with pytest.raises(IntegrityError):
        app.increment(counter_id)
    assert app.repository.get(counter_id).value == CLASH_ATTEMPTS  # only the rivals' saves were stored


def test_a_command_without_a_clash_runs_once() -> None:
    app = Counters()
    runs: list[int] = []
    assert app.retrying(lambda: runs.append(1) or len(runs)) == 1
