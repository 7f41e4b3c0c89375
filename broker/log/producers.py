"""Idempotent-producer state of one partition, as Kafka keeps it.

Per producer id: the last epoch seen and the last ``WINDOW`` batches' (first sequence,
last sequence, base offset, last offset). A retry of any of those batches is answered with
the original offsets and appends nothing. Otherwise the batch must start right after the
last sequence (sequences wrap from 2**31 - 1 to 0). A lower epoch is fenced; a higher epoch
must start at sequence 0. A producer id without state (never seen, or its batches are gone
from the part of the log scanned on recovery) may start at any sequence, as in Kafka once a
producer's state has expired.

The state is rebuilt on open from the batch headers of the last segments (``observe``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from weir.broker.log.api import NO_PRODUCER, AppendResult, Offset, ProducerState
from weir.broker.log.batch import BatchHeader
from weir.core.errors import (
    InvalidArgumentError,
    OutOfOrderSequenceError,
    ProducerFencedError,
)

NO_IDEMPOTENCE = ProducerState()
"""The producer fields of a batch from a producer without idempotence."""
WINDOW = 5
"""Batches remembered per producer for duplicate detection (Kafka's value)."""
_SEQ_MOD = 1 << 31


@dataclass(frozen=True, slots=True)
class BatchMetadata:
    """Where one idempotent batch landed."""

    first_seq: int
    """Sequence of its first record."""
    last_seq: int
    """Sequence of its last record."""
    base_offset: int
    """Offset of its first record."""
    last_offset: int
    """Offset of its last record."""
    append_time: int
    """Broker clock at append."""


class ProducerTable:
    """Epochs and recent batches of every producer id writing to one partition."""

    __slots__ = ("_state",)

    def __init__(self) -> None:
        self._state: dict[int, tuple[int, deque[BatchMetadata]]] = {}

    def check(self, producer: ProducerState, count: int) -> AppendResult | None:
        """Validate a batch of ``count`` records before it is appended.

        Returns the original result for a retried batch, None for a new one; raises
        ProducerFencedError or OutOfOrderSequenceError when it must be refused.
        """
        pid = producer.producer_id
        if pid == NO_PRODUCER:
            return None
        if pid < 0 or producer.epoch < 0 or producer.base_sequence < 0:
            raise InvalidArgumentError(
                f"producer id {pid}, epoch {producer.epoch} and base sequence "
                f"{producer.base_sequence} must not be negative (use producer id "
                f"{NO_PRODUCER} without idempotence)"
            )
        state = self._state.get(pid)
        if state is None:
            return None
        epoch, batches = state
        meta = {"producer_id": str(pid), "epoch": str(producer.epoch)}
        if producer.epoch < epoch:
            raise ProducerFencedError(
                f"producer {pid} epoch {producer.epoch} is fenced by epoch {epoch}; "
                "a newer instance of this producer exists, so stop this one",
                metadata={**meta, "current_epoch": str(epoch)},
            )
        if producer.epoch > epoch:
            if producer.base_sequence != 0:
                raise OutOfOrderSequenceError(
                    f"producer {pid} started epoch {producer.epoch} at sequence "
                    f"{producer.base_sequence}; a new epoch must start at sequence 0",
                    metadata={**meta, "expected_sequence": "0"},
                )
            return None
        last_seq = (producer.base_sequence + count - 1) % _SEQ_MOD
        for b in batches:
            if b.first_seq == producer.base_sequence and b.last_seq == last_seq:
                return AppendResult(
                    Offset(b.base_offset), Offset(b.last_offset), b.append_time, duplicate=True
                )
        expected = (batches[-1].last_seq + 1) % _SEQ_MOD if batches else 0
        if producer.base_sequence != expected:
            raise OutOfOrderSequenceError(
                f"producer {pid} epoch {producer.epoch} sent sequence "
                f"{producer.base_sequence} to this partition, expected {expected}; a batch "
                "was lost or reordered, so restart the producer session",
                metadata={
                    **meta,
                    "expected_sequence": str(expected),
                    "received_sequence": str(producer.base_sequence),
                },
            )
        return None

    def record(
        self, producer: ProducerState, base_offset: int, last_offset: int, append_time: int
    ) -> None:
        """Remember a batch that was appended."""
        if producer.producer_id == NO_PRODUCER:
            return
        delta = last_offset - base_offset
        self._remember(
            producer.producer_id,
            producer.epoch,
            BatchMetadata(
                producer.base_sequence,
                (producer.base_sequence + delta) % _SEQ_MOD,
                base_offset,
                last_offset,
                append_time,
            ),
        )

    def observe(self, h: BatchHeader) -> None:
        """Replay one batch header found in the log (recovery)."""
        if h.producer_id == NO_PRODUCER:
            return
        state = self._state.get(h.producer_id)
        if state is not None and h.producer_epoch < state[0]:
            return
        self._remember(
            h.producer_id,
            h.producer_epoch,
            BatchMetadata(
                h.base_sequence,
                (h.base_sequence + h.last_offset_delta) % _SEQ_MOD,
                h.base_offset,
                h.last_offset,
                h.append_time,
            ),
        )

    def _remember(self, pid: int, epoch: int, batch: BatchMetadata) -> None:
        state = self._state.get(pid)
        if state is None or state[0] != epoch:
            state = (epoch, deque(maxlen=WINDOW))
            self._state[pid] = state
        state[1].append(batch)

    def last_batches(self, pid: int) -> tuple[int, list[BatchMetadata]] | None:
        """The epoch and remembered batches of a producer id (for tests and inspection)."""
        state = self._state.get(pid)
        return None if state is None else (state[0], list(state[1]))
