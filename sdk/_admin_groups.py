"""Consumer-group values for the Admin clients, and their request building and parsing, free of I/O.

``list_groups``, ``describe_group``, ``committed_offsets``, ``reset_offsets`` and
``delete_group`` of ``Admin`` and ``AsyncAdmin`` get each GroupService ``Call`` here and
parse the reply into the frozen values below. Bad arguments raise InvalidArgumentError
before anything is sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from weir.core.errors import InvalidArgumentError
from weir.sdk._admin_shared import epoch_ms, partition_arg, topic_arg
from weir.sdk._call import Call
from weir.v1 import group_pb2 as gp
from weir.v1 import group_service_pb2 as gs

ResetTarget = Literal["earliest", "latest"] | int | dt.datetime | dt.timedelta
"""Where ``Admin.reset_offsets`` moves a group: ``"earliest"``, ``"latest"``, an exact offset
(an int, clamped into each partition's bounds), the first record at or after a time (an
aware datetime), or the first record at or after now minus a duration (a timedelta)."""

_STATES = {
    gp.GROUP_STATE_EMPTY: "empty",
    gp.GROUP_STATE_RECONCILING: "reconciling",
    gp.GROUP_STATE_STABLE: "stable",
}
_MEMBER_STATES = {
    gp.MEMBER_STATE_STABLE: "stable",
    gp.MEMBER_STATE_UNREVOKED_PARTITIONS: "unrevoked_partitions",
    gp.MEMBER_STATE_UNRELEASED_PARTITIONS: "unreleased_partitions",
}
_ASSIGNORS = {gp.ASSIGNOR_UNIFORM: "uniform", gp.ASSIGNOR_RANGE: "range"}


@dataclass(frozen=True, slots=True)
class GroupSummary:
    """A consumer group in ``Admin.list_groups``."""

    group_id: str
    """The group id."""
    state: str
    """``"empty"``, ``"reconciling"`` or ``"stable"``."""
    member_count: int
    """How many members it has now."""
    assignor: str
    """``"uniform"`` or ``"range"``."""
    group_epoch: int
    """Bumped whenever members or subscriptions change."""


@dataclass(frozen=True, slots=True)
class GroupMemberInfo:
    """One member of a group, with what it owns and what it will own."""

    member_id: str
    """The id the coordinator gave the member."""
    instance_id: str | None
    """The group.instance.id of a static member; None for dynamic members."""
    member_epoch: int
    """The member's epoch; its commits must carry it."""
    subscribed_topics: tuple[str, ...]
    """The topics it subscribed to by name (empty with a regex subscription)."""
    subscribed_topic_regex: str
    """The regex it subscribed with (empty with a name subscription)."""
    assignment: tuple[tuple[str, int], ...]
    """The (topic, partition) pairs it may consume now, sorted."""
    target_assignment: tuple[tuple[str, int], ...]
    """The (topic, partition) pairs it will own once the rebalance completes, sorted."""
    state: str
    """``"stable"``, ``"unrevoked_partitions"`` or ``"unreleased_partitions"``."""
    session_timeout_ms: int
    """How long it may stay silent before it is removed."""
    last_heartbeat_ms: int
    """When the coordinator last heard from it, in ms since the epoch."""


@dataclass(frozen=True, slots=True)
class PartitionLag:
    """A group's position and lag in one partition."""

    topic: str
    """The topic name."""
    partition: int
    """The partition number."""
    committed_offset: int | None
    """The next offset the group will read; None when it never committed here."""
    metadata: str
    """The metadata string stored with the commit."""
    log_start_offset: int
    """The partition's first readable offset."""
    log_end_offset: int
    """The offset the next record will get."""
    lag_records: int
    """Records not consumed yet: log end minus committed (minus log start without a commit)."""
    lag_ms: int
    """Age in ms of the oldest unconsumed record; 0 when caught up."""
    owner_member_id: str | None
    """The member that owns the partition now; None when nobody does."""
    owner_instance_id: str | None
    """The owner's group.instance.id, for static members."""

    @property
    def lag_s(self) -> float:
        """The lag in seconds: the age of the oldest unconsumed record."""
        return self.lag_ms / 1000


@dataclass(frozen=True, slots=True)
class GroupDescription:
    """``Admin.describe_group``: members, assignments and per-partition offsets and lag."""

    group_id: str
    """The group id."""
    state: str
    """``"empty"``, ``"reconciling"`` or ``"stable"``."""
    group_epoch: int
    """Bumped whenever members or subscriptions change."""
    assignment_epoch: int
    """The epoch of the target assignment; equal to group_epoch once computed."""
    assignor: str
    """``"uniform"`` or ``"range"``."""
    members: tuple[GroupMemberInfo, ...]
    """The members, sorted by member id."""
    partitions: tuple[PartitionLag, ...]
    """Every subscribed or committed partition, sorted by topic and partition."""
    total_lag_records: int
    """The sum of ``lag_records`` over partitions."""
    max_lag_ms: int
    """The largest ``lag_ms`` over partitions."""


