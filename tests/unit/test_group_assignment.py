"""Server-side assignors: balanced, sticky, idle extras, range contiguity."""

from __future__ import annotations

import pytest

from weir.broker.groups.assignment import AssignmentSpec, assign, range_assign, uniform_assign
from weir.broker.groups.model import Assignor, MemberId
from weir.broker.log.api import PartitionId, TopicName, TopicPartition


def tp(topic: str, p: int) -> TopicPartition:
    return TopicPartition(TopicName(topic), PartitionId(p))


def members(n: int, topics: frozenset[str] = frozenset({"t"})) -> dict[MemberId, frozenset[str]]:
    return {MemberId(f"m{i:02d}"): topics for i in range(n)}


def counts(result) -> list[int]:
    return sorted(len(v) for v in result.values())


def all_assigned(result) -> list[TopicPartition]:
    return sorted((p for v in result.values() for p in v), key=lambda t: (t.topic, t.partition))


@pytest.mark.parametrize("kind", list(Assignor))
@pytest.mark.parametrize(
    ("parts", "n", "expected"),
    [(12, 3, [4, 4, 4]), (12, 4, [3, 3, 3, 3]), (12, 5, [2, 2, 2, 3, 3]), (2, 3, [0, 1, 1])],
)
def test_balanced_with_one_subscription(kind, parts, n, expected) -> None:
    result = assign(kind, AssignmentSpec(members(n), {"t": parts}, {}))
    assert counts(result) == expected
    assert all_assigned(result) == [tp("t", p) for p in range(parts)]


def test_extra_members_idle_without_error() -> None:
    result = uniform_assign(AssignmentSpec(members(13), {"t": 12}, {}))
    assert counts(result) == [0] + [1] * 12
    assert len(all_assigned(result)) == 12


def test_uniform_is_sticky_when_a_member_joins() -> None:
    three = uniform_assign(AssignmentSpec(members(3), {"t": 12}, {}))
    four = uniform_assign(AssignmentSpec(members(4), {"t": 12}, three))
    assert counts(four) == [3, 3, 3, 3]
    moved = sum(len(three[m] - four[m]) for m in three)
    assert moved == 3  # only what the newcomer needs


def test_uniform_respects_subscriptions() -> None:
    subs = {
        MemberId("a"): frozenset({"x"}),
        MemberId("b"): frozenset({"x", "y"}),
        MemberId("c"): frozenset({"y"}),
    }
    result = uniform_assign(AssignmentSpec(subs, {"x": 4, "y": 2}, {}))
    assert all(p.topic == "x" for p in result[MemberId("a")])
    assert all(p.topic == "y" for p in result[MemberId("c")])
    assert counts(result) == [2, 2, 2]
    assert len(all_assigned(result)) == 6


def test_uniform_drops_partitions_of_unsubscribed_or_missing_topics() -> None:
    current = {MemberId("m00"): frozenset({tp("gone", 0), tp("t", 0)})}
    result = uniform_assign(AssignmentSpec(members(1), {"t": 1}, current))
    assert result[MemberId("m00")] == frozenset({tp("t", 0)})


def test_range_gives_contiguous_ranges_per_topic() -> None:
    result = range_assign(AssignmentSpec(members(3, frozenset({"a", "b"})), {"a": 7, "b": 3}, {}))
    assert sorted(p.partition for p in result[MemberId("m00")] if p.topic == "a") == [0, 1, 2]
    assert sorted(p.partition for p in result[MemberId("m01")] if p.topic == "a") == [3, 4]
    assert sorted(p.partition for p in result[MemberId("m02")] if p.topic == "a") == [5, 6]
    assert all(len([p for p in v if p.topic == "b"]) == 1 for v in result.values())
