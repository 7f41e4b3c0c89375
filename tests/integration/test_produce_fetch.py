"""Produce and fetch through the real server: formats, keys, tombstones, headers, timestamps,
partition growth and the three on.invalid policies."""

from __future__ import annotations

import json

import grpc
import pytest

from tests.integration.broker_helpers import (
    ORDER_AVSC,
    ORDER_JSON,
    ORDER_PROTO,
    Broker,
    avro_bytes,
    json_bytes,
    proto_class,
    record,
)
from weir.core.framing import frame
from weir.core.partitioner import partition_for_key
from weir.core.status import from_rpc_error
from weir.v1 import errors_pb2
from weir.v1 import log_pb2 as lp
from weir.v1 import topic_service_pb2 as ts


@pytest.fixture
def broker(channel: grpc.Channel) -> Broker:
    return Broker(channel)


def encoded(broker: Broker, kind: str, topic: str) -> tuple[bytes, bytes]:
    """(good, bad) payloads for the Order schema in one format, registered under topic-value."""
    subject = f"{topic}-value"
    if kind == "AVRO":
        sid = broker.register(subject, kind, json.dumps(ORDER_AVSC))
        return avro_bytes(sid, {"id": "a", "qty": 1}), frame(sid, b"\x02a")  # qty missing
    if kind == "JSON":
        sid = broker.register(subject, kind, json.dumps(ORDER_JSON))
        return json_bytes(sid, {"id": "a", "qty": 1}), json_bytes(sid, {"id": "a", "qty": "x"})
    sid = broker.register(subject, kind, ORDER_PROTO)
    good = proto_class(ORDER_PROTO)(id="a", qty=1).SerializeToString()
    missing = proto_class(ORDER_PROTO)(qty=1).SerializePartialToString()
    return frame(sid, good, ()), frame(sid, missing, ())


@pytest.mark.parametrize("kind", ["AVRO", "PROTOBUF", "JSON"])
def test_round_trip_per_format(broker: Broker, kind: str) -> None:
    broker.create_topic("orders", 1)
    good, _ = encoded(broker, kind, "orders")
    reply = broker.produce(
        "orders",
        [record(good, key=b"k1", headers=[lp.Header(key="h", value=b"v")], timestamp_ms=1234)],
    )
    (result,) = reply.results
    assert list(result.offsets) == [0]
    assert not result.errors
    fetched = broker.fetch("orders")
    (stored,) = fetched.records
    assert stored.value == good
    assert stored.key == b"k1"
    assert [(h.key, h.value) for h in stored.headers] == [("h", b"v")]
    assert stored.timestamp_ms == 1234
    assert stored.value_schema_id == int.from_bytes(good[1:5], "big")
    assert stored.value_schema_version == 1
    assert fetched.log_end_offset == 1


@pytest.mark.parametrize("kind", ["AVRO", "PROTOBUF", "JSON"])
def test_bad_payload_is_refused_and_nothing_appended(broker: Broker, kind: str) -> None:
    broker.create_topic("orders", 1)
    good, bad = encoded(broker, kind, "orders")
    with pytest.raises(grpc.RpcError) as caught:
        broker.produce("orders", [record(good), record(bad)])
    error = from_rpc_error(caught.value)
    assert error.reason == "INVALID_RECORD"
    assert "record 1" in error.message
    assert "orders-value" in error.message
    assert error.metadata["index"] == "1"
    assert broker.end_offset("orders") == 0


def test_keys_keep_order_per_partition_like_kafka(broker: Broker) -> None:
    broker.create_topic("events", 4, value_schema_validation="none")
    keys = [f"user-{i % 5}".encode() for i in range(40)]
    reply = broker.produce("events", [record(f"{i}".encode(), key=k) for i, k in enumerate(keys)])
    for result in reply.results:
        for index in result.record_indexes:
            assert result.partition == partition_for_key(keys[index], 4)
    for p in range(4):
        values = [int(r.value) for r in broker.fetch("events", p).records]
        assert values == sorted(values)
        for r in broker.fetch("events", p).records:
            assert partition_for_key(r.key, 4) == p


def test_tombstones_and_keyless_records(broker: Broker) -> None:
    broker.create_topic("t", 3, value_schema_validation="strict")
    reply = broker.produce("t", [record(None, key=b"gone")])
    assert list(reply.results[0].offsets) == [0]
    (stored,) = broker.fetch("t", reply.results[0].partition).records
    assert not stored.HasField("value")
    assert stored.key == b"gone"
    broker.topics.UpdateTopicConfig(
        ts.UpdateTopicConfigRequest(name="t", set={"value.schema.validation": "none"})
    )
    keyless = broker.produce("t", [record(b"a"), record(b"b"), record(b"c")])
    assert len(keyless.results) == 1  # keyless records of one batch stick to one partition


def test_log_append_time_replaces_create_time(broker: Broker) -> None:
    broker.create_topic(
        "t", 1, value_schema_validation="none", message_timestamp_type="LogAppendTime"
    )
    reply = broker.produce("t", [record(b"x", timestamp_ms=5)])
    stored = broker.fetch("t").records[0]
    assert stored.timestamp_ms == reply.results[0].log_append_time_ms
    assert stored.timestamp_ms > 1_600_000_000_000


def test_partition_growth(broker: Broker) -> None:
    broker.create_topic("t", 1, value_schema_validation="none")
    broker.topics.CreatePartitions(ts.CreatePartitionsRequest(name="t", partition_count=3))
    reply = broker.produce("t", [record(b"x")], partition=2)
    assert reply.results[0].partition == 2
    assert broker.fetch("t", 2).records[0].value == b"x"
    with pytest.raises(grpc.RpcError) as caught:
        broker.topics.CreatePartitions(ts.CreatePartitionsRequest(name="t", partition_count=2))
    assert from_rpc_error(caught.value).reason == "INVALID_ARGUMENT"


def test_reject_record_appends_the_valid_ones(broker: Broker) -> None:
    broker.create_topic("orders", 1, on_invalid="reject_record")
    good, bad = encoded(broker, "AVRO", "orders")
    reply = broker.produce("orders", [record(good), record(bad), record(good)])
    (result,) = reply.results
    assert list(result.record_indexes) == [0, 2]
    assert list(result.offsets) == [0, 1]
    (error,) = result.errors
    assert error.index == 1
    assert error.reason == errors_pb2.ERROR_REASON_INVALID_RECORD
    assert error.subject == "orders-value"
    assert error.version == 1
    assert error.rule
    assert not error.dead_lettered


def test_dead_letter_keeps_original_bytes_and_reason(broker: Broker) -> None:
    broker.create_topic("orders", 1, on_invalid="dead_letter")
    good, bad = encoded(broker, "JSON", "orders")
    reply = broker.produce("orders", [record(bad, key=b"k"), record(good)])
    (result,) = reply.results
    assert list(result.offsets) == [0]
    assert result.errors[0].dead_lettered
    (letter,) = broker.fetch("orders.dlq").records
    assert letter.value == bad
    assert letter.key == b"k"
    headers = {h.key: h.value for h in letter.headers}
    assert headers["weir.dlq.topic"] == b"orders"
    assert headers["weir.dlq.reason"] == b"INVALID_RECORD"
    assert b"qty" in headers["weir.dlq.message"]
    assert [r.value for r in broker.fetch("orders").records] == [good]
