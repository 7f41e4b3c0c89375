"""The schema serializers against a real server, sync and asyncio.

Subjects, registration modes, caching (steady state makes no RPC), dataclasses, reader
schemas, references, clear errors, and base64 protobuf descriptors over gRPC.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.serde_helpers import ORDER_AVRO, ORDER_JSON, order_classes
from weir.core import errors
from weir.core.framing import frame, parse_header
from weir.sdk import (
    AsyncSchemaRegistryClient,
    AvroDeserializer,
    AvroSerializer,
    JSONDeserializer,
    JSONSerializer,
    MessageField,
    ProtobufDeserializer,
    ProtobufSerializer,
    SchemaReference,
    SchemaRegistryClient,
    SchemaType,
    SerializationContext,
    StringDeserializer,
    StringSerializer,
    topic_subject_name_strategy,
)

CLASSES = order_classes()
VALUE = SerializationContext("orders", MessageField.VALUE)
KEY = SerializationContext("orders", MessageField.KEY)
ORDER = {"id": "o-1", "qty": 2, "price": 1.5, "note": None, "tags": ["x"], "status": "NEW"}


class Counting:
    """A registry proxy that counts calls by method name."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def counted(*args: Any) -> Any:
            self.calls[name] += 1
            return method(*args)

        return counted


@pytest.fixture
def client(server) -> Iterator[SchemaRegistryClient]:
    with SchemaRegistryClient(server.address) as registry:
        yield registry


def avro(name: str, fields: list[dict[str, Any]], namespace: str = "acme") -> str:
    return json.dumps({"type": "record", "name": name, "namespace": namespace, "fields": fields})


# ----- Avro ---------------------------------------------------------------------------------


def test_avro_round_trip_and_steady_state_makes_no_rpc(client):
    counting = Counting(client)
    serializer = AvroSerializer(counting, ORDER_AVRO)
    deserializer = AvroDeserializer(counting)
    first = serializer(ORDER, VALUE)
    assert counting.calls == Counter({"register": 1})
    for _ in range(50):
        assert deserializer(serializer(ORDER, VALUE), VALUE) == ORDER
    assert counting.calls == Counter({"register": 1, "get_schema": 1})
    assert parse_header(first) == client.get_version("orders-value").schema.id
    assert serializer(None, VALUE) is None
    assert deserializer(None, VALUE) is None


@pytest.mark.parametrize(
    ("strategy", "ctx", "subject"),
    [
        ("topic", VALUE, "orders-value"),
        ("topic", KEY, "orders-key"),
        ("record", VALUE, "acme.Order"),
        ("topic_record", KEY, "orders-acme.Order"),
        (topic_subject_name_strategy, KEY, "orders-key"),
        (lambda ctx, name: f"custom.{ctx.field}.{name}", VALUE, "custom.value.acme.Order"),
    ],
)
def test_avro_subject_name_strategies(client, strategy, ctx, subject):
    data = AvroSerializer(client, ORDER_AVRO, subject_name_strategy=strategy)(ORDER, ctx)
    assert client.list_subjects() == [subject]
    assert parse_header(data) == client.get_version(subject).schema.id


def test_avro_dataclasses_in_and_out(client):
    @dataclasses.dataclass
    class Point:
        x: int
        y: int

    schema = avro("Point", [{"name": "x", "type": "int"}, {"name": "y", "type": "int"}])
    data = AvroSerializer(client, schema)(Point(3, -4), VALUE)
    assert AvroDeserializer(client)(data, VALUE) == {"x": 3, "y": -4}
    back = AvroDeserializer(client, from_dict=lambda d, ctx: Point(**d))(data, VALUE)
    assert back == Point(3, -4)
    swapped = AvroSerializer(client, schema, to_dict=lambda p, ctx: {"x": p.y, "y": p.x})
    assert AvroDeserializer(client)(swapped(Point(1, 2), VALUE), VALUE) == {"x": 2, "y": 1}


def test_avro_without_auto_register(client):
    serializer = AvroSerializer(client, ORDER_AVRO, auto_register=False)
    with pytest.raises(errors.NotFoundError) as caught:
        serializer(ORDER, VALUE)
    assert "orders-value" in str(caught.value)
    assert "auto_register=True" in str(caught.value)
    registered = client.register("orders-value", ORDER_AVRO, SchemaType.AVRO)
    assert parse_header(serializer(ORDER, VALUE)) == registered.id


