"""Serializer internals without sockets: plans, strategies, caches, framing, errors.

A dict-backed fake registry stands in for SchemaRegistryClient (and, with ``AsyncFake``, for
AsyncSchemaRegistryClient): the same method names and arguments.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections import Counter
from typing import Any

import pytest

from tests.integration.serde_helpers import ORDER_AVRO, ORDER_JSON, order_classes
from weir.core import errors
from weir.core.framing import frame, parse_protobuf_indexes
from weir.core.types import SchemaId, SchemaType, Subject, Version
from weir.sdk import (
    AvroDeserializer,
    AvroSerializer,
    JSONSerializer,
    MessageField,
    ProtobufSerializer,
    SerializationContext,
    record_subject_name_strategy,
    topic_record_subject_name_strategy,
    topic_subject_name_strategy,
)
from weir.sdk._serde import Call, as_dict, references_plan, run, run_async, strategy_arg
from weir.sdk._serde_json_schema import check_record, compile_json
from weir.sdk._serde_protobuf import is_builtin, message_indexes
from weir.sdk._types import RegisteredSchema, Schema, SchemaReference, SubjectVersion

VALUE = SerializationContext("t", MessageField.VALUE)
KEY = SerializationContext("t", MessageField.KEY)
ORDER = {"id": "o", "qty": 1, "price": 2.0, "note": None, "tags": [], "status": "NEW"}


class Fake:
    """An in-memory registry with the client's method names; ids by content."""

    def __init__(self) -> None:
        self.ids: dict[tuple[str, tuple[SchemaReference, ...]], int] = {}
        self.schemas: dict[int, Schema] = {}
        self.subjects: dict[str, list[int]] = {}
        self.calls: Counter[str] = Counter()

    def register(self, subject, text, schema_type, references=()):
        self.calls["register"] += 1
        key = (text, tuple(references))
        sid = self.ids.setdefault(key, len(self.ids) + 1)
        self.schemas[sid] = Schema(SchemaId(sid), SchemaType(schema_type), text, tuple(references))
        versions = self.subjects.setdefault(subject, [])
        if sid not in versions:
            versions.append(sid)
        return RegisteredSchema(SchemaId(sid), Version(versions.index(sid) + 1))

    def lookup(self, subject, text, schema_type, references=()):
        self.calls["lookup"] += 1
        if subject not in self.subjects:
            raise errors.SubjectNotFoundError(f"subject {subject!r} not found")
        sid = self.ids.get((text, tuple(references)))
        if sid not in self.subjects[subject]:
            raise errors.SchemaNotFoundError("schema not found")
        return self._version(subject, self.subjects[subject].index(sid) + 1)

    def get_version(self, subject, version="latest"):
        self.calls["get_version"] += 1
        if subject not in self.subjects:
            raise errors.SubjectNotFoundError(f"subject {subject!r} not found")
        return self._version(
            subject, len(self.subjects[subject]) if version == "latest" else version
        )

    def get_schema(self, schema_id):
        self.calls["get_schema"] += 1
        if schema_id not in self.schemas:
            raise errors.SchemaNotFoundError(f"schema {schema_id} not found")
        return self.schemas[schema_id]

    def _version(self, subject, version):
        sid = self.subjects[subject][version - 1]
        return SubjectVersion(Subject(subject), Version(version), self.schemas[sid])


class AsyncFake:
    """The fake's methods as coroutines, like AsyncSchemaRegistryClient."""

    def __init__(self, fake: Fake) -> None:
        self.fake = fake

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.fake, name)

        async def call(*args: Any) -> Any:
            await asyncio.sleep(0)
            return method(*args)

        return call


# ----- strategies and helpers ---------------------------------------------------------------


def test_strategies_match_confluent_names():
    assert topic_subject_name_strategy(VALUE, "a.B") == "t-value"
    assert topic_subject_name_strategy(KEY, None) == "t-key"
    assert record_subject_name_strategy(None, "a.B") == "a.B"
    assert topic_record_subject_name_strategy(KEY, "a.B") == "t-a.B"
    assert strategy_arg("TOPIC-RECORD") is topic_record_subject_name_strategy
    with pytest.raises(errors.InvalidArgumentError, match="needs the topic"):
        topic_subject_name_strategy(None, "a.B")
    with pytest.raises(errors.InvalidArgumentError, match="needs a named schema"):
        record_subject_name_strategy(VALUE, None)
    with pytest.raises(errors.InvalidArgumentError, match="is unknown"):
        strategy_arg("by-color")


def test_as_dict():
    @dataclasses.dataclass
    class P:
        x: int

    assert as_dict(P(1), VALUE, None) == {"x": 1}
    assert as_dict({"y": 2}, VALUE, None) == {"y": 2}
    assert as_dict(P(1), VALUE, lambda p, ctx: {"x": p.x, "ctx": ctx.topic}) == {"x": 1, "ctx": "t"}
    assert as_dict(P, VALUE, None) is P  # a class is not a record


def test_protobuf_paths_and_builtins():
    classes = order_classes()
    assert message_indexes(classes["Header"].DESCRIPTOR) == (0,)
    assert message_indexes(classes["Order"].DESCRIPTOR) == (1,)
    assert message_indexes(classes["Order.Line"].DESCRIPTOR) == (1, 0)
    assert frame(7, b"", (0,)) == b"\x00\x00\x00\x00\x07\x00"
    framed = frame(7, b"P", (1, 0))
    assert parse_protobuf_indexes(framed) == ((1, 0), 8)
    assert is_builtin("google/protobuf/timestamp.proto")
    assert is_builtin("confluent/meta.proto")
    assert not is_builtin("google/rpc/status.proto")


