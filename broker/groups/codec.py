"""Records on ``__consumer_offsets``: keys and values for offsets and group snapshots (pure).

Keys are JSON arrays so any group or topic name round-trips: ``["offset", group, topic,
partition]`` and ``["group", group]``. Values are JSON objects; a tombstone (None) deletes.
Compaction keeps the newest record per key, which is exactly the state to rebuild.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from weir.broker.groups.group import Group, Member
from weir.broker.groups.model import (
    Assignor,
    CommittedOffset,
    GroupId,
    InstanceId,
    MemberId,
    Subscription,
)
from weir.broker.log.api import PartitionId, TopicName, TopicPartition

OFFSET_KIND = "offset"
GROUP_KIND = "group"


@dataclass(frozen=True, slots=True)
class OffsetKey:
    """The key of a committed offset."""

    group_id: GroupId
    """The group."""
    tp: TopicPartition
    """The partition."""


@dataclass(frozen=True, slots=True)
class GroupKey:
    """The key of a group snapshot."""

    group_id: GroupId
    """The group."""


def offset_key(group_id: str, tp: TopicPartition) -> bytes:
    """The record key of a group's offset in a partition."""
    return json.dumps([OFFSET_KIND, group_id, tp.topic, tp.partition]).encode()


def group_key(group_id: str) -> bytes:
    """The record key of a group snapshot."""
    return json.dumps([GROUP_KIND, group_id]).encode()


def decode_key(key: bytes) -> OffsetKey | GroupKey | None:
    """The parsed key, or None for a key this version does not know."""
    try:
        parts = json.loads(key)
    except ValueError:
        return None
    if not isinstance(parts, list) or not parts:
        return None
    if parts[0] == OFFSET_KIND and len(parts) == 4:
        tp = TopicPartition(TopicName(str(parts[2])), PartitionId(int(parts[3])))
        return OffsetKey(GroupId(str(parts[1])), tp)
    if parts[0] == GROUP_KIND and len(parts) == 2:
        return GroupKey(GroupId(str(parts[1])))
    return None


def encode_offset(committed: CommittedOffset) -> bytes:
    """The record value of a committed offset."""
    return json.dumps(
        {
            "offset": committed.offset,
            "metadata": committed.metadata,
            "commit_time_ms": committed.commit_time_ms,
            "member_epoch": committed.member_epoch,
        },
        sort_keys=True,
    ).encode()


def decode_offset(value: bytes) -> CommittedOffset:
    """A committed offset from its record value."""
    doc = json.loads(value)
    return CommittedOffset(
        int(doc["offset"]),
        str(doc.get("metadata", "")),
        int(doc.get("commit_time_ms", 0)),
        int(doc.get("member_epoch", 0)),
    )


def _tps(held: dict[TopicPartition, int]) -> list[list[Any]]:
    return [[tp.topic, tp.partition, e] for tp, e in sorted(held.items(), key=_order)]


def _order(item: tuple[TopicPartition, int]) -> tuple[str, int]:
    return item[0].topic, item[0].partition


def _held(rows: list[list[Any]]) -> dict[TopicPartition, int]:
    return {TopicPartition(TopicName(t), PartitionId(int(p))): int(e) for t, p, e in rows}


def encode_group(group: Group) -> bytes:
    """A group snapshot: epochs, target and members with what they hold."""
    members = [
        {
            "id": m.member_id,
            "instance_id": m.instance_id,
            "epoch": m.epoch,
            "previous_epoch": m.previous_epoch,
            "topics": sorted(m.subscription.topics),
            "regex": m.subscription.regex,
            "session_timeout_ms": m.session_timeout_ms,
            "rebalance_timeout_ms": m.rebalance_timeout_ms,
            "assigned": _tps(m.assigned),
            "revoking": _tps(m.revoking),
            "target": _tps(dict.fromkeys(group.target.get(m.member_id, frozenset()), 0)),
        }
        for _, m in sorted(group.members.items())
    ]
    doc = {
        "assignor": group.assignor.value,
        "group_epoch": group.group_epoch,
        "assignment_epoch": group.assignment_epoch,
        "subscribed": group.subscribed,
        "members": members,
    }
    return json.dumps(doc, sort_keys=True).encode()


def decode_group(group_id: GroupId, value: bytes, now_ms: int) -> Group:
    """A group from its snapshot; every member's session restarts at ``now_ms``."""
    doc = json.loads(value)
    group = Group(
        group_id,
        Assignor(doc["assignor"]),
        int(doc["group_epoch"]),
        int(doc["assignment_epoch"]),
        subscribed={str(t): int(n) for t, n in doc["subscribed"].items()},
    )
    for m in doc["members"]:
        member_id = MemberId(m["id"])
        instance = m.get("instance_id")
        group.members[member_id] = Member(
            member_id=member_id,
            subscription=Subscription(frozenset(m["topics"]), m.get("regex")),
            session_timeout_ms=int(m["session_timeout_ms"]),
            rebalance_timeout_ms=int(m["rebalance_timeout_ms"]),
            last_seen_ms=now_ms,
            instance_id=None if instance is None else InstanceId(instance),
            epoch=int(m["epoch"]),
            previous_epoch=int(m["previous_epoch"]),
            assigned=_held(m["assigned"]),
            revoking=_held(m["revoking"]),
        )
        group.target[member_id] = frozenset(_held(m["target"]))
    return group
