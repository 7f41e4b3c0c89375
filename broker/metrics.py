"""Hot-path metrics: counters and histograms the produce, fetch and RPC paths update.

One ``BrokerMetrics`` per server, over that server's own ``CollectorRegistry`` (tests run
several servers in one process). Every update happens once per request or per batch with a
count, never once per record, into lock-free families (metrics_families) that are turned into
Prometheus families only when scraped.

Label cardinality (see also README "Metrics"):

* ``topic``: topics exist only when an operator created them (a produce or fetch for an
  unknown topic fails before any metric is touched); ``<topic>.dlq`` topics add one each.
* ``subject``: derived by the topic's subject-name strategy from the topic name or from a
  *registered* schema's record name, so bounded by the registry's contents.
* ``reason``, ``code``, ``acks``: fixed enums. ``method``: the services' fixed RPC names.
* As a guard, each family keeps at most ``metrics_families.MAX_CHILDREN`` label sets;
  further ones are counted under ``_other`` in every label.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable

from prometheus_client import CollectorRegistry

from weir.broker.metrics_families import CounterFamily, FamiliesCollector, HistogramFamily

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
_TOPIC = ("topic",)


class BrokerMetrics:
    """The server's hot-path metric families; also the RPC observer of every servicer."""

    def __init__(self, registry: CollectorRegistry, slow_request_ms: int = 1000) -> None:
        self.slow_request_s = slow_request_ms / 1000
        """Calls at least this long are logged as slow (weir.core.rpc)."""
        c, h = CounterFamily, HistogramFamily
        self.rpc_seconds = h(
            "weir_rpc_duration_seconds",
            "gRPC call duration by method.",
            ["method"],
            LATENCY_BUCKETS,
        )
        self.rpc_calls = c(
            "weir_rpc_requests", "gRPC calls by method and status code.", ["method", "code"]
        )
        self.produce_requests = c(
            "weir_produce_requests", "Produce requests that reached a topic.", _TOPIC
        )
        self.produce_records = c(
            "weir_produce_records", "Records appended by produce requests.", _TOPIC
        )
        self.produce_bytes = c(
            "weir_produce_bytes", "Key and value bytes appended by produce requests.", _TOPIC
        )
        self.fetch_requests = c(
            "weir_fetch_requests", "Fetch requests that read a topic (once per topic).", _TOPIC
        )
        self.fetch_records = c("weir_fetch_records", "Records returned by fetch.", _TOPIC)
        self.fetch_bytes = c("weir_fetch_bytes", "Key and value bytes returned by fetch.", _TOPIC)
        self.accepted = c(
            "weir_validation_accepted_records", "Records that passed the produce gate.", _TOPIC
        )
        self.rejected = c(
            "weir_validation_rejected_records",
            "Records the produce gate refused, by subject and error reason.",
            ["topic", "subject", "reason"],
        )
        self.validation_seconds = h(
            "weir_validation_duration_seconds",
            "Time to validate one produce batch.",
            _TOPIC,
            BATCH_BUCKETS,
        )
        self.dead_letters = c(
            "weir_dead_letter_records",
            "Refused records sent to <topic>.dlq, by source topic.",
            _TOPIC,
        )
        self.append_seconds = h(
            "weir_log_append_duration_seconds",
            "Produce appends to the log by acks; for acks=all this is the wait for fsync.",
            ["acks"],
            LATENCY_BUCKETS,
        )
        registry.register(
            FamiliesCollector([v for v in vars(self).values() if isinstance(v, c | h)])
        )

    # -- RPC observer (weir.core.rpc.RpcObserver) ----------------------------------------

    def observe(self, method: str, code: str, seconds: float) -> None:
        """Record one finished call."""
        self.rpc_seconds.observe((method,), seconds)
        self.rpc_calls.inc((method, code))

    # -- produce ---------------------------------------------------------------------------

    def validated(self, topic: str, accepted: int, seconds: float) -> None:
        """One batch went through the gate: how many passed and how long it took."""
        if accepted:
            self.accepted.inc((topic,), accepted)
        self.validation_seconds.observe((topic,), seconds)

    def refused(self, topic: str, refusals: Iterable[tuple[str, str]]) -> None:
        """Refused records of a request, as (subject, reason) pairs; one update per pair."""
        for (subject, reason), count in Tally(refusals).items():
            self.rejected.inc((topic, subject, reason), count)

    def produced(self, topic: str, records: int, size: int) -> None:
        """One produce request appended ``records`` records of ``size`` bytes."""
        key = (topic,)
        self.produce_requests.inc(key)
        if records:
            self.produce_records.inc(key, records)
            self.produce_bytes.inc(key, size)

    def appended(self, acks: str, seconds: float) -> None:
        """One log append (write, and for acks=all the fsync wait) took ``seconds``."""
        self.append_seconds.observe((acks,), seconds)

    def dead_lettered(self, topic: str, records: int) -> None:
        """Refused records of ``topic`` went to its dead-letter topic."""
        self.dead_letters.inc((topic,), records)

    # -- fetch -----------------------------------------------------------------------------

    def fetched(self, per_topic: dict[str, tuple[int, int]]) -> None:
        """One fetch request: (records, bytes) per topic it read."""
        for topic, (records, size) in per_topic.items():
            key = (topic,)
            self.fetch_requests.inc(key)
            if records:
                self.fetch_records.inc(key, records)
                self.fetch_bytes.inc(key, size)