# ----- plans --------------------------------------------------------------------------------


def test_references_plan_visits_each_once_dependencies_first():
    fake = Fake()
    leaf = fake.register("leaf", "L", "AVRO")
    mid_refs = (SchemaReference("leaf", "leaf", leaf.version),)
    mid = fake.register("mid", "M", "AVRO", mid_refs)
    refs = [SchemaReference("mid", "mid", mid.version), SchemaReference("leaf", "leaf", 1)]
    bundle = run(references_plan(refs), fake)
    assert [(name, schema.text) for name, schema in bundle] == [("leaf", "L"), ("mid", "M")]
    assert fake.calls["get_version"] == 2
    assert asyncio.run(run_async(references_plan(refs), AsyncFake(fake))) == bundle


def test_errors_are_thrown_into_the_plan():
    def plan():
        try:
            yield Call("get_schema", (99,))
        except errors.SchemaNotFoundError as err:
            return f"handled: {err}"
        return "unreachable"

    assert run(plan(), Fake()) == "handled: schema 99 not found"
    assert asyncio.run(run_async(plan(), AsyncFake(Fake()))) == "handled: schema 99 not found"


# ----- serializers with the fake ------------------------------------------------------------


def test_sync_and_async_paths_give_the_same_bytes_and_cache():
    fake = Fake()
    serializer = AvroSerializer(fake, ORDER_AVRO)
    sync_bytes = serializer(ORDER, VALUE)

    async def main():
        aserializer = AvroSerializer(AsyncFake(fake), ORDER_AVRO)
        return [await aserializer.serialize_async(ORDER, VALUE) for _ in range(3)]

    assert asyncio.run(main()) == [sync_bytes] * 3
    assert fake.calls == Counter({"register": 2})  # once per serializer instance


def test_latest_version_cache_expires_after_ttl():
    fake = Fake()
    v1 = json.dumps({"type": "record", "name": "R", "fields": []})
    v2 = json.dumps({"type": "record", "name": "R", "fields": [], "doc": "two"})
    fake.register("t-value", v1, "AVRO")
    forever = AvroSerializer(fake, use_latest_version=True)
    short = AvroSerializer(fake, use_latest_version=True, latest_ttl_s=0.05)
    assert forever({}, VALUE)[4] == short({}, VALUE)[4] == 1
    fake.register("t-value", v2, "AVRO")
    time.sleep(0.06)
    assert forever({}, VALUE)[4] == 1
    assert short({}, VALUE)[4] == 2


def test_protobuf_imports_registered_before_the_file():
    fake = Fake()
    cls = order_classes()["Order"]
    ProtobufSerializer(fake, cls)(cls(id="x"), VALUE)
    assert list(fake.subjects) == ["money.proto", "t-value"]
    order_schema = fake.schemas[fake.subjects["t-value"][0]]
    assert order_schema.references == (SchemaReference("money.proto", "money.proto", 1),)
    fake.calls.clear()
    lookup = ProtobufSerializer(fake, cls, auto_register=False)
    assert lookup(cls(id="x"), VALUE) == ProtobufSerializer(fake, cls)(cls(id="x"), VALUE)
    assert fake.calls["lookup"] == 2  # money.proto, then the file itself


def test_type_mismatch_and_missing_schema():
    fake = Fake()
    json_bytes = JSONSerializer(fake, ORDER_JSON)({"id": "a", "qty": 1}, VALUE)
    with pytest.raises(errors.InvalidArgumentError, match="JSON schema, not AVRO; use JSONDes"):
        AvroDeserializer(fake)(json_bytes, VALUE)
    fake.register("u-value", ORDER_AVRO, "AVRO")
    with pytest.raises(errors.InvalidArgumentError, match="use AvroSerializer"):
        JSONSerializer(fake, use_latest_version=True)({}, SerializationContext("u", "value"))
    with pytest.raises(errors.InvalidArgumentError, match="no schema given"):
        AvroSerializer(fake)


def test_json_fast_path_only_accepts_what_jsonschema_accepts():
    schema = json.dumps(
        {
            "type": "object",
            "properties": {
                "n": {"type": "integer"},
                "mail": {"type": "string", "format": "email"},
                "home": {"$ref": "address.json"},
            },
            "additionalProperties": False,
        }
    )
    address = Schema(SchemaId(1), SchemaType.JSON, json.dumps({"required": ["city"]}))
    compiled = compile_json(schema, [("address.json", address)])
    assert compiled.fast is not None
    cases = [
        {"n": 1},
        {"n": True},
        {"n": 1.0},
        {"n": 1.5},
        {"n": "1"},
        {"mail": "not an email"},
        {"home": {"city": "x"}},
        {"home": {}},
        {"other": 1},
        {"n": 10**30},
        [],
    ]
    for case in cases:
        if compiled.fast(case):
            assert compiled.validator.is_valid(case), case
    assert compiled.fast({"home": {"city": "x"}, "n": 2})
    with pytest.raises(errors.InvalidRecordError, match="at /home: 'city' is a required"):
        check_record(compiled, {"home": {}}, 5)
