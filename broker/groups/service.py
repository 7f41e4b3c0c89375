"""The group service: the pure coordinator plus offsets, lag, resets and persistence.

Everything runs on the server's event loop. Coordinator calls are synchronous; after each
call the groups it changed are written to ``__consumer_offsets``. A periodic task expires
silent members and notices new partitions and topics that match a regex subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from weir.broker.groups.coordinator import Coordinator
from weir.broker.groups.group import Group
from weir.broker.groups.model import (
    CommittedOffset,
    GroupId,
    GroupView,
    HeartbeatInput,
    HeartbeatResult,
)
from weir.broker.groups.positions import (
    PartitionLag,
    ResetOutcome,
    ResetSpec,
    outcome,
    partition_lag,
    reset_target,
)
from weir.broker.groups.store import GroupStore
from weir.broker.log.api import LogStore, PartitionId, TopicName, TopicPartition
from weir.broker.log.engine import wall_clock_ms
from weir.broker.topics import OFFSETS_TOPIC, TopicManager
from weir.core.errors import (
    GroupNotEmptyError,
    InvalidArgumentError,
    NoCommittedOffsetError,
    NotFoundError,
    OffsetOutOfRangeError,
)
from weir.registry.service import DEFAULT_MAX_NAME_BYTES, check_name

log = logging.getLogger("weir.groups")
MAX_METADATA_BYTES = 4096
"""The longest metadata string a commit may carry (Kafka's offset.metadata.max.bytes)."""
TICK_INTERVAL_S = 0.1
"""How often the expiry and metadata check runs."""


@dataclass(frozen=True, slots=True)
class OffsetCommitInput:
    """One position to commit."""

    tp: TopicPartition
    """The partition."""
    offset: int
    """The next offset to consume."""
    metadata: str = ""
    """The client's metadata string."""


@dataclass(frozen=True, slots=True)
class GroupDescription:
    """A group with its members and per-partition lag."""

    view: GroupView
    """Membership and assignments."""
    partitions: tuple[PartitionLag, ...]
    """Every subscribed or committed partition, sorted."""


@dataclass(frozen=True, slots=True)
class GroupLag:
    """One group's size, rebalances and lag, for metrics."""

    group_id: GroupId
    """The group."""
    members: int
    """Members right now."""
    rebalances: int
    """Target assignments computed since the server started."""
    partitions: tuple[PartitionLag, ...]
    """Lag per subscribed or committed partition."""


def _order(tp: TopicPartition) -> tuple[str, int]:
    return tp.topic, tp.partition


class GroupManager:
    """Consumer groups over the topic catalogue and the log store."""

    def __init__(
        self,
        topics: TopicManager,
        log_store: LogStore,
        now_ms: Callable[[], int] = wall_clock_ms,
        max_name_bytes: int = DEFAULT_MAX_NAME_BYTES,
    ) -> None:
        self.max_name_bytes = max_name_bytes
        """The longest group id or instance id, in UTF-8 bytes (see check_names)."""
        self._topics = topics
        self._log = log_store
        self.now_ms = now_ms
        """The clock."""
        self.coordinator = Coordinator(now_ms, self._partition_counts)
        """Membership state."""
        self.offsets: dict[GroupId, dict[TopicPartition, CommittedOffset]] = {}
        """Committed offsets per group."""
        self._store = GroupStore(log_store, topics.get(OFFSETS_TOPIC).partition(0))

    def _partition_counts(self) -> dict[str, int]:
        return {t.name: t.partition_count for t in self._topics.list()}

    async def open(self) -> None:
        """Rebuild groups and offsets from ``__consumer_offsets``."""
        loaded = await self._store.load(self.now_ms())
        self.coordinator.groups.update(loaded.groups)
        self.offsets = loaded.offsets
        for group_id in loaded.offsets:
            self.coordinator.groups.setdefault(group_id, Group(group_id))
        self.coordinator.drain_dirty()

    async def _persist(self) -> None:
        now = self.now_ms()
        for group_id in sorted(self.coordinator.drain_dirty()):
            await self._store.save_group(group_id, self.coordinator.groups.get(group_id), now)

    def check_names(
        self, group_id: str, member_id: str = "", instance_id: str | None = None, *, creating: bool
    ) -> None:
        """Refuse ids over ``max_name_bytes``; when the call may create or change the group
        (``creating``), also group and instance ids with control characters. Reads, leaves and
        deletes check only the length, so a group stored before the rule stays removable.
        Member ids are the server's own (UUIDs): only their length is checked."""
        check_name("group_id", group_id, self.max_name_bytes, creating)
        check_name("member_id", member_id, self.max_name_bytes)
        if instance_id is not None:
            check_name("instance_id", instance_id, self.max_name_bytes, creating)

    # -- membership ------------------------------------------------------------------------

    async def heartbeat(self, req: HeartbeatInput) -> HeartbeatResult:
        """Join or heartbeat."""
        self.check_names(req.group_id, req.member_id, req.instance_id, creating=True)
        try:
            return self.coordinator.heartbeat(req)
        finally:
            await self._persist()

    async def leave(self, group_id: str, member_id: str, temporary: bool) -> None:
        """A member leaves."""
        self.check_names(group_id, member_id, creating=False)
        try:
            self.coordinator.leave(group_id, member_id, temporary)
        finally:
            await self._persist()

    async def tick(self) -> None:
        """Expire silent members and react to topic changes once."""
        for group_id, member_id in self.coordinator.tick():
            log.info("group %s: member %s missed its session timeout", group_id, member_id)
        await self._persist()

    async def run(self, interval_s: float = TICK_INTERVAL_S) -> None:
        """Tick forever (the server runs this as a task)."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.tick()
            except Exception:
                log.exception("group expiry check failed; will retry")

    # -- offsets -------------------------------------------------------------------------

    async def commit(
        self,
        group_id: str,
        member: tuple[str, int] | None,
        commits: Sequence[OffsetCommitInput],
    ) -> list[tuple[TopicPartition, CommittedOffset]]:
        """Store positions for a member (id, epoch) or, with None, a standalone consumer."""
        self.check_names(group_id, member[0] if member else "", creating=True)
        self._check_commits(group_id, commits)
        if member is None:
            self.coordinator.check_standalone_commit(group_id)
            epoch = 0
        else:
            self.coordinator.check_member_commit(
                group_id, member[0], member[1], [c.tp for c in commits]
            )
            epoch = member[1]
        gid = GroupId(group_id)
        self.coordinator.ensure(gid)
        now = self.now_ms()
        stored = [(c.tp, CommittedOffset(c.offset, c.metadata, now, epoch)) for c in commits]
        await self._write_offsets(gid, stored, now)
        await self._persist()
        return stored

    def _check_commits(self, group_id: str, commits: Sequence[OffsetCommitInput]) -> None:
        if not group_id:
            raise InvalidArgumentError("group_id is empty; name the consumer group")
        if not commits:
            raise InvalidArgumentError("a commit needs at least one partition offset")
        seen: set[TopicPartition] = set()
        for c in commits:
            where = f"{c.tp.topic}-{c.tp.partition}"
            if c.tp in seen:
                raise InvalidArgumentError(f"partition {where} appears twice in one commit")
            seen.add(c.tp)
            self._topics.get(c.tp.topic).partition(c.tp.partition)
            end = int(self._log.offsets(c.tp).log_end)
            if not 0 <= c.offset <= end:
                raise OffsetOutOfRangeError(
                    f"cannot commit offset {c.offset} for {where}: it must be 0 to the log end "
                    f"{end}",
                    metadata={"topic": c.tp.topic, "partition": str(c.tp.partition)},
                )
            if len(c.metadata.encode()) > MAX_METADATA_BYTES:
                raise InvalidArgumentError(
                    f"commit metadata for {where} is over {MAX_METADATA_BYTES} bytes"
                )

    async def _write_offsets(
        self,
        group_id: GroupId,
        stored: Sequence[tuple[TopicPartition, CommittedOffset | None]],
        now: int,
    ) -> None:
        table = self.offsets.setdefault(group_id, {})
        before = {tp: table.get(tp) for tp, _ in stored}
        for tp, c in stored:
            if c is None:
                table.pop(tp, None)
            else:
                table[tp] = c
        try:
            await self._store.save_offsets(group_id, stored, now)
        except BaseException:
            for tp, old in before.items():
                if old is None:
                    table.pop(tp, None)
                else:
                    table[tp] = old
            raise
        finally:
            if not table:
                self.offsets.pop(group_id, None)

    def fetch(
        self, group_id: str, tps: Sequence[TopicPartition] | None, require: bool
    ) -> list[tuple[TopicPartition, CommittedOffset | None]]:
        """Committed positions; None marks a partition without a commit."""
        self.check_names(group_id, creating=False)
        table = self.offsets.get(GroupId(group_id), {})
        wanted = sorted(table, key=_order) if tps is None else list(tps)
        found = [(tp, table.get(tp)) for tp in wanted]
        missing = [f"{tp.topic}-{tp.partition}" for tp, c in found if c is None]
        if require and missing:
            raise NoCommittedOffsetError(
                f"group '{group_id}' has no committed offset for {', '.join(missing)}; "
                "with auto.offset.reset=none a consumer cannot start there: commit or reset first",
                metadata={"group": group_id, "partitions": ",".join(missing)},
            )
        return found

    # -- admin ---------------------------------------------------------------------------

    def list_groups(self) -> list[GroupView]:
        """Every group, sorted by id."""
        return [g.view() for _, g in sorted(self.coordinator.groups.items())]

    async def describe(self, group_id: str) -> GroupDescription:
        """Members, assignments and lag per partition."""
        self.check_names(group_id, creating=False)
        group = self.coordinator.get(group_id)
        self.coordinator.expire(group)
        await self._persist()
        return GroupDescription(group.view(), await self._lags(group, self.now_ms()))

    async def _lags(self, group: Group, now: int) -> tuple[PartitionLag, ...]:
        table = self.offsets.get(group.group_id, {})
        tps = set(table)
        for topic, count in group.subscribed.items():
            tps.update(TopicPartition(TopicName(topic), PartitionId(p)) for p in range(count))
        lags = []
        for tp in sorted(tps, key=_order):
            with contextlib.suppress(NotFoundError):
                lags.append(await partition_lag(self._log, tp, table.get(tp), now))
        return tuple(lags)

    async def lag_report(self, max_partitions: int) -> tuple[list[GroupLag], int]:
        """Every group's members, rebalances and lag (read-only: nothing expires or persists).

        Groups are taken in id order until ``max_partitions`` partition rows are reported;
        the second value counts the groups left out.
        """
        now = self.now_ms()
        report: list[GroupLag] = []
        rows = 0
        groups = sorted(self.coordinator.groups.items())
        for n, (group_id, group) in enumerate(groups):
            lags = await self._lags(group, now)
            if rows + len(lags) > max_partitions:
                return report, len(groups) - n
            rows += len(lags)
            report.append(GroupLag(group_id, len(group.members), group.rebalances, lags))
        return report, 0

    async def reset(
        self, group_id: str, topic: str | None, spec: ResetSpec, force: bool, dry_run: bool
    ) -> list[ResetOutcome]:
        """Move (or with dry_run, preview moving) committed offsets."""
        self.check_names(group_id, creating=not dry_run)
        if not group_id:
            raise InvalidArgumentError("group_id is empty; name the consumer group")
        members = self.coordinator.active_members(group_id)
        if members and not (force or dry_run):
            raise GroupNotEmptyError(
                f"group '{group_id}' has {members} active member(s); stop its consumers "
                "first, or reset with force",
                metadata={"group": group_id, "members": str(members)},
            )
        gid = GroupId(group_id)
        table = self.offsets.get(gid, {})
        tps = self._reset_partitions(gid, topic, table)
        now = self.now_ms()
        outcomes = []
        for tp in tps:
            target = await reset_target(self._log, tp, spec, now)
            previous = table.get(tp)
            end = int(self._log.offsets(tp).log_end)
            outcomes.append(outcome(tp, None if previous is None else previous.offset, target, end))
        if not dry_run and outcomes:
            self.coordinator.ensure(gid)
            stored = [(o.tp, CommittedOffset(o.target, "", now, 0)) for o in outcomes]
            await self._write_offsets(gid, stored, now)
            await self._persist()
        return outcomes

    def _reset_partitions(
        self, group_id: GroupId, topic: str | None, table: dict[TopicPartition, CommittedOffset]
    ) -> list[TopicPartition]:
        if topic is not None:
            t = self._topics.get(topic)
            return [t.partition(p) for p in range(t.partition_count)]
        counts = self._partition_counts()
        group = self.coordinator.groups.get(group_id)
        topics = {tp.topic for tp in table} | set(group.subscribed if group else ())
        return [
            TopicPartition(TopicName(name), PartitionId(p))
            for name in sorted(topics)
            if name in counts
            for p in range(counts[name])
        ]

    async def delete(self, group_id: str) -> int:
        """Delete an empty group and its offsets; return how many offsets went."""
        self.check_names(group_id, creating=False)
        self.coordinator.delete(group_id)
        gid = GroupId(group_id)
        table = self.offsets.get(gid, {})
        doomed: list[tuple[TopicPartition, CommittedOffset | None]] = [
            (tp, None) for tp in sorted(table, key=_order)
        ]
        await self._write_offsets(gid, doomed, self.now_ms())
        await self._persist()
        return len(doomed)
