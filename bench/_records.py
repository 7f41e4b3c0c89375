"""The benchmark record: one schema per format and values framed to an exact size.

Every value is an ``Order {id: string, qty: int}`` in the Confluent wire format, with ``id``
padded so the framed value is exactly 100 or 1024 bytes. The same bytes feed the server and
the in-process ceiling, whose validator is the registry's compiled one (as broker/gate.py).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass

import fastavro
import grpc

from weir.core.framing import frame, parse_protobuf_indexes
from weir.core.types import SchemaType
from weir.registry.formats import RecordValidator, get_format
from weir.v1 import registry_pb2 as rp
from weir.v1 import registry_service_pb2 as rs
from weir.v1 import registry_service_pb2_grpc as rs_grpc
from weir.v1 import topic_service_pb2 as ts
from weir.v1 import topic_service_pb2_grpc as ts_grpc

FORMATS = ("AVRO", "PROTOBUF", "JSON")
SIZES = (100, 1024)

ORDER_AVSC = json.dumps(
    {
        "type": "record",
        "name": "Order",
        "namespace": "shop",
        "fields": [{"name": "id", "type": "string"}, {"name": "qty", "type": "int"}],
    }
)
ORDER_PROTO = (
    'syntax = "proto3";\npackage shop;\nmessage Order {\n  string id = 1;\n  int32 qty = 2;\n}\n'
)
ORDER_JSON = json.dumps(
    {
        "type": "object",
        "properties": {"id": {"type": "string"}, "qty": {"type": "integer"}},
        "required": ["id", "qty"],
        "additionalProperties": False,
    }
)
SCHEMA_TEXT = {"AVRO": ORDER_AVSC, "PROTOBUF": ORDER_PROTO, "JSON": ORDER_JSON}
SCHEMA_TYPE = {"AVRO": SchemaType.AVRO, "PROTOBUF": SchemaType.PROTOBUF, "JSON": SchemaType.JSON}
PROTO_TYPE = {
    "AVRO": rp.SCHEMA_TYPE_AVRO,
    "PROTOBUF": rp.SCHEMA_TYPE_PROTOBUF,
    "JSON": rp.SCHEMA_TYPE_JSON,
}
_AVRO_PARSED = fastavro.parse_schema(json.loads(ORDER_AVSC))


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _avro(schema_id: int, pad: str) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, _AVRO_PARSED, {"id": pad, "qty": 7})
    return frame(schema_id, out.getvalue())


def _proto(schema_id: int, pad: str) -> bytes:
    body = pad.encode()
    return frame(schema_id, b"\x0a" + _varint(len(body)) + body + b"\x10\x07", ())


def _json(schema_id: int, pad: str) -> bytes:
    return frame(schema_id, json.dumps({"id": pad, "qty": 7}).encode())


ENCODERS: dict[str, Callable[[int, str], bytes]] = {
    "AVRO": _avro,
    "PROTOBUF": _proto,
    "JSON": _json,
}


def value(kind: str, schema_id: int, size: int) -> bytes:
    """A framed ``kind`` value of exactly ``size`` bytes (padding the id string)."""
    encode = ENCODERS[kind]
    pad = max(0, size - 20)
    for _ in range(10):
        data = encode(schema_id, "x" * pad)
        if len(data) == size:
            return data
        pad += size - len(data)
    raise ValueError(f"cannot frame a {kind} value of exactly {size} bytes")


@dataclass(frozen=True, slots=True)
class Checker:
    """The registry's compiled validator for one schema, applied as the produce gate does."""

    protobuf: bool
    """Protobuf payloads carry message indexes after the 5-byte header."""
    validator: RecordValidator
    """The compiled validator."""

    def check(self, data: bytes) -> None:
        """Validate one framed value (raises on a bad record)."""
        if self.protobuf:
            indexes, start = parse_protobuf_indexes(data)
            self.validator.validate(data[start:], indexes)
        else:
            self.validator.validate(data[5:], ())


def checker(kind: str) -> Checker:
    """A compiled validator for the benchmark schema of ``kind``."""
    parsed = get_format(SCHEMA_TYPE[kind]).parse(SCHEMA_TEXT[kind])
    return Checker(kind == "PROTOBUF", parsed.validator())


def register(channel: grpc.Channel, subject: str, kind: str) -> int:
    """Register the benchmark schema of ``kind`` under ``subject``; its id."""
    stub = rs_grpc.RegistryServiceStub(channel)
    reply = stub.RegisterSchema(
        rs.RegisterSchemaRequest(
            subject=subject,
            schema=rs.SchemaInput(schema_type=PROTO_TYPE[kind], schema=SCHEMA_TEXT[kind]),
        )
    )
    return int(reply.id)


def create_topic(channel: grpc.Channel, name: str, partitions: int, **config: str) -> None:
    """Create a topic (config keys use dots: ``{"value.schema.validation": "none"}``)."""
    ts_grpc.TopicServiceStub(channel).CreateTopic(
        ts.CreateTopicRequest(name=name, partition_count=partitions, config=config)
    )
