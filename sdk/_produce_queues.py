"""The producer's per-partition queues of batches, free of I/O: adding and dropping records.

``BatchQueues`` holds every record not yet resolved, in batches per topic and partition,
counts their bytes for back-pressure, and picks Kafka's partition for records without one.
The accumulator built on it (``_produce_state.Accumulator``) decides what to send when.
"""

from __future__ import annotations

import random
from typing import Any

from weir.core.errors import WeirError
from weir.core.partitioner import partition_for_key
from weir.sdk import _produce_batches as pb
from weir.sdk._produce_batches import Batch, Done, Row
from weir.sdk._produce_config import ProducerConfig
from weir.sdk._produce_steps import PartitionQueue


class BatchQueues:
    """Batches per topic and partition, oldest first. Not thread-safe."""

    def __init__(self, config: ProducerConfig, rng: random.Random | None = None) -> None:
        self.config = config
        """The producer's settings."""
        self.queues: dict[str, dict[int, PartitionQueue]] = {}
        """Per topic, per partition."""
        self.buffered_bytes = 0
        """Bytes of records not yet resolved."""
        self._sticky: dict[str, int] = {}
        self._rng = rng or random.Random()

    def partition_for(self, topic: str, count: int, key: bytes | None) -> int:
        """Kafka's choice for a record without an explicit partition."""
        if count == 1:
            return 0
        if key is not None:
            return partition_for_key(key, count)
        sticky = self._sticky.get(topic)
        if sticky is None or sticky >= count:
            sticky = self._sticky[topic] = self._rng.randrange(count)
        return sticky

    def append(
        self,
        topic: str,
        partition: int,
        record: Row,
        handle: Any,
        callback: Any,
        *,
        log_append_time: bool,
        now: float,
    ) -> bool:
        """Add a record (key, value, headers, timestamp, size) to its partition's open batch.

        ``handle`` (the shell's future) and ``callback`` come back with the record's result.
        Returns True when the sender should look again (a new batch, or a full one).
        """
        size = record[4]
        queue = self.queues.setdefault(topic, {}).get(partition)
        if queue is None:
            queue = self.queues[topic][partition] = PartitionQueue()
        tail = queue.batches[-1] if queue.batches else None
        cfg = self.config
        if (
            tail is None
            or tail.sent
            or tail.size + size > cfg.batch_size
            or len(tail.keys) >= cfg.max_batch_records
        ):
            tail = Batch(topic, partition, log_append_time, now, now + cfg.delivery_timeout_s)
            queue.batches.append(tail)
            opened = True
        else:
            opened = False
        tail.add(record, handle, callback)
        self.buffered_bytes += size
        full = self._full(queue, tail)
        if full and self._sticky.get(topic) == partition:
            del self._sticky[topic]
        return opened or full

    def _full(self, queue: PartitionQueue, batch: Batch) -> bool:
        return (
            len(queue.batches) > 1
            or batch.size >= self.config.batch_size
            or len(batch.keys) >= self.config.max_batch_records
        )

    def is_idle(self) -> bool:
        """True when no record waits and nothing is in flight."""
        return not any(q.batches for parts in self.queues.values() for q in parts.values())

    def _has_unsent(self) -> bool:
        return any(
            not b.sent for parts in self.queues.values() for q in parts.values() for b in q.batches
        )

    def _fail_waiting(self, error: WeirError) -> list[Done]:
        outcomes: list[Done] = []
        for parts in self.queues.values():
            for queue in parts.values():
                keep = 1 if queue.in_flight else 0
                while len(queue.batches) > keep:
                    batch = queue.batches.pop()
                    outcomes.insert(0, pb.failed(batch, error))
                    self.buffered_bytes -= batch.size
        return outcomes

    def _finish(self, batch: Batch) -> PartitionQueue:
        queue = self.queues[batch.topic][batch.partition]
        queue.in_flight = False
        if queue.batches and queue.batches[0] is batch:
            queue.batches.popleft()
            self.buffered_bytes -= batch.size
        return queue

    def _fail_all(self, batches: list[Batch], error: WeirError) -> list[Done]:
        outcomes: list[Done] = []
        for batch in batches:
            self._finish(batch)
            outcomes.append(pb.failed(batch, error))
        return outcomes

    def _fail_topic(self, topic: str, error: WeirError) -> list[Done]:
        outcomes: list[Done] = []
        for queue in self.queues.pop(topic, {}).values():
            for batch in queue.batches:
                outcomes.append(pb.failed(batch, error))
                self.buffered_bytes -= batch.size
        return outcomes


__all__: list[str] = []
