"""Producer: the synchronous producer, a thin shell over the shared accumulator.

``produce()`` serializes and partitions on the caller's thread and returns a
``concurrent.futures.Future``; one background thread sends batches and resolves the futures.
Every decision (batching, sequences, retries, timeouts, what a reply means) is made by
``_produce_state.Accumulator``, the same code AsyncProducer uses.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from typing import Any

import grpc

from weir.core.errors import PartitionNotFoundError, WeirError
from weir.core.status import from_rpc_error
from weir.sdk import _produce_config as pc
from weir.sdk import _produce_state as st
from weir.sdk import _topic_meta as tm
from weir.sdk._channel import DEFAULT_SERVER, DEFAULT_TIMEOUT_S, closed_error, explain
from weir.sdk._client import GrpcClient
from weir.sdk._produce_batches import Outcome
from weir.sdk._records import MessageField, RecordMetadata, Serializer
from weir.sdk._retry import RetryPolicy
from weir.v1 import log_service_pb2 as ls
from weir.v1 import log_service_pb2_grpc as ls_grpc
from weir.v1 import topic_service_pb2_grpc as ts_grpc


class Producer(GrpcClient):
    """Sends records to topics in batches, in the background; thread-safe.

    ``produce()`` returns a future of the record's ``RecordMetadata`` (topic, partition,
    offset, timestamp), or of the broker's reason for refusing it. With idempotence (the
    default) retries after a lost reply or a server restart never duplicate a record. Use it
    as a context manager, or call ``close()``, so buffered records are sent before exit.
    """

    def __init__(
        self,
        server: str = DEFAULT_SERVER,
        *,
        key_serializer: Serializer | None = None,
        value_serializer: Serializer | None = None,
        acks: str | int = "all",
        linger_ms: float = 5,
        batch_size: int = 1 << 20,
        max_batch_records: int = 10_000,
        max_request_bytes: int = 16 << 20,
        enable_idempotence: bool = True,
        delivery_timeout_ms: float = 120_000,
        request_timeout_ms: float = 30_000,
        buffer_memory: int = 32 << 20,
        max_block_ms: float = 60_000,
        metadata_max_age_ms: float = 300_000,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
    ) -> None:
        config = pc.make_config(
            acks=acks,
            enable_idempotence=enable_idempotence,
            linger_ms=linger_ms,
            batch_size=batch_size,
            max_batch_records=max_batch_records,
            max_request_bytes=max_request_bytes,
            delivery_timeout_ms=delivery_timeout_ms,
            request_timeout_ms=request_timeout_ms,
            buffer_memory=buffer_memory,
            max_block_ms=max_block_ms,
            metadata_max_age_ms=metadata_max_age_ms,
            retry=retry,
        )
        super().__init__(server, timeout_s=timeout_s, retry=retry)
        self.config = config
        """The checked settings."""
        self.key_serializer = key_serializer
        """Turns keys into bytes; None sends bytes or str keys as they are."""
        self.value_serializer = value_serializer
        """Turns values into bytes; None sends bytes or str values as they are."""
        self._log: Any = ls_grpc.LogServiceStub(self._channel)  # type: ignore[no-untyped-call]
        self._topics: Any = ts_grpc.TopicServiceStub(self._channel)  # type: ignore[no-untyped-call]
        self._cond = threading.Condition()
        self._acc = st.Accumulator(config)
        self._meta = tm.TopicMetadataCache(config.metadata_max_age_s)
        self._outstanding = 0
        self._accepting = True
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="weir-producer", daemon=True)
        self._thread.start()

    # ----- the public surface ------------------------------------------------------------

    def produce(
        self,
        topic: str,
        value: Any = None,
        key: Any = None,
        *,
        headers: Any = None,
        partition: int | None = None,
        timestamp: int | None = None,
        on_delivery: pc.DeliveryCallback | None = None,
    ) -> Future[RecordMetadata]:
        """Queue one record; the future gives its RecordMetadata or the broker's error.

        ``on_delivery(error, metadata)`` is called once, from the producer's thread. Bad
        arguments, a failing serializer, a closed producer or a full buffer (after
        ``max_block_ms``) raise here; everything the broker decides comes through the future.
        """
        self._check_open()
        args = pc.record_args(topic, headers, partition, timestamp)
        value_bytes = pc.run_serializer(self.value_serializer, value, args, MessageField.VALUE)
        key_bytes = pc.run_serializer(self.key_serializer, key, args, MessageField.KEY)
        future: Future[RecordMetadata] = Future()
        future.set_running_or_notify_cancel()  # a queued record cannot be taken back
        record = pc.make_pending(args, key_bytes, value_bytes, self.config, (future, on_delivery))
        meta = self._topic_meta(args.topic, args.partition)
        if isinstance(meta, WeirError):
            _resolve(Outcome(record.handle, None, meta))
            return future
        deadline = time.monotonic() + self.config.max_block_s
        with self._cond:
            acc = self._acc
            while (
                acc.buffered_bytes and acc.buffered_bytes + record.size > self.config.buffer_memory
            ):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise pc.buffer_full(self.config, acc.buffered_bytes, record.size)
                self._cond.wait(remaining)
            self._check_open()
            chosen = args.partition
            if chosen is None:
                chosen = acc.partition_for(args.topic, meta.partition_count, record.key)
            if acc.append(args.topic, chosen, record, meta.log_append_time, time.monotonic()):
                self._cond.notify_all()
            self._outstanding += 1
        return future

    def flush(self, timeout: float | None = None) -> int:
        """Send everything buffered now and wait for every answer; return how many are left.

        With a ``timeout`` (seconds) it may return early: the result counts the records whose
        futures are still unresolved (0 when all are done).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            self._acc.flushing += 1
            self._cond.notify_all()
            try:
                while self._outstanding:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        break
                    self._cond.wait(remaining)
                return self._outstanding
            finally:
                self._acc.flushing -= 1

    def close(self, timeout: float | None = None) -> None:
        """Flush, stop the background thread and close the channel; produce() then raises.

        Records still unresolved when ``timeout`` passes fail with FailedPreconditionError.
        """
        with self._cond:
            if not self._accepting:
                return
            self._accepting = False
        left = self.flush(timeout)
        with self._cond:
            if left:
                self._acc.fatal = closed_error(self)
            self._stopping = True
            self._cond.notify_all()
        self._thread.join()
        super().close()

    def __len__(self) -> int:
        """How many produced records are not yet resolved."""
        return self._outstanding

    def _check_open(self) -> None:
        if not self._accepting:
            raise closed_error(self)
        if self._acc.fatal is not None:
            raise self._acc.fatal

    # ----- topic metadata (caller's thread) ----------------------------------------------

    def _topic_meta(self, topic: str, partition: int | None) -> tm.TopicMeta | WeirError:
        cached = self._meta.get(topic)
        fresh = not self._meta.needs_fetch(topic, time.monotonic())
        if (
            cached is not None
            and fresh
            and (partition is None or partition < cached.partition_count)
        ):
            return cached
        meta = tm.resolve(self._meta, topic, self._fetch_meta(topic))
        if isinstance(meta, WeirError):
            return tm.unusable(meta, topic)
        if partition is not None and partition >= meta.partition_count:
            return PartitionNotFoundError(
                f"topic '{topic}' has {meta.partition_count} partition(s), so partition "
                f"{partition} does not exist; use 0 to {meta.partition_count - 1}",
                metadata={"topic": topic, "partition": str(partition)},
            )
        return meta

    def _fetch_meta(self, topic: str) -> tm.TopicMeta | WeirError:
        budget = min(self.config.max_block_s, self.config.delivery_timeout_s)
        deadline = time.monotonic() + budget
        attempt = 1
        while True:
            wait = min(self.timeout_s, max(deadline - time.monotonic(), 0.05))
            try:
                reply = self._topics.GetTopic(tm.get_topic_request(topic), timeout=wait)
                return tm.meta_from_reply(reply, time.monotonic())
            except grpc.RpcError as e:
                error = explain(from_rpc_error(e), self.server)
            pause = tm.fetch_pause(error, attempt, time.monotonic(), deadline, self.config.retry)
            if pause is None:
                return error
            time.sleep(pause)
            attempt += 1

    # ----- the background thread ---------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    step = self._acc.step(time.monotonic())
                    if not isinstance(step, st.Wait):
                        break
                    if self._stopping and self._acc.is_idle():
                        return
                    self._cond.wait(step.timeout_s)
            if isinstance(step, st.Deliver):
                self._deliver(step.outcomes)
            elif isinstance(step, st.InitProducer):
                self._init_producer(step)
            else:
                self._send(step)

    def _init_producer(self, step: st.InitProducer) -> None:
        try:
            reply = self._log.InitProducer(ls.InitProducerRequest(), timeout=step.timeout_s)
        except grpc.RpcError as e:
            error = explain(from_rpc_error(e), self.server)
            with self._cond:
                self._acc.producer_failed(error, time.monotonic())
            return
        with self._cond:
            self._acc.producer_ready(reply.producer_id, reply.producer_epoch)

    def _send(self, step: st.Send) -> None:
        try:
            reply = self._log.Produce(step.request, timeout=step.timeout_s)
        except grpc.RpcError as e:
            error = explain(from_rpc_error(e), self.server)
            with self._cond:
                settled = self._acc.failed(step, error, time.monotonic())
        except Exception as e:  # a bug must not strand the batch in flight
            error = WeirError(f"sending to {self.server} failed unexpectedly: {e!r}")
            with self._cond:
                settled = self._acc.failed(step, error, time.monotonic())
        else:
            with self._cond:
                settled = self._acc.completed(step, reply)
        if settled.stale_topic:
            self._meta.invalidate(step.topic)
        self._deliver(settled.outcomes)

    def _deliver(self, outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            _resolve(outcome)
        with self._cond:
            self._outstanding -= len(outcomes)
            self._cond.notify_all()


def _resolve(outcome: Outcome) -> None:
    future, callback = outcome.handle
    if outcome.error is None:
        future.set_result(outcome.metadata)
    else:
        future.set_exception(outcome.error)
    pc.notify(callback, outcome.error, outcome.metadata)


__all__ = ["Producer"]
