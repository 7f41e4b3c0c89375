"""AsyncProducer: the asyncio producer on grpc.aio, a thin shell over the shared ProducerCore.

``await produce()`` serializes (awaiting ``serialize_async`` when the serializer has it),
partitions and queues the record, and returns an ``asyncio.Future``; one task decides what
to send, each Produce request runs in its own task (one batch per partition in flight), and
replies resolve the futures. Every decision is made by ``_produce_core.ProducerCore``, the
same code the sync Producer uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import grpc

from weir.core.errors import WeirError
from weir.core.status import from_rpc_error
from weir.sdk import _produce_config as pc
from weir.sdk import _produce_core as core_
from weir.sdk import _produce_record as pr
from weir.sdk import _produce_steps as st
from weir.sdk import _topic_meta as tm
from weir.sdk._aio_client import AsyncGrpcClient
from weir.sdk._channel import closed_error, explain
from weir.sdk._produce_batches import Done
from weir.sdk._records import MessageField, RecordMetadata, Serializer
from weir.sdk._retry import RetryPolicy
from weir.v1 import log_service_pb2 as ls
from weir.v1 import log_service_pb2_grpc as ls_grpc
from weir.v1 import topic_service_pb2_grpc as ts_grpc


class AsyncProducer(core_.ProducerBase, AsyncGrpcClient):
    """The asyncio Producer: same settings, same guarantees; create it inside its event loop.

    ``await produce(...)`` returns an ``asyncio.Future`` of the record's RecordMetadata once
    the record is queued; ``await produce_and_wait(...)`` returns the RecordMetadata itself.
    Use ``async with`` or ``await close()`` so buffered records are sent before exit.
    """

    def _open(self, server: str, timeout_s: float, retry: RetryPolicy | None) -> None:
        AsyncGrpcClient.__init__(
            self, server, timeout_s=timeout_s, retry=retry, credentials=self._credentials
        )
        self._log: Any = ls_grpc.LogServiceStub(self._channel)  # type: ignore[no-untyped-call]
        self._topics: Any = ts_grpc.TopicServiceStub(self._channel)  # type: ignore[no-untyped-call]
        self._wake = asyncio.Event()
        self._progress = asyncio.Condition()
        self._sender: asyncio.Task[None] | None = None
        self._sends: set[asyncio.Task[None]] = set()

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
        core = self._core
        core.check_open(self)
        args = pr.record_args(topic, headers, partition, timestamp)
        value_bytes = await self._serialize(self.value_serializer, value, args, MessageField.VALUE)
        key_bytes = await self._serialize(self.key_serializer, key, args, MessageField.KEY)
        row = pr.make_row(args, key_bytes, value_bytes, self.config)
        future: asyncio.Future[RecordMetadata] = asyncio.get_running_loop().create_future()
        meta = core.cached_meta(args.topic, args.partition) or await self._topic_meta(args)
        if isinstance(meta, WeirError):
            future.set_exception(meta)
            pc.notify(on_delivery, meta, None)
            return future
        await self._wait_for_room(row[4])
        core.check_open(self)
        if core.add(args, row, meta, future, on_delivery):
            self._wake.set()
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
        self._core.acc.flushing += 1  # one awaited record should not linger
        self._wake.set()
        try:
            return await future
        finally:
            self._core.acc.flushing -= 1

    async def flush(self, timeout: float | None = None) -> int:  # noqa: ASYNC109
        # (a timeout argument, as in Producer.flush: the result counts what is left, which
        # cancelling with asyncio.timeout could not tell)
        """Send everything buffered now and wait for every answer; return how many are left."""
        core = self._core
        core.acc.flushing += 1
        self._wake.set()
        try:
            async with self._progress:
                await asyncio.wait_for(
                    self._progress.wait_for(lambda: not core.outstanding), timeout
                )
        except TimeoutError:
            pass
        finally:
            core.acc.flushing -= 1
        return core.outstanding

    async def close(self, timeout: float | None = None) -> None:  # noqa: ASYNC109 (as flush)
        """Flush, stop the sender task and close the channel; produce() then raises."""
        core = self._core
        if not core.accepting:
            return
        core.accepting = False
        if await self.flush(timeout):
            core.acc.fatal = closed_error(self)
        core.stopping = True
        self._wake.set()
        if self._sender is not None:
            await self._sender
        await super().close()

    async def _serialize(
        self, serializer: Serializer | None, obj: Any, args: pr.RecordArgs, field: MessageField
    ) -> Any:
        serialize_async = getattr(serializer, "serialize_async", None)
        if serialize_async is None:
            return pr.run_serializer(serializer, obj, args, field)
        ctx = args.context(field)
        try:
            return await serialize_async(obj, ctx)
        except WeirError:
            raise
        except Exception as e:
            raise pr.serializer_error(e, ctx) from e

    async def _wait_for_room(self, size: int) -> None:
        core = self._core
        if core.has_room(size):
            return
        try:
            async with self._progress:
                await asyncio.wait_for(
                    self._progress.wait_for(lambda: core.has_room(size)), self.config.max_block_s
                )
        except TimeoutError:
            raise core.buffer_full(size) from None

    async def _topic_meta(self, args: pr.RecordArgs) -> tm.TopicMeta | WeirError:
        fetch = self._core.meta_fetch(args.topic, self.timeout_s)
        while True:
            try:
                wait = fetch.wait_s(time.monotonic())
                reply = await self._topics.GetTopic(fetch.request, timeout=wait)
            except grpc.RpcError as e:
                pause = fetch.failed(explain(from_rpc_error(e), self.server), time.monotonic())
                if pause is None:
                    reply = fetch.error
                else:
                    await asyncio.sleep(pause)
                    continue
            return self._core.fetched_meta(args.topic, args.partition, reply)

    # ----- the sender task ---------------------------------------------------------------

    async def _run(self) -> None:
        core = self._core
        while True:
            step = core.acc.step(time.monotonic())
            if isinstance(step, st.Wait):
                if core.stopping and core.acc.is_idle():
                    break
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), step.timeout_s)
            elif isinstance(step, st.Deliver):
                await self._deliver(step.outcomes)
            elif isinstance(step, st.InitProducer):
                await self._init_producer(step)
            else:
                task = asyncio.create_task(self._send(step))
                self._sends.add(task)
                task.add_done_callback(self._sends.discard)
        await asyncio.gather(*self._sends)

    async def _init_producer(self, step: st.InitProducer) -> None:
        reply: ls.InitProducerResponse | WeirError
        try:
            reply = await self._log.InitProducer(ls.InitProducerRequest(), timeout=step.timeout_s)
        except grpc.RpcError as e:
            reply = explain(from_rpc_error(e), self.server)
        self._core.init_replied(reply)

    async def _send(self, step: st.Send) -> None:
        reply: ls.ProduceResponse | WeirError
        try:
            reply = await self._log.Produce(step.request, timeout=step.timeout_s)
        except grpc.RpcError as e:
            reply = explain(from_rpc_error(e), self.server)
        except Exception as e:  # a bug must not strand the batch in flight
            reply = core_.unexpected(e, self.server)
        outcomes = self._core.settle(step, reply)
        self._wake.set()
        await self._deliver(outcomes)

    async def _deliver(self, outcomes: list[Done]) -> None:
        for done in outcomes:
            for future, result in zip(done.handles, done.results, strict=True):
                if future.done():
                    continue
                if isinstance(result, WeirError):
                    future.set_exception(result)
                else:
                    future.set_result(result)
        core_.notify_all(outcomes)
        self._core.outstanding -= core_.count(outcomes)
        async with self._progress:
            self._progress.notify_all()


__all__ = ["AsyncProducer"]
