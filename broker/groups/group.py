"""One consumer group's membership and cooperative reconciliation (pure; time is passed in).

Each member holds partitions in two sets: ``assigned`` (what it may consume) and ``revoking``
(what it was told to give up but has not yet confirmed). A partition is held by at most one
member at a time, and is given to a member only when nobody holds it, so no partition ever has
two owners. A revocation is confirmed by a later heartbeat whose owned list no longer has it.
The member epoch moves to the target assignment's epoch once the member has nothing left
to revoke; partitions are granted at that epoch, which fences commits from older epochs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from weir.broker.groups.assignment import AssignmentSpec, assign
from weir.broker.groups.model import (
    Assignor,
    GroupId,
    GroupState,
    GroupView,
    InstanceId,
    MemberId,
    MemberState,
    MemberView,
    Subscription,
)
from weir.broker.log.api import TopicPartition


@dataclass(slots=True)
class Member:
    """A member's mutable state inside its group."""

    member_id: MemberId
    """The coordinator-assigned id."""
    subscription: Subscription
    """What the member consumes."""
    session_timeout_ms: int
    """Silence longer than this removes the member."""
    rebalance_timeout_ms: int
    """Revocations pending longer than this remove the member."""
    last_seen_ms: int
    """When the coordinator last heard from the member."""
    instance_id: InstanceId | None = None
    """group.instance.id of a static member."""
    epoch: int = 0
    """The member epoch."""
    previous_epoch: int = 0
    """The epoch before the last bump (a heartbeat whose reply was lost may carry it)."""
    assigned: dict[TopicPartition, int] = field(default_factory=dict)
    """Partitions the member may consume, with the epoch each was granted at."""
    revoking: dict[TopicPartition, int] = field(default_factory=dict)
    """Partitions the member must give up, still held until it confirms."""
    revoke_deadline_ms: int | None = None
    """When an unconfirmed revocation times out, or None."""

    def held(self) -> set[TopicPartition]:
        """Everything the member holds: assigned plus still revoking."""
        return set(self.assigned) | set(self.revoking)


