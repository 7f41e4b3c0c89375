"""What the producer's accumulator tells a shell to do next, and the queues behind it.

``Accumulator.step(now)`` returns one of Wait, InitProducer, Send or Deliver; replies come
back to it and it answers with Settled. Free of I/O, shared by Producer and AsyncProducer.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import NamedTuple

from weir.core.errors import UnavailableError, WeirError
from weir.sdk._produce_batches import Batch, Done
from weir.v1 import log_service_pb2 as ls


@dataclass(slots=True)
class PartitionQueue:
    """The batches of one partition, oldest first, and its sequence counter."""

    batches: deque[Batch] = field(default_factory=deque)
    """Waiting batches; the head is the only one that may be in flight."""
    in_flight: bool = False
    """True while the head batch is in a request."""
    seq_pid: int = 0
    """The producer id ``next_sequence`` counts for."""
    next_sequence: int = 0
    """The base sequence of the next new batch under ``seq_pid``."""


class Wait(NamedTuple):
    """Nothing to do until woken or ``timeout_s`` passes (None: until woken)."""

    timeout_s: float | None


class InitProducer(NamedTuple):
    """Call InitProducer, then report ``producer_ready`` or ``producer_failed``."""

    timeout_s: float


class Send(NamedTuple):
    """Send ``request``, then report ``completed`` or ``failed`` with these batches."""

    topic: str
    """The topic."""
    batches: list[Batch]
    """The batches it carries, in request order."""
    request: ls.ProduceRequest
    """The request."""
    timeout_s: float
    """Its deadline."""


class Deliver(NamedTuple):
    """Resolve these records' futures."""

    outcomes: list[Done]


Step = Wait | InitProducer | Send | Deliver


class Settled(NamedTuple):
    """What a reply or failure decided."""

    outcomes: list[Done]
    """Records resolved now, batch by batch."""
    stale_topic: bool
    """True when the topic's partition count must be fetched again."""


def timeout_error(
    batch: Batch, delivery_timeout_s: float, init_error: WeirError | None
) -> WeirError:
    """The error of a batch whose delivery timeout passed, naming the last error it met."""
    last = batch.last_error or (None if batch.sent else init_error)
    ms = round(delivery_timeout_s * 1000)
    where = f"{len(batch.keys)} record(s) for '{batch.topic}' partition {batch.partition}"
    if last is None:
        return UnavailableError(
            f"{where} were not acknowledged within delivery_timeout_ms={ms}; the server is "
            "slow or the producer is overloaded"
        )
    return type(last)(
        f"{where} were not delivered within delivery_timeout_ms={ms} "
        f"(after {batch.attempts} attempt(s)); last error: {last.message}",
        metadata=last.metadata,
    )


__all__: list[str] = []
