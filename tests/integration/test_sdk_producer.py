"""weir.sdk.Producer against a real server: partitioning, ordering, per-record errors,
flush/close, unknown topics, unreachable servers and back-pressure. The log is checked with
raw LogService Fetch calls, not the SDK Consumer."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import grpc
import pytest

from tests.integration.broker_helpers import ORDER_AVSC, Broker, avro_bytes
from weir.broker.embedded import EmbeddedServer
from weir.core import errors
from weir.core.partitioner import partition_for_key
from weir.sdk import Admin, MessageField, Producer, RecordMetadata, SerializationContext
from weir.v1 import log_service_pb2 as ls
from weir.v1 import log_service_pb2_grpc as ls_grpc

RAW = {"value.schema.validation": "none"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def read_log(address: str, topic: str, partition: int) -> list[tuple[int, bytes | None, bytes]]:
    """Every (offset, key, value) of a partition, through raw Fetch calls."""
    out: list[tuple[int, bytes | None, bytes]] = []
    with grpc.insecure_channel(address) as channel:
        stub = ls_grpc.LogServiceStub(channel)
        offset = 0
        while True:
            reply = stub.Fetch(
                ls.FetchRequest(
                    partitions=[ls.FetchPartition(topic=topic, partition=partition, offset=offset)]
                ),
                timeout=10,
            )
            part = reply.partitions[0]
            for r in part.records:
                out.append((r.offset, r.key if r.HasField("key") else None, r.value))
            if not part.records or part.records[-1].offset + 1 >= part.log_end_offset:
                return out
            offset = part.records[-1].offset + 1


def make_topic(address: str, name: str, partitions: int, **config: str) -> None:
    with Admin(address) as admin:
        admin.create_topic(name, partitions, {**RAW, **config})


@pytest.fixture
def producer(server: EmbeddedServer) -> Iterator[Producer]:
    with Producer(server.address, linger_ms=2) as p:
        yield p


def test_keyed_records_land_on_kafkas_partition(server: EmbeddedServer, producer: Producer) -> None:
    make_topic(server.address, "orders", 6)
    keys = [f"customer-{i}".encode() for i in range(40)]
    futures = {k: producer.produce("orders", b"v-" + k, key=k) for k in keys}
    assert producer.flush(10) == 0
    for key, future in futures.items():
        md = future.result()
        assert md.partition == partition_for_key(key, 6)
        assert (md.offset, key, b"v-" + key) in read_log(server.address, "orders", md.partition)


def test_order_is_kept_per_partition_and_offsets_match_the_log(server: EmbeddedServer) -> None:
    make_topic(server.address, "events", 2)
    with Producer(server.address, linger_ms=1, max_batch_records=7) as producer:
        futures = [
            producer.produce("events", f"{i}".encode(), key=b"a" if i % 2 else b"b")
            for i in range(300)
        ]
        producer.flush()
    by_partition: dict[int, list[RecordMetadata]] = {}
    for i, f in enumerate(futures):
        md = f.result()
        assert md.topic == "events"
        by_partition.setdefault(md.partition, []).append(md)
        assert md.timestamp > 0
        log = {off: value for off, _, value in read_log(server.address, "events", md.partition)}
        assert log[md.offset] == f"{i}".encode()
    for mds in by_partition.values():
        offsets = [m.offset for m in mds]
        assert offsets == sorted(offsets)
    for p in (0, 1):
        values = [int(v) for _, _, v in read_log(server.address, "events", p)]
        assert values == sorted(values)
    assert sum(len(read_log(server.address, "events", p)) for p in (0, 1)) == 300


def test_keyless_records_fill_batches_on_one_partition(server: EmbeddedServer) -> None:
    make_topic(server.address, "sticky", 4)
    with Producer(server.address, linger_ms=50) as producer:
        futures = [producer.produce("sticky", b"x") for _ in range(20)]
    assert len({f.result().partition for f in futures}) == 1


def test_refused_records_get_the_brokers_reason_and_the_others_land(
    server: EmbeddedServer, channel: grpc.Channel, producer: Producer
) -> None:
    broker = Broker(channel)
    broker.create_topic("orders", 1, on_invalid="reject_record")
    sid = broker.register("orders-value", "AVRO", json.dumps(ORDER_AVSC))
    calls: list[tuple[Any, Any]] = []
    good = producer.produce("orders", avro_bytes(sid, {"id": "a", "qty": 1}))
    bad = producer.produce(
        "orders", b"not avro", on_delivery=lambda err, md: calls.append((err, md))
    )
    good2 = producer.produce("orders", avro_bytes(sid, {"id": "b", "qty": 2}))
    producer.flush()
    assert [good.result().offset, good2.result().offset] == [0, 1]
    error = bad.exception()
    assert isinstance(error, errors.InvalidRecordError)
    assert error.metadata["rule"] == "magic-byte"
    assert "magic byte" in str(error)
    assert calls == [(error, None)]
    assert [v for _, _, v in read_log(server.address, "orders", 0)] == [
        avro_bytes(sid, {"id": "a", "qty": 1}),
        avro_bytes(sid, {"id": "b", "qty": 2}),
    ]
    after = producer.produce("orders", avro_bytes(sid, {"id": "c", "qty": 3}))
    assert after.result(10).offset == 2  # the refusal consumed no sequence


def test_under_reject_the_bad_record_is_named_and_its_batch_mates_fail_with_it(
    server: EmbeddedServer, channel: grpc.Channel
) -> None:
    broker = Broker(channel)
    broker.create_topic("strict", 2)
    sid = broker.register("strict-value", "AVRO", json.dumps(ORDER_AVSC))
    with Producer(server.address, linger_ms=200) as producer:
        mate = producer.produce("strict", avro_bytes(sid, {"id": "a", "qty": 1}), partition=0)
        bad = producer.produce("strict", b"not avro", partition=0)
        other = producer.produce("strict", avro_bytes(sid, {"id": "b", "qty": 1}), partition=1)
    assert other.result().partition == 1  # another partition's batch is not held hostage
    assert isinstance(bad.exception(), errors.InvalidRecordError)
    collateral = mate.exception()
    assert isinstance(collateral, errors.InvalidRecordError)
    assert collateral.metadata["collateral"] == "true"
    assert "record(s) 1" in str(collateral)
    assert read_log(server.address, "strict", 0) == []


def test_flush_and_close(server: EmbeddedServer) -> None:
    make_topic(server.address, "t", 1)
    producer = Producer(server.address, linger_ms=60_000)
    seen: list[RecordMetadata] = []
    futures = [
        producer.produce("t", f"r{i}", on_delivery=lambda e, md: seen.append(md)) for i in range(5)
    ]
    time.sleep(0.2)
    assert not any(f.done() for f in futures)  # lingering: flush() must send them
    assert len(producer) == 5
    assert producer.flush(10) == 0
    assert all(f.done() for f in futures)
    assert sorted(m.offset for m in seen) == [0, 1, 2, 3, 4]
    last = producer.produce("t", "last")
    producer.close()  # sends what is buffered
    assert last.result(0).offset == 5
    with pytest.raises(errors.FailedPreconditionError, match="closed"):
        producer.produce("t", "after close")
    producer.close()  # twice is fine


def test_serializers_get_the_context_and_unsupported_values_are_refused(
    server: EmbeddedServer,
) -> None:
    make_topic(server.address, "t", 1)
    contexts: list[SerializationContext] = []

    def upper(obj: Any, ctx: SerializationContext) -> bytes:
        contexts.append(ctx)
        return str(obj).upper().encode()

    with Producer(server.address, value_serializer=upper) as producer:
        producer.produce("t", "hello", headers={"h": "1"}).result(10)
        assert contexts == [SerializationContext("t", MessageField.VALUE, (("h", b"1"),))]
    assert read_log(server.address, "t", 0)[0][2] == b"HELLO"
    with Producer(server.address) as producer:
        with pytest.raises(errors.InvalidArgumentError, match="value_serializer"):
            producer.produce("t", {"id": 1})
        with pytest.raises(errors.InvalidArgumentError, match="partition must be"):
            producer.produce("t", b"x", partition=-1)
        missing = producer.produce("t", b"x", partition=3)
        assert isinstance(missing.exception(10), errors.PartitionNotFoundError)


def test_unknown_topic_fails_the_future_fast(producer: Producer) -> None:
    started = time.monotonic()
    called: list[Any] = []
    future = producer.produce("nope", b"x", on_delivery=lambda e, md: called.append(e))
    error = future.exception(10)
    assert isinstance(error, errors.TopicNotFoundError)
    assert "'nope'" in str(error)
    assert "create" in str(error)
    assert called == [error]
    assert time.monotonic() - started < 5


def test_unreachable_server_is_a_clear_error_within_the_delivery_timeout() -> None:
    address = f"127.0.0.1:{free_port()}"
    started = time.monotonic()
    with Producer(address, delivery_timeout_ms=1500) as producer:
        error = producer.produce("t", b"x").exception(10)
    assert isinstance(error, errors.UnavailableError)
    assert address in str(error)
    assert time.monotonic() - started < 6


def test_buffered_records_fail_after_the_delivery_timeout_and_back_pressure_raises(
    tmp_path: Path,
) -> None:
    server = EmbeddedServer(tmp_path / "data")
    make_topic(server.address, "t", 1)
    producer = Producer(
        server.address,
        delivery_timeout_ms=1500,
        buffer_memory=2000,
        max_request_bytes=1000,
        max_block_ms=300,
    )
    producer.produce("t", b"warm-up").result(10)  # topic metadata is now cached
    server.stop()
    futures = [producer.produce("t", b"x" * 400) for _ in range(4)]
    started = time.monotonic()
    with pytest.raises(errors.StorageFullError, match="buffer_memory=2000"):
        producer.produce("t", b"x" * 400)
    assert time.monotonic() - started >= 0.25
    for f in futures:
        error = f.exception(10)
        assert isinstance(error, errors.UnavailableError)
        assert "delivery_timeout_ms=1500" in str(error)
    assert producer.flush(1) == 0
    producer.close()


def test_acks_zero_and_one_resolve(server: EmbeddedServer) -> None:
    make_topic(server.address, "t", 1)
    for acks in (0, 1, "1"):
        with Producer(server.address, acks=acks, enable_idempotence=False) as producer:
            md = producer.produce("t", b"x").result(10)
            assert md.partition == 0
            assert md.offset >= -1


def test_produce_from_many_threads(server: EmbeddedServer, producer: Producer) -> None:
    make_topic(server.address, "t", 3)
    results: list[Future[RecordMetadata]] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        for i in range(200):
            f = producer.produce("t", f"{n}-{i}", key=str(n))
            with lock:
                results.append(f)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    producer.flush()
    assert len({(f.result().partition, f.result().offset) for f in results}) == 800
