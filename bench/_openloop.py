"""Open-loop produce: records are due on a fixed schedule, whatever the server is doing.

Record ``i`` is due at ``t0 + i / rate``. ``in_flight`` sender threads (like a producer's
max.in.flight.requests) each take every due record not yet taken (at most ``max_batch``),
send them in one raw ``Produce`` and wait for the reply; with nothing due they sleep until
the next record is due. Latency is measured from a record's *due* time, so time spent
waiting for a free sender counts: a slow server cannot hide queueing (no coordinated
omission). Record keys carry the sequence number, so a consumer can find the due time.

(Hundreds of ``future()`` calls in flight on one channel are not used: with grpcio 1.85 a
sync client then sees CANCELLED on a share of calls, even against a trivial grpc.aio server.)
"""

from __future__ import annotations

import struct
import threading
import time
from dataclasses import dataclass, field

import grpc

from bench._load import raw_produce
from weir.v1 import log_pb2 as lp
from weir.v1 import log_service_pb2 as ls

SEQ = struct.Struct("<q")


@dataclass
class Schedule:
    """The due times of a run and what happened to each request."""

    rate: float
    """Offered records per second."""
    t0: float = 0.0
    """perf_counter() of record 0's due time."""
    sent: list[tuple[int, int, float, float]] = field(default_factory=list)
    """(first sequence, count, send time, ack time) per request."""
    failures: list[str] = field(default_factory=list)
    """Errors from replies."""

    def due(self, seq: int) -> float:
        """When record ``seq`` was due."""
        return self.t0 + seq / self.rate


def _request(topic: str, data: bytes, first: int, count: int, acks: int) -> bytes:
    records = [lp.Record(key=SEQ.pack(first + i), value=data) for i in range(count)]
    return ls.ProduceRequest(
        topic=topic, acks=acks, batches=[ls.ProduceBatch(partition=0, records=records)]
    ).SerializeToString()


def run_open_loop(
    channel: grpc.Channel,
    topic: str,
    data: bytes,
    *,
    rate: float,
    seconds: float,
    max_batch: int = 100,
    in_flight: int = 5,
    acks: int = lp.ACKS_ALL,
) -> Schedule:
    """Offer ``rate`` records/s for ``seconds`` to partition 0; return when all are acked."""
    call = raw_produce(channel)
    schedule = Schedule(rate)
    total = int(rate * seconds)
    lock = threading.Lock()
    taken = [0]

    def take() -> tuple[int, int] | None:
        while True:
            with lock:
                first = taken[0]
                if first >= total:
                    return None
                now = time.perf_counter()
                due = min(total, int((now - schedule.t0) * rate) + 1) if now >= schedule.t0 else 0
                if due > first:
                    count = min(max_batch, due - first)
                    taken[0] = first + count
                    return first, count
                wait = schedule.due(first) - now
            time.sleep(max(wait, 0.0))

    def sender() -> None:
        while (job := take()) is not None:
            first, count = job
            request = _request(topic, data, first, count, acks)
            sent_at = time.perf_counter()
            try:
                reply = ls.ProduceResponse.FromString(call(request, timeout=60))
                if reply.results and reply.results[0].errors:
                    schedule.failures.append(reply.results[0].errors[0].message)
            except grpc.RpcError as e:
                schedule.failures.append(str(e))
            acked = time.perf_counter()
            with lock:
                schedule.sent.append((first, count, sent_at, acked))

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(in_flight)]
    schedule.t0 = time.perf_counter() + 0.01
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return schedule


def latencies(schedule: Schedule) -> tuple[list[float], list[float]]:
    """(due-to-ack per record, send-to-ack per request), in seconds."""
    from_due, from_send = [], []
    for first, count, sent_at, acked in schedule.sent:
        from_send.append(acked - sent_at)
        from_due.extend(acked - schedule.due(first + i) for i in range(count))
    return from_due, from_send
