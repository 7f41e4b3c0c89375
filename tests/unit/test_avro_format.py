"""The Avro format: errors that say where, references, canonical text and the validator."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_writer

from weir.core.errors import InvalidRecordError, InvalidReferenceError, InvalidSchemaError
from weir.core.types import SchemaType
from weir.registry.formats import ResolvedReference, get_format
from weir.registry.formats.avro import AVRO, AvroSchema
from weir.registry.formats.avro_canonical import to_fastavro
from weir.registry.formats.base import ParsedSchema, RecordValidator


def record(*fields: dict[str, Any], name: str = "R", **extra: Any) -> str:
    return json.dumps({"type": "record", "name": name, "fields": list(fields), **extra})


def test_registered_under_avro() -> None:
    assert get_format(SchemaType.AVRO) is AVRO
    assert isinstance(AVRO.parse('"int"'), AvroSchema)


# ---------------------------------------------------------------- errors name the place


def test_json_syntax_error_names_line_and_column() -> None:
    text = '{\n  "type": "record",\n  "name": "R"\n  "fields": []\n}'
    with pytest.raises(InvalidSchemaError) as info:
        AVRO.parse(text)
    assert "line 4, column 3" in str(info.value)
    assert info.value.metadata == {"line": "4", "column": "3"}


def test_nan_is_not_json() -> None:
    with pytest.raises(InvalidSchemaError, match="NaN"):
        AVRO.parse(record({"name": "x", "type": "double", "default": float("nan")}))


INVALID = [
    pytest.param(
        record(
            {"name": "a", "type": "int"}, {"name": "b", "type": "int"}, {"name": "c", "type": "Foo"}
        ),
        "/fields/2/type",
        "unknown type 'Foo'",
        id="unknown-type",
    ),
    pytest.param(
        record({"name": "a", "type": "int", "default": "zero"}),
        "/fields/0/default",
        '"zero" is not a valid int',
        id="default-wrong-type",
    ),
    pytest.param(
        record({"name": "a", "type": "int", "default": 2**31}),
        "/fields/0/default",
        "not a valid int",
        id="default-int-out-of-range",
    ),
    pytest.param(
        record({"name": "a", "type": ["null", "int"], "default": "x"}),
        "/fields/0/default",
        "fits no branch of the union",
        id="default-fits-no-union-branch",
    ),
    pytest.param(
        record(
            {
                "name": "a",
                "type": {"type": "record", "name": "S", "fields": [{"name": "x", "type": "int"}]},
                "default": {},
            }
        ),
        "/fields/0/default",
        "record field 'x' is missing",
        id="default-record-missing-field",
    ),
    pytest.param(
        record({"name": "a", "type": "int"}, {"name": "a", "type": "long"}),
        "/fields/1/name",
        "duplicate field name 'a'",
        id="duplicate-field",
    ),
    pytest.param(record(name="1User"), "/name", "not a valid Avro name", id="bad-record-name"),
    pytest.param(
        record(name="Us er", namespace="com.acme"), "/name", "'com.acme.Us er'", id="bad-name-in-ns"
    ),
    pytest.param(
        record(name="com.1x.User"), "/name", "not a valid Avro name", id="bad-dotted-name"
    ),
    pytest.param(
        record(name="User", namespace="com..acme"),
        "/namespace",
        "not a valid Avro name",
        id="bad-ns",
    ),
    pytest.param(
        record({"name": "a-b", "type": "int"}),
        "/fields/0/name",
        "not a valid Avro name",
        id="bad-field",
    ),
    pytest.param(
        '{"type":"enum","name":"E","symbols":["A","b c"]}',
        "/symbols/1",
        "not a valid symbol",
        id="bad-enum-symbol",
    ),
    pytest.param(
        '{"type":"enum","name":"E","symbols":["A","A"]}',
        "/symbols/1",
        "duplicate enum symbol",
        id="duplicate-enum-symbol",
    ),
    pytest.param(
        '{"type":"enum","name":"E","symbols":["A"],"default":"B"}',
        "/default",
        "one of its symbols",
        id="enum-default-not-a-symbol",
    ),
    pytest.param('{"type":"enum","name":"E"}', "/", "'symbols' array", id="enum-no-symbols"),
    pytest.param('{"type":"fixed","name":"F"}', "/", "'size'", id="fixed-without-size"),
    pytest.param('{"type":"fixed","name":"F","size":-1}', "/size", "'size'", id="fixed-bad-size"),
    pytest.param('{"type":"record","name":"R"}', "/", "'fields' array", id="record-no-fields"),
    pytest.param('{"type":"array"}', "/", "'items'", id="array-no-items"),
    pytest.param('{"type":"map","items":"int"}', "/", "'values'", id="map-no-values"),
    pytest.param(
        record({"name": "a", "type": ["int", "string", "int"]}),
        "/fields/0/type/2",
        "already has a 'int' branch",
        id="union-duplicate-branch",
    ),
    pytest.param('["int", ["null"]]', "/1", "another union", id="nested-union"),
    pytest.param(record({"name": "a"}), "/fields/0", "no 'type'", id="field-no-type"),
    pytest.param('{"name": "R"}', "/", "'type' attribute", id="no-type"),
    pytest.param('{"type": "strng"}', "/type", "unknown type 'strng'", id="misspelt-primitive"),
    pytest.param("42", "/", "not a number", id="number"),
    pytest.param(
        record({"name": "a", "type": "int", "order": "up"}), "/fields/0/order", "order", id="order"
    ),
    pytest.param(record(name="int"), "/name", "primitive", id="named-after-primitive"),
    pytest.param(
        record(
            {"name": "a", "type": {"type": "fixed", "name": "R", "size": 1}},
        ),
        "/fields/0/type/name",
        "already defined",
        id="redefined-name",
    ),
]


@pytest.mark.parametrize(("text", "path", "fragment"), INVALID)
def test_invalid_schema_names_the_path(text: str, path: str, fragment: str) -> None:
    with pytest.raises(InvalidSchemaError) as info:
        AVRO.parse(text)
    assert type(info.value) is InvalidSchemaError
    assert info.value.metadata["path"] == path
    assert f"at {path}:" in str(info.value)
    assert fragment in str(info.value)


def test_very_deep_nesting_is_a_clean_error() -> None:
    text = '{"type":"array","items":' * 5000 + '"int"' + "}" * 5000
    with pytest.raises(InvalidSchemaError, match="too deeply"):
        AVRO.parse(text)


def test_what_avro_allows_is_accepted() -> None:
    schema = AVRO.parse(
        record(
            {"name": "n", "type": ["null", "string"], "default": None},
            {"name": "s", "type": ["string", "null"], "default": "x"},
            {"name": "d", "type": "double", "default": 1},
            {"name": "m", "type": {"type": "map", "values": "long"}, "default": {"k": 5}},
            {
                "name": "e",
                "type": {"type": "enum", "name": "E", "symbols": ["A", "B"]},
                "default": "B",
            },
            {"name": "u", "type": ["null", "int"], "default": 3},
            {"name": "self", "type": ["null", "R"], "default": None},
            {"name": "err", "type": {"type": "error", "name": "Oops", "fields": []}},
        )
    )
    assert schema.named.keys() == {"R", "E", "Oops"}


# ---------------------------------------------------------------- references

ADDRESS = (
    '{"type":"record","name":"Address","namespace":"com.acme",'
    '"fields":[{"name":"street","type":"string"}]}'
)
COUNTRY = '{"type":"enum","name":"Country","namespace":"geo","symbols":["NL","DE"]}'


def test_reference_makes_named_types_available() -> None:
    address = AVRO.parse(ADDRESS)
    user = AVRO.parse(
        '{"type":"record","name":"User","namespace":"com.acme","fields":'
        '[{"name":"home","type":"Address"},{"name":"work","type":"com.acme.Address"}]}',
        [ResolvedReference("com.acme.Address", address)],
    )
    assert '"type":"com.acme.Address"' in user.canonical
    assert '"street"' not in user.canonical  # the referenced type is not inlined
    assert "com.acme.Address" in user.named
    renamed = AVRO.parse(user.text, [ResolvedReference("other-subject", address)])
    assert renamed.canonical == user.canonical
    assert renamed.fingerprint != user.fingerprint  # references are part of the identity


def test_references_are_transitive() -> None:
    country = AVRO.parse(COUNTRY)
    address = AVRO.parse(
        '{"type":"record","name":"Address","namespace":"com.acme","fields":'
        '[{"name":"country","type":"geo.Country"}]}',
        [ResolvedReference("geo.Country", country)],
    )
    user = AVRO.parse(
        record({"name": "home", "type": "com.acme.Address"}, {"name": "c", "type": "geo.Country"}),
        [ResolvedReference("com.acme.Address", address)],
    )
    payload = _encode(user, {"home": {"country": "DE"}, "c": "NL"})
    user.validator().validate(payload)


def test_unknown_type_without_reference_is_a_schema_error() -> None:
    with pytest.raises(InvalidSchemaError) as info:
        AVRO.parse(record({"name": "home", "type": "com.acme.Address"}))
    assert type(info.value) is InvalidSchemaError
    assert "unknown type 'com.acme.Address'" in str(info.value)
    assert "reference" in str(info.value)


def test_reference_that_does_not_define_the_type_is_a_reference_error() -> None:
    wrong = AVRO.parse('{"type":"record","name":"Other","fields":[]}')
    with pytest.raises(InvalidReferenceError) as info:
        AVRO.parse(
            record({"name": "home", "type": "com.acme.Address"}),
            [ResolvedReference("com.acme.Address", wrong)],
        )
    assert "com.acme.Address" in str(info.value)
    assert info.value.metadata["path"] == "/fields/0/type"


def test_reference_to_another_format_is_rejected() -> None:
    class Foreign(ParsedSchema):
        schema_type = SchemaType.JSON
        text = "{}"
        references = ()

        @property
        def canonical(self) -> str:
            return "{}"

        def validator(self) -> RecordValidator:
            raise NotImplementedError

    with pytest.raises(InvalidReferenceError, match="only reference Avro"):
        AVRO.parse('"int"', [ResolvedReference("x.json", Foreign())])


def test_redefining_a_referenced_type_is_an_error() -> None:
    with pytest.raises(InvalidSchemaError, match="already defined"):
        AVRO.parse(ADDRESS, [ResolvedReference("com.acme.Address", AVRO.parse(ADDRESS))])


# ---------------------------------------------------------------- canonical form


def test_canonical_text_is_compact_qualified_and_ordered() -> None:
    text = """
    {
      "namespace": "com.acme", "fields": [
        {"type": {"type": "string"}, "name": "id", "doc": "key"},
        {"default": null, "name": "tags",
         "type": ["null", {"items": "string", "type": "array"}]},
        {"name": "when", "type": {"logicalType": "timestamp-millis", "type": "long"}},
        {"name": "kind", "type": {"name": "Kind", "type": "enum", "symbols": ["A", "B"],
                                  "default": "A", "aliases": ["OldKind"]}}
      ],
      "type": "record", "name": "User", "x-owner": {"team": "core", "id": 7}
    }
    """
    assert AVRO.parse(text).canonical == (
        '{"name":"com.acme.User","type":"record","fields":['
        '{"name":"id","type":"string","doc":"key"},'
        '{"name":"tags","type":["null",{"type":"array","items":"string"}],"default":null},'
        '{"name":"when","type":{"type":"long","logicalType":"timestamp-millis"}},'
        '{"name":"kind","type":{"name":"com.acme.Kind","type":"enum",'
        '"aliases":["com.acme.OldKind"],"symbols":["A","B"],"default":"A"}}],'
        '"x-owner":{"id":7,"team":"core"}}'
    )


def test_canonical_ignores_whitespace_key_order_and_qualification() -> None:
    a = (
        '{"type":"record","name":"User","namespace":"com.acme",'
        '"fields":[{"name":"a","type":"int"}]}'
    )
    b = (
        '{\r\n "fields": [ {"type": {"type":"int"}, "name": "a"} ],'
        '\r\n "name": "com.acme.User",\r\n "type": "record"\r\n}'
    )
    assert AVRO.parse(a).canonical == AVRO.parse(b).canonical
    assert AVRO.parse(a).fingerprint == AVRO.parse(b).fingerprint


@pytest.mark.parametrize(
    ("key", "value"),
    [("doc", "changed"), ("aliases", ["Old"]), ("x-custom", 1)],
)
def test_meaningful_attributes_change_identity(key: str, value: Any) -> None:
    base = {"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]}
    changed = {**base, key: value}
    assert AVRO.parse(json.dumps(base)).canonical != AVRO.parse(json.dumps(changed)).canonical


@pytest.mark.parametrize(
    "field",
    [
        {"name": "a", "type": "int", "default": 1},
        {"name": "a", "type": "int", "order": "descending"},
        {"name": "a", "type": "int", "aliases": ["b"]},
        {"name": "a", "type": {"type": "int", "logicalType": "date"}},
    ],
)
def test_field_attributes_change_identity(field: dict[str, Any]) -> None:
    plain = AVRO.parse(record({"name": "a", "type": "int"}))
    assert plain.canonical != AVRO.parse(record(field)).canonical


def test_null_namespace_type_inside_namespace_keeps_its_name() -> None:
    text = json.dumps(
        {
            "type": "record",
            "name": "a.Outer",
            "fields": [
                {"name": "x", "type": {"type": "fixed", "name": "Raw", "namespace": "", "size": 2}},
                {"name": "y", "type": "Raw"},
            ],
        }
    )
    schema = AVRO.parse(text)
    assert "Raw" in schema.named
    assert "a.Raw" not in schema.named
    assert AVRO.parse(schema.canonical).canonical == schema.canonical
    schema.validator().validate(_encode(schema, {"x": b"ab", "y": b"cd"}))


# ---------------------------------------------------------------- validator

USER = record(
    {"name": "id", "type": "long"},
    {"name": "email", "type": "string"},
    {"name": "tags", "type": {"type": "array", "items": "string"}},
    {"name": "score", "type": ["null", "double"], "default": None},
    {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B"]}},
    name="User",
)
GOOD = {
    "id": 123456789,
    "email": "someone@example.com",
    "tags": ["alpha", "beta", "gamma", "delta", "epsilon"],
    "score": 0.5,
    "kind": "B",
}


def _encode(schema: AvroSchema, value: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    named: dict[str, Any] = {}
    for tree in schema.chain:
        parsed = parse_schema(to_fastavro(tree), named_schemas=named)
    schemaless_writer(out, parsed, value)
    return out.getvalue()


def test_validator_accepts_good_records() -> None:
    schema = AVRO.parse(USER)
    validator = schema.validator()
    validator.validate(_encode(schema, GOOD))
    validator.validate(_encode(schema, {**GOOD, "score": None, "tags": []}))


def test_validator_rejects_truncated_payload() -> None:
    schema = AVRO.parse(USER)
    payload = _encode(schema, GOOD)
    with pytest.raises(InvalidRecordError, match="Avro decode failed"):
        schema.validator().validate(payload[:-3])


def test_validator_rejects_trailing_bytes() -> None:
    schema = AVRO.parse(USER)
    with pytest.raises(InvalidRecordError, match="3 trailing bytes after the record"):
        schema.validator().validate(_encode(schema, GOOD) + b"\x00\x01\x02")


@pytest.mark.parametrize(
    "payload",
    [b"", b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", b"\x02\x0a\xff\xfe\xfd\xfc\xfb"],
    ids=["empty", "overlong-varint", "bad-utf8"],
)
def test_validator_rejects_garbage(payload: bytes) -> None:
    with pytest.raises(InvalidRecordError, match="Avro decode failed"):
        AVRO.parse(USER).validator().validate(payload)


@pytest.mark.parametrize(
    ("payload", "says", "rule"),
    [
        (b"\x02", "ended early (1 bytes)", "truncated"),
        (b"\x02\xff\x00", "not UTF-8 (byte 0xff)", "decode"),
        (b"\x02a\x06\x04", "union branch, enum symbol or length is out of range", "decode"),
    ],
    ids=["truncated", "bad-utf8", "bad-union-branch"],
)
def test_decode_errors_say_what_is_wrong_without_library_internals(
    payload: bytes, says: str, rule: str
) -> None:
    schema = AVRO.parse(
        record({"name": "s", "type": "string"}, {"name": "u", "type": ["null", "int"]})
    )
    with pytest.raises(InvalidRecordError) as caught:
        schema.validator().validate(payload)
    message = caught.value.message
    assert says in message
    assert "written with another schema" in message
    assert "Error" not in message  # no IndexError / UnicodeDecodeError class names
    assert caught.value.metadata["rule"] == rule


def test_validator_rejects_bad_union_and_enum_index() -> None:
    schema = AVRO.parse(record({"name": "u", "type": ["null", "int"]}))
    schema.validator().validate(b"\x02\x04")  # branch 1 (int), value 2
    with pytest.raises(InvalidRecordError):
        schema.validator().validate(b"\x06\x04")  # branch 3 does not exist
    enum = AVRO.parse('{"type":"enum","name":"E","symbols":["A","B"]}')
    with pytest.raises(InvalidRecordError):
        enum.validator().validate(b"\x08")  # symbol 4 does not exist


def test_validator_cost_per_record_is_small() -> None:
    schema = AVRO.parse(USER)
    payload = _encode(schema, GOOD)
    assert 60 <= len(payload) <= 120
    validator = schema.validator()
    rounds = 5000
    start = time.perf_counter()
    for _ in range(rounds):
        validator.validate(payload)
    per_record_us = (time.perf_counter() - start) / rounds * 1e6
    assert per_record_us < 200, per_record_us


def test_validator_checks_encoding_not_logical_values() -> None:
    schema = AVRO.parse(record({"name": "d", "type": {"type": "int", "logicalType": "date"}}))
    schema.validator().validate(b"\xfe\xff\xff\xff\x0f")  # int32 max days: past year 9999
    with pytest.raises(InvalidRecordError, match="trailing"):
        schema.validator().validate(b"\x02\x02")


def test_diamond_references_share_one_definition() -> None:
    def enum_ref(symbols: list[str]) -> ResolvedReference:
        text = json.dumps({"type": "enum", "name": "geo.C", "symbols": symbols})
        return ResolvedReference("geo.C", AVRO.parse(text))

    def holder(name: str, ref: ResolvedReference) -> ResolvedReference:
        return ResolvedReference(
            name, AVRO.parse(record({"name": "c", "type": "geo.C"}, name=name), [ref])
        )

    main = record({"name": "a", "type": "x.A"}, {"name": "b", "type": "x.B"}, name="x.M")
    a, b = holder("x.A", enum_ref(["A"])), holder("x.B", enum_ref(["A"]))
    schema = AVRO.parse(main, [a, b])
    assert len(schema.chain) == 4  # C once, then A, B and the schema itself
    schema.validator().validate(b"\x00\x00")
    with pytest.raises(InvalidReferenceError, match=r"'geo\.C' in two different ways"):
        AVRO.parse(main, [a, holder("x.B", enum_ref(["A", "B"]))])
