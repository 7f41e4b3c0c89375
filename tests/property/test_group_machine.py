"""The group coordinator against simulated clients: random joins, leaves, heartbeats,
crashes, clock jumps, static restarts and partition growth.

Clients obey every reply: they start consuming granted partitions at once, and stop
consuming revoked ones only when they get round to it (a later heartbeat may still list
them, as a consumer finishing its in-flight batch would). They drop everything on
UNKNOWN_MEMBER_ID / FENCED_MEMBER_EPOCH, and stop consuming by themselves once their
session timeout passes without a successful heartbeat (as Kafka consumers do).
Invariants:

* no partition is owned by two live clients, at any step;
* the coordinator never holds a partition in two members;
* once the random phase ends and everyone keeps heartbeating, the group converges: every
  member is stable, every partition is owned, and counts differ by at most one.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from weir.broker.groups.coordinator import Coordinator
from weir.broker.groups.model import (
    GroupId,
    HeartbeatInput,
    InstanceId,
    MemberId,
    MemberState,
    Subscription,
)
from weir.broker.log.api import TopicPartition
from weir.core.errors import FencedMemberEpochError, UnknownMemberIdError

G = GroupId("g")
SESSION_MS = 1000
NAMES = st.sampled_from(["c0", "c1", "c2", "c3"])


@dataclass
class Client:
    member_id: MemberId
    epoch: int
    owned: frozenset[TopicPartition]
    """What the client consumes now, including revoked partitions it has not released."""
    last_ok: int
    instance: str | None


class GroupMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = 0
        self.partitions = 6
        self.ids = 0
        self.coord = Coordinator(lambda: self.now, lambda: {"t": self.partitions}, self._id)
        self.clients: dict[str, Client] = {}
        self.assigned: dict[str, frozenset[TopicPartition]] = {}

    def _id(self) -> str:
        self.ids += 1
        return f"m{self.ids}"

    def _alive(self, c: Client) -> bool:
        return self.now - c.last_ok <= SESSION_MS

    def _send(self, name: str, req: HeartbeatInput, instance: str | None) -> None:
        try:
            reply = self.coord.heartbeat(req)
        except (UnknownMemberIdError, FencedMemberEpochError):
            self.clients.pop(name, None)
            return
        before = self.clients.get(name)
        still = before.owned if before is not None else frozenset()
        self.assigned[name] = reply.assignment
        self.clients[name] = Client(
            reply.member_id, reply.member_epoch, reply.assignment | still, self.now, instance
        )

    @precondition(lambda self: len(self.clients) < 4)
    @rule(name=NAMES, static=st.booleans())
    def join(self, name: str, static: bool) -> None:
        if name in self.clients:
            return
        instance = name if static else None
        req = HeartbeatInput(
            G,
            MemberId(""),
            0,
            frozenset(),
            instance_id=None if instance is None else InstanceId(instance),
            subscription=Subscription(topics=frozenset({"t"})),
            session_timeout_ms=SESSION_MS,
        )
        self._send(name, req, instance)

    @rule(name=NAMES, release=st.booleans())
    def heartbeat(self, name: str, release: bool = True) -> None:
        c = self.clients.get(name)
        if c is None:
            return
        if not self._alive(c):  # it fenced itself; a real client would rejoin
            del self.clients[name]
            return
        if release:  # finish revoking: keep only the last assignment
            c.owned = self.assigned.get(name, frozenset())
        self._send(name, HeartbeatInput(G, c.member_id, c.epoch, c.owned), c.instance)

    @rule(name=NAMES)
    def crash(self, name: str) -> None:
        self.clients.pop(name, None)

    @rule(name=NAMES)
    def leave(self, name: str) -> None:
        c = self.clients.pop(name, None)
        if c is not None:
            with contextlib.suppress(UnknownMemberIdError):
                self.coord.leave("g", c.member_id)

    @rule(ms=st.sampled_from([50, 200, 400, 1100]))
    def advance(self, ms: int) -> None:
        self.now += ms

    @rule()
    def tick(self) -> None:
        self.coord.tick()

    @precondition(lambda self: self.partitions < 14)
    @rule(extra=st.integers(min_value=1, max_value=4))
    def add_partitions(self, extra: int) -> None:
        self.partitions += extra

    @invariant()
    def single_owner(self) -> None:
        seen: dict[TopicPartition, str] = {}
        for name, c in self.clients.items():
            if not self._alive(c):
                continue
            for tp in c.owned:
                assert tp not in seen, f"{tp} owned by {seen[tp]} and {name}"
                seen[tp] = name
        group = self.coord.groups.get(G)
        if group is not None:
            held = [tp for m in group.members.values() for tp in m.held()]
            assert len(held) == len(set(held))

    def teardown(self) -> None:
        for name in list(self.clients):
            if not self._alive(self.clients[name]):
                del self.clients[name]
        for _ in range(4):  # crashed members expire; the live ones keep beating
            self.now += 400
            for name in list(self.clients):
                self.heartbeat(name)
        for _ in range(8):
            for name in list(self.clients):
                self.heartbeat(name)
                self.single_owner()
        if not self.clients:
            return
        states = set()
        for name in list(self.clients):
            c = self.clients[name]
            states.add(self.coord.heartbeat(HeartbeatInput(G, c.member_id, c.epoch, c.owned)).state)
        assert states == {MemberState.STABLE}
        counts = [len(c.owned) for c in self.clients.values()]
        assert sum(counts) == self.partitions
        assert max(counts) - min(counts) <= 1


TestGroupMachine = GroupMachine.TestCase
TestGroupMachine.settings = settings(max_examples=300, stateful_step_count=30, deadline=None)