def test_avro_use_latest_version_and_reader_schema(client):
    v1 = avro("User", [{"name": "name", "type": "string"}])
    v2 = avro(
        "User",
        [{"name": "name", "type": "string"}, {"name": "age", "type": "int", "default": -1}],
    )
    client.register("users-value", v1, SchemaType.AVRO)
    id2 = client.register("users-value", v2, SchemaType.AVRO).id
    counting = Counting(client)
    latest = AvroSerializer(counting, use_latest_version=True)
    data = latest({"name": "ann", "age": 7}, SerializationContext("users", MessageField.VALUE))
    assert parse_header(data) == id2
    assert counting.calls == Counter({"get_version": 1})
    # A v1 record read with the v2 reader schema gets the default; v2 read as v1 loses age.
    old = AvroSerializer(client, v1)({"name": "bob"}, SerializationContext("users", "value"))
    assert AvroDeserializer(client, v2)(old, VALUE) == {"name": "bob", "age": -1}
    assert AvroDeserializer(client, v1)(data, VALUE) == {"name": "ann"}
    with pytest.raises(errors.InvalidArgumentError, match="cannot both be on"):
        AvroSerializer(client, v1, auto_register=True, use_latest_version=True)


def test_avro_references(client):
    money = avro("Money", [{"name": "cents", "type": "long"}])
    invoice = avro("Invoice", [{"name": "total", "type": "acme.Money"}])
    version = client.register("money", money, SchemaType.AVRO).version
    refs = [SchemaReference("acme.Money", "money", version)]
    serializer = AvroSerializer(client, invoice, references=refs, subject_name_strategy="record")
    data = serializer({"total": {"cents": 99}}, VALUE)
    assert client.get_version("acme.Invoice").schema.references == tuple(refs)
    assert AvroDeserializer(client)(data, VALUE) == {"total": {"cents": 99}}


def test_avro_errors_say_what_and_where(client):
    serializer = AvroSerializer(client, ORDER_AVRO)
    bad = {**ORDER, "tags": ["ok", 5]}
    with pytest.raises(errors.InvalidRecordError, match=r"acme\.Order\.tags") as caught:
        serializer(bad, VALUE)
    assert "expected" in str(caught.value)
    with pytest.raises(errors.InvalidSchemaError, match="not valid JSON"):
        AvroSerializer(client, "{nope")
    with pytest.raises(errors.InvalidSchemaError, match="not valid Avro"):
        AvroSerializer(client, json.dumps({"type": "record", "name": "X", "fields": [{"a": 1}]}))
    good = serializer(ORDER, VALUE)
    deserializer = AvroDeserializer(client)
    with pytest.raises(errors.InvalidRecordError, match="cannot decode"):
        deserializer(good[:8], VALUE)
    with pytest.raises(errors.InvalidRecordError, match="bytes left"):
        deserializer(good + b"\x00\x00", VALUE)
    with pytest.raises(errors.InvalidRecordError, match="magic byte"):
        deserializer(b"\x01" + good[1:], VALUE)
    with pytest.raises(errors.NotFoundError):
        deserializer(frame(4242, b"\x00"), VALUE)
    json_bytes = JSONSerializer(client, ORDER_JSON)({"id": "a", "qty": 1}, KEY)
    with pytest.raises(errors.InvalidArgumentError, match="use JSONDeserializer"):
        deserializer(json_bytes, KEY)


# ----- JSON Schema --------------------------------------------------------------------------


def test_json_validates_before_sending_and_round_trips(client):
    serializer = JSONSerializer(client, ORDER_JSON)
    record = {"id": "o-1", "qty": 3, "address": {"city": "Oslo"}}
    data = serializer(record, VALUE)
    assert data[5:] == b'{"id":"o-1","qty":3,"address":{"city":"Oslo"}}'
    assert JSONDeserializer(client)(data, VALUE) == record
    with pytest.raises(errors.InvalidRecordError, match=r"at /address/city: 5 is not of type"):
        serializer({"id": "o-2", "qty": 1, "address": {"city": 5}}, VALUE)
    with pytest.raises(errors.InvalidRecordError, match=r"at /qty: 0 is less than the minimum"):
        serializer({"id": "o-2", "qty": 0}, VALUE)
    assert client.list_subjects() == ["orders-value"]  # the bad records registered nothing new
    assert JSONSerializer(client, ORDER_JSON, validate=False)({"qty": 0}, VALUE)[5:] == b'{"qty":0}'


