"""AsyncConsumer: the Consumer on asyncio (grpc.aio), with the same state machines.

    async with AsyncConsumer("checkout", ["orders"], server="localhost:50051") as consumer:
        async for message in consumer:
            await handle(message)
            await consumer.commit(message)

Membership, positions, fetch requests, commits and Messages come from the same I/O-free modules
as the sync Consumer (``_membership``, ``_consume_state``, ``_consume_calls``); see
``weir.sdk._consumer`` for the semantics. Here the heartbeater is an asyncio task, rebalance
callbacks may be plain functions or coroutines (awaited inside ``poll()``), and deserializers
with a ``deserialize_async`` method are awaited. Create it inside the running event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, Self

from weir.core.errors import (
    FailedPreconditionError,
    FencedMemberEpochError,
    InvalidArgumentError,
    StaleMemberEpochError,
    UnknownMemberIdError,
    WeirError,
)
from weir.sdk import _consume_calls as calls
from weir.sdk._aio_client import AsyncGrpcClient
from weir.sdk._channel import DEFAULT_SERVER, DEFAULT_TIMEOUT_S
from weir.sdk._consume_calls import ConsumerSettings, Offsets, Partitions
from weir.sdk._consume_state import ConsumeState, OffsetReset
from weir.sdk._membership import Membership, Topics, subscription_arg
from weir.sdk._records import Deserializer, Message, MessageField, TopicPartition
from weir.sdk._retry import RetryPolicy
from weir.v1 import group_service_pb2 as gs
from weir.v1 import group_service_pb2_grpc as gs_grpc
from weir.v1 import log_service_pb2_grpc as ls_grpc

log = logging.getLogger("weir.sdk.consumer")

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
    ) -> None:
        """Connect; with ``topics``, join ``group_id`` in a background task (poll() to consume)."""
        self.settings = ConsumerSettings(
            auto_offset_reset,
            enable_auto_commit,
            auto_commit_interval_ms,
            session_timeout_ms,
            rebalance_timeout_ms,
            fetch_max_wait_ms,
            max_partition_fetch_bytes,
            fetch_max_bytes,
        )
        """The checked settings."""
        self.group_id = group_id
        """The consumer group, or None."""
        self._membership: Membership | None = None
        if topics is not None:
            if not group_id:
                raise InvalidArgumentError(
                    "subscribing to topics needs a group_id; without a group, pass topics=None "
                    "and assign() partitions"
                )
            self._membership = Membership(
                group_id,
                subscription_arg(topics),
                session_timeout_ms=session_timeout_ms,
                rebalance_timeout_ms=rebalance_timeout_ms,
                instance_id=group_instance_id,
            )
        self._kd, self._vd = key_deserializer, value_deserializer
        self._on_assign, self._on_revoke, self._on_lost = on_assign, on_revoke, on_lost
        self._state = ConsumeState(auto_offset_reset, max_partition_fetch_bytes, fetch_max_bytes)
        self._client = AsyncGrpcClient(server, timeout_s=timeout_s, retry=retry)
        self._log: Any = ls_grpc.LogServiceStub(self._client._channel)  # type: ignore[no-untyped-call]
        self._groups: Any = gs_grpc.GroupServiceStub(self._client._channel)  # type: ignore[no-untyped-call]
        self._changed = asyncio.Event()
        self._hb_wake = asyncio.Event()
        self._stopping = False
        self._closed = False
        self._next_auto_commit = time.monotonic() + auto_commit_interval_ms / 1000
        self._last_commit: dict[TopicPartition, int] = {}
        self._commit_lock = asyncio.Lock()
        self._heartbeater: asyncio.Task[None] | None = None
        if self._membership is not None:
            self._heartbeater = asyncio.get_running_loop().create_task(self._heartbeat_loop())

    def __repr__(self) -> str:
        return f"AsyncConsumer(group_id={self.group_id!r}, server={self._client.server!r})"

    # ----- consuming -----------------------------------------------------------------------

    # poll(timeout) mirrors the sync Consumer and confluent-kafka; it returns None, not raises.
    async def poll(self, timeout: float | None = None) -> Message | None:  # noqa: ASYNC109
        """The next record, waiting up to ``timeout`` seconds (None: until one arrives)."""
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0)
        first = True
        while True:
            await self._maintain()
            message = self._state.next()
            if message is not None:
                return await self._deserialize(message)
            wait = self._wait_s(deadline)
            if wait <= 0 and not first:
                return None
            first = False
            await self._fetch(wait)

    async def consume(
        self,
        num_messages: int = 1,
        timeout: float | None = None,  # noqa: ASYNC109 -- same signature as Consumer.consume
    ) -> list[Message]:
        """Up to ``num_messages`` records at once (at least one unless ``timeout`` passes)."""
        if num_messages < 1:
            raise InvalidArgumentError(f"num_messages must be at least 1, got {num_messages}")
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0)
        first = True
        while True:
            await self._maintain()
            batch = self._state.take(num_messages)
            if batch:
                if self._kd is None and self._vd is None:
                    return batch
                return await self._deserialize_all(batch)
            wait = self._wait_s(deadline)
            if wait <= 0 and not first:
                return []
            first = False
            await self._fetch(wait)

    async def __aiter__(self) -> AsyncIterator[Message]:
        """Every record as it arrives; the loop ends once the consumer is closed."""
        while not self._closed:
            message = await self.poll(1.0)
            if message is not None:
                yield message

    async def _deserialize(self, message: Message) -> Message:
        if self._kd is None and self._vd is None:
            return message
        try:
            key = await _run(self._kd, message, MessageField.KEY, message.key)
            value = await _run(self._vd, message, MessageField.VALUE, message.value)
        except Exception as exc:
            raise calls.deserialize_error(message, exc) from None
        return message._replace(key=key, value=value)

    async def _deserialize_all(self, batch: list[Message]) -> list[Message]:
        out = []
        for i, message in enumerate(batch):
            try:
                out.append(await self._deserialize(message))
            except WeirError:
                for tp, offset in calls.rewind(batch[i + 1 :]).items():
                    self._state.seek(tp, offset)
                raise
        return out

    def _wait_s(self, deadline: float | None) -> float:
        slice_s = self.settings.fetch_max_wait_ms / 1000
        if deadline is None:
            return slice_s
        return min(slice_s, deadline - time.monotonic())

    async def _fetch(self, wait_s: float) -> None:
        wait_s = max(wait_s, 0.0)
        request = self._state.fetch_request(int(wait_s * 1000))
        if request is None:  # nothing to read: wait for an assignment change
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), wait_s)
            return
        reply = await self._client._call(
            self._log.Fetch, request, timeout_s=self._client.timeout_s + wait_s
        )
        self._state.on_fetch(request, reply)

    # ----- group upkeep (inside poll) ------------------------------------------------------

    async def _maintain(self) -> None:
        if self._closed:
            raise FailedPreconditionError(
                "this AsyncConsumer is closed; create a new one to consume"
            )
        m = self._membership
        if m is not None:
            error = m.take_error()
            if error is not None:
                raise error
            if self._changed.is_set():
                self._changed.clear()
                try:
                    await self._reconcile(m)
                except BaseException:
                    self._changed.set()  # try the rest again on the next poll()
                    raise
        if self.settings.enable_auto_commit and time.monotonic() >= self._next_auto_commit:
            self._next_auto_commit = time.monotonic() + self.settings.auto_commit_interval_ms / 1000
            await self._commit_quietly(self._state.positions())

    async def _reconcile(self, m: Membership) -> None:
        plan = m.plan()
        if plan.lost:
            gone = self._state.remove(plan.lost)
            m.lost_applied(plan.lost)
            callback = self._on_lost or self._on_revoke
            if gone and callback is not None:
                await _maybe_await(callback(self, gone))
        if plan.revoked:
            revoked = sorted(plan.revoked)
            try:
                if self.settings.enable_auto_commit:
                    await self._commit_quietly(self._state.positions(revoked))
                if self._on_revoke is not None:
                    await _maybe_await(self._on_revoke(self, revoked))
            finally:
                self._state.remove(revoked)
                m.released(revoked)
                self._hb_wake.set()
        if plan.added:
            added = sorted(plan.added)
            positions = await self._start_positions(added)
            if not m.acquired(added, plan.generation):  # fenced meanwhile: dropped as lost
                self._changed.set()
                return
            self._state.add(positions)
            if self._on_assign is not None:
                await _maybe_await(self._on_assign(self, added))

    async def _start_positions(self, tps: list[TopicPartition]) -> dict[TopicPartition, int | None]:
        reset = self.settings.auto_offset_reset
        committed: dict[TopicPartition, int | None] = {}
        if self.group_id is not None and tps:
            request = calls.committed_request(self.group_id, tps, require=reset == "none")
            committed = calls.committed_from_proto(
                await self._client._call(self._groups.FetchCommittedOffsets, request)
            )
        positions: dict[TopicPartition, int | None] = {}
        for tp in tps:
            offset = committed.get(tp)
            if offset is None and reset != "none":
                reply = await self._client._call(
                    self._log.ListOffsets, calls.reset_request(tp, reset)
                )
                offset = calls.listed_offset(reply)
            positions[tp] = offset
        return positions

    async def _heartbeat_loop(self) -> None:
        m = self._membership
        assert m is not None
        while not self._stopping:
            self._hb_wake.clear()
            request, joining = m.heartbeat_request(), m.joining
            try:
                reply = await self._client._call(
                    self._groups.Heartbeat, request, idempotent=not joining
                )
            except (FencedMemberEpochError, UnknownMemberIdError) as error:
                m.on_fenced(error)
                self._changed.set()
                continue  # rejoin at once
            except WeirError as error:
                if self._stopping:
                    return
                log.warning("heartbeat for group %r failed: %s", m.group_id, error)
                m.on_error(error)
                self._changed.set()
            else:
                if m.on_reply(reply):
                    self._changed.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._hb_wake.wait(), m.interval_ms / 1000)

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
        if self._closed:
            raise FailedPreconditionError(
                "this AsyncConsumer is closed; create a new one to commit"
            )
        if self.group_id is None:
            raise calls.no_group("commit()")
        chosen = calls.commit_offsets(message, offsets, self._state.positions())
        if asynchronous:
            return asyncio.get_running_loop().create_task(self._send_commit(chosen))
        return await self._send_commit(chosen)

    def _identity(self) -> gs.MemberIdentity | None:
        if self._membership is None:
            return None
        if not self._membership.member_id:
            raise FailedPreconditionError(
                f"this consumer has not joined group '{self.group_id}' yet, so it owns no "
                "partition to commit; poll() until on_assign runs"
            )
        return self._membership.identity()

    async def _send_commit(
        self, offsets: Mapping[TopicPartition, int]
    ) -> dict[TopicPartition, int]:
        if not offsets:
            return {}
        assert self.group_id is not None
        async with self._commit_lock:  # commits leave in the order they were made
            member = self._identity()
            for attempt in (1, 2):
                request = calls.commit_request(self.group_id, member, offsets)
                try:
                    await self._client._call(self._groups.CommitOffsets, request)
                except StaleMemberEpochError as error:
                    fresh = self._identity()
                    if attempt == 1 and fresh != member:  # the epoch moved meanwhile: resend
                        member = fresh
                        continue
                    raise calls.commit_error(error, offsets) from None
                except WeirError as error:
                    raise calls.commit_error(error, offsets) from None
                break
        self._last_commit.update(offsets)
        return dict(offsets)

    async def _commit_quietly(self, positions: Mapping[TopicPartition, int]) -> None:
        """Auto-commit: store changed positions; a failure is logged, not raised."""
        if self.group_id is None:
            return
        changed = {tp: o for tp, o in positions.items() if self._last_commit.get(tp) != o}
        try:
            await self._send_commit(changed)
        except WeirError as error:
            log.warning("auto-commit for group %r failed: %s", self.group_id, error)

    async def committed(
        self, partitions: Partitions | None = None
    ) -> dict[TopicPartition, int | None]:
        """The group's committed offsets (None: no commit), for these or all assigned partitions."""
        if self.group_id is None:
            raise calls.no_group("committed()")
        tps = self._state.assignment() if partitions is None else calls.partitions_arg(partitions)
        if not tps:
            return {}
        request = calls.committed_request(self.group_id, tps)
        reply = await self._client._call(self._groups.FetchCommittedOffsets, request)
        return calls.committed_from_proto(reply)

    # ----- positions -----------------------------------------------------------------------

    def assignment(self) -> list[TopicPartition]:
        """The partitions this consumer reads now, sorted."""
        return self._state.assignment()

    async def assign(self, partitions: Iterable[TopicPartition]) -> None:
        """Read exactly these partitions (standalone mode only); see ``Consumer.assign``."""
        if self._membership is not None:
            raise FailedPreconditionError(
                "assign() is for consumers without a subscription; this one subscribes to topics "
                "and the group coordinator assigns its partitions"
            )
        wanted = calls.partitions_arg(partitions)
        self._state.remove([tp for tp in self._state.assignment() if tp not in wanted])
        new = [tp for tp in wanted if tp not in self._state.parts]
        self._state.add(await self._start_positions(new))

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
        found: dict[TopicPartition, int | None] = {}
        for tp, ms in calls.times_arg(timestamps).items():
            reply = await self._client._call(self._log.ListOffsets, calls.time_request(tp, ms))
            found[tp] = calls.listed_offset(reply)
        return found

    async def seek_to_timestamp(
        self, timestamp: Any, partitions: Partitions | None = None
    ) -> dict[TopicPartition, int]:
        """Seek assigned partitions (all, or these) to the first record at or after a time,
        or to the log end; returns the positions."""
        ms = calls.timestamp_arg(timestamp)
        tps = self._state.assignment() if partitions is None else calls.partitions_arg(partitions)
        for tp in tps:
            self._state.get(tp)
        moved: dict[TopicPartition, int] = {}
        for tp in tps:
            reply = await self._client._call(self._log.ListOffsets, calls.time_request(tp, ms))
            moved[tp] = calls.offset_or_end(reply)
        for tp, offset in moved.items():
            self._state.seek(tp, offset)
        return moved

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
        if self._closed:
            return
        try:
            owned = self._state.assignment()
            if self.settings.enable_auto_commit:
                await self._commit_quietly(self._state.positions())
            if self._membership is not None and owned and self._on_revoke is not None:
                await _maybe_await(self._on_revoke(self, owned))
        finally:
            self._closed = self._stopping = True
            self._hb_wake.set()
            if self._heartbeater is not None:
                with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(self._heartbeater, self._client.timeout_s)
            await self._leave()
            await self._client.close()

    async def _leave(self) -> None:
        m = self._membership
        if m is None:
            return
        request = m.leave_request()
        m.left()
        if request is not None:
            try:
                await self._client._call(self._groups.LeaveGroup, request)
            except WeirError as error:  # the session timeout removes the member anyway
                log.warning("leaving group %r failed: %s", m.group_id, error)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


async def _maybe_await(result: object) -> None:
    if inspect.isawaitable(result):
        await result


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
