"""Consumer settings, commit and offset requests, and deserialization, free of I/O.

Shared by Consumer and AsyncConsumer: each builds its requests here, sends them, and reads the
replies here, so the two differ only in how they wait.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import get_args

from weir.core.errors import (
    FailedPreconditionError,
    FencedMemberEpochError,
    InvalidArgumentError,
    InvalidRecordError,
    PartitionNotAssignedError,
    StaleMemberEpochError,
    UnknownMemberIdError,
    WeirError,
)
from weir.sdk._admin_shared import epoch_ms, list_offsets_request
from weir.sdk._consume_state import OffsetReset
from weir.sdk._membership import tps_to_proto
from weir.sdk._records import Deserializer, Message, MessageField, SerializationContext
from weir.sdk._records import TopicPartition as TP
from weir.v1 import group_service_pb2 as gs
from weir.v1 import log_service_pb2 as ls

Offsets = Mapping[TP, int] | Iterable[tuple[TP, int]]
"""Positions to commit: ``{TopicPartition: offset}`` or ``[(TopicPartition, offset), ...]``,
where offset is the next record to read (the last processed offset + 1)."""

Partitions = TP | Iterable[TP]
"""One partition or several."""


@dataclass(frozen=True, slots=True)
class ConsumerSettings:
    """A consumer's checked settings."""

    auto_offset_reset: OffsetReset = "earliest"
    """Where to start without a commit, and where an out-of-range position moves."""
    enable_auto_commit: bool = False
    """Commit consumed positions periodically, before revocation and on close."""
    auto_commit_interval_ms: int = 5000
    """The auto-commit period."""
    session_timeout_ms: int = 45_000
    """Silence longer than this removes the member (the server heartbeats at a third of it)."""
    rebalance_timeout_ms: int = 300_000
    """How long the consumer may hold revoked partitions before the coordinator removes it."""
    fetch_max_wait_ms: int = 300
    """How long one Fetch waits for data when there is none; poll() notices assignment changes
    at least this often."""
    max_partition_fetch_bytes: int = 1 << 20
    """The most bytes one fetch reads from one partition."""
    fetch_max_bytes: int = 50 << 20
    """The most bytes in one fetch reply."""

    def __post_init__(self) -> None:
        if self.auto_offset_reset not in get_args(OffsetReset):
            raise InvalidArgumentError(
                f"auto_offset_reset must be 'earliest', 'latest' or 'none', got "
                f"{self.auto_offset_reset!r}"
            )
        for name in (
            "auto_commit_interval_ms",
            "session_timeout_ms",
            "rebalance_timeout_ms",
            "max_partition_fetch_bytes",
            "fetch_max_bytes",
        ):
            if getattr(self, name) <= 0:
                raise InvalidArgumentError(f"{name} must be positive, got {getattr(self, name)}")
        if self.fetch_max_wait_ms < 0:
            raise InvalidArgumentError(
                f"fetch_max_wait_ms must be 0 or more, got {self.fetch_max_wait_ms}"
            )


# ----- arguments -----------------------------------------------------------------------------


def partitions_arg(partitions: Partitions) -> list[TP]:
    """One TopicPartition or several, as a list."""
    if isinstance(partitions, TP):
        return [partitions]
    found = [TP(*p) for p in partitions]
    for tp in found:
        if not tp.topic or tp.partition < 0:
            raise InvalidArgumentError(f"{tp!r} is not a partition: name a topic and a number >= 0")
    return found


def offset_arg(tp: TP, offset: int) -> int:
    """A non-negative offset."""
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise InvalidArgumentError(
            f"offset for {tp.topic}-{tp.partition} must be an int >= 0, got {offset!r}"
        )
    return offset


def timestamp_arg(at: int | dt.datetime) -> int:
    """Milliseconds since the epoch from an int or an aware datetime."""
    if isinstance(at, dt.datetime):
        return epoch_ms(at)
    if isinstance(at, bool) or not isinstance(at, int) or at < 0:
        raise InvalidArgumentError(
            f"timestamp must be ms since the epoch or a datetime, got {at!r}"
        )
    return at


def commit_offsets(
    message: Message | None, offsets: Offsets | None, positions: Mapping[TP, int]
) -> dict[TP, int]:
    """What ``commit(message=None, offsets=None)`` stores: one message's offset + 1, the given
    offsets, or every consumed position."""
    if message is not None and offsets is not None:
        raise InvalidArgumentError("commit() takes a message or offsets, not both")
    if message is not None:
        return {TP(message.topic, message.partition): message.offset + 1}
    if offsets is None:
        return dict(positions)
    items = offsets.items() if isinstance(offsets, Mapping) else offsets
    return {TP(*tp): offset_arg(TP(*tp), o) for tp, o in items}


# ----- requests ------------------------------------------------------------------------------


def no_group(what: str) -> FailedPreconditionError:
    """The error for a group call on a consumer without a group_id."""
    return FailedPreconditionError(
        f"{what} needs a consumer group, and this consumer has group_id=None; pass a group_id "
        "to store positions on the server"
    )


