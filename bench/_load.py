"""Closed-loop produce load: raw gRPC LogService.Produce from several threads at once.

Requests are serialized once before the clock starts and sent as bytes (an identity
serializer), so the client spends its time waiting on the server, not encoding protobuf.
Every reply is parsed and checked for refused records.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import grpc

from weir.v1 import log_pb2 as lp
from weir.v1 import log_service_pb2 as ls
from weir.v1 import log_service_pb2_grpc as ls_grpc

PRODUCE = "/weir.v1.LogService/Produce"


def raw_produce(channel: grpc.Channel) -> Callable[..., bytes]:
    """Produce taking and returning serialized bytes."""
    return channel.unary_unary(PRODUCE)  # type: ignore[no-any-return]


def request_bytes(topic: str, partition: int, value: bytes, batch: int, acks: int) -> bytes:
    """A serialized ProduceRequest with ``batch`` copies of ``value`` for one partition."""
    records = [lp.Record(value=value)] * batch
    return ls.ProduceRequest(
        topic=topic, acks=acks, batches=[ls.ProduceBatch(partition=partition, records=records)]
    ).SerializeToString()


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What a load run did."""

    records: int
    """Records acknowledged (appended)."""
    requests: int
    """Produce calls completed."""
    seconds: float
    """Wall time from the start until the last thread finished."""

    @property
    def rec_s(self) -> float:
        """Records per second."""
        return self.records / self.seconds if self.seconds else 0.0


def _check(reply: bytes) -> int:
    parsed = ls.ProduceResponse.FromString(reply)
    appended = 0
    for result in parsed.results:
        if result.errors:
            raise RuntimeError(f"records refused: {result.errors[0].message}")
        appended += len(result.offsets)
    return appended


def run_load(
    channel: grpc.Channel,
    requests: list[bytes],
    per_request: int,
    *,
    threads: int,
    seconds: float,
    min_requests: int = 2,
) -> LoadResult:
    """Send ``requests`` round-robin from ``threads`` threads for about ``seconds``."""
    call = raw_produce(channel)
    counts = [0] * threads
    appended = [0] * threads
    errors: list[BaseException] = []
    go = threading.Event()
    deadline = [0.0]

    def worker(index: int) -> None:
        go.wait()
        k = index
        try:
            while counts[index] < min_requests or time.perf_counter() < deadline[0]:
                appended[index] += _check(call(requests[k % len(requests)], timeout=60))
                counts[index] += 1
                k += threads
        except BaseException as e:  # reported after the run
            errors.append(e)

    workers = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    for w in workers:
        w.start()
    start = time.perf_counter()
    deadline[0] = start + seconds
    go.set()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"produce failed: {errors[0]}") from errors[0]
    total = sum(counts)
    acked = sum(appended)
    # ACKS_NONE replies carry no offsets: count what was sent; the caller checks end offsets.
    records = acked if acked else total * per_request
    return LoadResult(records, total, elapsed)


def end_offsets(channel: grpc.Channel, topic: str, partitions: int) -> int:
    """Sum of the partitions' log end offsets."""
    stub = ls_grpc.LogServiceStub(channel)
    return sum(
        int(stub.ListOffsets(ls.ListOffsetsRequest(topic=topic, partition=p, latest=True)).offset)
        for p in range(partitions)
    )
