"""Produce batches and their wire form, and what a reply means for each record, free of I/O.

A ``Batch`` is the records of one partition sent together. Once sent it never changes: a
retry sends the same records with the same producer id, epoch and base sequence, so the
broker can answer it as a duplicate. ``settle`` maps a ``BatchResult`` onto the batch's
records (offsets for appended ones, the broker's reason for refused ones); ``refused``
spreads a request-level refusal over the records of a batch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from weir.core.errors import WeirError, error_class
from weir.sdk._records import RecordMetadata
from weir.v1 import errors_pb2
from weir.v1 import log_pb2 as lp
from weir.v1 import log_service_pb2 as ls

SEQ_MOD = 1 << 31
"""Sequences wrap from 2**31 - 1 to 0, as in Kafka."""

Row = tuple[bytes | None, bytes | None, tuple[tuple[str, bytes], ...], int, int]
"""One serialized record: key, value, headers, timestamp (ms) and the bytes it counts for."""


@dataclass(slots=True, eq=False)
class Batch:
    """Records for one partition, sent (and retried) as one unit.

    Records are kept column by column (one list per field, not one object per record), so a
    buffered record costs a few list slots rather than objects the garbage collector walks.
    """

    topic: str
    """The topic name."""
    partition: int
    """The partition."""
    log_append_time: bool
    """Whether the topic stamps records with the broker's append time."""
    created: float
    """When the first record was added (monotonic seconds)."""
    deadline: float
    """When its records fail if still not acknowledged (monotonic seconds)."""
    keys: list[bytes | None] = field(default_factory=list)
    """The key bytes (or None) of each record, in produce order."""
    values: list[bytes | None] = field(default_factory=list)
    """The value bytes (or None for a tombstone) of each record."""
    timestamps: list[int] = field(default_factory=list)
    """Each record's CreateTime in ms."""
    handles: list[Any] = field(default_factory=list)
    """Each record's future (the shell's), handed back in the Done."""
    headers: list[tuple[tuple[str, bytes], ...]] | None = None
    """Each record's headers, or None while no record of the batch has any."""
    callbacks: list[Any] | None = None
    """Each record's on_delivery (or None), or None while no record of the batch has one."""
    size: int = 0
    """The sum of the records' sizes."""
    sent: bool = False
    """True once sent: from then on records, identity and sequence are fixed."""
    producer_id: int = 0
    """The producer id it was (first) sent with; 0 without idempotence."""
    epoch: int = 0
    """The producer epoch it was sent with."""
    base_sequence: int = 0
    """The sequence of its first record in the partition."""
    attempts: int = 0
    """How many times it was sent."""
    retry_at: float = 0.0
    """Not before this time (monotonic seconds), after a retriable failure."""
    solo: bool = False
    """Send it alone: its last request failed as a whole and each batch must learn its fate."""
    last_error: WeirError | None = None
    """The last error a send met, reported if the delivery timeout passes."""

    def add(self, record: Row, handle: Any, callback: Any) -> None:
        """Append one record (key, value, headers, timestamp, size) with its future and callback."""
        key, value, headers, timestamp, size = record
        if headers:
            if self.headers is None:
                self.headers = [()] * len(self.keys)
            self.headers.append(headers)
        elif self.headers is not None:
            self.headers.append(())
        if callback is not None:
            if self.callbacks is None:
                self.callbacks = [None] * len(self.keys)
            self.callbacks.append(callback)
        elif self.callbacks is not None:
            self.callbacks.append(None)
        self.keys.append(key)
        self.values.append(value)
        self.timestamps.append(timestamp)
        self.handles.append(handle)
        self.size += size


class Done(NamedTuple):
    """The fate of every record of a batch: RecordMetadata when appended, else the error."""

    handles: list[Any]
    """The records' futures, in order."""
    callbacks: list[Any] | None
    """The records' on_delivery callbacks (or None when no record has one)."""
    results: list[Any]
    """Per record, a RecordMetadata or a WeirError."""


def done_with(batch: Batch, results: list[Any]) -> Done:
    """The Done for a batch and its per-record results."""
    return Done(batch.handles, batch.callbacks, results)


def build_request(
    topic: str, acks: int, batches: Sequence[Batch], producer_id: int, epoch: int
) -> ls.ProduceRequest:
    """One Produce request carrying the batches (all of one topic and one producer identity)."""
    request = ls.ProduceRequest(
        topic=topic,
        acks=acks,  # type: ignore[arg-type]
        producer_id=producer_id,
        producer_epoch=epoch,
    )
    for batch in batches:
        wire = request.batches.add(partition=batch.partition, base_sequence=batch.base_sequence)
        add = wire.records.add
        if batch.headers is None:
            for k, v, t in zip(batch.keys, batch.values, batch.timestamps, strict=True):
                add(key=k, value=v, timestamp_ms=t)
            continue
        rows = zip(batch.keys, batch.values, batch.timestamps, batch.headers, strict=True)
        for k, v, t, h in rows:
            headers = [lp.Header(key=name, value=data) for name, data in h]
            add(key=k, value=v, timestamp_ms=t, headers=headers)
    return request


