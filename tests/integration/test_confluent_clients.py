"""confluent-kafka-python's SchemaRegistryClient and serializers against a real Weir server.

Avro, Protobuf and JSON Schema serializers register (or use the latest version), serialize,
and their deserializers read the bytes back through Weir's REST API. Protobuf message
classes are generated at runtime with grpc_tools.protoc.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from confluent_kafka.schema_registry import (
    Schema,
    SchemaReference,
    SchemaRegistryClient,
    SchemaRegistryError,
)
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from grpc_tools import protoc

from weir.broker.embedded import EmbeddedServer
from weir.sdk import SchemaRegistryClient as WeirClient


def record(name: str, *fields: tuple[str, Any] | tuple[str, Any, object]) -> str:
    """An Avro record in namespace acme; each field is (name, type) or (name, type, default)."""
    out = []
    for f in fields:
        entry: dict[str, object] = {"name": f[0], "type": f[1]}
        if len(f) == 3:
            entry["default"] = f[2]
        out.append(entry)
    return json.dumps({"type": "record", "name": name, "namespace": "acme", "fields": out})


ORDER_V1 = record("Order", ("id", "string"))
ORDER_V2 = record("Order", ("id", "string"), ("qty", "int", 1))
ORDER_BREAKING = record("Order", ("id", "int"))
VALUE = MessageField.VALUE


@pytest.fixture
def client(server: EmbeddedServer) -> SchemaRegistryClient:
    return SchemaRegistryClient({"url": server.http_url})


def ctx(topic: str) -> SerializationContext:
    return SerializationContext(topic, VALUE)


# ----- the client -------------------------------------------------------------------------


def test_register_get_and_lookup(client: SchemaRegistryClient) -> None:
    schema_id = client.register_schema("orders-value", Schema(ORDER_V1, "AVRO"))
    assert client.register_schema("orders-value", Schema(ORDER_V1, "AVRO")) == schema_id
    fetched = client.get_schema(schema_id)
    assert fetched.schema_type == "AVRO"
    assert json.loads(fetched.schema_str) == json.loads(ORDER_V1)
    found = client.lookup_schema("orders-value", Schema(ORDER_V1, "AVRO"))
    assert (found.schema_id, found.version, found.subject) == (schema_id, 1, "orders-value")
    latest = client.get_latest_version("orders-value")
    assert (latest.schema_id, latest.version) == (schema_id, 1)
    assert client.get_version("orders-value", 1).schema_id == schema_id
    assert client.get_versions("orders-value") == [1]
    assert client.get_subjects() == ["orders-value"]
    assert sorted(client.get_schema_types()) == ["AVRO", "JSON", "PROTOBUF"]
    assert client.get_subjects_by_schema_id(schema_id) == ["orders-value"]
    versions = client.get_schema_versions(schema_id)
    assert [(v.subject, v.version) for v in versions] == [("orders-value", 1)]
    with pytest.raises(SchemaRegistryError) as missing:
        client.lookup_schema("orders-value", Schema('{"type": "string"}', "AVRO"))
    assert (missing.value.http_status_code, missing.value.error_code) == (404, 40403)
    with pytest.raises(SchemaRegistryError) as no_subject:
        client.get_latest_version("nobody")
    assert no_subject.value.error_code == 40401
    assert client.get_contexts() == ["."]


def test_evolve_under_backward_and_refuse_incompatible(client: SchemaRegistryClient) -> None:
    assert client.get_compatibility() == "BACKWARD"
    v1 = client.register_schema("orders-value", Schema(ORDER_V1, "AVRO"))
    assert client.test_compatibility("orders-value", Schema(ORDER_V2, "AVRO")) is True
    assert client.test_compatibility("orders-value", Schema(ORDER_BREAKING, "AVRO")) is False
    assert client.test_compatibility_all_versions("orders-value", Schema(ORDER_V2, "AVRO"))
    v2 = client.register_schema("orders-value", Schema(ORDER_V2, "AVRO"))
    assert v2 != v1
    with pytest.raises(SchemaRegistryError) as refused:
        client.register_schema("orders-value", Schema(ORDER_BREAKING, "AVRO"))
    assert (refused.value.http_status_code, refused.value.error_code) == (409, 409)
    assert client.get_versions("orders-value") == [1, 2]
    # Bytes written with v1 are read with v2 as the reader schema.
    writer = AvroSerializer(client, ORDER_V1, conf={"auto.register.schemas": False})
    data = writer({"id": "o-1"}, ctx("orders"))
    reader = AvroDeserializer(client, ORDER_V2)
    assert reader(data, ctx("orders")) == {"id": "o-1", "qty": 1}


def test_soft_then_permanent_delete(client: SchemaRegistryClient) -> None:
    client.register_schema("d", Schema(ORDER_V1, "AVRO"))
    client.register_schema("d", Schema(ORDER_V2, "AVRO"))
    assert client.delete_version("d", 1) == 1
    assert client.get_versions("d") == [2]
    assert client.delete_version("d", 1, permanent=True) == 1
    with pytest.raises(SchemaRegistryError) as not_soft:
        client.delete_subject("d", permanent=True)
    assert not_soft.value.error_code == 40405
    assert client.delete_subject("d") == [2]
    assert client.get_subjects() == []
    assert client.get_subjects(deleted=True) == ["d"]
    assert client.delete_subject("d", permanent=True) == [2]
    assert client.get_subjects(deleted=True) == []


def test_config_and_mode_changes(client: SchemaRegistryClient) -> None:
    assert client.set_compatibility(level="full") == {"compatibility": "FULL"}
    assert client.get_compatibility() == "FULL"
    client.set_compatibility("orders-value", "NONE")
    assert client.get_compatibility("orders-value") == "NONE"
    assert client.get_config("orders-value").compatibility_level.value == "NONE"
    assert client.delete_config("orders-value").compatibility_level.value == "NONE"
    with pytest.raises(SchemaRegistryError) as unset:
        client.get_compatibility("orders-value")
    assert unset.value.error_code == 40408
    with pytest.raises(SchemaRegistryError) as bad_level:
        client.set_compatibility(level="sideways")
    assert bad_level.value.error_code == 42203
    assert client.get_global_mode() == "READWRITE"
    client.register_schema("orders-value", Schema(ORDER_V1, "AVRO"))
    assert client.update_mode("orders-value", "READONLY") == "READONLY"
    assert client.get_mode("orders-value") == "READONLY"
    with pytest.raises(SchemaRegistryError) as read_only:
        client.register_schema("orders-value", Schema(ORDER_V2, "AVRO"))
    assert read_only.value.error_code == 42205
    assert client.delete_mode("orders-value") == "READONLY"
    with pytest.raises(SchemaRegistryError) as global_import:
        client.update_global_mode("IMPORT")
    assert global_import.value.error_code == 42205
    assert client.update_global_mode("IMPORT", force=True) == "IMPORT"
    assert client.get_global_mode() == "IMPORT"
    assert client.update_global_mode("READWRITE") == "READWRITE"


# ----- Avro serializers ------------------------------------------------------------------------


def test_avro_auto_register_and_use_latest(client: SchemaRegistryClient) -> None:
    serializer = AvroSerializer(client, ORDER_V1)
    data = serializer({"id": "o-1"}, ctx("orders"))
    assert data[0] == 0
    schema_id = int.from_bytes(data[1:5], "big")
    assert client.get_latest_version("orders-value").schema_id == schema_id
    assert AvroDeserializer(client)(data, ctx("orders")) == {"id": "o-1"}
    v2 = client.register_schema("orders-value", Schema(ORDER_V2, "AVRO"))
    client.clear_latest_caches()  # the client caches get_latest_version answers
    latest = AvroSerializer(
        client, ORDER_V2, conf={"auto.register.schemas": False, "use.latest.version": True}
    )
    data2 = latest({"id": "o-2", "qty": 5}, ctx("orders"))
    assert int.from_bytes(data2[1:5], "big") == v2 != schema_id
    assert AvroDeserializer(client)(data2, ctx("orders")) == {"id": "o-2", "qty": 5}


def test_avro_named_type_references(client: SchemaRegistryClient) -> None:
    money = record("Money", ("cents", "long"))
    client.register_schema("money", Schema(money, "AVRO"))
    invoice = record("Invoice", ("total", "acme.Money"))
    refs = [SchemaReference("acme.Money", "money", 1)]
    invoice_id = client.register_schema("invoices-value", Schema(invoice, "AVRO", refs))
    fetched = client.get_schema(invoice_id)
    assert [(r.name, r.subject, r.version) for r in fetched.references] == [
        ("acme.Money", "money", 1)
    ]
    assert client.get_referenced_by("money", 1) == [invoice_id]
    serializer = AvroSerializer(
        client,
        Schema(invoice, "AVRO", refs),
        conf={"auto.register.schemas": False, "use.latest.version": True},
    )
    data = serializer({"total": {"cents": 250}}, ctx("invoices"))
    assert int.from_bytes(data[1:5], "big") == invoice_id
    assert AvroDeserializer(client)(data, ctx("invoices")) == {"total": {"cents": 250}}


# ----- JSON Schema serializers -----------------------------------------------------------------


def test_json_schema_serializers(client: SchemaRegistryClient) -> None:
    schema = json.dumps(
        {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "title": "Order",
            "type": "object",
            "properties": {"id": {"type": "string"}, "qty": {"type": "integer"}},
            "required": ["id"],
        }
    )
    serializer = JSONSerializer(schema, client)
    data = serializer({"id": "o-1", "qty": 2}, ctx("jorders"))
    schema_id = int.from_bytes(data[1:5], "big")
    assert client.get_schema(schema_id).schema_type == "JSON"
    assert JSONDeserializer(schema, schema_registry_client=client)(data, ctx("jorders")) == {
        "id": "o-1",
        "qty": 2,
    }
    latest = JSONSerializer(
        schema, client, conf={"auto.register.schemas": False, "use.latest.version": True}
    )
    again = latest({"id": "o-2"}, ctx("jorders"))
    assert int.from_bytes(again[1:5], "big") == schema_id
    assert JSONDeserializer(None, schema_registry_client=client)(again, ctx("jorders")) == {
        "id": "o-2"
    }


# ----- Protobuf serializers --------------------------------------------------------------------

MONEY_PROTO = """syntax = "proto3";
package weirtest.acme;
message Money { int64 cents = 1; string currency = 2; }
"""
ORDER_PROTO = """syntax = "proto3";
package weirtest.acme;
import "weirtest/acme/money.proto";
import "google/protobuf/timestamp.proto";
message Order {
  string id = 1;
  Money total = 2;
  map<string, int32> counts = 3;
  repeated string tags = 4;
  optional string note = 5;
  oneof payer { string card = 6; string account = 7; }
  google.protobuf.Timestamp at = 8;
  enum Kind { KIND_UNSPECIFIED = 0; RETAIL = 1; }
  Kind kind = 9;
  message Line { string sku = 1; }
  repeated Line lines = 10;
}
"""


@pytest.fixture
def order_pb2(tmp_path: Path) -> Iterator[ModuleType]:
    """weirtest.acme.order_pb2, generated now with grpc_tools.protoc."""
    src = tmp_path / "src"
    (src / "weirtest" / "acme").mkdir(parents=True)
    (src / "weirtest" / "acme" / "money.proto").write_text(MONEY_PROTO)
    (src / "weirtest" / "acme" / "order.proto").write_text(ORDER_PROTO)
    out = tmp_path / "gen"
    out.mkdir()
    include = Path(protoc.__file__).parent / "_proto"
    code = protoc.main(
        [
            "protoc",
            f"-I{src}",
            f"-I{include}",
            f"--python_out={out}",
            "weirtest/acme/money.proto",
            "weirtest/acme/order.proto",
        ]
    )
    assert code == 0
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("weirtest.acme.order_pb2")
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == "weirtest" or m.startswith("weirtest.")]:
            del sys.modules[name]


def test_protobuf_serializers_with_imports(
    client: SchemaRegistryClient, order_pb2: ModuleType, server: EmbeddedServer
) -> None:
    order_cls = order_pb2.Order
    serializer = ProtobufSerializer(order_cls, client, {"use.deprecated.format": False})
    message = order_cls(id="o-1", tags=["a", "b"], card="4111", kind=1, note="hi")
    message.total.cents = 250
    message.counts["x"] = 3
    message.lines.add(sku="s-1")
    data = serializer(message, ctx("porders"))
    assert data[0] == 0
    schema_id = int.from_bytes(data[1:5], "big")
    registered = client.get_schema(schema_id)
    assert registered.schema_type == "PROTOBUF"
    assert "message Order" in registered.schema_str
    assert [r.name for r in registered.references] == ["weirtest/acme/money.proto"]
    assert client.get_latest_version("weirtest/acme/money.proto").version == 1
    deserializer = ProtobufDeserializer(order_cls, {"use.deprecated.format": False})
    assert deserializer(data, ctx("porders")) == message
    # Registering again is idempotent, and the gRPC side sees the same schema.
    assert serializer(message, ctx("porders")) == data
    with WeirClient(server.address) as weir:
        assert weir.get_schema(schema_id).text == registered.schema_str
    latest = ProtobufSerializer(
        order_cls,
        client,
        {
            "use.deprecated.format": False,
            "auto.register.schemas": False,
            "use.latest.version": True,
        },
    )
    assert deserializer(latest(message, ctx("porders")), ctx("porders")) == message