def test_json_record_strategy_uses_title_and_dataclasses(client):
    @dataclasses.dataclass
    class Order:
        id: str
        qty: int

    serializer = JSONSerializer(client, ORDER_JSON, subject_name_strategy="record")
    data = serializer(Order("o-9", 4), VALUE)
    assert client.list_subjects() == ["Order"]
    reader = JSONDeserializer(client, from_dict=lambda d, ctx: Order(**d))
    assert reader(data, VALUE) == Order("o-9", 4)
    untitled = json.dumps({"type": "object"})
    with pytest.raises(errors.InvalidArgumentError, match="'title'"):
        JSONSerializer(client, untitled, subject_name_strategy="record")({}, VALUE)


def test_json_deserializer_with_own_schema_does_not_ask_registry(client):
    data = JSONSerializer(client, ORDER_JSON)({"id": "x", "qty": 2}, VALUE)
    counting = Counting(client)
    strict = json.dumps({"type": "object", "required": ["name"]})
    with pytest.raises(errors.InvalidRecordError, match="'name' is a required property"):
        JSONDeserializer(counting, strict)(data, VALUE)
    assert JSONDeserializer(counting, ORDER_JSON)(data, VALUE) == {"id": "x", "qty": 2}
    assert not counting.calls
    with pytest.raises(errors.InvalidRecordError, match="not valid JSON"):
        JSONDeserializer(counting, ORDER_JSON)(data[:5] + b"{oops", VALUE)


def test_json_references(client):
    address = json.dumps({"type": "object", "properties": {"city": {"type": "string"}}})
    version = client.register("address", address, SchemaType.JSON).version
    person = json.dumps({"type": "object", "properties": {"home": {"$ref": "address.json"}}})
    refs = [SchemaReference("address.json", "address", version)]
    serializer = JSONSerializer(client, person, references=refs)
    data = serializer({"home": {"city": "Rome"}}, VALUE)
    assert JSONDeserializer(client)(data, VALUE) == {"home": {"city": "Rome"}}
    with pytest.raises(errors.InvalidRecordError, match="/home/city"):
        serializer({"home": {"city": 1}}, VALUE)


# ----- Protobuf -----------------------------------------------------------------------------


def test_protobuf_round_trip_registers_imports_as_references(client):
    counting = Counting(client)
    line_cls = CLASSES["Order.Line"]
    serializer = ProtobufSerializer(counting, line_cls)
    data = serializer(line_cls(sku="a", qty=3), VALUE)
    assert data[5:8] == b"\x04\x02\x00"  # path [1, 0]: Order.Line
    assert counting.calls == Counter({"register": 2})  # money.proto, then order.proto
    assert client.list_subjects() == ["money.proto", "orders-value"]
    for _ in range(20):
        serializer(line_cls(sku="b"), VALUE)
    assert counting.calls == Counter({"register": 2})
    reader = ProtobufDeserializer(counting, line_cls)
    assert reader(data, VALUE) == line_cls(sku="a", qty=3)
    with pytest.raises(errors.InvalidArgumentError, match="pass a Line message"):
        serializer(CLASSES["Header"](), VALUE)
    with pytest.raises(errors.InvalidRecordError, match=r"cannot decode a acme\.Order\.Line"):
        reader(data[:8] + b"\xff\xff", VALUE)
    with pytest.raises(errors.InvalidArgumentError, match="generated protobuf message class"):
        ProtobufSerializer(client, dict)  # type: ignore[arg-type]


def test_protobuf_record_strategy_and_lookup_only(client):
    header_cls = CLASSES["Header"]
    lookup_only = ProtobufSerializer(client, header_cls, auto_register=False)
    with pytest.raises(errors.NotFoundError, match=r"money\.proto"):
        lookup_only(header_cls(source="x"), VALUE)
    data = ProtobufSerializer(client, header_cls, subject_name_strategy="record")(
        header_cls(source="x"), VALUE
    )
    assert data[5] == 0  # the first message: one 0 byte
    assert "acme.Header" in client.list_subjects()
    found = ProtobufSerializer(
        client, header_cls, auto_register=False, subject_name_strategy="record"
    )
    assert found(header_cls(source="x"), VALUE) == data


