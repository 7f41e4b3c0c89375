"""The producer's accumulator and send loop decisions, free of I/O and shared by both shells.

Records wait in per-partition queues of batches. ``step(now)`` says what the shell does next:
deliver outcomes, ask for a producer id, send one Produce request, or wait. The shell
reports back with ``completed``, ``failed``, ``producer_ready`` or ``producer_failed``.

Ordering and idempotence: at most ONE batch per partition is in flight. The proto counts
sequences over appended records only (a refused record consumes none), so the next batch's
base sequence is known only once the previous batch's reply says how many were appended;
pipelining would need guessed sequences that break on the first refused record. Several
partitions may be in flight at once, in up to ``max_in_flight_requests`` requests. A retry
resends the same batch with the same identity and base sequence until the delivery timeout.
A batch that times out after being sent may or may not be in the log, so the producer asks
for a new id (sequences restart at 0) before sending new batches, as Kafka bumps its epoch.
"""

from __future__ import annotations

import random

from weir.core.errors import (
    OutOfOrderSequenceError,
    PartitionNotFoundError,
    ProducerFencedError,
    TopicNotFoundError,
    WeirError,
)
from weir.sdk import _produce_batches as pb
from weir.sdk._produce_batches import SEQ_MOD, Batch, Done
from weir.sdk._produce_config import ProducerConfig
from weir.sdk._produce_queues import BatchQueues
from weir.sdk._produce_steps import (
    Deliver,
    InitProducer,
    PartitionQueue,
    Send,
    Settled,
    Step,
    Wait,
    timeout_error,
)
from weir.v1 import log_service_pb2 as ls


class Accumulator(BatchQueues):
    """Every record not yet acknowledged, grouped in batches per partition. Not thread-safe."""

    def __init__(self, config: ProducerConfig, rng: random.Random | None = None) -> None:
        super().__init__(config, rng)
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
        self.requests_in_flight = 0
        """Produce requests sent and not yet answered (at most max_in_flight_requests)."""
        self.initializing = False
        """True while an InitProducer call is out."""
        self._init_retry_at = 0.0
        self._init_attempts = 0
        self._init_error: WeirError | None = None

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
        if (
            self.needs_producer_id
            and not self.initializing
            and now >= self._init_retry_at
            and self._has_unsent()
        ):
            self.initializing = True
            return InitProducer(self.config.request_timeout_s)
        if self.requests_in_flight >= self.config.max_in_flight_requests:
            return Wait(None)  # woken when a reply arrives
        send = self._drain(now)
        return send if send is not None else Wait(self._next_wakeup(now))

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
                too_big = records + len(batch.keys) > self.config.max_request_records or (
                    size + batch.size > self.config.max_request_bytes
                )
                if chosen and (ident != identity or too_big):
                    continue
                chosen.append((queue, batch))
                identity, records, size = ident, records + len(batch.keys), size + batch.size
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
        self.requests_in_flight += 1
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

    def _expire(self, now: float) -> list[Done]:
        outcomes: list[Done] = []
        for parts in self.queues.values():
            for queue in parts.values():
                while queue.batches and not queue.in_flight and queue.batches[0].deadline <= now:
                    batch = queue.batches.popleft()
                    error = timeout_error(batch, self.config.delivery_timeout_s, self._init_error)
                    outcomes.append(pb.failed(batch, error))
                    self.buffered_bytes -= batch.size
                    if batch.sent and self.config.idempotent:
                        self.needs_producer_id = True  # it may be in the log: new sequences
        return outcomes

    # ----- reports from the shell --------------------------------------------------------

    def producer_ready(self, producer_id: int, epoch: int) -> None:
        """InitProducer answered: new batches use this identity, sequences from 0."""
        self.producer_id, self.epoch = producer_id, epoch
        self.needs_producer_id = self.initializing = False
        self._init_attempts, self._init_error = 0, None

    def producer_failed(self, error: WeirError, now: float) -> None:
        """InitProducer failed: retry later if a retry can help, else end the producer."""
        self.initializing = False
        if not error.retriable:
            self.fatal = error
            return
        self._init_attempts += 1
        self._init_error = error
        self._init_retry_at = now + self.config.retry.backoff_s(self._init_attempts)

    def completed(self, send: Send, reply: ls.ProduceResponse) -> Settled:
        """A reply arrived: resolve every record of the request."""
        self.requests_in_flight -= 1
        by_batch: dict[int, list[ls.BatchResult]] = {}
        for result in reply.results:
            by_batch.setdefault(result.batch_index, []).append(result)
        outcomes: list[Done] = []
        for i, batch in enumerate(send.batches):
            outcome, appended = pb.settle(batch, by_batch.get(i, ()), self.config.acks)
            outcomes.append(outcome)
            queue = self._finish(batch)
            if self.config.idempotent and queue.seq_pid == batch.producer_id:
                queue.next_sequence = (batch.base_sequence + appended) % SEQ_MOD
        return Settled(outcomes, False)

    def failed(self, send: Send, error: WeirError, now: float) -> Settled:
        """The whole request failed: retry, isolate its batches, or fail their records."""
        self.requests_in_flight -= 1
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
        return Settled([pb.refused(batch, error)], isinstance(error, PartitionNotFoundError))


__all__: list[str] = []