@dataclass(frozen=True, slots=True)
class CommittedOffset:
    """A group's committed position in one partition."""

    topic: str
    """The topic name."""
    partition: int
    """The partition number."""
    offset: int | None
    """The next offset to consume; None when the group has no commit here."""
    metadata: str
    """The metadata string stored with the commit."""
    commit_time_ms: int
    """When the commit was made, in ms since the epoch; 0 without a commit."""
    member_epoch: int
    """The member epoch the commit carried; 0 for standalone commits and resets."""


@dataclass(frozen=True, slots=True)
class OffsetReset:
    """What a reset does (or, in a dry run, would do) to one partition."""

    topic: str
    """The topic name."""
    partition: int
    """The partition number."""
    previous_offset: int | None
    """The committed offset before the reset; None when there was none."""
    new_offset: int
    """The new committed offset."""
    redelivered_records: int
    """Records between the new and the previous offset that will be delivered again."""
    skipped_records: int
    """Records between the previous and the new offset that will be skipped."""
    records_to_read: int
    """Records from the new offset to the log end: what the group reads next."""


@dataclass(frozen=True, slots=True)
class ResetResult:
    """``Admin.reset_offsets``: the per-partition targets and whether they were stored."""

    resets: tuple[OffsetReset, ...]
    """One entry per partition, sorted by topic and partition."""
    applied: bool
    """True when the offsets were stored; False for a dry run."""

    @property
    def redelivered_records(self) -> int:
        """Records delivered again, over every partition."""
        return sum(r.redelivered_records for r in self.resets)

    @property
    def records_to_read(self) -> int:
        """Records the group reads next, over every partition."""
        return sum(r.records_to_read for r in self.resets)


@dataclass(frozen=True, slots=True)
class DeletedGroup:
    """``Admin.delete_group``: what was removed."""

    group_id: str
    """The deleted group id."""
    deleted_offsets: int
    """How many committed offsets went with it."""


# ----- requests ----------------------------------------------------------------------------


def group_arg(group: str) -> str:
    """A non-empty group id, checked before anything is sent."""
    if not isinstance(group, str) or not group.strip():
        raise InvalidArgumentError(f"group id {group!r} is not valid: name the consumer group")
    return group


def committed_request(
    group: str, partitions: Mapping[str, Iterable[int]] | None, require_committed: bool
) -> gs.FetchCommittedOffsetsRequest:
    """FetchCommittedOffsets for some partitions by topic, or every committed one (None)."""
    request = gs.FetchCommittedOffsetsRequest(
        group_id=group_arg(group), require_committed=require_committed
    )
    for topic, numbers in (partitions or {}).items():
        if isinstance(numbers, int):
            raise InvalidArgumentError(
                f"partitions of {topic!r} must be a list of partition numbers, not one number"
            )
        wanted = sorted({partition_arg(n) for n in numbers})
        request.partitions.add(topic=topic_arg(topic), partitions=wanted)
    return request


def reset_request(
    group: str, topic: str | None, to: ResetTarget, dry_run: bool, force: bool
) -> gs.ResetOffsetsRequest:
    """ResetOffsets for one topic (or all) to earliest, latest, an offset, a time or an age."""
    request = gs.ResetOffsetsRequest(group_id=group_arg(group), dry_run=dry_run, force=force)
    if topic is None:
        request.all_topics = True
    else:
        request.topic = topic_arg(topic)
    if to == "earliest":
        request.earliest = True
    elif to == "latest":
        request.latest = True
    elif isinstance(to, dt.datetime):
        request.timestamp_ms = epoch_ms(to)
    elif isinstance(to, dt.timedelta):
        if to <= dt.timedelta(0):
            raise InvalidArgumentError(f"a reset duration must be positive, got {to}")
        request.duration_ms = int(to.total_seconds() * 1000)
    elif isinstance(to, int) and not isinstance(to, bool) and to >= 0:
        request.offset = to
    else:
        raise InvalidArgumentError(
            f"reset target {to!r} is not valid: use 'earliest', 'latest', an offset >= 0, "
            "an aware datetime or a timedelta"
        )
    return request


# ----- responses ---------------------------------------------------------------------------


def _pairs(items: Iterable[gp.TopicPartitions]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted((tps.topic, p) for tps in items for p in tps.partitions))


def summary_from_proto(message: gp.GroupSummary) -> GroupSummary:
    """A GroupSummary message as a value."""
    return GroupSummary(
        group_id=message.group_id,
        state=_STATES.get(message.state, "unknown"),
        member_count=message.member_count,
        assignor=_ASSIGNORS.get(message.assignor, "unknown"),
        group_epoch=message.group_epoch,
    )


