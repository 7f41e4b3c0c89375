"""Small helpers for broker tests: raw gRPC stubs, registration, encoding, produce, fetch."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import fastavro
import grpc
from google.protobuf import descriptor_pool, message_factory

from weir.core.framing import frame
from weir.core.types import SchemaType
from weir.registry.formats import get_format
from weir.v1 import log_pb2 as lp
from weir.v1 import log_service_pb2 as ls
from weir.v1 import log_service_pb2_grpc as ls_grpc
from weir.v1 import registry_pb2 as rp
from weir.v1 import registry_service_pb2 as rs
from weir.v1 import registry_service_pb2_grpc as rs_grpc
from weir.v1 import topic_service_pb2 as ts
from weir.v1 import topic_service_pb2_grpc as ts_grpc

ORDER_AVSC = {
    "type": "record",
    "name": "Order",
    "namespace": "shop",
    "fields": [{"name": "id", "type": "string"}, {"name": "qty", "type": "int"}],
}
ORDER_PROTO = """
syntax = "proto2";
package shop;
message Order {
  required string id = 1;
  optional int32 qty = 2;
}
"""
ORDER_JSON = {
    "type": "object",
    "properties": {"id": {"type": "string"}, "qty": {"type": "integer"}},
    "required": ["id", "qty"],
    "additionalProperties": False,
}
TYPES = {
    "AVRO": rp.SCHEMA_TYPE_AVRO,
    "PROTOBUF": rp.SCHEMA_TYPE_PROTOBUF,
    "JSON": rp.SCHEMA_TYPE_JSON,
}


@dataclass
class Broker:
    """Stubs over one channel."""

    channel: grpc.Channel

    def __post_init__(self) -> None:
        self.topics = ts_grpc.TopicServiceStub(self.channel)
        self.log = ls_grpc.LogServiceStub(self.channel)
        self.registry = rs_grpc.RegistryServiceStub(self.channel)

    def create_topic(self, name: str, partitions: int = 1, **config: str) -> None:
        cfg = {k.replace("_", "."): v for k, v in config.items()}
        self.topics.CreateTopic(
            ts.CreateTopicRequest(name=name, partition_count=partitions, config=cfg)
        )

    def register(self, subject: str, kind: str, text: str) -> int:
        reply = self.registry.RegisterSchema(
            rs.RegisterSchemaRequest(
                subject=subject, schema=rs.SchemaInput(schema_type=TYPES[kind], schema=text)
            )
        )
        return int(reply.id)

    def produce(
        self,
        topic: str,
        records: list[lp.Record],
        partition: int | None = None,
        acks: int = lp.ACKS_ALL,
        **kw: Any,
    ) -> ls.ProduceResponse:
        batch = ls.ProduceBatch(records=records)
        if partition is not None:
            batch.partition = partition
        return self.log.Produce(ls.ProduceRequest(topic=topic, batches=[batch], acks=acks, **kw))

    def fetch(
        self, topic: str, partition: int = 0, offset: int = 0, **kw: Any
    ) -> ls.PartitionRecords:
        reply = self.log.Fetch(
            ls.FetchRequest(
                partitions=[ls.FetchPartition(topic=topic, partition=partition, offset=offset)],
                **kw,
            )
        )
        return reply.partitions[0]

    def end_offset(self, topic: str, partition: int = 0) -> int:
        reply = self.log.ListOffsets(
            ls.ListOffsetsRequest(topic=topic, partition=partition, latest=True)
        )
        return int(reply.offset)


def avro_bytes(
    schema_id: int, record: dict[str, Any], schema: dict[str, Any] = ORDER_AVSC
) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(schema), record)
    return frame(schema_id, out.getvalue())


def json_bytes(schema_id: int, doc: Any) -> bytes:
    return frame(schema_id, json.dumps(doc).encode())


def record(value: bytes | None, key: bytes | None = None, **kw: Any) -> lp.Record:
    r = lp.Record(**kw)
    if value is not None:
        r.value = value
    if key is not None:
        r.key = key
    return r


def proto_class(text: str, name: str = "shop.Order") -> Any:
    """A generated-at-runtime message class for a .proto text (via the registry's compiler)."""
    parsed: Any = get_format(SchemaType.PROTOBUF).parse(text)
    pool = descriptor_pool.DescriptorPool()
    for file in parsed.files:
        pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(name))
