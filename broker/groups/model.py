"""The consumer-group vocabulary: ids, enums and the values the coordinator hands out."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NewType

from weir.broker.groups.topic_match import check_pattern, fullmatch
from weir.broker.log.api import TopicPartition

GroupId = NewType("GroupId", str)
MemberId = NewType("MemberId", str)
InstanceId = NewType("InstanceId", str)

DEFAULT_SESSION_TIMEOUT_MS = 45_000
"""Kafka's session.timeout.ms default for the consumer protocol."""
MIN_SESSION_TIMEOUT_MS = 100
"""The shortest session timeout a member may ask for."""
MAX_SESSION_TIMEOUT_MS = 30 * 60 * 1000
"""The longest session timeout a member may ask for."""
DEFAULT_REBALANCE_TIMEOUT_MS = 300_000
"""Kafka's max.poll.interval.ms default: how long a member may take to revoke."""
HEARTBEAT_INTERVAL_MS = 5_000
"""The steady heartbeat interval, capped at a third of the session timeout."""
RECONCILE_INTERVAL_MS = 50
"""The heartbeat interval while a member's assignment is still moving."""


class Assignor(enum.StrEnum):
    """The server-side assignment strategy."""

    UNIFORM = "uniform"
    RANGE = "range"


class GroupState(enum.StrEnum):
    """A group's lifecycle state (KIP-848)."""

    EMPTY = "empty"
    RECONCILING = "reconciling"
    STABLE = "stable"


class MemberState(enum.StrEnum):
    """Where a member stands against its target assignment."""

    STABLE = "stable"
    UNREVOKED_PARTITIONS = "unrevoked_partitions"
    UNRELEASED_PARTITIONS = "unreleased_partitions"


@dataclass(frozen=True, slots=True)
class Subscription:
    """What a member consumes: topic names or one regex (whole-name match)."""

    topics: frozenset[str] = frozenset()
    """Topics by name."""
    regex: str | None = None
    """A Python regex matched against whole topic names; None with a name subscription."""
    may_describe: Callable[[str], bool] | None = field(default=None, compare=False)
    """With ACLs on, whether the member's principal (as of its join) may describe a topic: a
    regex only ever matches those, as in Kafka. None: every topic."""

    def matches(self, topic: str) -> bool:
        """True when the topic is subscribed."""
        if self.regex is not None:
            return fullmatch(self.regex, topic) and (  # time-bounded: see topic_match.py
                self.may_describe is None or self.may_describe(topic)
            )
        return topic in self.topics


def regex_subscription(
    pattern: str, may_describe: Callable[[str], bool] | None = None
) -> Subscription:
    """A regex subscription, checked to compile (and not known to be too slow)."""
    check_pattern(pattern)
    return Subscription(regex=pattern, may_describe=may_describe)


@dataclass(frozen=True, slots=True)
class HeartbeatInput:
    """One heartbeat, already checked for shape by the servicer."""

    group_id: GroupId
    """The group."""
    member_id: MemberId
    """The member id; empty to join."""
    member_epoch: int
    """The member's epoch; 0 to join or rejoin."""
    owned: frozenset[TopicPartition]
    """Every partition the member owns now."""
    instance_id: InstanceId | None = None
    """group.instance.id for static membership."""
    subscription: Subscription | None = None
    """The subscription; None keeps the previous one (required to join)."""
    session_timeout_ms: int | None = None
    """The session timeout asked for; None keeps the previous one or the default."""
    rebalance_timeout_ms: int | None = None
    """How long the member may take to revoke; None keeps the previous one or the default."""
    assignor: Assignor | None = None
    """The assignor asked for; None keeps the group's."""


@dataclass(frozen=True, slots=True)
class HeartbeatResult:
    """The coordinator's answer to a heartbeat."""

    member_id: MemberId
    """The member id to use from now on."""
    member_epoch: int
    """The member's epoch."""
    assignment: frozenset[TopicPartition]
    """The partitions the member may consume now."""
    heartbeat_interval_ms: int
    """When to heartbeat next."""
    state: MemberState
    """Where the member stands; anything but STABLE means heartbeat again soon."""


@dataclass(frozen=True, slots=True)
class MemberView:
    """A read-only snapshot of a member."""

    member_id: MemberId
    """The member id."""
    instance_id: InstanceId | None
    """group.instance.id, for static members."""
    member_epoch: int
    """The member's epoch."""
    subscription: Subscription
    """What the member subscribes to."""
    assignment: frozenset[TopicPartition]
    """What the member may consume now (including partitions it is still revoking)."""
    target: frozenset[TopicPartition]
    """What the member will own once the rebalance completes."""
    state: MemberState
    """Where the member stands."""
    session_timeout_ms: int
    """The session timeout."""
    last_heartbeat_ms: int
    """When the coordinator last heard from it."""


@dataclass(frozen=True, slots=True)
class GroupView:
    """A read-only snapshot of a group's membership."""

    group_id: GroupId
    """The group."""
    state: GroupState
    """The lifecycle state."""
    group_epoch: int
    """Bumped whenever members, subscriptions or subscribed partitions change."""
    assignment_epoch: int
    """The epoch of the current target assignment."""
    assignor: Assignor
    """The assignment strategy."""
    members: tuple[MemberView, ...] = field(default=())
    """Members sorted by id."""

    def owner(self, tp: TopicPartition) -> MemberView | None:
        """The member that may consume the partition now, or None."""
        for m in self.members:
            if tp in m.assignment:
                return m
        return None


@dataclass(frozen=True, slots=True)
class CommittedOffset:
    """A group's committed position in one partition."""

    offset: int
    """The next offset to consume."""
    metadata: str = ""
    """The client's metadata string."""
    commit_time_ms: int = 0
    """When it was committed."""
    member_epoch: int = 0
    """The member epoch the commit carried (0 for standalone commits and resets)."""
