"""Bytes from confluent-kafka's serializers are produced through Weir's gRPC broker unchanged,
accepted by strict validation, and refused when corrupted."""

from __future__ import annotations

import json

import grpc
import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from tests.integration.broker_helpers import Broker, proto_class, record
from weir.broker.embedded import EmbeddedServer
from weir.core.status import from_rpc_error

NESTED_PROTO = """
syntax = "proto3";
package shop;
message Envelope {
  message Line { string sku = 1; int32 qty = 2; }
  repeated Line lines = 1;
}
"""
AVRO = json.dumps(
    {"type": "record", "name": "Click", "fields": [{"name": "url", "type": "string"}]}
)
JSON_SCHEMA = json.dumps(
    {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Click",
        "type": "object",
        "properties": {"url": {"type": "string"}},
        "required": ["url"],
    }
)


def serialized(server: EmbeddedServer, kind: str, topic: str) -> bytes:
    client = SchemaRegistryClient({"url": server.http_url})
    ctx = SerializationContext(topic, MessageField.VALUE)
    if kind == "AVRO":
        return AvroSerializer(client, AVRO)({"url": "https://weir.dev"}, ctx)
    if kind == "JSON":
        return JSONSerializer(JSON_SCHEMA, client)({"url": "https://weir.dev"}, ctx)
    line = proto_class(NESTED_PROTO, "shop.Envelope.Line")
    serializer = ProtobufSerializer(line, client, {"use.deprecated.format": False})
    return serializer(line(sku="a-1", qty=3), ctx)


@pytest.mark.parametrize("kind", ["AVRO", "JSON", "PROTOBUF"])
def test_confluent_bytes_are_accepted_and_corruption_refused(
    server: EmbeddedServer, channel: grpc.Channel, kind: str
) -> None:
    broker = Broker(channel)
    broker.create_topic("clicks", 1)
    data = serialized(server, kind, "clicks")
    reply = broker.produce("clicks", [record(data)])
    assert list(reply.results[0].offsets) == [0]
    stored = broker.fetch("clicks").records[0]
    assert stored.value == data
    assert stored.value_schema_id == int.from_bytes(data[1:5], "big")
    if kind == "PROTOBUF":
        assert data[5:8] == b"\x04\x00\x00"  # zig-zag count 2, path [0, 0]: the nested Line
    corrupted = data[:-1] + bytes([data[-1] ^ 0xFF]) + b"\xff\xff"
    with pytest.raises(grpc.RpcError) as caught:
        broker.produce("clicks", [record(corrupted)])
    assert from_rpc_error(caught.value).reason == "INVALID_RECORD"
    assert broker.end_offset("clicks") == 1
