"""The produce path: resolve the topic, gate every record, apply on.invalid, partition, append.

``on.invalid`` decides what a refused record does: ``reject`` fails the whole request and
appends nothing; ``reject_record`` appends the valid records and reports each refusal;
``dead_letter`` sends refused records, with their original bytes and headers saying why, to
``<topic>.dlq``. Partitioning is Kafka's: murmur2 of the key; keyless records of a batch
stick to one partition.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter

from weir.broker.gate import InboundRecord, RecordGate, Refusal, Refused
from weir.broker.log.api import Acks, LogStore, NewRecord, ProducerState, TopicPartition
from weir.broker.metrics import BrokerMetrics
from weir.broker.topics import DLQ_SUFFIX, Topic, TopicManager
from weir.core.errors import InvalidArgumentError, InvalidRequestSizeError, WeirError
from weir.core.partitioner import partition_for_key
from weir.registry.formats.limits import DEFAULT_MAX_DEPTH, budget, out_of_time

MAX_RECORDS_PER_REQUEST = 100_000
MAX_REQUEST_BYTES = 64 * 1024 * 1024
_KEY, _VALUE, _HEADERS = itemgetter(0), itemgetter(1), itemgetter(2)
"""InboundRecord fields, read without per-record bytecode."""
VALIDATION_TIMEOUT_MS = 2000
PATTERN_TIMEOUT_MS = 100
_MAX_LISTED_BYTES = 3000


@dataclass(frozen=True, slots=True)
class ProduceBatch:
    """Records for one partition, or for the partitioner to place."""

    records: Sequence[InboundRecord]
    """The records, in order."""
    partition: int | None = None
    """The target partition; None lets the broker choose per record."""
    base_sequence: int = 0
    """Idempotent producers: sequence of the first record in this partition."""


@dataclass(slots=True)
class BatchOutcome:
    """Where one batch's records landed in one partition."""

    batch_index: int
    """The batch's index in the request."""
    partition: int
    """The partition appended to."""
    record_indexes: list[int] = field(default_factory=list)
    """Indexes of the appended records within the batch."""
    offsets: list[int] = field(default_factory=list)
    """Offsets of the appended records, aligned with record_indexes."""
    refusals: list[Refusal] = field(default_factory=list)
    """Refused records of this batch."""
    dead_lettered: bool = False
    """True when refusals went to the dead-letter topic."""
    duplicate: bool = False
    """True when the append was a retry of one already in the log."""
    log_append_time_ms: int = 0
    """The broker's append time."""


_Plan = tuple[BatchOutcome, list[NewRecord], list[InboundRecord], int]
"""One partition's share of a batch: outcome, records to append, refused records, sequence."""
_ACKS_LABEL = {Acks.NONE: "none", Acks.LEADER: "leader", Acks.ALL: "all"}


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