@dataclass(slots=True)
class Group:
    """A consumer group: members, target assignment and epochs."""

    group_id: GroupId
    """The group id."""
    assignor: Assignor = Assignor.UNIFORM
    """The assignment strategy."""
    group_epoch: int = 0
    """Bumped on every membership, subscription or metadata change."""
    assignment_epoch: int = 0
    """The epoch the target was computed at."""
    members: dict[MemberId, Member] = field(default_factory=dict)
    """Members by id."""
    target: dict[MemberId, frozenset[TopicPartition]] = field(default_factory=dict)
    """The target assignment."""
    subscribed: dict[str, int] = field(default_factory=dict)
    """Subscribed topics and partition counts the target was computed with."""
    rebalances: int = 0
    """Target assignments computed since the server started (a metric; not persisted)."""

    # -- membership ------------------------------------------------------------------------

    def bump(self) -> None:
        """Ask for a new target assignment."""
        self.group_epoch += 1

    def add(self, member: Member) -> None:
        """Add a member; the target is recomputed."""
        self.members[member.member_id] = member
        self.bump()

    def remove(self, member_id: MemberId) -> None:
        """Remove a member; its partitions are free at once."""
        if self.members.pop(member_id, None) is not None:
            self.target.pop(member_id, None)
            self.bump()

    def replace(self, old: MemberId, new: Member) -> None:
        """A static member restarted: the new incarnation takes the old one's place."""
        prior = self.members.pop(old)
        new.epoch, new.previous_epoch = prior.epoch, prior.previous_epoch
        new.assigned, new.revoking = prior.assigned, prior.revoking
        new.revoke_deadline_ms = prior.revoke_deadline_ms
        self.members[new.member_id] = new
        self.target[new.member_id] = self.target.pop(old, frozenset())
        if new.subscription != prior.subscription:
            self.bump()

    def by_instance(self, instance_id: InstanceId) -> Member | None:
        """The member with this group.instance.id, or None."""
        for m in self.members.values():
            if m.instance_id == instance_id:
                return m
        return None

    def expire(self, now_ms: int) -> list[MemberId]:
        """Remove members past their session timeout or revocation deadline."""
        gone = [
            m.member_id
            for m in self.members.values()
            if now_ms - m.last_seen_ms > m.session_timeout_ms
            or (m.revoke_deadline_ms is not None and now_ms > m.revoke_deadline_ms)
        ]
        for member_id in gone:
            self.remove(member_id)
        return gone

    # -- target assignment ---------------------------------------------------------------

    def resolve(self, topics: Mapping[str, int]) -> dict[str, int]:
        """The subscribed topics that exist, with their partition counts."""
        return {
            t: n
            for t, n in sorted(topics.items())
            if any(m.subscription.matches(t) for m in self.members.values())
        }

    def refresh(self, topics: Mapping[str, int]) -> None:
        """Bump the epoch when subscribed topics appeared, vanished or grew; then retarget."""
        if self.members and self.resolve(topics) != self.subscribed:
            self.bump()
        if self.assignment_epoch < self.group_epoch:
            self._retarget(topics)

    def _retarget(self, topics: Mapping[str, int]) -> None:
        self.subscribed = self.resolve(topics)
        subs = {
            mid: frozenset(t for t in self.subscribed if m.subscription.matches(t))
            for mid, m in self.members.items()
        }
        spec = AssignmentSpec(subs, self.subscribed, dict(self.target))
        self.target = assign(self.assignor, spec)
        self.assignment_epoch = self.group_epoch
        self.rebalances += 1

    # -- reconciliation ------------------------------------------------------------------

    def holders(self) -> dict[TopicPartition, MemberId]:
        """Who holds each held partition."""
        return {tp: m.member_id for m in self.members.values() for tp in m.held()}

    def reconcile(self, member: Member, owned: frozenset[TopicPartition], now_ms: int) -> None:
        """Move one member toward its target: confirm revocations, revoke, then grant."""
        for tp in [tp for tp in member.revoking if tp not in owned]:
            del member.revoking[tp]
        target = self.target.get(member.member_id, frozenset())
        for tp in [tp for tp in member.assigned if tp not in target]:
            member.revoking[tp] = member.assigned.pop(tp)
        if member.revoking:
            if member.revoke_deadline_ms is None:
                member.revoke_deadline_ms = now_ms + member.rebalance_timeout_ms
            return
        member.revoke_deadline_ms = None
        if member.epoch != self.assignment_epoch:
            member.previous_epoch, member.epoch = member.epoch, self.assignment_epoch
        holders = self.holders()
        for tp in sorted(target - set(member.assigned), key=lambda t: (t.topic, t.partition)):
            if tp not in holders:
                member.assigned[tp] = member.epoch

    def member_state(self, member: Member) -> MemberState:
        """Where the member stands against its target."""
        if member.revoking:
            return MemberState.UNREVOKED_PARTITIONS
        target = self.target.get(member.member_id, frozenset())
        if set(member.assigned) != target or member.epoch != self.assignment_epoch:
            return MemberState.UNRELEASED_PARTITIONS
        return MemberState.STABLE

    def state(self) -> GroupState:
        """EMPTY, RECONCILING or STABLE."""
        if not self.members:
            return GroupState.EMPTY
        if self.assignment_epoch < self.group_epoch or any(
            self.member_state(m) is not MemberState.STABLE for m in self.members.values()
        ):
            return GroupState.RECONCILING
        return GroupState.STABLE

    def view(self) -> GroupView:
        """A read-only snapshot."""
        members = tuple(
            MemberView(
                member_id=m.member_id,
                instance_id=m.instance_id,
                member_epoch=m.epoch,
                subscription=m.subscription,
                assignment=frozenset(m.held()),
                target=self.target.get(m.member_id, frozenset()),
                state=self.member_state(m),
                session_timeout_ms=m.session_timeout_ms,
                last_heartbeat_ms=m.last_seen_ms,
            )
            for _, m in sorted(self.members.items())
        )
        return GroupView(
            self.group_id,
            self.state(),
            self.group_epoch,
            self.assignment_epoch,
            self.assignor,
            members,
        )