def member_from_proto(message: gp.GroupMember) -> GroupMemberInfo:
    """A GroupMember message as a value."""
    return GroupMemberInfo(
        member_id=message.member_id,
        instance_id=message.instance_id if message.HasField("instance_id") else None,
        member_epoch=message.member_epoch,
        subscribed_topics=tuple(message.subscribed_topics),
        subscribed_topic_regex=message.subscribed_topic_regex,
        assignment=_pairs(message.assignment),
        target_assignment=_pairs(message.target_assignment),
        state=_MEMBER_STATES.get(message.state, "unknown"),
        session_timeout_ms=message.session_timeout_ms,
        last_heartbeat_ms=message.last_heartbeat_ms,
    )


def lag_from_proto(message: gp.PartitionLag) -> PartitionLag:
    """A PartitionLag message as a value."""
    return PartitionLag(
        topic=message.topic,
        partition=message.partition,
        committed_offset=(
            message.committed_offset if message.HasField("committed_offset") else None
        ),
        metadata=message.metadata,
        log_start_offset=message.log_start_offset,
        log_end_offset=message.log_end_offset,
        lag_records=message.lag_records,
        lag_ms=message.lag_ms,
        owner_member_id=message.owner_member_id or None,
        owner_instance_id=(
            message.owner_instance_id if message.HasField("owner_instance_id") else None
        ),
    )


def group_from_proto(message: gp.Group) -> GroupDescription:
    """A Group message as a value."""
    return GroupDescription(
        group_id=message.group_id,
        state=_STATES.get(message.state, "unknown"),
        group_epoch=message.group_epoch,
        assignment_epoch=message.assignment_epoch,
        assignor=_ASSIGNORS.get(message.assignor, "unknown"),
        members=tuple(member_from_proto(m) for m in message.members),
        partitions=tuple(lag_from_proto(p) for p in message.partitions),
        total_lag_records=message.total_lag_records,
        max_lag_ms=message.max_lag_ms,
    )


def committed_from_proto(message: gp.CommittedOffset) -> CommittedOffset:
    """A CommittedOffset message as a value."""
    return CommittedOffset(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset if message.HasField("offset") else None,
        metadata=message.metadata,
        commit_time_ms=message.commit_time_ms,
        member_epoch=message.member_epoch,
    )


def reset_from_proto(message: gs.ResetOffsetsResponse) -> ResetResult:
    """A ResetOffsets reply as a value."""
    return ResetResult(
        resets=tuple(
            OffsetReset(
                topic=r.topic,
                partition=r.partition,
                previous_offset=r.previous_offset if r.HasField("previous_offset") else None,
                new_offset=r.new_offset,
                redelivered_records=r.redelivered_records,
                skipped_records=r.skipped_records,
                records_to_read=r.records_to_read,
            )
            for r in message.resets
        ),
        applied=message.applied,
    )


# ----- calls: one builder per Admin method -------------------------------------------------

GROUPS = "groups"
"""The GroupService stub's name in the clients' stub table."""


def list_groups() -> Call[list[GroupSummary]]:
    """ListGroups, sorted by id."""
    return Call(
        GROUPS,
        "ListGroups",
        gs.ListGroupsRequest(),
        lambda reply: [summary_from_proto(g) for g in reply.groups],
    )


def describe_group(group: str) -> Call[GroupDescription]:
    """DescribeGroup: members, assignments, offsets and lag."""
    request = gs.DescribeGroupRequest(group_id=group_arg(group))
    return Call(GROUPS, "DescribeGroup", request, lambda reply: group_from_proto(reply.group))


def committed_offsets(
    group: str, partitions: Mapping[str, Iterable[int]] | None, require_committed: bool
) -> Call[list[CommittedOffset]]:
    """FetchCommittedOffsets for some partitions by topic, or every committed one."""
    return Call(
        GROUPS,
        "FetchCommittedOffsets",
        committed_request(group, partitions, require_committed),
        lambda reply: [committed_from_proto(c) for c in reply.offsets],
    )


def reset_offsets(
    group: str, topic: str | None, to: ResetTarget, dry_run: bool, force: bool
) -> Call[ResetResult]:
    """ResetOffsets; never retried (a time or duration target moves between two runs)."""
    request = reset_request(group, topic, to, dry_run, force)
    return Call(GROUPS, "ResetOffsets", request, reset_from_proto, idempotent=False)


def delete_group(group: str) -> Call[DeletedGroup]:
    """DeleteGroup; never retried (a second run would fail with GroupNotFoundError)."""
    request = gs.DeleteGroupRequest(group_id=group_arg(group))
    return Call(GROUPS, "DeleteGroup", request, _deleted_from_proto, idempotent=False)


def _deleted_from_proto(reply: Any) -> DeletedGroup:
    return DeletedGroup(reply.group_id, reply.deleted_offsets)


__all__ = [
    "CommittedOffset",
    "DeletedGroup",
    "GroupDescription",
    "GroupMemberInfo",
    "GroupSummary",
    "OffsetReset",
    "PartitionLag",
    "ResetResult",
    "ResetTarget",
]
