"""The fetch path: read partitions from offsets, long-polling until min_bytes or max_wait.

A partition that fails (unknown, or an offset out of range) reports its own error and the
others still return records, as in Kafka.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter

from weir.broker.log.api import LogStore, Offset, PartitionOffsets, Record
from weir.broker.metrics import BrokerMetrics
from weir.broker.topics import TopicManager
from weir.core.errors import WeirError

DEFAULT_PARTITION_MAX_BYTES = 1 << 20
DEFAULT_MAX_BYTES = 50 << 20
MAX_WAIT_MS = 30_000
"""The longest a fetch waits unless configured (ServerConfig.max_fetch_wait_ms)."""
RECORD_OVERHEAD = 32
"""Bytes a fetched record is counted for besides its key and value."""


@dataclass(frozen=True, slots=True)
class FetchSpec:
    """Where to read one partition."""

    topic: str
    """The topic name."""
    partition: int
    """The partition."""
    offset: int
    """The first offset wanted."""
    max_bytes: int = DEFAULT_PARTITION_MAX_BYTES
    """The most bytes for this partition."""


@dataclass(slots=True)
class FetchedPartition:
    """What one partition returned."""

    spec: FetchSpec
    """What was asked."""
    records: list[Record] = field(default_factory=list)
    """The records read."""
    offsets: PartitionOffsets | None = None
    """The partition's bounds, when it exists."""
    error: WeirError | None = None
    """Why it returned nothing, when it failed."""
    size: int = 0
    """About how many bytes the records take (keys, values and a fixed overhead each)."""


_KEY, _VALUE = itemgetter(2), itemgetter(3)


def _size(records: Sequence[Record]) -> int:
    """Keys, values and a fixed overhead per record, summed in C (no per-record bytecode)."""
    keys = sum(map(len, filter(None, map(_KEY, records))))
    values = sum(map(len, filter(None, map(_VALUE, records))))
    return keys + values + RECORD_OVERHEAD * len(records)


def _per_topic(results: Sequence[FetchedPartition]) -> dict[str, tuple[int, int]]:
    """(records, key and value bytes) per topic that exists; unknown topics are left out."""
    totals: dict[str, tuple[int, int]] = {}
    for r in results:
        if r.offsets is None:  # the topic or partition does not exist: no label for it
            continue
        records, size = totals.get(r.spec.topic, (0, 0))
        n = len(r.records)
        totals[r.spec.topic] = (records + n, size + r.size - RECORD_OVERHEAD * n)
    return totals


class FetchService:
    """Reads records for consumers."""

    def __init__(
        self,
        topics: TopicManager,
        log: LogStore,
        metrics: BrokerMetrics | None = None,
        max_wait_ms: int = MAX_WAIT_MS,
    ) -> None:
        self.topics = topics
        self.log = log
        self.metrics = metrics
        self.max_wait_ms = max_wait_ms
        """A fetch asking to wait longer waits this long (clamped silently, no error)."""

    async def fetch(
        self,
        specs: Sequence[FetchSpec],
        max_wait_ms: int = 0,
        min_bytes: int = 1,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> list[FetchedPartition]:
        """Read every partition once, then wait for more data while the response is short.

        ``max_wait_ms`` is clamped to 0 ... ``self.max_wait_ms``: a client without a
        deadline cannot park a fetch for longer than the server allows."""
        deadline = time.monotonic() + min(max(max_wait_ms, 0), self.max_wait_ms) / 1000
        results = await self._read_all(specs, max_bytes)
        while sum(r.size for r in results) < max(min_bytes, 1):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            waits = [
                self.log.wait_for_append(
                    self.topics.get(r.spec.topic).partition(r.spec.partition), r.spec.offset, left
                )
                for r in results
                if r.error is None and not r.records
            ]
            if not waits:
                break
            tasks = [asyncio.ensure_future(w) for w in waits]
            try:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:  # the other partitions' waits must not outlive this fetch
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            results = await self._read_all(specs, max_bytes)
        if self.metrics is not None:
            self.metrics.fetched(_per_topic(results))
        return results

    async def _read_all(self, specs: Sequence[FetchSpec], max_bytes: int) -> list[FetchedPartition]:
        budget = max_bytes
        results = []
        for spec in specs:
            result = FetchedPartition(spec)
            try:
                tp = self.topics.get(spec.topic).partition(spec.partition)
                result.offsets = self.log.offsets(tp)
                if budget > 0 and spec.offset < result.offsets.log_end:
                    limit = min(spec.max_bytes or DEFAULT_PARTITION_MAX_BYTES, budget)
                    result.records = await self.log.read(tp, spec.offset, limit)
                    result.size = _size(result.records)
                    budget -= result.size
                elif spec.offset > result.offsets.log_end or spec.offset < result.offsets.log_start:
                    await self.log.read(tp, spec.offset, 1)  # raises OffsetOutOfRangeError
            except WeirError as e:
                result.error = e
            results.append(result)
        return results

    async def list_offset(
        self, topic: str, partition: int, timestamp_ms: int | None, latest: bool
    ) -> tuple[Offset | None, int, PartitionOffsets]:
        """earliest (timestamp None, latest False), latest, or first offset at/after a time."""
        tp = self.topics.get(topic).partition(partition)
        bounds = self.log.offsets(tp)
        if timestamp_ms is None:
            return (bounds.log_end if latest else bounds.log_start), 0, bounds
        offset = await self.log.offset_for_time(tp, timestamp_ms)
        if offset is None:
            return None, 0, bounds
        found = await self.log.read(tp, offset, 1)
        return offset, (found[0].timestamp_ms if found else 0), bounds