def reason_name(number: int) -> str:
    """The ErrorReason name without its prefix, for a proto enum number."""
    try:
        return errors_pb2.ErrorReason.Name(number).removeprefix("ERROR_REASON_")
    except ValueError:
        return "INTERNAL"


def record_error(error: lp.RecordError, batch: Batch) -> WeirError:
    """The error for one refused record, with the broker's reason and details."""
    message = error.message
    if error.dead_lettered:
        message += f" (the record was sent to the dead-letter topic '{batch.topic}.dlq')"
    metadata = {
        "topic": batch.topic,
        "partition": str(batch.partition),
        "index": str(error.index),
        "subject": error.subject,
        "version": str(error.version),
        "path": error.field_path,
        "rule": error.rule,
        "dead_lettered": str(error.dead_lettered).lower(),
    }
    return error_class(reason_name(error.reason))(message, metadata=metadata)


def settle(batch: Batch, results: Sequence[ls.BatchResult], acks: int) -> tuple[Done, int]:
    """Each record's outcome from the batch's results, and how many records were appended."""
    topic, partition, count = batch.topic, batch.partition, len(batch.keys)
    stamps: Sequence[int] = batch.timestamps
    if batch.log_append_time:
        append_time = next((r.log_append_time_ms for r in results if r.log_append_time_ms), 0)
        stamps = [append_time] * count
    if len(results) == 1 and not results[0].errors and len(results[0].offsets) == count:
        only = results[0]  # the common case: every record appended, in order
        if list(only.record_indexes) == list(range(count)):
            return done_with(
                batch,
                [
                    RecordMetadata(topic, partition, o, t)
                    for o, t in zip(only.offsets, stamps, strict=True)
                ],
            ), count
    offsets: dict[int, int] = {}
    errors: dict[int, WeirError] = {}
    for result in results:
        offsets.update(zip(result.record_indexes, result.offsets, strict=False))
        for refusal in result.errors:
            errors[refusal.index] = record_error(refusal, batch)
    outcomes: list[Any] = []
    append = outcomes.append
    for i in range(count):
        offset = offsets.get(i)
        if offset is not None:
            append(RecordMetadata(topic, partition, offset, stamps[i]))
        elif i in errors:
            append(errors[i])
        elif acks == lp.ACKS_NONE:
            append(RecordMetadata(topic, partition, -1, batch.timestamps[i]))
        else:
            append(
                WeirError(
                    f"the broker answered the batch for '{topic}' partition {partition} without "
                    f"an offset or an error for record {i}; its fate is unknown"
                )
            )
    return done_with(batch, outcomes), len(offsets)


def _refusals(error: WeirError) -> dict[int, tuple[str, str]]:
    """The per-record refusals a request-level rejection lists in its metadata."""
    try:
        listed = json.loads(error.metadata.get("refusals", "[]"))
        return {int(r["index"]): (str(r["reason"]), str(r["message"])) for r in listed}
    except (ValueError, TypeError, KeyError):
        return {}


def refused(batch: Batch, error: WeirError) -> Done:
    """Outcomes for a batch the broker refused as a whole (nothing of it was appended).

    Under ``on.invalid=reject`` the error lists the bad records: each gets its own reason,
    and the others an error of the same class saying they were refused with their batch.
    """
    bad = _refusals(error)
    if not bad:
        return failed(batch, error)
    base = {**error.metadata, "topic": batch.topic, "partition": str(batch.partition)}
    base.pop("refusals", None)
    names = ", ".join(str(n) for n in sorted(bad)[:10])
    outcomes: list[Any] = []
    for i in range(len(batch.keys)):
        if i in bad:
            reason, message = bad[i]
            outcomes.append(error_class(reason)(message, metadata={**base, "index": str(i)}))
        else:
            outcomes.append(
                type(error)(
                    f"record {i} was not appended: its batch to '{batch.topic}' partition "
                    f"{batch.partition} was refused as a whole because record(s) {names} of it "
                    f"were invalid (on.invalid=reject appends nothing of such a batch): "
                    f"{error.message}",
                    metadata={**base, "index": str(i), "collateral": "true"},
                )
            )
    return done_with(batch, outcomes)


def failed(batch: Batch, error: WeirError) -> Done:
    """Every record of the batch fails with ``error``."""
    return done_with(batch, [error] * len(batch.keys))


__all__: list[str] = []