def commit_request(
    group_id: str, member: gs.MemberIdentity | None, offsets: Mapping[TP, int]
) -> gs.CommitOffsetsRequest:
    """CommitOffsets as a member (fenced by id and epoch), or standalone when member is None."""
    request = gs.CommitOffsetsRequest(group_id=group_id)
    if member is None:
        request.standalone = True
    else:
        request.member.CopyFrom(member)
    for tp, offset in sorted(offsets.items()):
        request.offsets.add(topic=tp.topic, partition=tp.partition, offset=offset)
    return request


def commit_error(error: WeirError, offsets: Mapping[TP, int]) -> WeirError:
    """Say what a refused commit means for the application."""
    names = ", ".join(f"{tp.topic}-{tp.partition}" for tp in sorted(offsets))
    if isinstance(error, PartitionNotAssignedError | UnknownMemberIdError | FencedMemberEpochError):
        hint = (
            f"commit of {names} refused: this consumer no longer owns the partition(s) (revoked "
            "in a rebalance, or the member was fenced); their new owner reads again from the "
            "last commit, so commit inside on_revoke to keep your progress"
        )
    elif isinstance(error, StaleMemberEpochError):
        hint = (
            f"commit of {names} refused: it carried an old member epoch (the assignment moved); "
            "poll() again and commit positions of partitions still assigned"
        )
    else:
        return error
    return type(error)(f"{hint}. Server said: {error.message}", metadata=error.metadata)


def committed_request(
    group_id: str, tps: Iterable[TP], require: bool = False
) -> gs.FetchCommittedOffsetsRequest:
    """FetchCommittedOffsets for these partitions; ``require`` refuses missing commits."""
    return gs.FetchCommittedOffsetsRequest(
        group_id=group_id, partitions=tps_to_proto(tps), require_committed=require
    )


def committed_from_proto(reply: gs.FetchCommittedOffsetsResponse) -> dict[TP, int | None]:
    """Committed offsets per partition; None where the group has no commit."""
    return {
        TP(c.topic, c.partition): c.offset if c.HasField("offset") else None for c in reply.offsets
    }


def reset_request(tp: TP, reset: OffsetReset) -> ls.ListOffsetsRequest:
    """ListOffsets for where a partition without a commit starts."""
    if reset == "none":
        raise FailedPreconditionError(
            f"{tp.topic}-{tp.partition} has no committed offset and auto_offset_reset='none'; "
            "seek() to an offset, or use auto_offset_reset='earliest' or 'latest'"
        )
    return list_offsets_request(tp.topic, tp.partition, reset)


def time_request(tp: TP, timestamp_ms: int) -> ls.ListOffsetsRequest:
    """ListOffsets for the first offset at or after a time."""
    return list_offsets_request(tp.topic, tp.partition, timestamp_ms)


def listed_offset(reply: ls.ListOffsetsResponse) -> int | None:
    """The offset a ListOffsets reply found, or None."""
    return reply.offset if reply.HasField("offset") else None


def offset_or_end(reply: ls.ListOffsetsResponse) -> int:
    """The offset a time lookup found, else the log end (no record at or after that time)."""
    return reply.offset if reply.HasField("offset") else reply.log_end_offset


def times_arg(
    timestamps: Mapping[TP, int | dt.datetime] | Iterable[tuple[TP, int | dt.datetime]],
) -> dict[TP, int]:
    """``{partition: time}`` or pairs, with times as ms since the epoch."""
    items = timestamps.items() if isinstance(timestamps, Mapping) else timestamps
    return {TP(*tp): timestamp_arg(at) for tp, at in items}


def rewind(messages: Iterable[Message]) -> dict[TP, int]:
    """The positions that make these (taken but not delivered) messages come back next."""
    back: dict[TP, int] = {}
    for m in messages:
        tp = TP(m.topic, m.partition)
        back[tp] = min(back.get(tp, m.offset), m.offset)
    return back


# ----- deserialization -----------------------------------------------------------------------


def deserialize(
    message: Message, key_deserializer: Deserializer | None, value_deserializer: Deserializer | None
) -> Message:
    """The message with key and value turned into objects by the deserializers."""
    key, value = message.key, message.value
    try:
        if key_deserializer is not None:
            key = key_deserializer(key, context(message, MessageField.KEY))
        if value_deserializer is not None:
            value = value_deserializer(value, context(message, MessageField.VALUE))
    except Exception as exc:
        raise deserialize_error(message, exc) from None
    return message._replace(key=key, value=value)


def context(message: Message, field: MessageField) -> SerializationContext:
    """What a deserializer sees for one field of a message."""
    return SerializationContext(message.topic, field, message.headers)


def deserialize_error(message: Message, exc: BaseException) -> WeirError:
    """A deserializer failure naming the record; its position is already past it."""
    where = f"{message.topic}-{message.partition}@{message.offset}"
    text = exc.message if isinstance(exc, WeirError) else f"{type(exc).__name__}: {exc}"
    cls: type[WeirError] = type(exc) if isinstance(exc, WeirError) else InvalidRecordError
    return cls(
        f"cannot deserialize record {where}: {text}. The consumer's position is past it; "
        "poll() again to continue, or seek() back to retry it",
        metadata={
            "topic": message.topic,
            "partition": str(message.partition),
            "offset": str(message.offset),
        },
    )


__all__: list[str] = []
