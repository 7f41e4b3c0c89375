"""Byte equality with confluent-kafka's serializers, and reading each other's bytes.

Confluent's serializers run against its ``mock://`` registry client; ours against a real
server. The mock is padded with unrelated schemas so its ids are not 1, 2, 3; each schema it
assigned is then copied into Weir with the same id (IMPORT mode over gRPC). Our serializers
auto-register as usual, so the ids in our frames come from our registry: equal bytes mean the
same id and the same payload encoding.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka.schema_registry import (
    SchemaRegistryClient as MockRegistry,
)
from confluent_kafka.schema_registry import (
    record_subject_name_strategy as c_record_strategy,
)
from confluent_kafka.schema_registry import (
    topic_subject_name_strategy as c_topic_strategy,
)
from confluent_kafka.schema_registry.avro import AvroDeserializer as CAvroDeserializer
from confluent_kafka.schema_registry.avro import AvroSerializer as CAvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer as CJSONDeserializer
from confluent_kafka.schema_registry.json_schema import JSONSerializer as CJSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer as CProtoDeserializer
from confluent_kafka.schema_registry.protobuf import ProtobufSerializer as CProtoSerializer
from confluent_kafka.serialization import MessageField as CField
from confluent_kafka.serialization import SerializationContext as CContext

from tests.integration.serde_helpers import ORDER_AVRO, ORDER_JSON, mirror, order_classes, pad_mock
from weir.core.framing import parse_header
from weir.sdk import (
    AvroDeserializer,
    AvroSerializer,
    JSONDeserializer,
    JSONSerializer,
    MessageField,
    ProtobufDeserializer,
    ProtobufSerializer,
    SchemaRegistryClient,
    SerializationContext,
)

TOPIC = "orders"
CLASSES = order_classes()
AVRO_RECORDS = [
    {
        "id": "o-1",
        "qty": 3,
        "price": 9.5,
        "note": None,
        "tags": ["a", "é"],
        "status": "NEW",
    },
    {
        "id": "o-2" * 40,
        "qty": -(2**31),
        "price": -0.0,
        "note": "gift",
        "tags": [],
        "status": "PAID",
    },
]
JSON_RECORDS = [
    {"id": "o-1", "qty": 3},
    {"id": "ünïcode ✓", "qty": 2**40, "address": {"city": "Zürich"}, "extra": [1.5, None, True]},
]


def mock_registry() -> MockRegistry:
    mock = MockRegistry.new_client({"url": f"mock://{uuid.uuid4().hex}"})
    pad_mock(mock, 5)
    return mock


@pytest.fixture
def client(server) -> Iterator[SchemaRegistryClient]:
    with SchemaRegistryClient(server.address) as registry:
        yield registry


def contexts(field: MessageField = MessageField.VALUE) -> tuple[CContext, SerializationContext]:
    c_field = CField.VALUE if field == MessageField.VALUE else CField.KEY
    return CContext(TOPIC, c_field), SerializationContext(TOPIC, field)


# ----- Avro ---------------------------------------------------------------------------------


@pytest.mark.parametrize("field", [MessageField.VALUE, MessageField.KEY])
def test_avro_bytes_equal_confluent(server, client, field):
    mock = mock_registry()
    c_ctx, ctx = contexts(field)
    theirs = CAvroSerializer(mock, ORDER_AVRO, conf={"subject.name.strategy": c_topic_strategy})
    expected = [theirs(r, c_ctx) for r in AVRO_RECORDS]
    assert parse_header(expected[0]) == 6  # five pads, then this schema
    mirror(mock, server.address, [f"{TOPIC}-{field}"])

    ours = AvroSerializer(client, ORDER_AVRO)
    assert [ours(r, ctx) for r in AVRO_RECORDS] == expected

    # Each reads the other's bytes.
    c_reader = CAvroDeserializer(mock)
    our_reader = AvroDeserializer(client)
    assert [our_reader(b, ctx) for b in expected] == AVRO_RECORDS
    assert [c_reader(ours(r, ctx), c_ctx) for r in AVRO_RECORDS] == AVRO_RECORDS


def test_avro_record_strategy_and_latest_version_match_confluent(server, client):
    mock = mock_registry()
    c_ctx, ctx = contexts()
    conf = {"subject.name.strategy": c_record_strategy}
    expected = CAvroSerializer(mock, ORDER_AVRO, conf=conf)(AVRO_RECORDS[0], c_ctx)
    assert mock.get_subjects()[-1] == "acme.Order"
    mirror(mock, server.address, ["acme.Order"])
    ours = AvroSerializer(client, ORDER_AVRO, subject_name_strategy="record")
    assert ours(AVRO_RECORDS[0], ctx) == expected

    latest_conf = {**conf, "use.latest.version": True, "auto.register.schemas": False}
    theirs_latest = CAvroSerializer(mock, ORDER_AVRO, conf=latest_conf)
    ours_latest = AvroSerializer(
        client, ORDER_AVRO, subject_name_strategy="record", use_latest_version=True
    )
    assert ours_latest(AVRO_RECORDS[1], ctx) == theirs_latest(AVRO_RECORDS[1], c_ctx)


# ----- JSON Schema --------------------------------------------------------------------------


def test_json_bytes_equal_confluent(server, client):
    mock = mock_registry()
    c_ctx, ctx = contexts()
    theirs = CJSONSerializer(ORDER_JSON, mock, conf={"subject.name.strategy": c_topic_strategy})
    expected = [theirs(r, c_ctx) for r in JSON_RECORDS]
    assert parse_header(expected[0]) == 6
    mirror(mock, server.address, [f"{TOPIC}-value"])

    ours = JSONSerializer(client, ORDER_JSON)
    assert [ours(r, ctx) for r in JSON_RECORDS] == expected

    c_reader = CJSONDeserializer(None, schema_registry_client=mock)
    our_reader = JSONDeserializer(client)
    assert [our_reader(b, ctx) for b in expected] == JSON_RECORDS
    assert [c_reader(ours(r, ctx), c_ctx) for r in JSON_RECORDS] == JSON_RECORDS


# ----- Protobuf -----------------------------------------------------------------------------


def sample_order():
    order = CLASSES["Order"](id="o-1", tags={"b": "2", "a": "1"})
    order.total.cents = 1250
    order.total.currency = "EUR"
    order.lines.add(sku="sku-1", qty=2)
    order.lines.add(sku="sku-2", qty=1)
    order.at.seconds = 1_700_000_000
    return order


@pytest.mark.parametrize(
    ("name", "indexes"),
    [("Header", b"\x00"), ("Order", b"\x02\x02"), ("Order.Line", b"\x04\x02\x00")],
)
def test_protobuf_bytes_equal_confluent(server, client, name, indexes):
    cls = CLASSES[name]
    message = {
        "Header": lambda: cls(source="web"),
        "Order": sample_order,
        "Order.Line": lambda: cls(sku="sku-9", qty=7),
    }[name]()
    mock = mock_registry()
    c_ctx, ctx = contexts()
    theirs = CProtoSerializer(cls, mock, conf={"subject.name.strategy": c_topic_strategy})
    expected = theirs(message, c_ctx)
    # Confluent registered money.proto first (a reference, subject = import path), then ours.
    assert mock.get_latest_version("money.proto").schema_id == 6
    assert parse_header(expected) == 7
    assert expected[5 : 5 + len(indexes)] == indexes
    mirror(mock, server.address, ["money.proto", f"{TOPIC}-value"])

    ours = ProtobufSerializer(client, cls)
    assert ours(message, ctx) == expected
    assert client.get_version("money.proto").schema.id == 6  # found, not registered anew

    our_reader = ProtobufDeserializer(client, cls)
    c_reader = CProtoDeserializer(cls, {}, schema_registry_client=mock)
    assert our_reader(expected, ctx) == message
    assert c_reader(ours(message, ctx), c_ctx) == message


def test_protobuf_fresh_registration_matches_confluent_ids(server, client):
    """Unpadded, both registries assign ids in the same order: the imported file first."""
    mock = MockRegistry.new_client({"url": f"mock://{uuid.uuid4().hex}"})
    c_ctx, ctx = contexts()
    message = sample_order()
    theirs = CProtoSerializer(
        CLASSES["Order"], mock, conf={"subject.name.strategy": c_topic_strategy}
    )
    ours = ProtobufSerializer(client, CLASSES["Order"])
    assert ours(message, ctx) == theirs(message, c_ctx)
    order_schema = client.get_version(f"{TOPIC}-value").schema
    assert order_schema is not None
    assert [(r.name, r.subject, r.version) for r in order_schema.references] == [
        ("money.proto", "money.proto", 1)
    ]
    assert "message Order" in order_schema.text  # stored as .proto text, not base64
