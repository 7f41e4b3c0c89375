"""Scrape-time metrics: gauges read from the log store, the registry and the groups.

Nothing here runs on the produce or fetch path: each collector reads state only when
``/metrics`` is scraped. Group lag needs log reads (the timestamp of the next unconsumed
record), which are async, so the HTTP handler awaits ``GroupCollector.refresh`` first and
the collector then reports that snapshot.

Label cardinality: ``topic``/``partition`` follow the operator's topics; ``group`` follows
the consumer groups that exist (deleted groups vanish from the next scrape), capped at
``MAX_GROUP_ROWS`` partition rows per scrape (the groups left out are counted in
``weir_group_metrics_omitted``); ``rule`` is a compatibility rule id (a fixed vocabulary),
capped at ``MAX_RULES`` values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector

from weir.broker.groups.service import GroupLag, GroupManager
from weir.broker.log.engine import EmbeddedLogStore
from weir.core.errors import PartitionNotFoundError
from weir.registry.service import SchemaRegistry

MAX_GROUP_ROWS = 10_000
"""The most (group, partition) lag rows one scrape reports."""
MAX_RULES = 500
"""The most compatibility rule label values reported; the rest are summed as OTHER."""
_RULE = re.compile(r"[A-Za-z0-9_.-]{1,80}")
_TP = ("topic", "partition")


class LogCollector(Collector):
    """Offsets, segments, bytes and fsyncs per partition, and the start's recovery time."""

    def __init__(self, store: EmbeddedLogStore, recovery_s: float) -> None:
        self.store = store
        self.recovery_s = recovery_s

    def collect(self) -> Iterator[Metric]:
        """The log families, read now."""
        start = GaugeMetricFamily("weir_log_start_offset", "First offset kept.", labels=_TP)
        end = GaugeMetricFamily("weir_log_end_offset", "Offset the next record gets.", labels=_TP)
        segments = GaugeMetricFamily("weir_log_segments", "Segment files.", labels=_TP)
        size = GaugeMetricFamily("weir_log_size_bytes", "Bytes in segment files.", labels=_TP)
        fsyncs = CounterMetricFamily(
            "weir_log_fsyncs", "fsync calls on segment files since start.", labels=_TP
        )
        fsync_time = SummaryMetricFamily(
            "weir_log_fsync_duration_seconds",
            "Time in fsync calls on segment files since start (sum / count = mean latency).",
            labels=_TP,
        )
        for tp in self.store.partitions():
            try:
                p = self.store.partition(tp)
            except PartitionNotFoundError:  # deleted between the listing and now
                continue
            labels = [tp.topic, str(tp.partition)]
            bounds = p.offsets()
            files = p.segments()
            start.add_metric(labels, int(bounds.log_start))
            end.add_metric(labels, int(bounds.log_end))
            segments.add_metric(labels, len(files))
            size.add_metric(labels, sum(s.size for s in files))
            fsyncs.add_metric(labels, p.fsyncs)
            fsync_time.add_metric(labels, p.fsyncs, p.fsync_seconds)
        yield from (start, end, segments, size, fsyncs, fsync_time)
        yield GaugeMetricFamily(
            "weir_log_recovery_seconds",
            "Time the log took to open (and recover) at server start.",
            value=self.recovery_s,
        )


class RegistryCollector(Collector):
    """Schemas, subjects, versions, registrations and compatibility failures."""

    def __init__(self, registry: SchemaRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Metric]:
        """The registry families, read now."""
        schemas, subjects, versions = self.registry.counts()
        yield GaugeMetricFamily("weir_registry_schemas", "Distinct schemas (ids).", value=schemas)
        yield GaugeMetricFamily(
            "weir_registry_subjects", "Subjects with a live version.", value=subjects
        )
        yield GaugeMetricFamily("weir_registry_versions", "Live subject versions.", value=versions)
        yield CounterMetricFamily(
            "weir_registry_registrations",
            "New subject versions registered since start.",
            value=self.registry.registrations,
        )
        failures = CounterMetricFamily(
            "weir_registry_compatibility_failures",
            "Incompatibilities found since start, by operation (register, check) and rule.",
            labels=("operation", "rule"),
        )
        folded: dict[tuple[str, str], int] = {}
        for (operation, rule), count in self.registry.compatibility_failures.items():
            shown = rule if _RULE.fullmatch(rule) and len(folded) < MAX_RULES else "OTHER"
            folded[(operation, shown)] = folded.get((operation, shown), 0) + count
        for (operation, rule), count in sorted(folded.items()):
            failures.add_metric([operation, rule], count)
        yield failures


class GroupCollector(Collector):
    """Members, rebalances and lag (records and seconds) per group and partition."""

    def __init__(self, groups: GroupManager) -> None:
        self.groups = groups
        self.report: list[GroupLag] = []
        """The snapshot the last refresh took."""
        self.omitted = 0
        """Groups the last refresh left out (over MAX_GROUP_ROWS)."""

    async def refresh(self) -> None:
        """Compute lag now (reads the next record's timestamp per lagging partition)."""
        self.report, self.omitted = await self.groups.lag_report(MAX_GROUP_ROWS)

    def collect(self) -> Iterator[Metric]:
        """The group families from the last refresh."""
        members = GaugeMetricFamily("weir_group_members", "Members now.", labels=["group"])
        rebalances = CounterMetricFamily(
            "weir_group_rebalances",
            "Target assignments computed since the server started.",
            labels=["group"],
        )
        rows = ("group", "topic", "partition")
        records = GaugeMetricFamily(
            "weir_group_lag_records",
            "Log end offset minus the committed offset (log start without a commit).",
            labels=rows,
        )
        seconds = GaugeMetricFamily(
            "weir_group_lag_seconds",
            "Age of the oldest unconsumed record; 0 when caught up.",
            labels=rows,
        )
        for group in self.report:
            members.add_metric([group.group_id], group.members)
            rebalances.add_metric([group.group_id], group.rebalances)
            for lag in group.partitions:
                labels = [group.group_id, lag.tp.topic, str(lag.tp.partition)]
                records.add_metric(labels, lag.lag_records)
                seconds.add_metric(labels, lag.lag_ms / 1000)
        yield from (members, rebalances, records, seconds)
        yield GaugeMetricFamily(
            "weir_group_metrics_omitted",
            f"Groups left out of this scrape (over {MAX_GROUP_ROWS} lag rows).",
            value=self.omitted,
        )
