"""The producer's accumulator and send loop decisions, free of I/O and shared by both shells.

Records wait in per-partition queues of batches. ``step(now)`` says what the shell does next:
deliver outcomes, ask for a producer id, send one Produce request, or wait. The shell
reports back with ``completed``, ``failed``, ``producer_ready`` or ``producer_failed``.

Ordering and idempotence: at most ONE batch per partition is in flight. The proto counts
sequences over appended records only (a refused record consumes none), so the next batch's
base sequence is known only once the previous batch's reply says how many were appended;
pipelining would need guessed sequences that break on the first refused record. A retry
resends the same batch with the same identity and base sequence until the delivery timeout.
A batch that times out after being sent may or may not be in the log, so the producer asks
for a new id (sequences restart at 0) before sending new batches, as Kafka bumps its epoch.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from typing import NamedTuple

from weir.core.errors import (
    OutOfOrderSequenceError,
    PartitionNotFoundError,
    ProducerFencedError,
    TopicNotFoundError,
    UnavailableError,
    WeirError,
)
from weir.core.partitioner import partition_for_key
from weir.sdk import _produce_batches as pb
from weir.sdk._produce_batches import SEQ_MOD, Batch, Outcome, Pending
from weir.sdk._produce_config import ProducerConfig
from weir.v1 import log_service_pb2 as ls


@dataclass(slots=True)
class PartitionQueue:
    """The batches of one partition, oldest first, and its sequence counter."""

    batches: deque[Batch] = field(default_factory=deque)
    """Waiting batches; the head is the only one that may be in flight."""
    in_flight: bool = False
    """True while the head batch is in a request."""
    seq_pid: int = 0
    """The producer id ``next_sequence`` counts for."""
    next_sequence: int = 0
    """The base sequence of the next new batch under ``seq_pid``."""


class Wait(NamedTuple):
    """Nothing to do until woken or ``timeout_s`` passes (None: until woken)."""

    timeout_s: float | None


class InitProducer(NamedTuple):
    """Call InitProducer, then report ``producer_ready`` or ``producer_failed``."""

    timeout_s: float


class Send(NamedTuple):
    """Send ``request``, then report ``completed`` or ``failed`` with these batches."""

    topic: str
    """The topic."""
    batches: list[Batch]
    """The batches it carries, in request order."""
    request: ls.ProduceRequest
    """The request."""
    timeout_s: float
    """Its deadline."""


class Deliver(NamedTuple):
    """Resolve these records' futures."""

    outcomes: list[Outcome]


Step = Wait | InitProducer | Send | Deliver


class Settled(NamedTuple):
    """What a reply or failure decided."""

    outcomes: list[Outcome]
    """Records resolved now."""
    stale_topic: bool
    """True when the topic's partition count must be fetched again."""


