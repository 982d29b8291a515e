"""deploy/nats/jetstream.json filters each service consumer on exactly the event types its handler reads (the
contracts it passes to shared.consumer); analytics lands everything. Every service applies the whole layout at
start-up, so the layout names the subjects, and this test holds it to the code: a type a handler starts to read
fails here until the layout delivers it, and a type it stops reading fails here until the layout drops it.

A type outside a handler's contracts only ever advanced its tracking position (`shared.consumer._react_and_save`),
so not receiving it changes nothing but the gaps between the positions tracked (the tracking insert requires only
a higher position)."""

from __future__ import annotations

from collections.abc import Iterable

from learning.contracts import CONSUMED as LEARNING_READS
from notify.consumers import UPSTREAMS as NOTIFY_DURABLES
from notify.contracts import CONSUMED as NOTIFY_READS
from registry.contracts import CONTACT_SIGNALS, TRANSFER_REQUESTS
from shared.envelope import EVENT_NAME, event_subject
from shared.messaging import load_layout
from shared.settings import REPO_ROOT
from transfer.consumers import CONTRACTS as TRANSFER_READS

LAYOUT = REPO_ROOT / "deploy" / "nats" / "jetstream.json"


def from_upstream(types: Iterable[str], upstream: str) -> list[str]:
    return [t for t in types if (m := EVENT_NAME.match(t)) is not None and m["service"] == upstream]


# The contracts each service's main.py hands its durable's handler (registry.consumers, transfer.consumers,
# learning.consumers, notify.consumers.upstream).
READS: dict[str, list[str]] = {
    "registry-from-transfer": list(TRANSFER_REQUESTS),
    "registry-from-learning": list(CONTACT_SIGNALS),
    "transfer-from-registry": list(TRANSFER_READS),
    "learning-from-registry": list(LEARNING_READS),
    **{
        durable: from_upstream(NOTIFY_READS, durable.removeprefix("notify-from-"))
        for durable in NOTIFY_DURABLES
    },
}


def test_each_service_consumer_is_delivered_exactly_the_types_its_handler_reads() -> None:
    consumers = {c["durable"]: c for c in load_layout(LAYOUT)["consumers"] if c["service"] != "analytics"}
    assert set(consumers) == set(READS)
    for durable, types in READS.items():
        upstream = consumers[durable]["stream"].removeprefix("LIANXIN_").lower()
        assert types and from_upstream(types, upstream) == types, durable
        assert sorted(consumers[durable]["filter_subjects"]) == sorted(map(event_subject, types)), durable


def test_analytics_lands_every_event_of_each_stream() -> None:
    layout = load_layout(LAYOUT)
    streams = {s["name"]: s["subjects"] for s in layout["streams"]}
    analytics = [c for c in layout["consumers"] if c["service"] == "analytics"]
    assert analytics
    for c in analytics:
        assert c["filter_subjects"] == streams[c["stream"]], c["durable"]
