"""Disk full: RLIMIT_FSIZE lowered on a running `weir serve` makes its segment writes fail.

Produce must fail with StorageFullError (RESOURCE_EXHAUSTED, retriable) while reads keep
working, nothing half-written may stay in the log, and once the limit is raised produce works
again without a restart: an SDK producer that was retrying delivers by itself. A SIGKILL and
restart afterwards finds exactly the acknowledged records.
"""

from __future__ import annotations

import resource
import signal
import time
from pathlib import Path

import grpc
import pytest

from tests.e2e.fault_helpers import FixedServe, read_partition
from tests.integration.broker_helpers import Broker, record
from weir.core.errors import StorageFullError
from weir.core.status import from_rpc_error
from weir.sdk import Producer, RetryPolicy

TOPIC = "full"
VALUE = b"x" * 400


def ignores(pid: int, sig: signal.Signals) -> bool:
    """True when the process ignores ``sig`` (its SigIgn mask in /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigIgn:"):
            return bool(int(line.split()[1], 16) >> (sig - 1) & 1)
    raise AssertionError("no SigIgn line")


def segment_size(data_dir: Path) -> int:
    return max(p.stat().st_size for p in (data_dir / "log" / f"{TOPIC}-0").glob("*.log"))


def test_disk_full_refuses_produce_keeps_reads_and_recovers(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = FixedServe(data, tmp_path / "serve.log")
    server.start()
    assert ignores(server.pid, signal.SIGXFSZ), "SIGXFSZ would kill the server at the limit"
    channel = grpc.insecure_channel(server.address)
    broker = Broker(channel)
    broker.create_topic(TOPIC, 1, value_schema_validation="none")
    acked: list[tuple[int, bytes]] = []
    for i in range(20):
        value = VALUE + str(i).encode()
        offset = broker.produce(TOPIC, [record(value)]).results[0].offsets[0]
        acked.append((offset, value))

    limit = segment_size(data) + 1500  # room for about three more records
    resource.prlimit(server.pid, resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    refusals = 0
    for i in range(20, 40):
        value = VALUE + str(i).encode()
        try:
            offset = broker.produce(TOPIC, [record(value)]).results[0].offsets[0]
        except grpc.RpcError as e:
            code, error = e.code(), from_rpc_error(e)
            assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert isinstance(error, StorageFullError)
            assert error.retriable
            assert "no space left" in error.message
            assert f"{TOPIC}-0" in error.message  # names the segment file
            refusals += 1
        else:
            assert refusals == 0, "a produce succeeded after the disk was full"
            acked.append((offset, value))
    assert refusals >= 15
    assert segment_size(data) <= limit
    assert read_partition(server.address, TOPIC, 0) == acked  # reads work, nothing half-written
    end_while_full = broker.end_offset(TOPIC)
    assert end_while_full == len(acked)

    producer = Producer(
        server.address,
        linger_ms=1,
        delivery_timeout_ms=60_000,
        retry=RetryPolicy(attempts=200, initial_backoff_s=0.05, max_backoff_s=0.2),
    )
    late = b"sent-while-full" + VALUE  # as big as the refused ones: it does not fit either
    future = producer.produce(TOPIC, late, partition=0)
    time.sleep(1.0)
    assert not future.done(), "the producer should still be retrying"
    resource.prlimit(
        server.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
    )
    meta = future.result(timeout=30)  # delivered by itself once there is room
    producer.close(timeout=30)
    assert meta.offset == end_while_full
    acked.append((meta.offset, late))
    offset = broker.produce(TOPIC, [record(b"after")]).results[0].offsets[0]
    acked.append((offset, b"after"))
    assert offset == end_while_full + 1

    channel.close()
    server.kill()
    server.start()
    assert read_partition(server.address, TOPIC, 0) == acked
    server.kill(signal.SIGTERM)


def test_a_short_write_at_the_limit_is_undone(tmp_path: Path) -> None:
    """A batch larger than the room left is refused whole: a short write is undone."""
    data = tmp_path / "data"
    server = FixedServe(data, tmp_path / "serve.log")
    server.start()
    with grpc.insecure_channel(server.address) as channel:
        broker = Broker(channel)
        broker.create_topic(TOPIC, 1, value_schema_validation="none")
        broker.produce(TOPIC, [record(b"first")])
        size = segment_size(data)
        resource.prlimit(server.pid, resource.RLIMIT_FSIZE, (size + 700, resource.RLIM_INFINITY))
        with pytest.raises(grpc.RpcError) as caught:  # 2 x 400 bytes: the write is cut short
            broker.produce(TOPIC, [record(VALUE), record(VALUE)])
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert segment_size(data) == size  # the partial write was truncated away
        assert broker.produce(TOPIC, [record(b"small")]).results[0].offsets == [1]
    server.kill()
    server.start()
    assert [v for _, v in read_partition(server.address, TOPIC, 0)] == [b"first", b"small"]
    server.kill(signal.SIGTERM)