class Accumulator:
    """Every record not yet acknowledged, grouped in batches per partition. Not thread-safe."""

    def __init__(self, config: ProducerConfig, rng: random.Random | None = None) -> None:
        self.config = config
        """The producer's settings."""
        self.queues: dict[str, dict[int, PartitionQueue]] = {}
        """Per topic, per partition."""
        self.buffered_bytes = 0
        """Bytes of records not yet resolved."""
        self.producer_id = 0
        """The current producer id (0 until InitProducer answers, or without idempotence)."""
        self.epoch = 0
        """The current producer epoch."""
        self.needs_producer_id = config.idempotent
        """True when new batches must wait for a (new) producer id."""
        self.fatal: WeirError | None = None
        """An error that ends the producer (fenced): every record fails with it."""
        self.flushing = 0
        """How many flush() calls wait; while > 0 batches go without lingering."""
        self._init_retry_at = 0.0
        self._init_attempts = 0
        self._init_error: WeirError | None = None
        self._sticky: dict[str, int] = {}
        self._rng = rng or random.Random()

    # ----- adding records ----------------------------------------------------------------

    def partition_for(self, topic: str, count: int, key: bytes | None) -> int:
        """Kafka's choice for a record without an explicit partition."""
        if key is not None:
            return partition_for_key(key, count)
        sticky = self._sticky.get(topic)
        if sticky is None or sticky >= count:
            sticky = self._sticky[topic] = self._rng.randrange(count)
        return sticky

    def append(
        self, topic: str, partition: int, record: Pending, log_append_time: bool, now: float
    ) -> bool:
        """Add a record to its partition's open batch, or open a new batch.

        Returns True when the sender should look again (a new batch, or a full one).
        """
        queue = self.queues.setdefault(topic, {}).get(partition)
        if queue is None:
            queue = self.queues[topic][partition] = PartitionQueue()
        tail = queue.batches[-1] if queue.batches else None
        cfg = self.config
        if (
            tail is None
            or tail.sent
            or tail.size + record.size > cfg.batch_size
            or len(tail.records) >= cfg.max_batch_records
        ):
            tail = Batch(topic, partition, log_append_time, now, now + cfg.delivery_timeout_s)
            queue.batches.append(tail)
            opened = True
        else:
            opened = False
        tail.records.append(record)
        tail.size += record.size
        self.buffered_bytes += record.size
        full = self._full(queue, tail)
        if full and self._sticky.get(topic) == partition:
            del self._sticky[topic]
        return opened or full

    def _full(self, queue: PartitionQueue, batch: Batch) -> bool:
        return (
            len(queue.batches) > 1
            or batch.size >= self.config.batch_size
            or len(batch.records) >= self.config.max_batch_records
        )

    def is_idle(self) -> bool:
        """True when no record waits and nothing is in flight."""
        return not any(q.batches for parts in self.queues.values() for q in parts.values())

    # ----- what to do next ---------------------------------------------------------------

    def step(self, now: float) -> Step:
        """The shell's next action."""
        if self.fatal is not None:
            outcomes = self._fail_waiting(self.fatal)
            if outcomes:
                return Deliver(outcomes)
        expired = self._expire(now)
        if expired:
            return Deliver(expired)
        if self.needs_producer_id and now >= self._init_retry_at and self._has_unsent():
            return InitProducer(self.config.request_timeout_s)
        send = self._drain(now)
        return send if send is not None else Wait(self._next_wakeup(now))

    def _has_unsent(self) -> bool:
        return any(
            not b.sent for parts in self.queues.values() for q in parts.values() for b in q.batches
        )

    def _ready(self, queue: PartitionQueue, batch: Batch, now: float) -> bool:
        if batch.sent:
            return batch.retry_at <= now
        if self.needs_producer_id:
            return False
        return bool(
            self.flushing or self._full(queue, batch) or now - batch.created >= self.config.linger_s
        )

    def _drain(self, now: float) -> Send | None:
        for topic in list(self.queues):
            chosen: list[tuple[PartitionQueue, Batch]] = []
            identity: tuple[int, int] | None = None
            records = size = 0
            for queue in self.queues[topic].values():
                if queue.in_flight or not queue.batches:
                    continue
                batch = queue.batches[0]
                if not self._ready(queue, batch, now):
                    continue
                if batch.solo:
                    if not chosen:
                        chosen, identity = [(queue, batch)], self._identity(batch)
                        break
                    continue
                ident = self._identity(batch)
                too_big = records + len(batch.records) > self.config.max_request_records or (
                    size + batch.size > self.config.max_request_bytes
                )
                if chosen and (ident != identity or too_big):
                    continue
                chosen.append((queue, batch))
                identity, records, size = ident, records + len(batch.records), size + batch.size
            if chosen and identity is not None:
                self.queues[topic] = self.queues.pop(topic)  # round robin: go to the back
                return self._send(topic, chosen, identity, now)
        return None

    def _identity(self, batch: Batch) -> tuple[int, int]:
        return (batch.producer_id, batch.epoch) if batch.sent else (self.producer_id, self.epoch)

    def _send(
        self,
        topic: str,
        chosen: list[tuple[PartitionQueue, Batch]],
        identity: tuple[int, int],
        now: float,
    ) -> Send:
        for queue, batch in chosen:
            if not batch.sent:
                batch.sent = True
                batch.producer_id, batch.epoch = identity
                if self.config.idempotent:
                    if queue.seq_pid != batch.producer_id:
                        queue.seq_pid, queue.next_sequence = batch.producer_id, 0
                    batch.base_sequence = queue.next_sequence
                if self._sticky.get(topic) == batch.partition:
                    del self._sticky[topic]
            batch.attempts += 1
            queue.in_flight = True
        batches = [b for _, b in chosen]
        request = pb.build_request(topic, self.config.acks, batches, *identity)
        earliest = min(b.deadline for b in batches)
        timeout = min(self.config.request_timeout_s, max(earliest - now, 0.05))
        return Send(topic, batches, request, timeout)

    def _next_wakeup(self, now: float) -> float | None:
        times: list[float] = []
        for parts in self.queues.values():
            for queue in parts.values():
                if queue.in_flight or not queue.batches:
                    continue
                head = queue.batches[0]
                times.append(head.deadline)
                if head.sent:
                    times.append(head.retry_at)
                elif self.needs_producer_id:
                    times.append(self._init_retry_at)
                elif not self.flushing and not self._full(queue, head):
                    times.append(head.created + self.config.linger_s)
                else:
                    times.append(now)
        return max(0.0, min(times) - now) if times else None

    # ----- failures before or without a reply --------------------------------------------

    def _expire(self, now: float) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for parts in self.queues.values():
            for queue in parts.values():
                while queue.batches and not queue.in_flight and queue.batches[0].deadline <= now:
                    batch = queue.batches.popleft()
                    outcomes.extend(pb.failed(batch, self._timeout_error(batch)))
                    self.buffered_bytes -= batch.size
                    if batch.sent and self.config.idempotent:
                        self.needs_producer_id = True  # it may be in the log: new sequences
        return outcomes

    def _timeout_error(self, batch: Batch) -> WeirError:
        last = batch.last_error or (None if batch.sent else self._init_error)
        ms = round(self.config.delivery_timeout_s * 1000)
        where = f"{len(batch.records)} record(s) for '{batch.topic}' partition {batch.partition}"
        if last is None:
            return UnavailableError(
                f"{where} were not acknowledged within delivery_timeout_ms={ms}; the server is "
                "slow or the producer is overloaded"
            )
        return type(last)(
            f"{where} were not delivered within delivery_timeout_ms={ms} "
            f"(after {batch.attempts} attempt(s)); last error: {last.message}",
            metadata=last.metadata,
        )

    def _fail_waiting(self, error: WeirError) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for parts in self.queues.values():
            for queue in parts.values():
                keep = 1 if queue.in_flight else 0
                while len(queue.batches) > keep:
                    batch = queue.batches.pop()
                    outcomes[:0] = pb.failed(batch, error)
                    self.buffered_bytes -= batch.size
        return outcomes

    # ----- reports from the shell --------------------------------------------------------

    def producer_ready(self, producer_id: int, epoch: int) -> None:
        """InitProducer answered: new batches use this identity, sequences from 0."""
        self.producer_id, self.epoch = producer_id, epoch
        self.needs_producer_id = False
        self._init_attempts, self._init_error = 0, None

    def producer_failed(self, error: WeirError, now: float) -> None:
        """InitProducer failed: retry later if a retry can help, else end the producer."""
        if not error.retriable:
            self.fatal = error
            return
        self._init_attempts += 1
        self._init_error = error
        self._init_retry_at = now + self.config.retry.backoff_s(self._init_attempts)

    def completed(self, send: Send, reply: ls.ProduceResponse) -> Settled:
        """A reply arrived: resolve every record of the request."""
        by_batch: dict[int, list[ls.BatchResult]] = {}
        for result in reply.results:
            by_batch.setdefault(result.batch_index, []).append(result)
        outcomes: list[Outcome] = []
        for i, batch in enumerate(send.batches):
            outcome, appended = pb.settle(batch, by_batch.get(i, ()), self.config.acks)
            outcomes.extend(outcome)
            queue = self._finish(batch)
            if self.config.idempotent and queue.seq_pid == batch.producer_id:
                queue.next_sequence = (batch.base_sequence + appended) % SEQ_MOD
        return Settled(outcomes, False)

    def failed(self, send: Send, error: WeirError, now: float) -> Settled:
        """The whole request failed: retry, isolate its batches, or fail their records."""
        for batch in send.batches:
            batch.last_error = error
            self.queues[batch.topic][batch.partition].in_flight = False
        if isinstance(error, ProducerFencedError):
            self.fatal = error
            return Settled(self._fail_all(send.batches, error), False)
        if error.retriable:
            for batch in send.batches:
                batch.retry_at = now + self.config.retry.backoff_s(batch.attempts)
            return Settled([], False)
        if isinstance(error, TopicNotFoundError):
            outcomes = self._fail_all(send.batches, error)
            outcomes.extend(self._fail_topic(send.topic, error))
            return Settled(outcomes, True)
        if len(send.batches) > 1:  # find out which batch the error is about
            for batch in send.batches:
                batch.solo, batch.retry_at = True, now
            return Settled([], False)
        batch = send.batches[0]
        self._finish(batch)
        if isinstance(error, OutOfOrderSequenceError) and self.config.idempotent:
            self.needs_producer_id = True
        return Settled(pb.refused(batch, error), isinstance(error, PartitionNotFoundError))

    def _finish(self, batch: Batch) -> PartitionQueue:
        queue = self.queues[batch.topic][batch.partition]
        queue.in_flight = False
        if queue.batches and queue.batches[0] is batch:
            queue.batches.popleft()
            self.buffered_bytes -= batch.size
        return queue

    def _fail_all(self, batches: list[Batch], error: WeirError) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for batch in batches:
            self._finish(batch)
            outcomes.extend(pb.failed(batch, error))
        return outcomes

    def _fail_topic(self, topic: str, error: WeirError) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for queue in self.queues.pop(topic, {}).values():
            for batch in queue.batches:
                outcomes.extend(pb.failed(batch, error))
                self.buffered_bytes -= batch.size
        return outcomes


__all__: list[str] = []
