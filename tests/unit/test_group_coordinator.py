"""The pure coordinator: joins, cooperative revocation, expiry, static members, fencing."""

from __future__ import annotations

import pytest

from weir.broker.groups.coordinator import Coordinator
from weir.broker.groups.model import (
    Assignor,
    GroupId,
    GroupState,
    HeartbeatInput,
    InstanceId,
    MemberId,
    MemberState,
    Subscription,
    regex_subscription,
)
from weir.broker.log.api import PartitionId, TopicName, TopicPartition
from weir.core import errors

G = GroupId("g")
SUB = Subscription(topics=frozenset({"t"}))


def tp(p: int, topic: str = "t") -> TopicPartition:
    return TopicPartition(TopicName(topic), PartitionId(p))


class Sim:
    """A coordinator with a hand-driven clock and clients that obey every reply."""

    def __init__(self, partitions: int = 12, session_ms: int = 1000) -> None:
        self.now = 0
        self.topics: dict[str, int] = {"t": partitions}
        self.session_ms = session_ms
        self.next_id = 0
        self.coord = Coordinator(lambda: self.now, lambda: dict(self.topics), self._id)
        self.clients: dict[str, tuple[MemberId, int, frozenset[TopicPartition]]] = {}

    def _id(self) -> str:
        self.next_id += 1
        return f"m{self.next_id:03d}"

    def join(self, name: str, sub: Subscription = SUB, instance: str | None = None) -> None:
        reply = self.coord.heartbeat(
            HeartbeatInput(
                G,
                MemberId(""),
                0,
                frozenset(),
                instance_id=None if instance is None else InstanceId(instance),
                subscription=sub,
                session_timeout_ms=self.session_ms,
            )
        )
        self.clients[name] = (reply.member_id, reply.member_epoch, reply.assignment)

    def beat(self, name: str) -> MemberState:
        member_id, epoch, owned = self.clients[name]
        reply = self.coord.heartbeat(HeartbeatInput(G, member_id, epoch, owned))
        self.clients[name] = (reply.member_id, reply.member_epoch, reply.assignment)
        return reply.state

    def crash(self, name: str) -> None:
        del self.clients[name]

    def owned(self, name: str) -> frozenset[TopicPartition]:
        return self.clients[name][2]

    def settle(self, rounds: int = 10) -> None:
        for _ in range(rounds):
            for name in list(self.clients):
                self.beat(name)

    def assert_single_owner(self) -> None:
        seen: dict[TopicPartition, str] = {}
        for name, (_, _, owned) in self.clients.items():
            for p in owned:
                assert p not in seen, f"{p} owned by {seen[p]} and {name}"
                seen[p] = name


def test_join_needs_a_subscription_and_epoch_zero() -> None:
    sim = Sim()
    with pytest.raises(errors.InvalidArgumentError, match="subscription"):
        sim.coord.heartbeat(HeartbeatInput(G, MemberId(""), 0, frozenset()))
    with pytest.raises(errors.InvalidArgumentError, match="epoch 0"):
        sim.coord.heartbeat(HeartbeatInput(G, MemberId(""), 3, frozenset(), subscription=SUB))
    assert G not in sim.coord.groups


def test_three_members_get_four_each_then_four_get_three() -> None:
    sim = Sim()
    for name in "abc":
        sim.join(name)
    sim.settle()
    assert sorted(len(sim.owned(n)) for n in "abc") == [4, 4, 4]
    sim.join("d")
    for _ in range(10):
        for name in "abcd":
            sim.beat(name)
            sim.assert_single_owner()
    assert sorted(len(sim.owned(n)) for n in "abcd") == [3, 3, 3, 3]
    assert sim.coord.get("g").state() is GroupState.STABLE


def test_revoked_partition_waits_for_confirmation_before_moving() -> None:
    sim = Sim(partitions=2)
    sim.join("a")
    assert len(sim.owned("a")) == 2
    sim.join("b")
    assert sim.owned("b") == frozenset()  # a still holds both
    assert sim.beat("a") is MemberState.UNREVOKED_PARTITIONS
    assert len(sim.owned("a")) == 1
    assert sim.beat("b") is MemberState.UNRELEASED_PARTITIONS  # a has not confirmed yet
    assert sim.owned("b") == frozenset()
    sim.beat("a")  # confirms: its owned list no longer has the revoked partition
    assert sim.beat("b") is MemberState.STABLE
    assert sim.owned("a") | sim.owned("b") == {tp(0), tp(1)}
    sim.assert_single_owner()


def test_silent_member_is_removed_and_partitions_move() -> None:
    sim = Sim()
    sim.join("a")
    sim.join("b")
    sim.settle()
    lost = sim.owned("b")
    sim.crash("b")
    for _ in range(3):
        sim.now += 400
        sim.beat("a")
    sim.settle(3)
    assert sim.owned("a") == frozenset(tp(p) for p in range(12))
    assert lost <= sim.owned("a")


def test_periodic_tick_expires_members_without_any_heartbeat() -> None:
    sim = Sim()
    sim.join("a")
    sim.now += 1001
    removed = sim.coord.tick()
    assert [m for _, m in removed] == [sim.clients["a"][0]]
    assert sim.coord.get("g").state() is GroupState.EMPTY


