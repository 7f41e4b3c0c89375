"""Through a real server: a flipped byte in an earlier batch, a restart, then idempotent retries.

The server runs in-process on port 0 with its own data dir and is reached over a real gRPC
channel. After the restart the producer state must still hold every intact batch written
after the damaged one: the retry of the last acknowledged batch is a duplicate with its
original offsets, the next sequence is appended, and a gap is refused.
"""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from tests.integration.broker_helpers import Broker
from weir.broker.embedded import EmbeddedServer
from weir.core.status import from_rpc_error
from weir.v1 import log_pb2 as lp
from weir.v1 import log_service_pb2 as ls


def send(broker: Broker, pid: int, epoch: int, seq: int, tag: str) -> ls.BatchResult:
    batch = ls.ProduceBatch(
        partition=0,
        base_sequence=seq,
        records=[lp.Record(value=f"{tag}-{i}".encode()) for i in range(2)],
    )
    reply = broker.log.Produce(
        ls.ProduceRequest(
            topic="t", acks=lp.ACKS_ALL, batches=[batch], producer_id=pid, producer_epoch=epoch
        )
    )
    return reply.results[0]


def test_retries_after_a_restart_over_a_damaged_batch(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = EmbeddedServer(data)
    try:
        with grpc.insecure_channel(server.address) as channel:
            broker = Broker(channel)
            broker.create_topic("t", 1, value_schema_validation="none")
            ident = broker.log.InitProducer(ls.InitProducerRequest())
            pid, epoch = ident.producer_id, ident.producer_epoch
            results = [send(broker, pid, epoch, 2 * n, f"b{n}") for n in range(5)]
    finally:
        server.stop()
    [segment] = sorted((data / "log" / "t-0").glob("*.log"))
    raw = bytearray(segment.read_bytes())
    raw[300] ^= 0x10  # inside an early batch of the only (active) segment
    segment.write_bytes(bytes(raw))

    server = EmbeddedServer(data, grpc_address=server.address)
    try:
        with grpc.insecure_channel(server.address) as channel:
            broker = Broker(channel)
            end = broker.end_offset("t")
            assert end == 10  # the damaged batch is kept; nothing after it was cut
            last = results[-1]
            again = send(broker, pid, epoch, 8, "retry")
            assert again.duplicate
            assert list(again.offsets) == list(last.offsets)
            assert broker.end_offset("t") == end
            with pytest.raises(grpc.RpcError) as gap:
                send(broker, pid, epoch, 11, "gap")
            assert from_rpc_error(gap.value).reason == "OUT_OF_ORDER_SEQUENCE"
            following = send(broker, pid, epoch, 10, "next")
            assert not following.duplicate
            assert list(following.offsets) == [10, 11]
            fetched = broker.fetch("t", offset=8)
            assert [r.value for r in fetched.records] == [b"b4-0", b"b4-1", b"next-0", b"next-1"]
    finally:
        server.stop()
