"""Server-side assignors: pure functions from members and partitions to a target assignment.

``uniform`` is balanced and sticky: partitions keep their current owner when that owner still
subscribes, then partitions move from the most to the least loaded eligible member until no
move makes the counts closer. With one shared subscription every member ends with
floor(n/m) or ceil(n/m) partitions. ``range`` gives each member a contiguous range of every
topic it subscribes to, as Kafka's RangeAssignor does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from weir.broker.groups.model import Assignor, MemberId
from weir.broker.log.api import PartitionId, TopicName, TopicPartition

Assignment = dict[MemberId, frozenset[TopicPartition]]


@dataclass(frozen=True, slots=True)
class AssignmentSpec:
    """Everything an assignor needs."""

    subscriptions: Mapping[MemberId, frozenset[str]]
    """Each member's resolved subscribed topics."""
    partition_counts: Mapping[str, int]
    """Partition count of every subscribed topic that exists."""
    current: Mapping[MemberId, frozenset[TopicPartition]]
    """The previous target, for stickiness."""


def assign(assignor: Assignor, spec: AssignmentSpec) -> Assignment:
    """The target assignment; every member appears, extra members get nothing."""
    if assignor is Assignor.RANGE:
        return range_assign(spec)
    return uniform_assign(spec)


def _partitions(spec: AssignmentSpec, topic: str) -> list[TopicPartition]:
    count = spec.partition_counts.get(topic, 0)
    return [TopicPartition(TopicName(topic), PartitionId(p)) for p in range(count)]


def range_assign(spec: AssignmentSpec) -> Assignment:
    """Kafka's range: per topic, members sorted by id take contiguous ranges."""
    out: dict[MemberId, set[TopicPartition]] = {m: set() for m in spec.subscriptions}
    topics = sorted({t for ts in spec.subscriptions.values() for t in ts})
    for topic in topics:
        members = sorted(m for m, ts in spec.subscriptions.items() if topic in ts)
        parts = _partitions(spec, topic)
        if not members or not parts:
            continue
        size, extra = divmod(len(parts), len(members))
        start = 0
        for i, member in enumerate(members):
            n = size + (1 if i < extra else 0)
            out[member].update(parts[start : start + n])
            start += n
    return {m: frozenset(tps) for m, tps in out.items()}


def uniform_assign(spec: AssignmentSpec) -> Assignment:
    """Balanced and sticky across every subscribed partition."""
    out: dict[MemberId, set[TopicPartition]] = {m: set() for m in spec.subscriptions}
    eligible: dict[TopicPartition, list[MemberId]] = {}
    for topic in sorted({t for ts in spec.subscriptions.values() for t in ts}):
        members = sorted(m for m, ts in spec.subscriptions.items() if topic in ts)
        for tp in _partitions(spec, topic):
            eligible[tp] = members
    for member, tps in spec.current.items():
        if member in out:
            out[member].update(tp for tp in tps if member in eligible.get(tp, ()))
    owned = {tp for tps in out.values() for tp in tps}
    for tp, members in eligible.items():
        if tp not in owned:
            target = min(members, key=lambda m: (len(out[m]), m))
            out[target].add(tp)
    _balance(out, eligible)
    return {m: frozenset(tps) for m, tps in out.items()}


def _balance(
    out: dict[MemberId, set[TopicPartition]], eligible: Mapping[TopicPartition, list[MemberId]]
) -> None:
    """Move one partition at a time from the most loaded member to a lighter one."""
    while _move_one(out, eligible):
        pass


def _move_one(
    out: dict[MemberId, set[TopicPartition]], eligible: Mapping[TopicPartition, list[MemberId]]
) -> bool:
    for donor in sorted(out, key=lambda m: (-len(out[m]), m)):
        for tp in sorted(out[donor], key=lambda t: (t.topic, -t.partition)):
            taker = min(eligible[tp], key=lambda m: (len(out[m]), m))
            if len(out[taker]) + 1 < len(out[donor]):
                out[donor].discard(tp)
                out[taker].add(tp)
                return True
    return False
