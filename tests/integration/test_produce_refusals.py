"""Every kind of bad record is refused precisely, and nothing is appended (on.invalid=reject)."""

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
from weir.core.errors import InvalidRecordError
from weir.core.framing import frame
from weir.core.status import from_rpc_error
from weir.v1 import errors_pb2
from weir.v1 import log_pb2 as lp
from weir.v1 import log_service_pb2 as ls


@pytest.fixture
def broker(channel: grpc.Channel) -> Broker:
    b = Broker(channel)
    b.create_topic("orders", 1, max_message_bytes="2000")
    return b


def refused(broker: Broker, value: bytes | None, topic: str = "orders") -> dict[str, str]:
    """Produce one good record then ``value``; assert the request failed and appended nothing."""
    before = broker.end_offset(topic)
    with pytest.raises(grpc.RpcError) as caught:
        broker.produce(topic, [record(value)])
    error = from_rpc_error(caught.value)
    assert broker.end_offset(topic) == before
    return {"reason": error.reason, "message": error.message, **error.metadata}


def test_wrong_magic_byte(broker: Broker) -> None:
    sid = broker.register("orders-value", "AVRO", json.dumps(ORDER_AVSC))
    bad = b"\x01" + avro_bytes(sid, {"id": "a", "qty": 1})[1:]
    got = refused(broker, bad)
    assert got["reason"] == "INVALID_RECORD"
    assert got["rule"] == "magic-byte"
    assert "magic byte 1" in got["message"]


def test_unknown_schema_id(broker: Broker) -> None:
    got = refused(broker, frame(999, b"\x02a\x02"))
    assert got["rule"] == "unknown-schema-id"
    assert "999" in got["message"]


def test_schema_id_not_in_the_subject(broker: Broker) -> None:
    other = broker.register("other-value", "AVRO", json.dumps(ORDER_AVSC | {"name": "Other"}))
    got = refused(broker, avro_bytes(other, {"id": "a", "qty": 1}))
    assert got["rule"] == "subject-membership"
    assert "orders-value" in got["message"]


def test_avro_truncated_and_trailing_bytes(broker: Broker) -> None:
    sid = broker.register("orders-value", "AVRO", json.dumps(ORDER_AVSC))
    good = avro_bytes(sid, {"id": "abc", "qty": 7})
    assert refused(broker, good[:-2])["rule"] == "truncated"
    got = refused(broker, good + b"\x00\x00")
    assert got["rule"] == "trailing-bytes"
    assert "2 trailing bytes" in got["message"]


def test_type_mismatch_names_the_field(broker: Broker) -> None:
    sid = broker.register("orders-value", "JSON", json.dumps(ORDER_JSON))
    got = refused(broker, json_bytes(sid, {"id": "a", "qty": "many"}))
    assert got["rule"] == "type"
    assert got["path"] == "/qty"
    assert "version 1" in got["message"]


def test_protobuf_missing_required_field(broker: Broker) -> None:
    sid = broker.register("orders-value", "PROTOBUF", ORDER_PROTO)
    partial = proto_class(ORDER_PROTO)(qty=3).SerializePartialToString()
    got = refused(broker, frame(sid, partial, ()))
    assert got["rule"] == "REQUIRED_FIELD_MISSING"
    assert "id" in got["message"]


def test_protobuf_garbage_and_bad_message_index(broker: Broker) -> None:
    sid = broker.register("orders-value", "PROTOBUF", ORDER_PROTO)
    assert refused(broker, frame(sid, b"\xff\xff\xff", ()))["reason"] == "INVALID_RECORD"
    assert "message" in refused(broker, frame(sid, b"", (4,)))["message"]


def test_json_mismatch_and_invalid_utf8(broker: Broker) -> None:
    sid = broker.register("orders-value", "JSON", json.dumps(ORDER_JSON))
    assert refused(broker, json_bytes(sid, {"id": "a"}))["rule"] == "required"
    got = refused(broker, frame(sid, b'{"id": "\xff\xfe", "qty": 1}'))
    assert got["rule"] == "encoding"
    assert refused(broker, frame(sid, b"{not json"))["rule"] == "json"


def test_oversized_record(broker: Broker) -> None:
    got = refused(broker, b"x" * 3000)
    assert got["reason"] == "RECORD_TOO_LARGE"
    assert "max.message.bytes=2000" in got["message"]


def test_empty_and_oversized_requests(broker: Broker) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        broker.log.Produce(ls.ProduceRequest(topic="orders", acks=3))
    assert from_rpc_error(caught.value).reason == "INVALID_REQUEST_SIZE"
    broker.create_topic("bulk", 1, value_schema_validation="none")
    many = [record(b"x")] * 100_001
    with pytest.raises(grpc.RpcError) as caught:
        broker.produce("bulk", many)
    error = from_rpc_error(caught.value)
    assert error.reason == "INVALID_REQUEST_SIZE"
    assert "100001 records" in error.message
    assert broker.end_offset("bulk") == 0


def test_unknown_topic_and_partition(broker: Broker) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        broker.produce("nope", [record(b"x")])
    assert from_rpc_error(caught.value).reason == "TOPIC_NOT_FOUND"
    with pytest.raises(grpc.RpcError) as caught:
        broker.produce("orders", [record(b"x")], partition=5)
    assert from_rpc_error(caught.value).reason == "PARTITION_NOT_FOUND"


def test_fetch_out_of_range_carries_bounds(broker: Broker) -> None:
    part = broker.fetch("orders", offset=10)
    assert errors_pb2.ErrorReason.Name(part.error_reason) == "ERROR_REASON_OFFSET_OUT_OF_RANGE"
    assert "[0, 0]" in part.error_message
    assert (part.log_start_offset, part.log_end_offset) == (0, 0)


def test_compacted_topic_needs_keys(broker: Broker) -> None:
    broker.create_topic("state", 1, cleanup_policy="compact", value_schema_validation="none")
    got = refused(broker, b"no key", topic="state")
    assert got["rule"] == "compacted-topic-needs-key"
    reply = broker.produce("state", [record(b"v", key=b"k")])
    assert list(reply.results[0].offsets) == [0]


def test_a_thousand_refusals_still_come_back_as_the_real_error(channel: grpc.Channel) -> None:
    """The status stays under gRPC's trailer limit, so the client sees InvalidRecordError
    (not a bare RESOURCE_EXHAUSTED) even when every record of a large request is refused."""
    broker = Broker(channel)
    broker.create_topic("strict", 1)
    broker.register("strict-value", "AVRO", json.dumps(ORDER_AVSC))
    request = ls.ProduceRequest(
        topic="strict",
        acks=lp.ACKS_ALL,
        batches=[ls.ProduceBatch(records=[lp.Record(value=b"x" * 100) for _ in range(1000)])],
    )
    with pytest.raises(grpc.RpcError) as info:
        broker.log.Produce(request, timeout=10)
    error = from_rpc_error(info.value)
    assert isinstance(error, InvalidRecordError)
    assert error.message.startswith("1000 record(s) refused by topic 'strict'")
    assert error.metadata["refused"] == "1000"
    listed = json.loads(error.metadata["refusals"])
    assert 5 <= len(listed) < 1000
    assert listed[0]["batch"] == 0
    assert listed[0]["index"] == 0
