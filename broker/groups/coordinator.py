"""The group coordinator: heartbeats, leaves, commit fencing and expiry for every group.

Pure: no I/O, no gRPC. The clock, the topic catalogue and the member-id source are injected,
so tests drive time by hand. Every change marks its group dirty; the service persists dirty
groups after each call.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping

from weir.broker.groups.group import Group, Member
from weir.broker.groups.model import (
    DEFAULT_REBALANCE_TIMEOUT_MS,
    DEFAULT_SESSION_TIMEOUT_MS,
    HEARTBEAT_INTERVAL_MS,
    MAX_SESSION_TIMEOUT_MS,
    MIN_SESSION_TIMEOUT_MS,
    RECONCILE_INTERVAL_MS,
    GroupId,
    HeartbeatInput,
    HeartbeatResult,
    MemberId,
    MemberState,
)
from weir.broker.log.api import TopicPartition
from weir.core.errors import (
    FencedMemberEpochError,
    GroupNotEmptyError,
    GroupNotFoundError,
    InvalidArgumentError,
    PartitionNotAssignedError,
    StaleMemberEpochError,
    UnknownMemberIdError,
)

Clock = Callable[[], int]
Topics = Callable[[], Mapping[str, int]]


def _new_member_id() -> str:
    return uuid.uuid4().hex


class Coordinator:
    """Every consumer group's membership state."""

    def __init__(
        self, now_ms: Clock, topics: Topics, new_member_id: Callable[[], str] = _new_member_id
    ) -> None:
        self.now_ms = now_ms
        """The clock, in ms."""
        self.topics = topics
        """Non-internal topics with their partition counts."""
        self._new_id = new_member_id
        self.groups: dict[GroupId, Group] = {}
        """Groups by id."""
        self.dirty: set[GroupId] = set()
        """Groups changed since the last drain."""

    # -- lookups -------------------------------------------------------------------------

    def get(self, group_id: str) -> Group:
        """A group by id."""
        group = self.groups.get(GroupId(group_id))
        if group is None:
            raise GroupNotFoundError(
                f"consumer group '{group_id}' does not exist; list groups with `weir group list`",
                metadata={"group": group_id},
            )
        return group

    def ensure(self, group_id: GroupId) -> Group:
        """A group by id, created empty when missing."""
        group = self.groups.get(group_id)
        if group is None:
            group = self.groups[group_id] = Group(group_id)
            self.dirty.add(group_id)
        return group

    def expire(self, group: Group) -> None:
        """Remove the group's silent members now, marking the group changed if any went."""
        if group.expire(self.now_ms()):
            self.dirty.add(group.group_id)

    def drain_dirty(self) -> set[GroupId]:
        """The groups changed since the last call."""
        dirty, self.dirty = self.dirty, set()
        return dirty

    # -- heartbeat -----------------------------------------------------------------------

    def heartbeat(self, req: HeartbeatInput) -> HeartbeatResult:
        """Join or heartbeat; return the member's current assignment."""
        if not req.group_id:
            raise InvalidArgumentError("group_id is empty; name the consumer group")
        if req.session_timeout_ms is not None:
            _session_timeout(req.session_timeout_ms)
        if req.rebalance_timeout_ms is not None:
            _positive("rebalance_timeout_ms", req.rebalance_timeout_ms)
        if not req.member_id:
            _check_join(req)
            if req.subscription is None:
                raise InvalidArgumentError(
                    "a member joining needs a subscription: topic names or a topic regex",
                    metadata={"group": req.group_id},
                )
        elif req.group_id not in self.groups:
            raise _unknown(Group(req.group_id), req.member_id)
        now = self.now_ms()
        group = self.ensure(req.group_id)
        self.dirty.add(req.group_id)
        group.expire(now)
        member = self._member_for(group, req, now)
        member.last_seen_ms = now
        if req.assignor is not None and req.assignor is not group.assignor:
            group.assignor = req.assignor
            group.bump()
        if req.session_timeout_ms is not None:
            member.session_timeout_ms = _session_timeout(req.session_timeout_ms)
        if req.rebalance_timeout_ms is not None:
            member.rebalance_timeout_ms = req.rebalance_timeout_ms
        if req.subscription is not None and req.subscription != member.subscription:
            member.subscription = req.subscription
            group.bump()
        group.refresh(self.topics())
        group.reconcile(member, req.owned, now)
        state = group.member_state(member)
        interval = min(HEARTBEAT_INTERVAL_MS, member.session_timeout_ms // 3)
        if state is not MemberState.STABLE:
            interval = min(interval, RECONCILE_INTERVAL_MS)
        return HeartbeatResult(
            member.member_id, member.epoch, frozenset(member.assigned), interval, state
        )

    def _member_for(self, group: Group, req: HeartbeatInput, now: int) -> Member:
        if req.member_id:
            member = group.members.get(req.member_id)
            if member is None:
                raise _unknown(group, req.member_id)
            if req.instance_id is not None and req.instance_id != member.instance_id:
                raise InvalidArgumentError(
                    f"member '{req.member_id}' joined with instance id "
                    f"{member.instance_id!r}, not {req.instance_id!r}",
                    metadata={"group": group.group_id, "member_id": req.member_id},
                )
            if req.member_epoch == 0:
                _check_join(req)
                member.assigned.clear()
                member.revoking.clear()
                member.revoke_deadline_ms = None
            elif req.member_epoch not in (member.epoch, member.previous_epoch):
                raise FencedMemberEpochError(
                    f"member '{req.member_id}' of group '{group.group_id}' sent epoch "
                    f"{req.member_epoch} but its epoch is {member.epoch}; drop every partition "
                    "and rejoin with epoch 0",
                    metadata={"group": group.group_id, "member_epoch": str(member.epoch)},
                )
            return member
        assert req.subscription is not None  # checked in heartbeat
        fresh = Member(
            member_id=MemberId(self._new_id()),
            subscription=req.subscription,
            session_timeout_ms=_session_timeout(
                req.session_timeout_ms or DEFAULT_SESSION_TIMEOUT_MS
            ),
            rebalance_timeout_ms=_positive(
                "rebalance_timeout_ms", req.rebalance_timeout_ms or DEFAULT_REBALANCE_TIMEOUT_MS
            ),
            last_seen_ms=now,
            instance_id=req.instance_id,
        )
        prior = group.by_instance(req.instance_id) if req.instance_id is not None else None
        if prior is not None:
            group.replace(prior.member_id, fresh)
        else:
            group.add(fresh)
        return fresh

    # -- leave, expiry, delete -----------------------------------------------------------

    def leave(self, group_id: str, member_id: str, temporary: bool = False) -> None:
        """Remove a member now; a static member leaving temporarily keeps its partitions."""
        group = self.get(group_id)
        member = group.members.get(MemberId(member_id))
        if member is None:
            raise _unknown(group, member_id)
        if temporary and member.instance_id is None:
            raise InvalidArgumentError(
                "only a static member (with an instance id) can leave temporarily",
                metadata={"group": group_id, "member_id": member_id},
            )
        if not temporary:
            group.remove(member.member_id)
        self.dirty.add(group.group_id)

    def tick(self) -> list[tuple[GroupId, MemberId]]:
        """Expire silent members and notice topic changes; return who was removed."""
        now = self.now_ms()
        topics = self.topics()
        removed: list[tuple[GroupId, MemberId]] = []
        for group in self.groups.values():
            if not group.members:
                continue
            gone = group.expire(now)
            before = group.group_epoch
            group.refresh(topics)
            if gone or group.group_epoch != before:
                self.dirty.add(group.group_id)
            removed += [(group.group_id, m) for m in gone]
        return removed

    def delete(self, group_id: str) -> None:
        """Forget an empty group."""
        group = self.get(group_id)
        self.expire(group)
        if group.members:
            raise GroupNotEmptyError(
                f"group '{group_id}' still has {len(group.members)} member(s); stop its "
                "consumers (or wait for their session timeout) before deleting it",
                metadata={"group": group_id, "members": str(len(group.members))},
            )
        del self.groups[group.group_id]
        self.dirty.add(group.group_id)

    def active_members(self, group_id: str) -> int:
        """How many members the group has after expiry; 0 for an unknown group."""
        group = self.groups.get(GroupId(group_id))
        if group is None:
            return 0
        self.expire(group)
        return len(group.members)

    # -- commit fencing ------------------------------------------------------------------

    def check_member_commit(
        self, group_id: str, member_id: str, epoch: int, tps: Iterable[TopicPartition]
    ) -> None:
        """Refuse a commit from an unknown, fenced or stale member, or for a partition it lacks."""
        group = self.get(group_id)
        self.expire(group)
        member = group.members.get(MemberId(member_id))
        if member is None:
            raise _unknown(group, member_id)
        meta = {"group": group_id, "member_id": member_id, "member_epoch": str(member.epoch)}
        if epoch > member.epoch:
            raise FencedMemberEpochError(
                f"commit carried epoch {epoch} but member '{member_id}' is at epoch "
                f"{member.epoch}; rejoin with epoch 0",
                metadata=meta,
            )
        for tp in tps:
            granted = member.assigned.get(tp, member.revoking.get(tp))
            if granted is None:
                raise PartitionNotAssignedError(
                    f"member '{member_id}' of group '{group_id}' does not own "
                    f"{tp.topic}-{tp.partition}; commit only partitions in the last heartbeat's "
                    "assignment",
                    metadata={**meta, "topic": tp.topic, "partition": str(tp.partition)},
                )
            if granted > epoch:
                raise StaleMemberEpochError(
                    f"commit carried epoch {epoch} but {tp.topic}-{tp.partition} was assigned "
                    f"to member '{member_id}' at epoch {granted} (current epoch "
                    f"{member.epoch}); heartbeat, then commit again with the current epoch",
                    metadata={**meta, "topic": tp.topic, "partition": str(tp.partition)},
                )

    def check_standalone_commit(self, group_id: str) -> None:
        """Standalone (simple consumer) commits need a group without members."""
        members = self.active_members(group_id)
        if members:
            raise GroupNotEmptyError(
                f"group '{group_id}' has {members} member(s); a standalone commit is allowed "
                "only while the group has none: commit as a member instead",
                metadata={"group": group_id, "members": str(members)},
            )


def _check_join(req: HeartbeatInput) -> None:
    if req.member_epoch != 0:
        raise InvalidArgumentError(
            f"a member joins with epoch 0, not {req.member_epoch}",
            metadata={"group": req.group_id},
        )
    if req.owned:
        raise InvalidArgumentError(
            "a member joining (epoch 0) must not own partitions; drop them and rejoin",
            metadata={"group": req.group_id},
        )


def _unknown(group: Group, member_id: str) -> UnknownMemberIdError:
    return UnknownMemberIdError(
        f"'{member_id}' is not a member of group '{group.group_id}': it left, missed its "
        "session timeout, or was replaced by a restart of the same instance; drop every "
        "partition and rejoin with an empty member id",
        metadata={"group": group.group_id, "member_id": member_id},
    )


def _session_timeout(value: int) -> int:
    if not MIN_SESSION_TIMEOUT_MS <= value <= MAX_SESSION_TIMEOUT_MS:
        raise InvalidArgumentError(
            f"session_timeout_ms must be {MIN_SESSION_TIMEOUT_MS} to {MAX_SESSION_TIMEOUT_MS}, "
            f"got {value}"
        )
    return value


def _positive(name: str, value: int) -> int:
    if value <= 0:
        raise InvalidArgumentError(f"{name} must be positive, got {value}")
    return value
