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


@dataclass(slots=True, eq=False)
class Pending:
    """One serialized record waiting to be sent and acknowledged."""

    key: bytes | None
    """The key bytes, or None."""
    value: bytes | None
    """The value bytes, or None for a tombstone."""
    headers: tuple[tuple[str, bytes], ...]
    """The headers, in order."""
    timestamp: int
    """CreateTime in ms."""
    size: int
    """The bytes it counts for."""
    handle: Any
    """The shell's future and callback, handed back in its Outcome."""


@dataclass(slots=True, eq=False)
class Batch:
    """Records for one partition, sent (and retried) as one unit."""

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
    records: list[Pending] = field(default_factory=list)
    """The records, in produce order."""
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


class Outcome(NamedTuple):
    """The fate of one record: metadata when appended, else the error."""

    handle: Any
    """The shell's future and callback."""
    metadata: RecordMetadata | None
    """Where it landed."""
    error: WeirError | None
    """Why it was not appended."""


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
        for r in batch.records:
            if r.headers:
                headers = [lp.Header(key=k, value=v) for k, v in r.headers]
                add(key=r.key, value=r.value, timestamp_ms=r.timestamp, headers=headers)
            else:
                add(key=r.key, value=r.value, timestamp_ms=r.timestamp)
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


def settle(batch: Batch, results: Sequence[ls.BatchResult], acks: int) -> tuple[list[Outcome], int]:
    """Each record's outcome from the batch's results, and how many records were appended."""
    offsets: dict[int, int] = {}
    errors: dict[int, WeirError] = {}
    append_time = 0
    for result in results:
        offsets.update(zip(result.record_indexes, result.offsets, strict=False))
        for refusal in result.errors:
            errors[refusal.index] = record_error(refusal, batch)
        append_time = result.log_append_time_ms or append_time
    topic, partition = batch.topic, batch.partition
    outcomes: list[Outcome] = []
    append = outcomes.append
    for i, r in enumerate(batch.records):
        offset = offsets.get(i)
        if offset is not None:
            stamp = append_time if batch.log_append_time else r.timestamp
            append(Outcome(r.handle, RecordMetadata(topic, partition, offset, stamp), None))
        elif i in errors:
            append(Outcome(r.handle, None, errors[i]))
        elif acks == lp.ACKS_NONE:
            append(Outcome(r.handle, RecordMetadata(topic, partition, -1, r.timestamp), None))
        else:
            missing = WeirError(
                f"the broker answered the batch for '{topic}' partition {partition} without an "
                f"offset or an error for record {i}; its fate is unknown"
            )
            append(Outcome(r.handle, None, missing))
    return outcomes, len(offsets)


def _refusals(error: WeirError) -> dict[int, tuple[str, str]]:
    """The per-record refusals a request-level rejection lists in its metadata."""
    try:
        listed = json.loads(error.metadata.get("refusals", "[]"))
        return {int(r["index"]): (str(r["reason"]), str(r["message"])) for r in listed}
    except (ValueError, TypeError, KeyError):
        return {}


def refused(batch: Batch, error: WeirError) -> list[Outcome]:
    """Outcomes for a batch the broker refused as a whole (nothing of it was appended).

    Under ``on.invalid=reject`` the error lists the bad records: each gets its own reason,
    and the others an error of the same class saying they were refused with their batch.
    """
    bad = _refusals(error)
    base = {**error.metadata, "topic": batch.topic, "partition": str(batch.partition)}
    base.pop("refusals", None)
    outcomes = []
    for i, r in enumerate(batch.records):
        if i in bad:
            reason, message = bad[i]
            own = error_class(reason)(message, metadata={**base, "index": str(i)})
            outcomes.append(Outcome(r.handle, None, own))
        elif bad:
            names = ", ".join(str(n) for n in sorted(bad)[:10])
            collateral = type(error)(
                f"record {i} was not appended: its batch to '{batch.topic}' partition "
                f"{batch.partition} was refused as a whole because record(s) {names} of it "
                f"were invalid (on.invalid=reject appends nothing of such a batch): "
                f"{error.message}",
                metadata={**base, "index": str(i), "collateral": "true"},
            )
            outcomes.append(Outcome(r.handle, None, collateral))
        else:
            outcomes.append(Outcome(r.handle, None, error))
    return outcomes


def failed(batch: Batch, error: WeirError) -> list[Outcome]:
    """Every record of the batch fails with ``error``."""
    return [Outcome(r.handle, None, error) for r in batch.records]


__all__: list[str] = []
