"""Crash safety: SIGKILL while producing with acks=all loses no acknowledged record, and a torn
segment tail is truncated to the last whole batch on restart."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import grpc

from tests.e2e.conftest import ServeProcess
from tests.integration.broker_helpers import Broker, record

Serve = Callable[[Path], ServeProcess]

PRODUCER = r"""
import json, sys, grpc
from weir.v1 import log_pb2 as lp, log_service_pb2 as ls, log_service_pb2_grpc as g
address, out_path = sys.argv[1], sys.argv[2]
stub = g.LogServiceStub(grpc.insecure_channel(address))
with open(out_path, "a") as out:
    n = 0
    while True:
        values = [f"v{n + i}".encode() for i in range(10)]
        try:
            batch = ls.ProduceBatch(partition=0, records=[lp.Record(value=v) for v in values])
            request = ls.ProduceRequest(topic="crash", acks=lp.ACKS_ALL, batches=[batch])
            reply = stub.Produce(request, timeout=5)
        except grpc.RpcError:
            break
        for v, offset in zip(values, reply.results[0].offsets):
            out.write(json.dumps([offset, v.decode()]) + "\n")
        out.flush()
        n += 10
"""


def read_all(address: str, topic: str) -> list[tuple[int, bytes]]:
    with grpc.insecure_channel(address) as channel:
        broker = Broker(channel)
        found: list[tuple[int, bytes]] = []
        offset = 0
        while True:
            part = broker.fetch(topic, 0, offset)
            if not part.records:
                return found
            found += [(r.offset, r.value) for r in part.records]
            offset = part.records[-1].offset + 1


def test_sigkill_during_acks_all_loses_nothing_acknowledged(tmp_path: Path, serve: Serve) -> None:
    server = serve(tmp_path / "data")
    with grpc.insecure_channel(server.address) as channel:
        Broker(channel).create_topic("crash", 1, value_schema_validation="none")
    acked_path = tmp_path / "acked.jsonl"
    producer = subprocess.Popen([sys.executable, "-c", PRODUCER, server.address, str(acked_path)])
    time.sleep(2.0)
    server.stop(signal.SIGKILL)
    producer.wait(timeout=30)
    acked = [json.loads(line) for line in acked_path.read_text().splitlines()]
    assert len(acked) >= 10, "the producer got no acknowledgement before the kill"

    server = serve(tmp_path / "data")
    try:
        stored = read_all(server.address, "crash")
    finally:
        server.stop(signal.SIGTERM)
    offsets = [o for o, _ in stored]
    assert offsets == list(range(len(stored))), "offsets are not dense"
    values = [v for _, v in stored]
    assert len(set(values)) == len(values), "a record was stored twice"
    by_offset = dict(stored)
    for offset, value in acked:
        assert by_offset.get(offset) == value.encode(), (
            f"acknowledged offset {offset} lost or changed"
        )


def test_torn_segment_tail_is_truncated_and_logged(tmp_path: Path, serve: Serve) -> None:
    server = serve(tmp_path / "data")
    with grpc.insecure_channel(server.address) as channel:
        broker = Broker(channel)
        broker.create_topic("torn", 1, value_schema_validation="none")
        for i in range(5):
            broker.produce("torn", [record(f"r{i}".encode())])
    assert server.stop(signal.SIGTERM) == 0
    (segment,) = sorted((tmp_path / "data").rglob("torn-0*/*.log"))
    whole = segment.stat().st_size
    with segment.open("ab") as f:
        f.write(b"\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x01\x00garbage-tail")

    server = serve(tmp_path / "data")
    try:
        stored = read_all(server.address, "torn")
        with grpc.insecure_channel(server.address) as channel:
            reply = Broker(channel).produce("torn", [record(b"after")])
    finally:
        server.stop(signal.SIGTERM)
    assert [v for _, v in stored] == [f"r{i}".encode() for i in range(5)]
    assert list(reply.results[0].offsets) == [5]
    assert segment.stat().st_size > whole  # truncated back, then appended to
    log = server.log.read_text()
    assert str(segment.name) in log
    assert "truncat" in log.lower()