class ProduceService:
    """Validates and appends produce requests."""

    def __init__(
        self,
        topics: TopicManager,
        log: LogStore,
        gate: RecordGate,
        *,
        now_ms: Callable[[], int] = _wall_ms,
        max_records: int = MAX_RECORDS_PER_REQUEST,
        max_bytes: int = MAX_REQUEST_BYTES,
        max_payload_depth: int = DEFAULT_MAX_DEPTH,
        validation_timeout_ms: int = VALIDATION_TIMEOUT_MS,
        pattern_timeout_ms: int = PATTERN_TIMEOUT_MS,
        metrics: BrokerMetrics | None = None,
    ) -> None:
        self.topics = topics
        self.metrics = metrics
        self.log = log
        self.gate = gate
        self.now_ms = now_ms
        self.max_records = max_records
        self.max_bytes = max_bytes
        self.max_payload_depth = max_payload_depth
        self.validation_timeout_ms = validation_timeout_ms
        self.pattern_timeout_ms = pattern_timeout_ms
        self._sticky = itertools.count()

    async def produce(
        self,
        topic_name: str,
        batches: Sequence[ProduceBatch],
        acks: Acks = Acks.ALL,
        producer_id: int = 0,
        producer_epoch: int = 0,
    ) -> list[BatchOutcome]:
        """Append every batch, or raise (reject policy) with every refusal named."""
        topic = self.topics.get(topic_name)
        size = self._check_size(topic, batches)
        metrics = self.metrics
        now = self.now_ms()
        plans: list[_Plan] = []
        all_refusals: list[tuple[int, Refusal]] = []
        limits = (self.max_payload_depth, self.validation_timeout_ms, self.pattern_timeout_ms)
        with budget(*limits) as spent:
            for b, batch in enumerate(batches):
                if producer_id and batch.partition is None:
                    raise InvalidArgumentError(
                        f"batch {b}: an idempotent producer must name the partition of each batch",
                        metadata={"batch": str(b)},
                    )
                seq = batch.base_sequence if producer_id else 0
                plans += self._gate(
                    topic,
                    b,
                    batch,
                    now,
                    seq=seq,
                    all_refusals=all_refusals,
                    deadline=spent.deadline,
                )
        policy = topic.config.on_invalid
        if all_refusals and metrics is not None:
            metrics.refused(topic.name, ((r.subject, r.error.reason) for _, r in all_refusals))
        if all_refusals and policy == "reject":
            if metrics is not None:
                metrics.produced(topic.name, 0, 0)
            raise _rejected(topic, all_refusals)
        results = []
        appended = 0
        for outcome, new_records, bad_records, seq in plans:
            if bad_records and policy == "dead_letter":
                await self._dead_letter(topic, outcome, bad_records, now)
            if new_records:
                producer = (
                    ProducerState(producer_id, producer_epoch, seq)
                    if producer_id
                    else ProducerState()
                )
                appended += await self._append(topic, outcome, new_records, acks, producer)
            results.append(outcome)
        if metrics is not None:
            if all_refusals:  # refused records' bytes were not appended
                size -= sum(len(r.key or b"") + len(r.value or b"") for p in plans for r in p[2])
            metrics.produced(topic.name, appended, size)
        return results

    def _gate(
        self,
        topic: Topic,
        b: int,
        batch: ProduceBatch,
        now: int,
        *,
        seq: int,
        all_refusals: list[tuple[int, Refusal]],
        deadline: float,
    ) -> list[_Plan]:
        """Check one batch's records and group them by partition."""
        groups: dict[int, BatchOutcome] = {}
        records: dict[int, list[NewRecord]] = {}
        bad: dict[int, list[InboundRecord]] = {}
        if batch.partition is not None:
            topic.partition(batch.partition)  # raises PartitionNotFoundError
            targets: Iterable[int] = itertools.repeat(batch.partition)
        else:
            sticky = next(self._sticky) % topic.partition_count
            targets = (self._partition(topic, r, sticky) for r in batch.records)
        check = self.gate.check
        started = time.perf_counter()
        refused_before = len(all_refusals)
        for i, (record, p) in enumerate(zip(batch.records, targets, strict=False)):
            outcome = groups.get(p)
            if outcome is None:
                outcome = groups[p] = BatchOutcome(b, p)
                records[p] = []
            try:
                if time.monotonic() > deadline:
                    raise Refused(
                        Refusal(i, out_of_time(f"record {i}"), rule="validation_timeout_ms")
                    )
                records[p].append(check(topic, i, record, now))
            except Refused as refused:
                outcome.refusals.append(refused.refusal)
                bad.setdefault(p, []).append(record)
                all_refusals.append((b, refused.refusal))
            else:
                outcome.record_indexes.append(i)
        if self.metrics is not None:  # once per batch, with counts
            accepted = len(batch.records) - (len(all_refusals) - refused_before)
            self.metrics.validated(topic.name, accepted, time.perf_counter() - started)
        return [(o, records.get(p, []), bad.get(p, []), seq) for p, o in groups.items()]

    async def _append(
        self,
        topic: Topic,
        outcome: BatchOutcome,
        new_records: list[NewRecord],
        acks: Acks,
        producer: ProducerState,
    ) -> int:
        """Append one partition's records; return how many were new (not a duplicate)."""
        tp = topic.partition(outcome.partition)
        started = time.perf_counter()
        appended = await self.log.append(tp, new_records, acks, producer)
        if self.metrics is not None:
            self.metrics.appended(_ACKS_LABEL[acks], time.perf_counter() - started)
        outcome.offsets = list(range(appended.base_offset, appended.last_offset + 1))
        outcome.duplicate = appended.duplicate
        outcome.log_append_time_ms = appended.log_append_time_ms
        if topic.config.message_timestamp_type == "LogAppendTime" and not appended.duplicate:
            # the records carry the broker time the gate stamped; report that very value (the
            # engine reads its own clock, which may have ticked to the next millisecond)
            outcome.log_append_time_ms = new_records[0].timestamp_ms
        return 0 if appended.duplicate else len(new_records)

    def check_record_count(self, count: int) -> None:
        """Raise when a request carries more than max_records_per_request records.

        The servicer calls it before turning protobuf records into tuples, which takes
        about 1.4 s for a million records: an oversized request is refused at once."""
        if count > self.max_records:
            raise InvalidRequestSizeError(
                f"produce request has {count} records, over the limit of {self.max_records} "
                "(max_records_per_request); "
                "split it into smaller requests",
                metadata={"limit": "max_records_per_request"},
            )

    def _check_size(self, topic: Topic, batches: Sequence[ProduceBatch]) -> int:
        """The request's key and value bytes, or raise when it is empty or too big.

        The max_request_bytes limit counts header names and values too.
        """
        count = sum(len(b.records) for b in batches)
        if count == 0:
            raise InvalidRequestSizeError(
                f"produce request to '{topic.name}' has no records; send at least one"
            )
        self.check_record_count(count)
        size = extra = 0
        for b in batches:  # summed in C: this runs for every record of every request
            size += sum(map(len, filter(None, map(_KEY, b.records))))
            size += sum(map(len, filter(None, map(_VALUE, b.records))))
            if any(map(_HEADERS, b.records)):
                extra += sum(len(k) + len(v) for r in b.records for k, v in r.headers)
        if size + extra > self.max_bytes:
            raise InvalidRequestSizeError(
                f"produce request carries {size + extra} bytes, over the limit of "
                f"{self.max_bytes} (max_request_bytes); "
                "split it into smaller requests",
                metadata={"limit": "max_request_bytes"},
            )
        return size

    def _partition(self, topic: Topic, record: InboundRecord, sticky: int) -> int:
        if record.key is not None:
            return partition_for_key(record.key, topic.partition_count)
        return sticky

    async def _dead_letter(
        self, topic: Topic, outcome: BatchOutcome, bad: list[InboundRecord], now: int
    ) -> None:
        dlq_name = f"{topic.name}{DLQ_SUFFIX}"
        dlq = self.topics.find(dlq_name) or await self.topics.create(
            dlq_name, 1, {"value.schema.validation": "none"}
        )
        letters = [
            NewRecord(
                value=record.value,
                key=record.key,
                headers=(*record.headers, *_why(topic, outcome.partition, refusal)),
                timestamp_ms=now,
            )
            for record, refusal in zip(bad, outcome.refusals, strict=True)
        ]
        await self.log.append(TopicPartition(dlq.name, dlq.partition(0).partition), letters)
        outcome.dead_lettered = True
        if self.metrics is not None:
            self.metrics.dead_lettered(topic.name, len(letters))


