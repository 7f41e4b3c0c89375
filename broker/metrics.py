"""Hot-path metrics: counters and histograms the produce, fetch and RPC paths update.

One ``BrokerMetrics`` per server, over that server's own ``CollectorRegistry`` (tests run
several servers in one process). Every update happens once per request or per batch with a
count, never once per record. Label children are cached in plain dicts, so an update is a
dict lookup plus prometheus_client's locked add.

Label cardinality (see also README "Metrics"):

* ``topic``: topics exist only when an operator created them (a produce or fetch for an
  unknown topic fails before any metric is touched); ``<topic>.dlq`` topics add one each.
* ``subject``: derived by the topic's subject-name strategy from the topic name or from a
  *registered* schema's record name, so bounded by the registry's contents.
* ``reason``, ``code``, ``acks``: fixed enums. ``method``: the services' fixed RPC names.
* As a guard, each family keeps at most ``MAX_CHILDREN`` label sets; further ones are
  counted under ``OVERFLOW`` in every label, so a misbehaving client cannot grow a scrape.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

MAX_CHILDREN = 2000
"""The most label sets one family tracks before folding new ones into OVERFLOW."""
OVERFLOW = "_other"
"""The label value that absorbs label sets past MAX_CHILDREN."""
LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)
"""Seconds: from sub-millisecond appends to 30 s long-poll fetches."""
BATCH_BUCKETS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1.0)
"""Seconds to validate one batch."""


class _Family:
    """A metric family with a bounded cache of label children."""

    def __init__(self, metric: Any) -> None:
        self.metric = metric
        self.children: dict[tuple[str, ...], Any] = {}
        self.width = len(metric._labelnames)

    def child(self, *labels: str) -> Any:
        found = self.children.get(labels)
        if found is None:
            if len(self.children) >= MAX_CHILDREN:
                labels = (OVERFLOW,) * self.width
                found = self.children.get(labels)
            if found is None:
                found = self.children[labels] = self.metric.labels(*labels)
        return found


class BrokerMetrics:
    """The server's hot-path metric families; also the RPC observer of every servicer."""

    def __init__(self, registry: CollectorRegistry, slow_request_ms: int = 1000) -> None:
        self.registry = registry
        """Where the families are registered."""
        self.slow_request_s = slow_request_ms / 1000
        """Calls at least this long are logged as slow (weir.core.rpc)."""

        def counter(name: str, doc: str, *labels: str) -> _Family:
            return _Family(Counter(name, doc, labels, registry=registry))

        def histogram(name: str, doc: str, buckets: tuple[float, ...], *labels: str) -> _Family:
            return _Family(Histogram(name, doc, labels, registry=registry, buckets=buckets))

        self.rpc_seconds = histogram(
            "weir_rpc_duration_seconds", "gRPC call duration by method.", LATENCY_BUCKETS, "method"
        )
        self.rpc_calls = counter(
            "weir_rpc_requests", "gRPC calls by method and status code.", "method", "code"
        )
        self.produce_requests = counter(
            "weir_produce_requests", "Produce requests that reached a topic.", "topic"
        )
        self.produce_records = counter(
            "weir_produce_records", "Records appended by produce requests.", "topic"
        )
        self.produce_bytes = counter(
            "weir_produce_bytes", "Key and value bytes appended by produce requests.", "topic"
        )
        self.fetch_requests = counter(
            "weir_fetch_requests", "Fetch requests that read a topic (once per topic).", "topic"
        )
        self.fetch_records = counter("weir_fetch_records", "Records returned by fetch.", "topic")
        self.fetch_bytes = counter(
            "weir_fetch_bytes", "Key and value bytes returned by fetch.", "topic"
        )
        self.accepted = counter(
            "weir_validation_accepted_records", "Records that passed the produce gate.", "topic"
        )
        self.rejected = counter(
            "weir_validation_rejected_records",
            "Records the produce gate refused, by subject and error reason.",
            "topic",
            "subject",
            "reason",
        )
        self.validation_seconds = histogram(
            "weir_validation_duration_seconds",
            "Time to validate one produce batch.",
            BATCH_BUCKETS,
            "topic",
        )
        self.dead_letters = counter(
            "weir_dead_letter_records",
            "Refused records sent to <topic>.dlq, by source topic.",
            "topic",
        )
        self.append_seconds = histogram(
            "weir_log_append_duration_seconds",
            "Produce appends to the log by acks; for acks=all this is the wait for fsync.",
            LATENCY_BUCKETS,
            "acks",
        )

    # -- RPC observer (weir.core.rpc.RpcObserver) ----------------------------------------

    def observe(self, method: str, code: str, seconds: float) -> None:
        """Record one finished call."""
        self.rpc_seconds.child(method).observe(seconds)
        self.rpc_calls.child(method, code).inc()

    # -- produce ---------------------------------------------------------------------------

    def validated(self, topic: str, accepted: int, seconds: float) -> None:
        """One batch went through the gate: how many passed and how long it took."""
        if accepted:
            self.accepted.child(topic).inc(accepted)
        self.validation_seconds.child(topic).observe(seconds)

    def refused(self, topic: str, refusals: Iterable[tuple[str, str]]) -> None:
        """Refused records of a request, as (subject, reason) pairs; one update per pair."""
        for (subject, reason), count in Tally(refusals).items():
            self.rejected.child(topic, subject, reason).inc(count)

    def produced(self, topic: str, records: int, size: int) -> None:
        """One produce request appended ``records`` records of ``size`` bytes."""
        self.produce_requests.child(topic).inc()
        if records:
            self.produce_records.child(topic).inc(records)
            self.produce_bytes.child(topic).inc(size)

    def appended(self, acks: str, seconds: float) -> None:
        """One log append (write, and for acks=all the fsync wait) took ``seconds``."""
        self.append_seconds.child(acks).observe(seconds)

    def dead_lettered(self, topic: str, records: int) -> None:
        """Refused records of ``topic`` went to its dead-letter topic."""
        self.dead_letters.child(topic).inc(records)

    # -- fetch -----------------------------------------------------------------------------

    def fetched(self, per_topic: dict[str, tuple[int, int]]) -> None:
        """One fetch request: (records, bytes) per topic it read."""
        for topic, (records, size) in per_topic.items():
            self.fetch_requests.child(topic).inc()
            if records:
                self.fetch_records.child(topic).inc(records)
                self.fetch_bytes.child(topic).inc(size)