def test_base64_descriptor_over_grpc(client):
    file = CLASSES["Money"].DESCRIPTOR.file
    encoded = base64.b64encode(file.serialized_pb).decode()
    registered = client.register("money.proto", encoded, SchemaType.PROTOBUF)
    stored = client.get_schema(registered.id)
    assert stored.text.startswith('syntax = "proto3";')
    assert "message Money" in stored.text
    as_text = client.lookup("money.proto", stored.text, SchemaType.PROTOBUF)
    as_base64 = client.lookup("money.proto", encoded, SchemaType.PROTOBUF)
    assert as_text.schema.id == as_base64.schema.id == registered.id
    assert client.check_compatibility("money.proto", encoded, SchemaType.PROTOBUF).compatible
    assert client.register("money.proto", stored.text, SchemaType.PROTOBUF) == registered
    with pytest.raises(errors.InvalidSchemaError):
        client.register("junk", "bm90IGEgZGVzY3JpcHRvcg==", SchemaType.PROTOBUF)


# ----- strings and asyncio ------------------------------------------------------------------


def test_string_serde():
    assert StringSerializer()("clé", KEY) == "clé".encode()
    assert StringDeserializer()("clé".encode(), KEY) == "clé"
    assert StringSerializer("latin-1")("clé", KEY) == "clé".encode("latin-1")
    assert StringSerializer()(None, KEY) is None
    with pytest.raises(errors.InvalidArgumentError, match="not str"):
        StringSerializer()(5, KEY)
    with pytest.raises(errors.InvalidRecordError, match="not valid utf-8"):
        StringDeserializer()(b"\xff", KEY)
    with pytest.raises(errors.InvalidArgumentError, match="unknown text codec"):
        StringSerializer("klingon")


def test_async_serializers_share_caches_and_bytes(server, client):
    sync_bytes = {
        "avro": AvroSerializer(client, ORDER_AVRO)(ORDER, VALUE),
        "json": JSONSerializer(client, ORDER_JSON)({"id": "j", "qty": 1}, KEY),
    }
    line = CLASSES["Order.Line"](sku="s", qty=1)

    async def main() -> None:
        async with AsyncSchemaRegistryClient(server.address) as aclient:
            counting = Counting(aclient)
            avro_ser = AvroSerializer(counting, ORDER_AVRO)
            json_ser = JSONSerializer(counting, ORDER_JSON)
            proto_ser = ProtobufSerializer(counting, CLASSES["Order.Line"])
            for _ in range(3):
                assert await avro_ser.serialize_async(ORDER, VALUE) == sync_bytes["avro"]
                json_bytes = await json_ser.serialize_async({"id": "j", "qty": 1}, KEY)
                assert json_bytes == sync_bytes["json"]
                proto_bytes = await proto_ser.serialize_async(
                    line, SerializationContext("p", "value")
                )
            assert counting.calls == Counter({"register": 4})
            assert await AvroDeserializer(counting).deserialize_async(sync_bytes["avro"]) == ORDER
            decoded = await JSONDeserializer(counting).deserialize_async(json_bytes, KEY)
            assert decoded == {"id": "j", "qty": 1}
            reader = ProtobufDeserializer(counting, CLASSES["Order.Line"])
            assert await reader.deserialize_async(proto_bytes) == line
            with pytest.raises(errors.InvalidRecordError, match=r"at /qty"):
                await json_ser.serialize_async({"id": "j", "qty": "1"}, KEY)
            latest = AvroSerializer(counting, use_latest_version=True)
            assert await latest.serialize_async(ORDER, VALUE) == sync_bytes["avro"]
            with pytest.raises(errors.NotFoundError, match="auto_register=True"):
                await JSONSerializer(aclient, ORDER_JSON, auto_register=False).serialize_async(
                    {"id": "j", "qty": 1}, SerializationContext("unknown", "value")
                )

    asyncio.run(main())