def _why(topic: Topic, partition: int, refusal: Refusal) -> tuple[tuple[str, bytes], ...]:
    return (
        ("weir.dlq.topic", topic.name.encode()),
        ("weir.dlq.partition", str(partition).encode()),
        ("weir.dlq.reason", refusal.error.reason.encode()),
        ("weir.dlq.message", refusal.error.message.encode()),
        ("weir.dlq.subject", refusal.subject.encode()),
        ("weir.dlq.rule", refusal.rule.encode()),
    )


def _rejected(topic: Topic, refusals: list[tuple[int, Refusal]]) -> WeirError:
    """One error for the request, naming the first refusals (batch, record, reason).

    The list in metadata stops before ~3 KiB so the status fits gRPC's 8 KiB metadata limit.
    """
    shown = "; ".join(r.error.message for _, r in refusals[:5])
    more = f" (and {len(refusals) - 5} more)" if len(refusals) > 5 else ""
    first = refusals[0][1]
    listed: list[dict[str, object]] = []
    size = 0
    for batch, r in refusals:
        entry = {"batch": batch, "index": r.index, "reason": r.error.reason}
        entry["message"] = r.error.message[:200]
        size += len(json.dumps(entry))
        if size > _MAX_LISTED_BYTES:
            break
        listed.append(entry)
    return type(first.error)(
        f"{len(refusals)} record(s) refused by topic '{topic.name}' (on.invalid=reject, nothing "
        f"was appended): {shown}{more}",
        metadata={
            "topic": topic.name,
            "index": str(first.index),
            "subject": first.subject,
            "version": str(first.version),
            "path": first.field_path,
            "rule": first.rule,
            "refusals": json.dumps(listed),
            "refused": str(len(refusals)),
            **{k: v for k, v in first.error.metadata.items() if k == "limit"},
        },
    )
