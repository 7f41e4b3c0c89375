"""What a consumer reads, free of I/O: positions, prefetched records, fetch requests, Messages.

A position is the offset of the next record ``poll()`` returns; it advances only as records
are handed to the application, never when they are fetched. Each partition keeps the records
of its last fetch until they are returned; a seek, pause or revocation drops them, and a
fetch reply that no longer matches the partition's position is ignored (it raced a seek).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from weir.core.errors import (
    FailedPreconditionError,
    OffsetOutOfRangeError,
    WeirError,
    error_class,
)
from weir.sdk._records import Message, TopicPartition
from weir.v1 import errors_pb2
from weir.v1 import log_pb2 as lp
from weir.v1 import log_service_pb2 as ls

OffsetReset = Literal["earliest", "latest", "none"]
"""Where a partition without a committed (or with an out-of-range) position starts."""

_EMPTY: list[Message] = []
_new = tuple.__new__


@dataclass(slots=True)
class PartitionState:
    """One assigned partition's read state."""

    tp: TopicPartition
    """The partition."""
    position: int | None
    """The offset of the next record to return; None until known (seek to set it)."""
    paused: bool = False
    """True while pause() holds it: it is not fetched."""
    buffer: list[Message] = field(default_factory=list)
    """Fetched records not yet returned."""
    index: int = 0
    """How many of ``buffer`` were returned."""


def to_messages(topic: str, partition: int, records: Iterable[lp.StoredRecord]) -> list[Message]:
    """StoredRecords of one partition as Messages with raw key and value bytes (the hot path:
    one comprehension, each field read once, tuples built without NamedTuple.__new__)."""
    return [
        _new(
            Message,
            (
                topic,
                partition,
                r.offset,
                r.timestamp_ms,
                key if (key := r.key) or r.HasField("key") else None,
                value if (value := r.value) or r.HasField("value") else None,
                tuple([(h.key, h.value) for h in hs]) if (hs := r.headers) else (),
                r.value_schema_id or None,
                r.key_schema_id or None,
            ),
        )
        for r in records
    ]


def partition_error(reason: int, message: str) -> WeirError:
    """The WeirError a fetch reply reported for one partition."""
    name = errors_pb2.ErrorReason.Name(reason).removeprefix("ERROR_REASON_")
    return error_class(name)(message)


