"""Lag and reset targets: where a group stands in a partition and where a reset moves it."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from weir.broker.groups.model import CommittedOffset
from weir.broker.log.api import LogStore, TopicPartition
from weir.core.errors import InvalidArgumentError

_PEEK_BYTES = 1


@dataclass(frozen=True, slots=True)
class PartitionLag:
    """A group's lag in one partition."""

    tp: TopicPartition
    """The partition."""
    committed: CommittedOffset | None
    """The commit, or None."""
    log_start: int
    """The partition's log start offset."""
    log_end: int
    """The partition's log end offset."""
    lag_records: int
    """Log end minus the committed offset (or minus log start without a commit)."""
    lag_ms: int
    """Age of the oldest unconsumed record; 0 when caught up."""


async def partition_lag(
    log: LogStore, tp: TopicPartition, committed: CommittedOffset | None, now_ms: int
) -> PartitionLag:
    """Records = log end - committed; age = now - timestamp of the record at the position."""
    bounds = log.offsets(tp)
    start, end = int(bounds.log_start), int(bounds.log_end)
    position = start if committed is None else max(committed.offset, start)
    lag_records = max(0, end - position)
    lag_ms = 0
    if lag_records:
        records = await log.read(tp, position, _PEEK_BYTES)
        if records:
            lag_ms = max(0, now_ms - records[0].timestamp_ms)
    return PartitionLag(tp, committed, start, end, lag_records, lag_ms)


class ResetKind(enum.StrEnum):
    """Where a reset moves a group."""

    EARLIEST = "earliest"
    LATEST = "latest"
    OFFSET = "offset"
    TIMESTAMP = "timestamp"
    DURATION = "duration"


@dataclass(frozen=True, slots=True)
class ResetSpec:
    """A reset target."""

    kind: ResetKind
    """Which kind of target."""
    value: int = 0
    """The offset, timestamp (ms) or duration (ms) for those kinds."""

    def __post_init__(self) -> None:
        if self.kind in (ResetKind.OFFSET, ResetKind.TIMESTAMP, ResetKind.DURATION) and (
            self.value < 0
        ):
            raise InvalidArgumentError(
                f"a reset to a {self.kind.value} needs a value >= 0, got {self.value}"
            )


@dataclass(frozen=True, slots=True)
class ResetOutcome:
    """What a reset does to one partition."""

    tp: TopicPartition
    """The partition."""
    previous: int | None
    """The committed offset before, or None."""
    target: int
    """The new committed offset."""
    redelivered: int
    """Records in [target, previous) that will be read again."""
    skipped: int
    """Records in [previous, target) that will never be read."""
    to_read: int
    """Records from the target to the log end."""


async def reset_target(log: LogStore, tp: TopicPartition, spec: ResetSpec, now_ms: int) -> int:
    """The offset a reset moves to, within [log start, log end]."""
    bounds = log.offsets(tp)
    start, end = int(bounds.log_start), int(bounds.log_end)
    if spec.kind is ResetKind.EARLIEST:
        return start
    if spec.kind is ResetKind.LATEST:
        return end
    if spec.kind is ResetKind.OFFSET:
        return min(max(spec.value, start), end)
    when = spec.value if spec.kind is ResetKind.TIMESTAMP else now_ms - spec.value
    found = await log.offset_for_time(tp, when)
    return end if found is None else int(found)


def outcome(tp: TopicPartition, previous: int | None, target: int, log_end: int) -> ResetOutcome:
    """Count what moving from ``previous`` to ``target`` re-delivers and skips."""
    before = target if previous is None else previous
    return ResetOutcome(
        tp,
        previous,
        target,
        redelivered=max(0, before - target),
        skipped=max(0, target - before),
        to_read=max(0, log_end - target),
    )
