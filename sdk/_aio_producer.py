"""AsyncProducer: the asyncio producer on grpc.aio, a thin shell over the shared accumulator.

``await produce()`` serializes (awaiting ``serialize_async`` when the serializer has it),
partitions and queues the record, and returns an ``asyncio.Future``; one task sends batches
and resolves the futures. Every decision is made by ``_produce_state.Accumulator``, the
same code the sync Producer uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import grpc

from weir.core.errors import PartitionNotFoundError, WeirError
from weir.core.status import from_rpc_error
from weir.sdk import _produce_config as pc
from weir.sdk import _produce_state as st
from weir.sdk import _topic_meta as tm
from weir.sdk._aio_client import AsyncGrpcClient
from weir.sdk._channel import DEFAULT_SERVER, DEFAULT_TIMEOUT_S, closed_error, explain
from weir.sdk._produce_batches import Outcome
from weir.sdk._records import MessageField, RecordMetadata, Serializer
from weir.sdk._retry import RetryPolicy
from weir.v1 import log_service_pb2 as ls
from weir.v1 import log_service_pb2_grpc as ls_grpc
from weir.v1 import topic_service_pb2_grpc as ts_grpc


class AsyncProducer(AsyncGrpcClient):
    """The asyncio Producer: same settings, same guarantees; create it inside its event loop.

    ``await produce(...)`` returns an ``asyncio.Future`` of the record's RecordMetadata once
    the record is queued; ``await produce_and_wait(...)`` returns the RecordMetadata itself.
    Use ``async with`` or ``await close()`` so buffered records are sent before exit.
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
        self._acc = st.Accumulator(config)
        self._meta = tm.TopicMetadataCache(config.metadata_max_age_s)
        self._outstanding = 0
        self._accepting = True
        self._stopping = False
        self._wake = asyncio.Event()
        self._progress = asyncio.Condition()
        self._sender: asyncio.Task[None] | None = None

    # ----- the public surface ------------------------------------------------------------

    async def produce(
        self,
        topic: str,
        value: Any = None,
        key: Any = None,
        *,
        headers: Any = None,
        partition: int | None = None,
        timestamp: int | None = None,
        on_delivery: pc.DeliveryCallback | None = None,
    ) -> asyncio.Future[RecordMetadata]:
        """Queue one record; the returned future gives its RecordMetadata or the broker's error.

        Bad arguments, a failing serializer, a closed producer or a full buffer (after
        ``max_block_ms``) raise here; everything the broker decides comes through the future.
        ``on_delivery(error, metadata)`` is called once per record, on the event loop.
        """
        self._check_open()
        args = pc.record_args(topic, headers, partition, timestamp)
        value_bytes = await self._serialize(self.value_serializer, value, args, MessageField.VALUE)
        key_bytes = await self._serialize(self.key_serializer, key, args, MessageField.KEY)
        future: asyncio.Future[RecordMetadata] = asyncio.get_running_loop().create_future()
        record = pc.make_pending(args, key_bytes, value_bytes, self.config, (future, on_delivery))
        meta = await self._topic_meta(args.topic, args.partition)
        if isinstance(meta, WeirError):
            _resolve(Outcome(record.handle, None, meta))
            return future
        await self._wait_for_room(record.size)
        self._check_open()
        acc = self._acc
        chosen = args.partition
        if chosen is None:
            chosen = acc.partition_for(args.topic, meta.partition_count, record.key)
        if acc.append(args.topic, chosen, record, meta.log_append_time, time.monotonic()):
            self._wake.set()
        self._outstanding += 1
        if self._sender is None:
            self._sender = asyncio.create_task(self._run(), name="weir-producer")
        return future

    async def produce_and_wait(
        self,
        topic: str,
        value: Any = None,
        key: Any = None,
        *,
        headers: Any = None,
        partition: int | None = None,
        timestamp: int | None = None,
    ) -> RecordMetadata:
        """Produce one record and wait for its acknowledgement (raises the broker's error)."""
        future = await self.produce(
            topic, value, key, headers=headers, partition=partition, timestamp=timestamp
        )
        self._acc.flushing += 1  # one awaited record should not linger
        self._wake.set()
        try:
            return await future
        finally:
            self._acc.flushing -= 1

    async def flush(self, timeout: float | None = None) -> int:  # noqa: ASYNC109
        # (a timeout argument, as in Producer.flush: the result counts what is left, which
        # cancelling with asyncio.timeout could not tell)
        """Send everything buffered now and wait for every answer; return how many are left."""
        self._acc.flushing += 1
        self._wake.set()
        try:
            async with self._progress:
                await asyncio.wait_for(
                    self._progress.wait_for(lambda: not self._outstanding), timeout
                )
        except TimeoutError:
            pass
        finally:
            self._acc.flushing -= 1
        return self._outstanding

    async def close(self, timeout: float | None = None) -> None:  # noqa: ASYNC109 (as flush)
        """Flush, stop the sender task and close the channel; produce() then raises."""
        if not self._accepting:
            return
        self._accepting = False
        if await self.flush(timeout):
            self._acc.fatal = closed_error(self)
        self._stopping = True
        self._wake.set()
        if self._sender is not None:
            await self._sender
        await super().close()

    def __len__(self) -> int:
        """How many produced records are not yet resolved."""
        return self._outstanding

    def _check_open(self) -> None:
        if not self._accepting:
            raise closed_error(self)
        if self._acc.fatal is not None:
            raise self._acc.fatal

    async def _serialize(
        self, serializer: Serializer | None, obj: Any, args: pc.RecordArgs, field: MessageField
    ) -> Any:
        serialize_async = getattr(serializer, "serialize_async", None)
        if serialize_async is None:
            return pc.run_serializer(serializer, obj, args, field)
        ctx = args.context(field)
        try:
            return await serialize_async(obj, ctx)
        except WeirError:
            raise
        except Exception as e:
            raise pc.serializer_error(e, ctx) from e

    async def _wait_for_room(self, size: int) -> None:
        acc, limit = self._acc, self.config.buffer_memory

        def room() -> bool:
            return not acc.buffered_bytes or acc.buffered_bytes + size <= limit

        if room():
            return
        try:
            async with self._progress:
                await asyncio.wait_for(self._progress.wait_for(room), self.config.max_block_s)
        except TimeoutError:
            raise pc.buffer_full(self.config, acc.buffered_bytes, size) from None

    # ----- topic metadata ----------------------------------------------------------------

    async def _topic_meta(self, topic: str, partition: int | None) -> tm.TopicMeta | WeirError:
        cached = self._meta.get(topic)
        fresh = not self._meta.needs_fetch(topic, time.monotonic())
        if cached is not None and fresh and (partition or 0) < cached.partition_count:
            return cached
        meta = tm.resolve(self._meta, topic, await self._fetch_meta(topic))
        if isinstance(meta, WeirError):
            return tm.unusable(meta, topic)
        if partition is not None and partition >= meta.partition_count:
            return PartitionNotFoundError(
                f"topic '{topic}' has {meta.partition_count} partition(s), so partition "
                f"{partition} does not exist; use 0 to {meta.partition_count - 1}",
                metadata={"topic": topic, "partition": str(partition)},
            )
        return meta

    async def _fetch_meta(self, topic: str) -> tm.TopicMeta | WeirError:
        budget = min(self.config.max_block_s, self.config.delivery_timeout_s)
        deadline = time.monotonic() + budget
        attempt = 1
        while True:
            wait = min(self.timeout_s, max(deadline - time.monotonic(), 0.05))
            try:
                reply = await self._topics.GetTopic(tm.get_topic_request(topic), timeout=wait)
                return tm.meta_from_reply(reply, time.monotonic())
            except grpc.RpcError as e:
                error = explain(from_rpc_error(e), self.server)
            pause = tm.fetch_pause(error, attempt, time.monotonic(), deadline, self.config.retry)
            if pause is None:
                return error
            await asyncio.sleep(pause)
            attempt += 1

    # ----- the sender task ---------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            step = self._acc.step(time.monotonic())
            if isinstance(step, st.Wait):
                if self._stopping and self._acc.is_idle():
                    return
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), step.timeout_s)
            elif isinstance(step, st.Deliver):
                await self._deliver(step.outcomes)
            elif isinstance(step, st.InitProducer):
                await self._init_producer(step)
            else:
                await self._send(step)

    async def _init_producer(self, step: st.InitProducer) -> None:
        try:
            reply = await self._log.InitProducer(ls.InitProducerRequest(), timeout=step.timeout_s)
        except grpc.RpcError as e:
            self._acc.producer_failed(explain(from_rpc_error(e), self.server), time.monotonic())
            return
        self._acc.producer_ready(reply.producer_id, reply.producer_epoch)

    async def _send(self, step: st.Send) -> None:
        try:
            reply = await self._log.Produce(step.request, timeout=step.timeout_s)
        except grpc.RpcError as e:
            error = explain(from_rpc_error(e), self.server)
            settled = self._acc.failed(step, error, time.monotonic())
        except Exception as e:  # a bug must not strand the batch in flight
            error = WeirError(f"sending to {self.server} failed unexpectedly: {e!r}")
            settled = self._acc.failed(step, error, time.monotonic())
        else:
            settled = self._acc.completed(step, reply)
        if settled.stale_topic:
            self._meta.invalidate(step.topic)
        await self._deliver(settled.outcomes)

    async def _deliver(self, outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            _resolve(outcome)
        self._outstanding -= len(outcomes)
        async with self._progress:
            self._progress.notify_all()


def _resolve(outcome: Outcome) -> None:
    future, callback = outcome.handle
    if not future.done():
        if outcome.error is None:
            future.set_result(outcome.metadata)
        else:
            future.set_exception(outcome.error)
    pc.notify(callback, outcome.error, outcome.metadata)


__all__ = ["AsyncProducer"]
