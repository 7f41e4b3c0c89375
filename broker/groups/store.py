"""Group state and committed offsets on the compacted ``__consumer_offsets`` topic.

Commits are appended with acks=all (fsynced before the reply), one batch per request so a
request is all or nothing. Group snapshots are appended with acks=leader when they change: a
lost snapshot only means members rejoin. ``load`` replays the topic from its log start, past
damaged batches (each skip is logged).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from weir.broker.groups import codec
from weir.broker.groups.group import Group
from weir.broker.groups.model import CommittedOffset, GroupId
from weir.broker.log.api import Acks, LogStore, NewRecord, TopicPartition
from weir.broker.log.replay import DamageSkipper
from weir.core.crash_points import crash_point
from weir.core.errors import CorruptDataError

log = logging.getLogger("weir.groups")
_READ_BYTES = 1 << 20


@dataclass(slots=True)
class Loaded:
    """What a replay found."""

    groups: dict[GroupId, Group] = field(default_factory=dict)
    """Group snapshots."""
    offsets: dict[GroupId, dict[TopicPartition, CommittedOffset]] = field(default_factory=dict)
    """Committed offsets per group."""


class GroupStore:
    """Appends and replays group records on one partition of ``__consumer_offsets``."""

    def __init__(self, log_store: LogStore, tp: TopicPartition) -> None:
        self._log = log_store
        self._tp = tp
        self._snapshots: dict[GroupId, bytes] = {}

    async def load(self, now_ms: int) -> Loaded:
        """Replay every record, newest per key winning."""
        snapshots: dict[GroupId, bytes | None] = {}
        loaded = Loaded()
        bounds = self._log.offsets(self._tp)
        skipper = DamageSkipper(
            log,
            "__consumer_offsets",
            "the commits in it are lost (those groups resume from an older commit or reset)",
        )
        offset = int(bounds.log_start)
        while offset < bounds.log_end:
            try:
                batch = await self._log.read(self._tp, offset, _READ_BYTES)
            except CorruptDataError as exc:  # one damaged batch loses only its own commits
                offset = skipper.skip(offset, exc)
                continue
            if not batch:
                break
            for record in batch:
                key = codec.decode_key(record.key or b"")
                if isinstance(key, codec.GroupKey):
                    snapshots[key.group_id] = record.value
                elif isinstance(key, codec.OffsetKey):
                    table = loaded.offsets.setdefault(key.group_id, {})
                    if record.value is None:
                        table.pop(key.tp, None)
                    else:
                        table[key.tp] = codec.decode_offset(record.value)
                else:
                    log.warning("__consumer_offsets: skipping unknown key at %d", record.offset)
            offset = batch[-1].offset + 1
        for group_id, value in snapshots.items():
            if value is not None:
                self._snapshots[group_id] = value
                loaded.groups[group_id] = codec.decode_group(group_id, value, now_ms)
        loaded.offsets = {g: t for g, t in loaded.offsets.items() if t}
        return loaded

    async def save_group(self, group_id: GroupId, group: Group | None, now_ms: int) -> None:
        """Append the group's snapshot (or a tombstone) when it changed."""
        value = None if group is None else codec.encode_group(group)
        if value == self._snapshots.get(group_id):
            return
        if value is None:
            self._snapshots.pop(group_id, None)
        else:
            self._snapshots[group_id] = value
        record = NewRecord(value=value, key=codec.group_key(group_id), timestamp_ms=now_ms)
        await self._log.append(self._tp, [record], Acks.LEADER)

    async def save_offsets(
        self,
        group_id: GroupId,
        commits: Sequence[tuple[TopicPartition, CommittedOffset | None]],
        now_ms: int,
    ) -> None:
        """Append commits (None deletes) in one fsynced batch."""
        if not commits:
            return
        records = [
            NewRecord(
                value=None if c is None else codec.encode_offset(c),
                key=codec.offset_key(group_id, tp),
                timestamp_ms=now_ms,
            )
            for tp, c in commits
        ]
        await self._log.append(self._tp, records, Acks.ALL)
        crash_point("groups.commit.after_append")
