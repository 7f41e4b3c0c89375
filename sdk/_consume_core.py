"""ConsumerCore: everything Consumer and AsyncConsumer share, free of I/O.

The core holds the settings, the group membership, the read state, the deserializers, the
rebalance callbacks and the auto-commit clock, and it decides what happens next. Every
operation that needs the network or the application is a generator of steps: it yields an
``Op`` (send this RPC, run this callback, commit these offsets, fetch, deserialize these
records) and gets back the result, or the error thrown in at the ``yield``. The sync shell
runs the steps with blocking calls, the asyncio shell awaits them; neither holds any logic of
its own beyond how it waits.

The hot path (a record already buffered, nothing to reconcile, no auto-commit due) never
builds a generator: ``next_ready()`` and ``take_ready()`` return records directly.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from weir.core.errors import (
    FailedPreconditionError,
    FencedMemberEpochError,
    InvalidArgumentError,
    StaleMemberEpochError,
    UnknownMemberIdError,
    WeirError,
)
from weir.sdk import _consume_calls as calls
from weir.sdk._consume_calls import ConsumerSettings, Offsets, Partitions
from weir.sdk._consume_ops import (
    Callback,
    Commit,
    Decode,
    Fetch,
    Flag,
    HeartbeatNext,
    Sleep,
    Steps,
    rpc,
)
from weir.sdk._consume_state import ConsumeState, OffsetReset
from weir.sdk._membership import Membership, Topics, subscription_arg
from weir.sdk._records import Deserializer, Message, TopicPartition
from weir.v1 import group_service_pb2 as gs
from weir.v1 import log_service_pb2 as ls

log = logging.getLogger("weir.sdk.consumer")

T = TypeVar("T")


class ConsumerCore:
    """A consumer's state and decisions; the shells only send, wait and call back."""

    def __init__(
        self,
        kind: str,
        group_id: str | None,
        topics: Topics | None,
        *,
        changed: Flag,
        wake: Flag,
        key_deserializer: Deserializer | None,
        value_deserializer: Deserializer | None,
        auto_offset_reset: OffsetReset,
        enable_auto_commit: bool,
        auto_commit_interval_ms: int,
        on_assign: Callable[..., object] | None,
        on_revoke: Callable[..., object] | None,
        on_lost: Callable[..., object] | None,
        session_timeout_ms: int,
        rebalance_timeout_ms: int,
        group_instance_id: str | None,
        fetch_max_wait_ms: int,
        max_partition_fetch_bytes: int,
        fetch_max_bytes: int,
    ) -> None:
        self.kind = kind
        """The shell's class name, for error messages."""
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
        self.membership: Membership | None = None
        """The group member state when subscribed to topics, else None."""
        if topics is not None:
            if not group_id:
                raise InvalidArgumentError(
                    "subscribing to topics needs a group_id; without a group, pass topics=None "
                    "and assign() partitions"
                )
            self.membership = Membership(
                group_id,
                subscription_arg(topics),
                session_timeout_ms=session_timeout_ms,
                rebalance_timeout_ms=rebalance_timeout_ms,
                instance_id=group_instance_id,
            )
        self.kd, self.vd = key_deserializer, value_deserializer
        """The key and value deserializers (None: raw bytes)."""
        self.decoding = key_deserializer is not None or value_deserializer is not None
        """True when records go through a deserializer."""
        self.on_assign, self.on_revoke, self.on_lost = on_assign, on_revoke, on_lost
        self.state = ConsumeState(auto_offset_reset, max_partition_fetch_bytes, fetch_max_bytes)
        """Positions and buffered records."""
        self.changed = changed
        """Set by the heartbeater when poll() has an assignment change or error to apply."""
        self.wake = wake
        """Wakes the heartbeater early (after partitions were released)."""
        self.lock = threading.Lock()
        """Guards the membership against the heartbeater thread (harmless under asyncio)."""
        self.closed = False
        """True once close() began: poll() and commit() refuse, the heartbeater stops."""
        self._auto_commit = enable_auto_commit
        self._interval_s = auto_commit_interval_ms / 1000
        self._next_auto_commit = time.monotonic() + self._interval_s
        self._last_commit: dict[TopicPartition, int] = {}

    # ----- consuming ----------------------------------------------------------------------

    def next_ready(self) -> Message | None:
        """The next buffered record when nothing needs doing first, else None (the hot path)."""
        if (
            self.closed
            or self.changed.is_set()
            or (self._auto_commit and time.monotonic() >= self._next_auto_commit)
        ):
            return None
        return self.state.next()

    def take_ready(self, limit: int) -> list[Message]:
        """Up to ``limit`` buffered records when nothing needs doing first (the hot path)."""
        if limit < 1:
            raise InvalidArgumentError(f"num_messages must be at least 1, got {limit}")
        if self._busy():
            return []
        return self.state.take(limit)

    def _busy(self) -> bool:
        """True when poll() must run upkeep first: closed, a change to apply, commit due."""
        return (
            self.closed
            or self.changed.is_set()
            or (self._auto_commit and time.monotonic() >= self._next_auto_commit)
        )

    def poll(self, timeout: float | None, limit: int) -> Steps[list[Message]]:
        """Up to ``limit`` records (at least one unless ``timeout`` passes), deserialized."""
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0)
        first = True
        while True:
            yield from self.upkeep()
            batch = self.state.take(limit)
            if batch:
                if self.decoding:
                    decoded: list[Message] = yield Decode(batch)
                    return decoded
                return batch
            slice_s = self.settings.fetch_max_wait_ms / 1000
            wait = slice_s if deadline is None else min(slice_s, deadline - time.monotonic())
            if wait <= 0 and not first:
                return []
            first = False
            yield Fetch(max(wait, 0.0))

    def fetch_request(self, wait_s: float, ahead: bool = False) -> ls.FetchRequest | None:
        """The next Fetch: of partitions with nothing buffered, or (``ahead``) of every
        partition from the end of its buffer, so it can be in flight while records are used."""
        return self.state.fetch_request(int(wait_s * 1000), ahead=ahead)

    def fetched(self, request: ls.FetchRequest, reply: ls.FetchResponse) -> ls.FetchRequest | None:
        """Buffer a Fetch reply; returns the request to send ahead now (None: nothing new came)."""
        if self.state.on_fetch(request, reply) == 0:
            return None
        return self.fetch_request(self.settings.fetch_max_wait_ms / 1000, ahead=True)

    def decode(self, batch: list[Message]) -> list[Message]:
        """Deserialize records with the sync deserializers (see ``decode_failed``)."""
        out = []
        for i, message in enumerate(batch):
            try:
                out.append(calls.deserialize(message, self.kd, self.vd))
            except WeirError:
                self.decode_failed(batch, i)
                raise
        return out

    def decode_failed(self, batch: list[Message], index: int) -> None:
        """Record ``index`` of a taken batch failed: the records after it come back next."""
        for tp, offset in calls.rewind(batch[index + 1 :]).items():
            self.state.seek(tp, offset)

    # ----- group upkeep (inside poll, on the caller's thread) -----------------------------

    def check_open(self, what: str) -> None:
        """Refuse ``what`` once closed."""
        if self.closed:
            raise FailedPreconditionError(f"this {self.kind} is closed; create a new one to {what}")

    def upkeep(self) -> Steps[None]:
        """Raise a heartbeat error, apply assignment changes, auto-commit when due."""
        self.check_open("consume")
        m = self.membership
        if m is not None:
            with self.lock:
                error = m.take_error()
            if error is not None:
                raise error
            if self.changed.is_set():
                self.changed.clear()
                try:
                    yield from self.reconcile(m)
                except BaseException:
                    self.changed.set()  # try the rest again on the next poll()
                    raise
        if self._auto_commit and time.monotonic() >= self._next_auto_commit:
            self._next_auto_commit = time.monotonic() + self._interval_s
            yield from self.commit_quietly(self.state.positions())

    def reconcile(self, m: Membership) -> Steps[None]:
        """Apply lost, then revoked, then added partitions, with their callbacks."""
        with self.lock:
            plan = m.plan()
        if plan.lost:
            gone = self.state.remove(plan.lost)
            with self.lock:
                m.lost_applied(plan.lost)
            callback = self.on_lost or self.on_revoke
            if gone and callback is not None:
                yield Callback(callback, gone)
        if plan.revoked:
            revoked = sorted(plan.revoked)
            try:
                if self._auto_commit:
                    yield from self.commit_quietly(self.state.positions(revoked))
                if self.on_revoke is not None:
                    yield Callback(self.on_revoke, revoked)
            finally:
                self.state.remove(revoked)
                with self.lock:
                    m.released(revoked)
                self.wake.set()
        if plan.added:
            added = sorted(plan.added)
            positions = yield from self.start_positions(added)
            with self.lock:
                acquired = m.acquired(added, plan.generation)
            if not acquired:  # fenced meanwhile: the next poll() drops them as lost
                self.changed.set()
                return
            self.state.add(positions)
            if self.on_assign is not None:
                yield Callback(self.on_assign, added)

    def start_positions(self, tps: list[TopicPartition]) -> Steps[dict[TopicPartition, int | None]]:
        """Where new partitions start: the group's commit, else ``auto_offset_reset``."""
        reset = self.settings.auto_offset_reset
        committed: dict[TopicPartition, int | None] = {}
        if self.group_id is not None and tps:
            request = calls.committed_request(self.group_id, tps, require=reset == "none")
            committed = yield rpc(
                "groups", "FetchCommittedOffsets", request, parse=calls.committed_from_proto
            )
        positions: dict[TopicPartition, int | None] = {}
        for tp in tps:
            offset = committed.get(tp)
            if offset is None and reset != "none":
                reset_at = calls.reset_request(tp, reset)
                offset = yield rpc("log", "ListOffsets", reset_at, parse=calls.listed_offset)
            positions[tp] = offset
        return positions

    # ----- heartbeats (the heartbeater thread or task) ------------------------------------

    def heartbeats(self) -> Steps[None]:
        """The heartbeater: heartbeat, record the reply or the failure, sleep; until closed."""
        while not self.closed:
            self.wake.clear()
            request, retry = self.heartbeat_request()
            try:
                reply = yield rpc("groups", "Heartbeat", request, idempotent=retry)
            except WeirError as error:
                then = self.heartbeat_failed(error)
                if then == "stop":
                    return
                if then == "rejoin":
                    continue
            else:
                self.heartbeat_ok(reply)
            yield Sleep(self.heartbeat_interval_s())

    def heartbeat_request(self) -> tuple[gs.HeartbeatRequest, bool]:
        """The next heartbeat and whether it may be retried (a join may not)."""
        m = self._member()
        with self.lock:
            return m.heartbeat_request(), not m.joining

    def heartbeat_ok(self, reply: gs.HeartbeatResponse) -> None:
        """Record a reply; flags ``changed`` when poll() has something to apply."""
        m = self._member()
        with self.lock:
            changed = m.on_reply(reply)
        if changed:
            self.changed.set()

    def heartbeat_failed(self, error: WeirError) -> HeartbeatNext:
        """Record a failed heartbeat and say what the heartbeater does next."""
        m = self._member()
        if isinstance(error, FencedMemberEpochError | UnknownMemberIdError):
            with self.lock:
                m.on_fenced(error)
            self.changed.set()
            return "rejoin"
        if self.closed:
            return "stop"
        log.warning("heartbeat for group %r failed: %s", m.group_id, error)
        with self.lock:
            m.on_error(error)
        self.changed.set()
        return "wait"

    def heartbeat_interval_s(self) -> float:
        """How long the heartbeater sleeps (unless woken)."""
        return self._member().interval_ms / 1000

    def _member(self) -> Membership:
        assert self.membership is not None
        return self.membership

    # ----- commits -------------------------------------------------------------------------

    def commit_offsets(self, message: Message | None, offsets: Offsets | None) -> dict[Any, int]:
        """What commit(message, offsets=...) stores, after checking it may commit at all."""
        self.check_open("commit")
        if self.group_id is None:
            raise calls.no_group("commit()")
        return calls.commit_offsets(message, offsets, self.state.positions())

    def identity(self) -> gs.MemberIdentity | None:
        """Who commits: the member (id and epoch), or None for a standalone commit."""
        if self.membership is None:
            return None
        with self.lock:
            if not self.membership.member_id:
                raise FailedPreconditionError(
                    f"this consumer has not joined group '{self.group_id}' yet, so it owns no "
                    "partition to commit; poll() until on_assign runs"
                )
            return self.membership.identity()

    def send_commit(
        self, offsets: Mapping[TopicPartition, int]
    ) -> Steps[dict[TopicPartition, int]]:
        """CommitOffsets, resent once when the member epoch moved meanwhile."""
        if not offsets:
            return {}
        assert self.group_id is not None
        member = self.identity()
        for attempt in (1, 2):
            request = calls.commit_request(self.group_id, member, offsets)
            try:
                # absolute offsets fenced by the member epoch: safe to resend (as Kafka does)
                yield rpc("groups", "CommitOffsets", request, idempotent=True)
            except StaleMemberEpochError as error:
                fresh = self.identity()
                if attempt == 1 and fresh != member:  # the epoch moved meanwhile: resend
                    member = fresh
                    continue
                raise calls.commit_error(error, offsets) from None
            except WeirError as error:
                raise calls.commit_error(error, offsets) from None
            break
        self._last_commit.update(offsets)
        return dict(offsets)

    def commit_quietly(self, positions: Mapping[TopicPartition, int]) -> Steps[None]:
        """Auto-commit: store changed positions; a failure is logged, not raised."""
        if self.group_id is None:
            return
        changed = {tp: o for tp, o in positions.items() if self._last_commit.get(tp) != o}
        if not changed:
            return
        try:
            yield Commit(changed)
        except WeirError as error:
            log.warning("auto-commit for group %r failed: %s", self.group_id, error)

    def committed(self, partitions: Partitions | None) -> Steps[dict[TopicPartition, int | None]]:
        """The group's committed offsets for these or all assigned partitions."""
        if self.group_id is None:
            raise calls.no_group("committed()")
        tps = self.state.assignment() if partitions is None else calls.partitions_arg(partitions)
        if not tps:
            return {}
        request = calls.committed_request(self.group_id, tps)
        found: dict[TopicPartition, int | None] = yield rpc(
            "groups", "FetchCommittedOffsets", request, parse=calls.committed_from_proto
        )
        return found

    # ----- positions -----------------------------------------------------------------------

    def assign(self, partitions: Iterable[TopicPartition]) -> Steps[None]:
        """Read exactly these partitions (standalone mode only)."""
        if self.membership is not None:
            raise FailedPreconditionError(
                "assign() is for consumers without a subscription; this one subscribes to topics "
                "and the group coordinator assigns its partitions"
            )
        wanted = calls.partitions_arg(partitions)
        self.state.remove([tp for tp in self.state.assignment() if tp not in wanted])
        new = [tp for tp in wanted if tp not in self.state.parts]
        self.state.add((yield from self.start_positions(new)))

    def offsets_for_times(self, timestamps: Any) -> Steps[dict[TopicPartition, int | None]]:
        """Per partition, the first offset at or after the time given; None when none is."""
        found: dict[TopicPartition, int | None] = {}
        for tp, ms in calls.times_arg(timestamps).items():
            request = calls.time_request(tp, ms)
            found[tp] = yield rpc("log", "ListOffsets", request, parse=calls.listed_offset)
        return found

    def seek_to_timestamp(
        self, timestamp: Any, partitions: Partitions | None
    ) -> Steps[dict[TopicPartition, int]]:
        """Seek assigned partitions (all, or these) to a time, or to the log end."""
        ms = calls.timestamp_arg(timestamp)
        tps = self.state.assignment() if partitions is None else calls.partitions_arg(partitions)
        for tp in tps:
            self.state.get(tp)
        moved: dict[TopicPartition, int] = {}
        for tp in tps:
            request = calls.time_request(tp, ms)
            moved[tp] = yield rpc("log", "ListOffsets", request, parse=calls.offset_or_end)
        for tp, offset in moved.items():
            self.state.seek(tp, offset)
        return moved

    # ----- closing -------------------------------------------------------------------------

    def closing(self) -> Steps[None]:
        """Before leaving: auto-commit, then on_revoke for the partitions owned."""
        owned = self.state.assignment()
        if self._auto_commit:
            yield from self.commit_quietly(self.state.positions())
        if self.membership is not None and owned and self.on_revoke is not None:
            yield Callback(self.on_revoke, owned)

    def leave(self) -> Steps[None]:
        """LeaveGroup, so the partitions move to other members at once (errors are logged)."""
        m = self.membership
        if m is None:
            return
        with self.lock:
            request = m.leave_request()
            m.left()
        if request is not None:
            try:
                yield rpc("groups", "LeaveGroup", request)
            except WeirError as error:  # the session timeout removes the member anyway
                log.warning("leaving group %r failed: %s", m.group_id, error)


def core_options(args: dict[str, Any]) -> dict[str, Any]:
    """A shell's constructor arguments minus the connection ones: what ConsumerCore takes."""
    connection = {"self", "server", "timeout_s", "retry", "credentials"}
    return {k: v for k, v in args.items() if k not in connection}


__all__: list[str] = []
