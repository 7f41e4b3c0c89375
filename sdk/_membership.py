"""One consumer's side of a KIP-848 consumer group, as a state machine free of I/O.

The coordinator assigns partitions; the member heartbeats with its subscription and the
partitions it owns, and each reply carries its assignment. Two parties change this state:

- the heartbeater (a thread or an asyncio task) records replies and fencing;
- ``poll()`` on the user's thread applies what changed, in this order: partitions lost to a
  fence, partitions revoked (``on_revoke`` runs while they are still owned, so commits are
  accepted), then partitions added (``on_assign``).

``owned`` is what the consumer holds and reports; ``assignment`` is the last reply's view. A
revoked partition stays owned until ``poll()`` releases it, and only the next heartbeat tells
the coordinator, which is what lets the coordinator hand it to another member safely.
Sync shells guard a Membership with a lock; the asyncio shell needs none.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from weir.core.errors import InvalidArgumentError, UnknownMemberIdError, WeirError
from weir.sdk._records import TopicPartition
from weir.v1 import group_pb2 as gp
from weir.v1 import group_service_pb2 as gs

Topics = Sequence[str] | str | re.Pattern[str]
"""A subscription: topic names, one name, or a pattern (a compiled regex, or a string starting
with ``^`` as in confluent-kafka) matched against whole topic names, now and later."""

DEFAULT_HEARTBEAT_INTERVAL_MS = 3000
"""How long to wait before the first reply says otherwise."""


@dataclass(frozen=True, slots=True)
class Subscription:
    """What a member consumes: topic names or one regex."""

    names: tuple[str, ...] = ()
    """Topic names, sorted."""
    regex: str | None = None
    """A Python regex matched against whole topic names."""


def subscription_arg(topics: Topics) -> Subscription:
    """Check a ``topics`` argument and turn it into a Subscription."""
    if isinstance(topics, re.Pattern):
        return Subscription(regex=topics.pattern)
    if isinstance(topics, str):
        if topics.startswith("^"):
            try:
                re.compile(topics)
            except re.error as exc:
                raise InvalidArgumentError(
                    f"topic pattern {topics!r} is not a valid regex: {exc}"
                ) from None
            return Subscription(regex=topics)
        topics = [topics]
    names = tuple(sorted(set(topics)))
    if not names or not all(isinstance(n, str) and n for n in names):
        raise InvalidArgumentError(
            f"topics must be non-empty topic names or a pattern, got {topics!r}"
        )
    return Subscription(names=names)


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """What ``poll()`` must apply before it fetches, read from one consistent snapshot."""

    lost: frozenset[TopicPartition]
    """Partitions taken away by fencing: already gone, commits for them fail."""
    revoked: frozenset[TopicPartition]
    """Owned partitions the coordinator wants back: commit, then release them."""
    added: frozenset[TopicPartition]
    """Partitions granted and not yet owned: start fetching them."""
    generation: int
    """The membership generation this plan belongs to (bumped by every fence)."""

    def __bool__(self) -> bool:
        return bool(self.lost or self.revoked or self.added)


def tps_to_proto(tps: Iterable[TopicPartition]) -> list[gp.TopicPartitions]:
    """Partitions grouped by topic, sorted, as the protos carry them."""
    by_topic: dict[str, list[int]] = {}
    for tp in tps:
        by_topic.setdefault(tp.topic, []).append(tp.partition)
    return [gp.TopicPartitions(topic=t, partitions=sorted(p)) for t, p in sorted(by_topic.items())]


def tps_from_proto(items: Iterable[gp.TopicPartitions]) -> frozenset[TopicPartition]:
    """The partitions in a repeated TopicPartitions field."""
    return frozenset(TopicPartition(i.topic, p) for i in items for p in i.partitions)


class Membership:
    """A member's identity, epoch, assignment and owned partitions."""

    def __init__(
        self,
        group_id: str,
        subscription: Subscription,
        *,
        session_timeout_ms: int,
        rebalance_timeout_ms: int,
        instance_id: str | None = None,
    ) -> None:
        if not group_id:
            raise InvalidArgumentError("group_id is empty; name the consumer group")
        self.group_id = group_id
        """The group id."""
        self.subscription = subscription
        """What this member consumes."""
        self.session_timeout_ms = session_timeout_ms
        """Silence longer than this makes the coordinator drop the member."""
        self.rebalance_timeout_ms = rebalance_timeout_ms
        """How long the member may take to release revoked partitions."""
        self.instance_id = instance_id
        """group.instance.id for static membership, or None."""
        self.member_id = ""
        """The id from the coordinator; empty until the first reply (and after UnknownMember)."""
        self.epoch = 0
        """The member epoch from the last reply; 0 to join or rejoin."""
        self.interval_ms = DEFAULT_HEARTBEAT_INTERVAL_MS
        """The heartbeat interval the coordinator asked for."""
        self.assignment: frozenset[TopicPartition] = frozenset()
        """The partitions the last reply granted."""
        self.owned: frozenset[TopicPartition] = frozenset()
        """The partitions the consumer holds (and reports in heartbeats)."""
        self.lost: frozenset[TopicPartition] = frozenset()
        """Partitions dropped by a fence that poll() has not yet told the application about."""
        self.generation = 0
        """Bumped by every fence, so a plan made before one cannot re-own lost partitions."""
        self.error: WeirError | None = None
        """A heartbeat error poll() should raise (once)."""
        self.joined = False
        """True once a reply has been recorded."""

    # -- heartbeater side ----------------------------------------------------------------

    @property
    def joining(self) -> bool:
        """True when the next heartbeat is a join (no member id: must not be retried)."""
        return not self.member_id

    def heartbeat_request(self) -> gs.HeartbeatRequest:
        """The next heartbeat: a (re)join with the subscription at epoch 0, else owned parts."""
        request = gs.HeartbeatRequest(
            group_id=self.group_id,
            member_id=self.member_id,
            member_epoch=self.epoch,
            session_timeout_ms=self.session_timeout_ms,
            rebalance_timeout_ms=self.rebalance_timeout_ms,
        )
        if self.instance_id is not None:
            request.instance_id = self.instance_id
        if self.epoch == 0:
            if self.subscription.regex is not None:
                request.topic_regex = self.subscription.regex
            else:
                request.topics.names.extend(self.subscription.names)
        else:
            request.owned_partitions.extend(tps_to_proto(self.owned))
        return request

    def on_reply(self, reply: gs.HeartbeatResponse) -> bool:
        """Record a heartbeat reply; True when poll() has something to apply."""
        self.member_id = reply.member_id
        self.epoch = reply.member_epoch
        self.interval_ms = max(reply.heartbeat_interval_ms, 10)
        self.assignment = tps_from_proto(reply.assignment)
        self.joined = True
        return self.assignment != self.owned

    def on_fenced(self, error: WeirError) -> None:
        """The coordinator no longer knows this member (or its epoch): every partition is lost.

        The next heartbeat rejoins at epoch 0 with the subscription and nothing owned.
        """
        self.lost |= self.owned
        self.owned = frozenset()
        self.assignment = frozenset()
        self.epoch = 0
        self.generation += 1
        if isinstance(error, UnknownMemberIdError):
            self.member_id = ""

    def on_error(self, error: WeirError) -> None:
        """Record a failed heartbeat; errors a retry cannot fix are raised by the next poll()."""
        if not error.retriable:
            self.error = error

    # -- poll() side ---------------------------------------------------------------------

    def take_error(self) -> WeirError | None:
        """The recorded heartbeat error, cleared."""
        error, self.error = self.error, None
        return error

    def plan(self) -> Reconciliation:
        """What poll() must apply now."""
        return Reconciliation(
            lost=self.lost,
            revoked=self.owned - self.assignment,
            added=self.assignment - self.owned,
            generation=self.generation,
        )

    def lost_applied(self, lost: Iterable[TopicPartition]) -> None:
        """poll() has dropped these lost partitions and told the application."""
        self.lost -= frozenset(lost)

    def released(self, tps: Iterable[TopicPartition]) -> None:
        """poll() stopped consuming these; the next heartbeat reports them gone."""
        self.owned -= frozenset(tps)

    def acquired(self, tps: Iterable[TopicPartition], generation: int) -> bool:
        """poll() started consuming these; False (and they count as lost) after a fence."""
        if generation != self.generation:
            self.lost |= frozenset(tps)
            return False
        self.owned |= frozenset(tps)
        return True

    def identity(self) -> gs.MemberIdentity:
        """Who commits: member id and epoch, fencing commits from zombies."""
        return gs.MemberIdentity(member_id=self.member_id, member_epoch=self.epoch)

    def leave_request(self) -> gs.LeaveGroupRequest | None:
        """LeaveGroup for this member, or None when it never joined."""
        if not self.member_id:
            return None
        return gs.LeaveGroupRequest(group_id=self.group_id, member_id=self.member_id)

    def left(self) -> None:
        """The member left: nothing is owned or assigned any more."""
        self.owned = self.assignment = frozenset()
        self.member_id, self.epoch = "", 0


__all__: list[str] = []