def test_unknown_and_fenced_members_get_clear_errors() -> None:
    sim = Sim()
    sim.join("a")
    member_id, epoch, owned = sim.clients["a"]
    with pytest.raises(errors.FencedMemberEpochError, match="rejoin with epoch 0"):
        sim.coord.heartbeat(HeartbeatInput(G, member_id, epoch + 5, owned))
    with pytest.raises(errors.UnknownMemberIdError, match="rejoin with an empty member id"):
        sim.coord.heartbeat(HeartbeatInput(G, MemberId("nobody"), 1, frozenset()))
    with pytest.raises(errors.UnknownMemberIdError):
        sim.coord.heartbeat(HeartbeatInput(GroupId("other"), MemberId("x"), 1, frozenset()))
    assert GroupId("other") not in sim.coord.groups


def test_static_member_restart_gets_its_partitions_back() -> None:
    sim = Sim()
    sim.join("a", instance="pod-a")
    sim.join("b", instance="pod-b")
    sim.settle()
    before = sim.owned("a")
    old_id = sim.clients["a"][0]
    epoch = sim.coord.get("g").group_epoch
    sim.crash("a")
    sim.now += 500  # within the session timeout
    sim.join("a", instance="pod-a")
    assert sim.owned("a") == before
    assert sim.clients["a"][0] != old_id
    assert sim.coord.get("g").group_epoch == epoch  # no rebalance
    with pytest.raises(errors.UnknownMemberIdError):
        sim.coord.check_member_commit("g", old_id, 1, [])


def test_leave_moves_partitions_at_once() -> None:
    sim = Sim()
    sim.join("a")
    sim.join("b")
    sim.settle()
    sim.coord.leave("g", sim.clients["b"][0])
    sim.crash("b")
    sim.settle(2)
    assert len(sim.owned("a")) == 12


def test_regex_subscription_picks_up_new_topics_and_partitions() -> None:
    sim = Sim(partitions=2)
    sim.join("a", sub=regex_subscription(r"t|orders\..*"))
    assert len(sim.owned("a")) == 2
    sim.topics["orders.eu"] = 2
    sim.coord.tick()
    sim.settle(2)
    assert tp(1, "orders.eu") in sim.owned("a")
    sim.topics["t"] = 4
    sim.settle(2)
    assert len(sim.owned("a")) == 6


def test_bad_regex_is_refused() -> None:
    with pytest.raises(errors.InvalidArgumentError, match="not a valid regex"):
        regex_subscription("orders[")


def test_commit_fencing() -> None:
    sim = Sim(partitions=2)
    sim.join("a")
    a_id, a_epoch, _ = sim.clients["a"]
    sim.join("b")
    sim.settle()
    b_id, b_epoch, b_owned = sim.clients["b"]
    (b_part,) = b_owned
    (a_part,) = sim.owned("a")
    # a kept a_part since its first epoch: a commit with that older epoch is still fine
    sim.coord.check_member_commit("g", a_id, a_epoch, [a_part])
    with pytest.raises(errors.PartitionNotAssignedError, match="does not own"):
        sim.coord.check_member_commit("g", a_id, sim.clients["a"][1], [b_part])
    with pytest.raises(errors.StaleMemberEpochError, match="heartbeat, then commit again"):
        sim.coord.check_member_commit("g", b_id, b_epoch - 1, [b_part])
    with pytest.raises(errors.FencedMemberEpochError):
        sim.coord.check_member_commit("g", b_id, b_epoch + 1, [b_part])
    sim.coord.check_member_commit("g", b_id, b_epoch, [b_part])
    with pytest.raises(errors.GroupNotEmptyError, match="standalone"):
        sim.coord.check_standalone_commit("g")
    sim.coord.check_standalone_commit("never-seen")


def test_revocation_timeout_removes_a_member_that_never_confirms() -> None:
    sim = Sim(partitions=2, session_ms=60_000)
    sim.join("a")
    member_id, epoch, owned = sim.clients["a"]
    sim.coord.heartbeat(HeartbeatInput(G, member_id, epoch, owned, rebalance_timeout_ms=1000))
    sim.join("b")
    sim.coord.heartbeat(HeartbeatInput(G, member_id, epoch, owned))  # revocation starts
    sim.now += 500
    sim.coord.heartbeat(HeartbeatInput(G, member_id, epoch, owned))  # still holding
    sim.now += 600
    sim.coord.tick()
    assert member_id not in sim.coord.get("g").members
    sim.beat("b")
    assert len(sim.owned("b")) == 2


def test_delete_refuses_a_group_with_members() -> None:
    sim = Sim()
    sim.join("a")
    with pytest.raises(errors.GroupNotEmptyError):
        sim.coord.delete("g")
    sim.coord.leave("g", sim.clients["a"][0])
    sim.coord.delete("g")
    with pytest.raises(errors.GroupNotFoundError):
        sim.coord.get("g")


def test_range_assignor_can_be_chosen() -> None:
    sim = Sim(partitions=4)
    sim.join("a")
    member_id, epoch, owned = sim.clients["a"]
    sim.coord.heartbeat(HeartbeatInput(G, member_id, epoch, owned, assignor=Assignor.RANGE))
    assert sim.coord.get("g").assignor is Assignor.RANGE
