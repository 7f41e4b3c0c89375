"""AsyncConsumer: the Consumer on asyncio (grpc.aio), with the same state machines.

    async with AsyncConsumer("checkout", ["orders"], server="localhost:50051") as consumer:
        async for message in consumer:
            await handle(message)
            await consumer.commit(message)

Every decision comes from the same I/O-free core as the sync Consumer
(``_consume_core.ConsumerCore`` over ``_membership``, ``_consume_state``, ``_consume_calls``);
see ``weir.sdk._consumer`` for the semantics. Here the heartbeater and the Fetch sent ahead
are asyncio tasks, rebalance
callbacks may be plain functions or coroutines (awaited inside ``poll()``), and deserializers
with a ``deserialize_async`` method are awaited. Create it inside the running event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

from weir.sdk import _consume_calls as calls
from weir.sdk._aio_client import AsyncGrpcClient
from weir.sdk._call import Call
from weir.sdk._channel import DEFAULT_SERVER, DEFAULT_TIMEOUT_S
from weir.sdk._consume_calls import Offsets, Partitions
from weir.sdk._consume_core import ConsumerCore, core_options
from weir.sdk._consume_ops import Callback, Commit, Decode, Fetch, Op, Sleep, Stepper, Steps
from weir.sdk._consume_state import OffsetReset
from weir.sdk._credentials import Credentials
from weir.sdk._membership import Topics
from weir.sdk._records import Deserializer, Message, MessageField, TopicPartition
from weir.sdk._retry import RetryPolicy
from weir.v1 import group_service_pb2_grpc as gs_grpc
from weir.v1 import log_service_pb2 as ls
from weir.v1 import log_service_pb2_grpc as ls_grpc

T = TypeVar("T")

AsyncRebalanceCallback = Callable[["AsyncConsumer", list[TopicPartition]], object]
"""``callback(consumer, partitions)``: a function or a coroutine function, run inside poll()."""


class AsyncConsumer:
    """Reads records from Weir topics on asyncio, as a group member or from assigned partitions."""

    def __init__(
        self,
        group_id: str | None,
        topics: Topics | None = None,
        *,
        server: str = DEFAULT_SERVER,
        key_deserializer: Deserializer | None = None,
        value_deserializer: Deserializer | None = None,
        auto_offset_reset: OffsetReset = "earliest",
        enable_auto_commit: bool = False,
        auto_commit_interval_ms: int = 5000,
        on_assign: AsyncRebalanceCallback | None = None,
        on_revoke: AsyncRebalanceCallback | None = None,
        on_lost: AsyncRebalanceCallback | None = None,
        session_timeout_ms: int = 45_000,
        rebalance_timeout_ms: int = 300_000,
        group_instance_id: str | None = None,
        fetch_max_wait_ms: int = 300,
        max_partition_fetch_bytes: int = 1 << 20,
        fetch_max_bytes: int = 50 << 20,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        credentials: Credentials | None = None,
    ) -> None:
        """Connect; with ``topics``, join ``group_id`` in a background task (poll() to consume)."""
        changed, wake = asyncio.Event(), asyncio.Event()
        self._core = core = ConsumerCore("AsyncConsumer", **core_options(locals()))
        self._changed, self._wake = changed, wake
        self.settings = core.settings
        """The checked settings."""
        self.group_id = group_id
        """The consumer group, or None."""
        self._state = core.state
        self._client = AsyncGrpcClient(
            server, timeout_s=timeout_s, retry=retry, credentials=credentials
        )
        channel = self._client._channel
        self._stubs: dict[str, Any] = {
            "log": ls_grpc.LogServiceStub(channel),  # type: ignore[no-untyped-call]
            "groups": gs_grpc.GroupServiceStub(channel),  # type: ignore[no-untyped-call]
        }
        self._in_flight: tuple[ls.FetchRequest, asyncio.Task[ls.FetchResponse]] | None = None
        self._commit_lock = asyncio.Lock()
        self._heartbeater: asyncio.Task[None] | None = None
        if core.membership is not None:
            self._heartbeater = asyncio.get_running_loop().create_task(self._run(core.heartbeats()))

    def __repr__(self) -> str:
        return f"AsyncConsumer(group_id={self.group_id!r}, server={self._client.server!r})"

    # ----- running the core's steps -----------------------------------------------------------

    async def _run(self, steps: Steps[T]) -> T:
        """Perform each step the core asks for, handing back its result or its error."""
        run = Stepper(steps)
        while (op := run.next()) is not None:
            try:
                run.result = await self._perform(op)
            except BaseException as exc:  # handed to the step that asked
                run.error = exc
        return run.value

    async def _perform(self, op: Op) -> Any:
        if isinstance(op, Call):
            method = getattr(self._stubs[op.stub], op.method)
            reply = await self._client._call(method, op.request, idempotent=op.idempotent)
            return op.parse(reply)
        if isinstance(op, Fetch):
            return await self._fetch(op.wait_s)
        if isinstance(op, Decode):
            return await self._decode(op.batch)
        if isinstance(op, Commit):
            return await self._send_commit(op.offsets)
        if isinstance(op, Sleep):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), op.seconds)
            return None
        assert isinstance(op, Callback)
        result = op.fn(self, op.partitions)
        if inspect.isawaitable(result):
            await result
        return None

    async def _fetch(self, wait_s: float) -> None:
        """Wait up to ``wait_s`` for the fetch in flight, else send one and wait for it; then
        send the next one ahead, so the server reads while the application consumes."""
        core = self._core
        if self._in_flight is None:
            request = core.fetch_request(wait_s)
            if request is None:  # nothing to read: wait for an assignment change
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), wait_s)
                return
            self._in_flight = (request, self._send_fetch(request))
            wait_s = wait_s + self._client.timeout_s  # its own deadline ends the wait
        request, task = self._in_flight
        await asyncio.wait({task}, timeout=wait_s)
        if not task.done():
            return
        self._in_flight = None
        ahead = core.fetched(request, task.result())
        if ahead is not None:
            self._in_flight = (ahead, self._send_fetch(ahead))

    def _send_fetch(self, request: ls.FetchRequest) -> asyncio.Task[ls.FetchResponse]:
        timeout_s = self._client.timeout_s + request.max_wait_ms / 1000
        call = self._client._call(self._stubs["log"].Fetch, request, timeout_s=timeout_s)
        return asyncio.get_running_loop().create_task(call)

    async def _decode(self, batch: list[Message]) -> list[Message]:
        """Deserialize records, awaiting ``deserialize_async`` where a deserializer has one."""
        core = self._core
        out = []
        for i, message in enumerate(batch):
            try:
                key = await _run(core.kd, message, MessageField.KEY, message.key)
                value = await _run(core.vd, message, MessageField.VALUE, message.value)
            except Exception as exc:
                core.decode_failed(batch, i)
                raise calls.deserialize_error(message, exc) from None
            out.append(message._replace(key=key, value=value))
        return out

    # ----- consuming -----------------------------------------------------------------------

    # poll(timeout) mirrors the sync Consumer and confluent-kafka; it returns None, not raises.
    async def poll(self, timeout: float | None = None) -> Message | None:  # noqa: ASYNC109
        """The next record, waiting up to ``timeout`` seconds (None: until one arrives)."""
        message = self._core.next_ready()
        if message is None:
            got = await self._run(self._core.poll(timeout, 1))
            return got[0] if got else None
        if self._core.decoding:
            return (await self._decode([message]))[0]
        return message

    async def consume(
        self,
        num_messages: int = 1,
        timeout: float | None = None,  # noqa: ASYNC109 -- same signature as Consumer.consume
    ) -> list[Message]:
        """Up to ``num_messages`` records at once (at least one unless ``timeout`` passes)."""
        batch = self._core.take_ready(num_messages)
        if not batch:
            return await self._run(self._core.poll(timeout, num_messages))
        return await self._decode(batch) if self._core.decoding else batch

    async def __aiter__(self) -> AsyncIterator[Message]:
        """Every record as it arrives; the loop ends once the consumer is closed."""
        while not self._core.closed:
            message = await self.poll(1.0)
            if message is not None:
                yield message

    # ----- commits -------------------------------------------------------------------------

    async def commit(
        self,
        message: Message | None = None,
        *,
        offsets: Offsets | None = None,
        asynchronous: bool = False,
    ) -> Any:
        """Store positions for the group; returns ``{TopicPartition: offset}`` stored.

        Same arguments and errors as ``Consumer.commit``. With ``asynchronous=True`` it returns
        an ``asyncio.Task`` of the result instead of waiting; commits are sent in order.
        """
        chosen = self._core.commit_offsets(message, offsets)
        if asynchronous:
            return asyncio.get_running_loop().create_task(self._send_commit(chosen))
        return await self._send_commit(chosen)

    async def _send_commit(
        self, offsets: Mapping[TopicPartition, int]
    ) -> dict[TopicPartition, int]:
        if not offsets:
            return {}
        async with self._commit_lock:  # commits leave in the order they were made
            return await self._run(self._core.send_commit(offsets))

    async def committed(
        self, partitions: Partitions | None = None
    ) -> dict[TopicPartition, int | None]:
        """The group's committed offsets (None: no commit), for these or all assigned partitions."""
        return await self._run(self._core.committed(partitions))

    # ----- positions -----------------------------------------------------------------------

    def assignment(self) -> list[TopicPartition]:
        """The partitions this consumer reads now, sorted."""
        return self._state.assignment()

    async def assign(self, partitions: Iterable[TopicPartition]) -> None:
        """Read exactly these partitions (standalone mode only); see ``Consumer.assign``."""
        await self._run(self._core.assign(partitions))

    async def unassign(self) -> None:
        """Stop reading every assigned partition (standalone mode)."""
        await self.assign([])

    def position(self, partitions: Partitions | None = None) -> dict[TopicPartition, int]:
        """The offset of the next record poll() returns, per assigned partition."""
        tps = None if partitions is None else calls.partitions_arg(partitions)
        return self._state.positions(tps)

    def seek(self, partition: TopicPartition, offset: int) -> None:
        """Make ``offset`` the next record returned from an assigned partition."""
        self._state.seek(partition, calls.offset_arg(partition, offset))

    async def offsets_for_times(
        self, timestamps: Mapping[TopicPartition, Any] | Iterable[tuple[TopicPartition, Any]]
    ) -> dict[TopicPartition, int | None]:
        """Per partition, the first offset at or after the time given; None when none is."""
        return await self._run(self._core.offsets_for_times(timestamps))

    async def seek_to_timestamp(
        self, timestamp: Any, partitions: Partitions | None = None
    ) -> dict[TopicPartition, int]:
        """Seek assigned partitions (all, or these) to the first record at or after a time,
        or to the log end; returns the positions."""
        return await self._run(self._core.seek_to_timestamp(timestamp, partitions))

    def pause(self, partitions: Partitions) -> None:
        """Stop fetching these assigned partitions (their prefetched records are dropped)."""
        self._state.set_paused(calls.partitions_arg(partitions), True)

    def resume(self, partitions: Partitions) -> None:
        """Fetch these paused partitions again, from their positions."""
        self._state.set_paused(calls.partitions_arg(partitions), False)

    def paused(self) -> list[TopicPartition]:
        """The paused partitions, sorted."""
        return self._state.paused()

    # ----- closing -------------------------------------------------------------------------

    async def close(self) -> None:
        """Auto-commit, run on_revoke for owned partitions, leave the group, close the channel."""
        core = self._core
        if core.closed:
            return
        try:
            await self._run(core.closing())
        finally:
            core.closed = True
            self._wake.set()
            if self._in_flight is not None:
                self._in_flight[1].cancel()
                self._in_flight = None
            if self._heartbeater is not None:
                with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(self._heartbeater, self._client.timeout_s)
            await self._run(core.leave())
            await self._client.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


async def _run(deserializer: Any, message: Message, field: MessageField, data: Any) -> Any:
    """One field through a deserializer, awaiting ``deserialize_async`` when it has one."""
    if deserializer is None:
        return data
    ctx = calls.context(message, field)
    async_form = getattr(deserializer, "deserialize_async", None)
    if async_form is not None:
        return await async_form(data, ctx)
    return deserializer(data, ctx)


__all__ = ["AsyncConsumer"]
