"""Consumer: a synchronous consumer, in a group (server-side assignment, KIP-848) or standalone.

    with Consumer("checkout", ["orders"], server="localhost:50051") as consumer:
        for message in consumer:
            handle(message)
            consumer.commit(message)

Group mode (``group_id`` and ``topics``): a background thread heartbeats at the interval the
server asks for, so slow processing does not lose the session, and records assignment changes.
``poll()`` applies them on the calling thread before it fetches: partitions lost to a fence
(``on_lost``, else ``on_revoke``; commits for them are refused because another member may own
them already), then revoked partitions (``on_revoke`` runs while they are still owned, so a
commit inside it is accepted; then they are released), then new partitions (started at the
group's commit, else at ``auto_offset_reset``; then ``on_assign``, where ``seek()`` may move them).

Standalone mode (``topics=None``): ``assign()`` partitions. With ``group_id=None`` there is
nowhere to commit and commit() refuses; with a ``group_id`` the consumer starts from the group's
commits and commits standalone, which the server allows only while the group has no members.

Delivery is at least once: a record is redelivered after a rebalance or restart unless its
offset + 1 was committed. Not thread-safe, except that ``commit(asynchronous=True)`` returns a
``concurrent.futures.Future`` completed by a worker thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
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
from weir.sdk._channel import DEFAULT_SERVER, DEFAULT_TIMEOUT_S
from weir.sdk._client import GrpcClient
from weir.sdk._consume_calls import ConsumerSettings, Offsets, Partitions
from weir.sdk._consume_state import ConsumeState, OffsetReset
from weir.sdk._membership import Membership, Topics, subscription_arg
from weir.sdk._records import Deserializer, Message, TopicPartition
from weir.sdk._retry import RetryPolicy
from weir.v1 import group_service_pb2 as gs
from weir.v1 import group_service_pb2_grpc as gs_grpc
from weir.v1 import log_service_pb2_grpc as ls_grpc

log = logging.getLogger("weir.sdk.consumer")

RebalanceCallback = Callable[["Consumer", list[TopicPartition]], object]
"""``callback(consumer, partitions)``, run on the thread that calls poll()."""


class Consumer:
    """Reads records from Weir topics, as a group member or from assigned partitions."""

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
        on_assign: RebalanceCallback | None = None,
        on_revoke: RebalanceCallback | None = None,
        on_lost: RebalanceCallback | None = None,
        session_timeout_ms: int = 45_000,
        rebalance_timeout_ms: int = 300_000,
        group_instance_id: str | None = None,
        fetch_max_wait_ms: int = 300,
        max_partition_fetch_bytes: int = 1 << 20,
        fetch_max_bytes: int = 50 << 20,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
    ) -> None:
        """Connect; with ``topics``, join ``group_id`` in the background (poll() to consume)."""
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
        self._deserialize = key_deserializer is not None or value_deserializer is not None
        self._on_assign, self._on_revoke, self._on_lost = on_assign, on_revoke, on_lost
        self._state = ConsumeState(auto_offset_reset, max_partition_fetch_bytes, fetch_max_bytes)
        self._client = GrpcClient(server, timeout_s=timeout_s, retry=retry)
        self._log: Any = ls_grpc.LogServiceStub(self._client._channel)  # type: ignore[no-untyped-call]
        self._groups: Any = gs_grpc.GroupServiceStub(self._client._channel)  # type: ignore[no-untyped-call]
        self._lock = threading.Lock()
        self._changed = threading.Event()
        self._hb_wake = threading.Event()
        self._stopping = False
        self._closed = False
        self._next_auto_commit = time.monotonic() + auto_commit_interval_ms / 1000
        self._last_commit: dict[TopicPartition, int] = {}
        self._committer: ThreadPoolExecutor | None = None
        self._heartbeater: threading.Thread | None = None
        if self._membership is not None:
            self._heartbeater = threading.Thread(
                target=self._heartbeat_loop, name=f"weir-heartbeat-{group_id}", daemon=True
            )
            self._heartbeater.start()

    def __repr__(self) -> str:
        return f"Consumer(group_id={self.group_id!r}, server={self._client.server!r})"

    # ----- consuming -----------------------------------------------------------------------

    def poll(self, timeout: float | None = None) -> Message | None:
        """The next record, waiting up to ``timeout`` seconds (None: until one arrives)."""
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0)
        first = True
        while True:
            self._maintain()
            message = self._state.next()
            if message is not None:
                if self._deserialize:
                    return calls.deserialize(message, self._kd, self._vd)
                return message
            wait = self._wait_s(deadline)
            if wait <= 0 and not first:
                return None
            first = False
            self._fetch(wait)

    def consume(self, num_messages: int = 1, timeout: float | None = None) -> list[Message]:
        """Up to ``num_messages`` records at once (at least one unless ``timeout`` passes)."""
        if num_messages < 1:
            raise InvalidArgumentError(f"num_messages must be at least 1, got {num_messages}")
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0)
        first = True
        while True:
            self._maintain()
            batch = self._state.take(num_messages)
            if batch:
                return self._deserialize_all(batch) if self._deserialize else batch
            wait = self._wait_s(deadline)
            if wait <= 0 and not first:
                return []
            first = False
            self._fetch(wait)

    def __iter__(self) -> Iterator[Message]:
        """Every record as it arrives; the loop ends once the consumer is closed."""
        while not self._closed:
            message = self.poll(1.0)
            if message is not None:
                yield message

    def _deserialize_all(self, batch: list[Message]) -> list[Message]:
        out = []
        for i, message in enumerate(batch):
            try:
                out.append(calls.deserialize(message, self._kd, self._vd))
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

    def _fetch(self, wait_s: float) -> None:
        wait_s = max(wait_s, 0.0)
        request = self._state.fetch_request(int(wait_s * 1000))
        if request is None:  # nothing to read: wait for an assignment change
            self._changed.wait(wait_s)
            return
        reply = self._client._call(
            self._log.Fetch, request, timeout_s=self._client.timeout_s + wait_s
        )
        self._state.on_fetch(request, reply)

    # ----- group upkeep (on the caller's thread) -------------------------------------------

    def _maintain(self) -> None:
        if self._closed:
            raise FailedPreconditionError("this Consumer is closed; create a new one to consume")
        m = self._membership
        if m is not None:
            with self._lock:
                error = m.take_error()
            if error is not None:
                raise error
            if self._changed.is_set():
                self._changed.clear()
                try:
                    self._reconcile(m)
                except BaseException:
                    self._changed.set()  # try the rest again on the next poll()
                    raise
        if self.settings.enable_auto_commit and time.monotonic() >= self._next_auto_commit:
            self._next_auto_commit = time.monotonic() + self.settings.auto_commit_interval_ms / 1000
            self._commit_quietly(self._state.positions())

    def _reconcile(self, m: Membership) -> None:
        with self._lock:
            plan = m.plan()
        if plan.lost:
            gone = self._state.remove(plan.lost)
            with self._lock:
                m.lost_applied(plan.lost)
            callback = self._on_lost or self._on_revoke
            if gone and callback is not None:
                callback(self, gone)
        if plan.revoked:
            revoked = sorted(plan.revoked)
            try:
                if self.settings.enable_auto_commit:
                    self._commit_quietly(self._state.positions(revoked))
                if self._on_revoke is not None:
                    self._on_revoke(self, revoked)
            finally:
                self._state.remove(revoked)
                with self._lock:
                    m.released(revoked)
                self._hb_wake.set()
        if plan.added:
            added = sorted(plan.added)
            positions = self._start_positions(added)
            with self._lock:
                acquired = m.acquired(added, plan.generation)
            if not acquired:  # fenced meanwhile: the next poll() drops them as lost
                self._changed.set()
                return
            self._state.add(positions)
            if self._on_assign is not None:
                self._on_assign(self, added)

    def _start_positions(self, tps: list[TopicPartition]) -> dict[TopicPartition, int | None]:
        reset = self.settings.auto_offset_reset
        committed: dict[TopicPartition, int | None] = {}
        if self.group_id is not None and tps:
            request = calls.committed_request(self.group_id, tps, require=reset == "none")
            committed = calls.committed_from_proto(
                self._client._call(self._groups.FetchCommittedOffsets, request)
            )
        positions: dict[TopicPartition, int | None] = {}
        for tp in tps:
            offset = committed.get(tp)
            if offset is None and reset != "none":
                reply = self._client._call(self._log.ListOffsets, calls.reset_request(tp, reset))
                offset = calls.listed_offset(reply)
            positions[tp] = offset
        return positions

    def _heartbeat_loop(self) -> None:
        m = self._membership
        assert m is not None
        while not self._stopping:
            self._hb_wake.clear()
            with self._lock:
                request, joining = m.heartbeat_request(), m.joining
            try:
                reply = self._client._call(self._groups.Heartbeat, request, idempotent=not joining)
            except (FencedMemberEpochError, UnknownMemberIdError) as error:
                with self._lock:
                    m.on_fenced(error)
                self._changed.set()
                continue  # rejoin at once
            except WeirError as error:
                if self._stopping:
                    return
                log.warning("heartbeat for group %r failed: %s", m.group_id, error)
                with self._lock:
                    m.on_error(error)
                self._changed.set()
            else:
                with self._lock:
                    changed = m.on_reply(reply)
                if changed:
                    self._changed.set()
            self._hb_wake.wait(m.interval_ms / 1000)

    # ----- commits -------------------------------------------------------------------------

    def commit(
        self,
        message: Message | None = None,
        *,
        offsets: Offsets | None = None,
        asynchronous: bool = False,
    ) -> Any:
        """Store positions for the group; returns ``{TopicPartition: offset}`` stored.

        ``commit()`` stores every consumed position, ``commit(message)`` that message's offset
        + 1, ``commit(offsets=...)`` the given next offsets. A partition this consumer no longer
        owns is refused with PartitionNotAssignedError (never dropped silently). With
        ``asynchronous=True`` it returns at once a ``concurrent.futures.Future`` of the same
        result (or error); commits then run in order on one worker thread.
        """
        if self._closed:
            raise FailedPreconditionError("this Consumer is closed; create a new one to commit")
        if self.group_id is None:
            raise calls.no_group("commit()")
        chosen = calls.commit_offsets(message, offsets, self._state.positions())
        if not asynchronous:
            return self._send_commit(chosen)
        if self._committer is None:
            self._committer = ThreadPoolExecutor(1, thread_name_prefix="weir-commit")
        future: Future[dict[TopicPartition, int]] = self._committer.submit(
            self._send_commit, chosen
        )
        return future

    def _identity(self) -> gs.MemberIdentity | None:
        if self._membership is None:
            return None
        with self._lock:
            if not self._membership.member_id:
                raise FailedPreconditionError(
                    f"this consumer has not joined group '{self.group_id}' yet, so it owns no "
                    "partition to commit; poll() until on_assign runs"
                )
            return self._membership.identity()

    def _send_commit(self, offsets: Mapping[TopicPartition, int]) -> dict[TopicPartition, int]:
        if not offsets:
            return {}
        assert self.group_id is not None
        member = self._identity()
        for attempt in (1, 2):
            request = calls.commit_request(self.group_id, member, offsets)
            try:
                self._client._call(self._groups.CommitOffsets, request)
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

    def _commit_quietly(self, positions: Mapping[TopicPartition, int]) -> None:
        """Auto-commit: store changed positions; a failure is logged, not raised."""
        if self.group_id is None:
            return
        changed = {tp: o for tp, o in positions.items() if self._last_commit.get(tp) != o}
        try:
            self._send_commit(changed)
        except WeirError as error:
            log.warning("auto-commit for group %r failed: %s", self.group_id, error)

    def committed(self, partitions: Partitions | None = None) -> dict[TopicPartition, int | None]:
        """The group's committed offsets (None: no commit), for these or all assigned partitions."""
        if self.group_id is None:
            raise calls.no_group("committed()")
        tps = self._state.assignment() if partitions is None else calls.partitions_arg(partitions)
        if not tps:
            return {}
        request = calls.committed_request(self.group_id, tps)
        reply = self._client._call(self._groups.FetchCommittedOffsets, request)
        return calls.committed_from_proto(reply)

    # ----- positions -----------------------------------------------------------------------

    def assignment(self) -> list[TopicPartition]:
        """The partitions this consumer reads now, sorted."""
        return self._state.assignment()

    def assign(self, partitions: Iterable[TopicPartition]) -> None:
        """Read exactly these partitions (standalone mode only), from the group's commit if
        there is a group_id, else from ``auto_offset_reset`` (with 'none': seek() first)."""
        if self._membership is not None:
            raise FailedPreconditionError(
                "assign() is for consumers without a subscription; this one subscribes to topics "
                "and the group coordinator assigns its partitions"
            )
        wanted = calls.partitions_arg(partitions)
        self._state.remove([tp for tp in self._state.assignment() if tp not in wanted])
        self._state.add(self._start_positions([tp for tp in wanted if tp not in self._state.parts]))

    def unassign(self) -> None:
        """Stop reading every assigned partition (standalone mode)."""
        self.assign([])

    def position(self, partitions: Partitions | None = None) -> dict[TopicPartition, int]:
        """The offset of the next record poll() returns, per assigned partition."""
        tps = None if partitions is None else calls.partitions_arg(partitions)
        return self._state.positions(tps)

    def seek(self, partition: TopicPartition, offset: int) -> None:
        """Make ``offset`` the next record returned from an assigned partition."""
        self._state.seek(partition, calls.offset_arg(partition, offset))

    def offsets_for_times(
        self, timestamps: Mapping[TopicPartition, Any] | Iterable[tuple[TopicPartition, Any]]
    ) -> dict[TopicPartition, int | None]:
        """Per partition, the first offset whose timestamp is at or after the time given (ms
        since the epoch or an aware datetime); None when no record is that recent."""
        return {
            tp: calls.listed_offset(
                self._client._call(self._log.ListOffsets, calls.time_request(tp, ms))
            )
            for tp, ms in calls.times_arg(timestamps).items()
        }

    def seek_to_timestamp(
        self, timestamp: Any, partitions: Partitions | None = None
    ) -> dict[TopicPartition, int]:
        """Seek assigned partitions (all, or these) to the first record at or after a time
        (ms since the epoch or an aware datetime), or to the log end; returns the positions."""
        ms = calls.timestamp_arg(timestamp)
        tps = self._state.assignment() if partitions is None else calls.partitions_arg(partitions)
        for tp in tps:
            self._state.get(tp)
        moved = {
            tp: calls.offset_or_end(
                self._client._call(self._log.ListOffsets, calls.time_request(tp, ms))
            )
            for tp in tps
        }
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

    def close(self) -> None:
        """Auto-commit, run on_revoke for owned partitions, leave the group, close the channel.

        Leaving moves this consumer's partitions to the other members at once.
        """
        if self._closed:
            return
        try:
            owned = self._state.assignment()
            if self.settings.enable_auto_commit:
                self._commit_quietly(self._state.positions())
            if self._membership is not None and owned and self._on_revoke is not None:
                self._on_revoke(self, owned)
        finally:
            self._closed = self._stopping = True
            self._hb_wake.set()
            if self._heartbeater is not None:
                self._heartbeater.join(self._client.timeout_s)
            if self._committer is not None:
                self._committer.shutdown(wait=True)
            self._leave()
            self._client.close()

    def _leave(self) -> None:
        m = self._membership
        if m is None:
            return
        with self._lock:
            request = m.leave_request()
            m.left()
        if request is not None:
            try:
                self._client._call(self._groups.LeaveGroup, request)
            except WeirError as error:  # the session timeout removes the member anyway
                log.warning("leaving group %r failed: %s", m.group_id, error)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


__all__ = ["Consumer"]