class ConsumeState:
    """Every assigned partition's position and prefetched records."""

    def __init__(self, reset: OffsetReset, partition_max_bytes: int, max_bytes: int) -> None:
        self.reset: OffsetReset = reset
        """auto_offset_reset: where an out-of-range position moves."""
        self.partition_max_bytes = partition_max_bytes
        """The most bytes one fetch reads per partition."""
        self.max_bytes = max_bytes
        """The most bytes in one fetch reply."""
        self.parts: dict[TopicPartition, PartitionState] = {}
        """Assigned partitions."""
        self._ready: dict[TopicPartition, PartitionState] = {}
        self._cur: PartitionState | None = None

    # -- assignment ----------------------------------------------------------------------

    def assignment(self) -> list[TopicPartition]:
        """Assigned partitions, sorted."""
        return sorted(self.parts)

    def add(self, positions: Mapping[TopicPartition, int | None]) -> None:
        """Start reading these partitions at these positions."""
        for tp, offset in positions.items():
            self.parts[tp] = PartitionState(tp, offset)

    def remove(self, tps: Iterable[TopicPartition]) -> list[TopicPartition]:
        """Stop reading these partitions; return the ones that were assigned."""
        gone = []
        for tp in tps:
            state = self.parts.pop(tp, None)
            if state is not None:
                self._drop(state)
                gone.append(tp)
        return sorted(gone)

    def get(self, tp: TopicPartition) -> PartitionState:
        """An assigned partition's state, or a clear error."""
        state = self.parts.get(tp)
        if state is None:
            raise FailedPreconditionError(
                f"{tp.topic}-{tp.partition} is not assigned to this consumer (assigned: "
                f"{_names(self.parts) or 'none'}); wait for on_assign, or assign() it"
            )
        return state

    def seek(self, tp: TopicPartition, offset: int) -> None:
        """Make ``offset`` the next record returned for ``tp``; drop its prefetched records."""
        state = self.get(tp)
        self._drop(state)
        state.position = offset

    def set_paused(self, tps: Iterable[TopicPartition], paused: bool) -> None:
        """Pause (stop fetching, drop prefetched records) or resume partitions."""
        states = [self.get(tp) for tp in tps]
        for state in states:
            state.paused = paused
            if paused:
                self._drop(state)

    def paused(self) -> list[TopicPartition]:
        """Paused partitions, sorted."""
        return sorted(tp for tp, s in self.parts.items() if s.paused)

    def positions(self, tps: Iterable[TopicPartition] | None = None) -> dict[TopicPartition, int]:
        """Known positions of assigned partitions (all, or the named ones)."""
        states = self.parts.values() if tps is None else [self.get(tp) for tp in tps]
        return {s.tp: s.position for s in states if s.position is not None}

    def _drop(self, state: PartitionState) -> None:
        state.buffer, state.index = _EMPTY, 0
        self._ready.pop(state.tp, None)
        if self._cur is state:
            self._cur = None

    # -- fetch ---------------------------------------------------------------------------

    def fetch_request(self, max_wait_ms: int, ahead: bool = False) -> ls.FetchRequest | None:
        """One Fetch over every assigned, unpaused partition with nothing left to return; with
        ``ahead``, over every one, each from the end of its buffered records (a prefetch)."""
        ready = self._ready
        wanted = [
            ls.FetchPartition(
                topic=s.tp.topic,
                partition=s.tp.partition,
                offset=s.buffer[-1].offset + 1 if s.tp in ready else s.position,
                max_bytes=self.partition_max_bytes,
            )
            for s in self.parts.values()
            if s.position is not None and not s.paused and (ahead or s.tp not in ready)
        ]
        if not wanted:
            return None
        return ls.FetchRequest(
            partitions=wanted,
            max_wait_ms=max(0, max_wait_ms),
            min_bytes=1,
            max_bytes=self.max_bytes,
        )

    def on_fetch(self, request: ls.FetchRequest, reply: ls.FetchResponse) -> int:
        """Buffer a fetch reply's records; reset out-of-range positions; count records buffered.

        A partition whose position moved (seek), that was paused or revoked meanwhile, is
        skipped. Records fetched ahead join the end of the partition's buffer. Any other
        per-partition error is raised.
        """
        asked = {(p.topic, p.partition): p.offset for p in request.partitions}
        ready = self._ready
        count = 0
        for part in reply.partitions:
            tp = TopicPartition(part.topic, part.partition)
            state = self.parts.get(tp)
            if state is None or state.paused:
                continue
            buffered = tp in ready
            expected = state.buffer[-1].offset + 1 if buffered else state.position
            if expected != asked.get(tp):
                continue
            if part.error_reason:
                error = partition_error(part.error_reason, part.error_message)
                if buffered:  # the buffer goes first; the next fetch meets the error again
                    continue
                if not isinstance(error, OffsetOutOfRangeError):
                    raise error
                state.position = self._reset_position(tp, state.position, part)
                continue
            if part.records:
                records = to_messages(part.topic, part.partition, part.records)
                count += len(records)
                if buffered:
                    state.buffer = state.buffer[state.index :] + records
                else:
                    state.buffer = records
                    ready[tp] = state
                state.index = 0
        return count

    def _reset_position(
        self, tp: TopicPartition, position: int | None, part: ls.PartitionRecords
    ) -> int:
        if self.reset == "none":
            raise OffsetOutOfRangeError(
                f"position {position} of {tp.topic}-{tp.partition} is outside its log "
                f"[{part.log_start_offset}, {part.log_end_offset}] (retention deleted it, or a "
                "seek went too far) and auto_offset_reset='none'; seek() to a valid offset",
                metadata={"topic": tp.topic, "partition": str(tp.partition)},
            )
        return part.log_start_offset if self.reset == "earliest" else part.log_end_offset

    # -- delivery ------------------------------------------------------------------------

    def next(self) -> Message | None:
        """The next prefetched record, advancing its partition's position; None when empty."""
        state = self._cur
        if state is None:
            if not self._ready:
                return None
            state = self._cur = next(iter(self._ready.values()))
        buffer = state.buffer
        i = state.index
        message = buffer[i]
        i += 1
        state.position = message.offset + 1
        if i == len(buffer):
            self._drop(state)
        else:
            state.index = i
        return message

    def take(self, limit: int) -> list[Message]:
        """Up to ``limit`` prefetched records, in order, advancing positions."""
        out: list[Message] = []
        while len(out) < limit:
            state = self._cur
            if state is None:
                if not self._ready:
                    break
                state = self._cur = next(iter(self._ready.values()))
            end = min(len(state.buffer), state.index + limit - len(out))
            chunk = state.buffer[state.index : end]
            out += chunk
            state.position = chunk[-1].offset + 1
            if end == len(state.buffer):
                self._drop(state)
            else:
                state.index = end
        return out

    def buffered(self) -> int:
        """How many fetched records wait to be returned."""
        return sum(len(s.buffer) - s.index for s in self._ready.values())


def _names(tps: Iterable[TopicPartition]) -> str:
    return ", ".join(f"{tp.topic}-{tp.partition}" for tp in sorted(tps))


__all__: list[str] = []
