"""The JSON Schema format: parse errors with locations, drafts, references, validation."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import FrozenInstanceError

import pytest

from weir.core.errors import InvalidRecordError, InvalidReferenceError, InvalidSchemaError
from weir.core.types import SchemaType
from weir.registry.compatibility import check_pair
from weir.registry.formats import ParsedSchema, RecordValidator, ResolvedReference, get_format
from weir.registry.formats.json_schema import JSON_SCHEMA, JsonSchema

DRAFT4 = "http://json-schema.org/draft-04/schema#"
DRAFT6 = "http://json-schema.org/draft-06/schema#"
DRAFT7 = "http://json-schema.org/draft-07/schema#"
DRAFT2019 = "https://json-schema.org/draft/2019-09/schema"
DRAFT2020 = "https://json-schema.org/draft/2020-12/schema"

PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "age": {"type": "integer", "minimum": 0},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["name"],
}


def parse(doc: object, refs: Sequence[ResolvedReference] = ()) -> JsonSchema:
    return JSON_SCHEMA.parse(json.dumps(doc), refs)


def rejects(validator: RecordValidator, payload: bytes) -> str:
    with pytest.raises(InvalidRecordError) as info:
        validator.validate(payload)
    return str(info.value)


# ---------------------------------------------------------------- invalid schemas


def test_json_syntax_error_names_line_and_column() -> None:
    with pytest.raises(InvalidSchemaError, match=r"line 3 column 8"):
        JSON_SCHEMA.parse('{\n  "type": "object",\n  "x": ,\n}')


def test_nan_is_not_json() -> None:
    with pytest.raises(InvalidSchemaError, match="NaN"):
        JSON_SCHEMA.parse('{"type": "number", "maximum": NaN}')


def test_metaschema_violation_names_the_pointer() -> None:
    with pytest.raises(InvalidSchemaError) as info:
        parse({"type": "object", "properties": {"age": {"type": "intger"}}})
    assert str(info.value).startswith("/properties/age/type: ")
    assert info.value.metadata["path"] == "/properties/age/type"
    assert info.value.metadata["draft"] == "2020-12"


def test_metaschema_violation_in_keyword_value() -> None:
    with pytest.raises(InvalidSchemaError, match=r"^/properties/name/maxLength: -1"):
        parse({"properties": {"name": {"maxLength": -1}}})


def test_invalid_regex_pattern_is_rejected() -> None:
    with pytest.raises(InvalidSchemaError, match=r"^/pattern: "):
        parse({"type": "string", "pattern": "(unclosed"})


def test_unknown_draft_lists_the_supported_ones() -> None:
    with pytest.raises(InvalidSchemaError) as info:
        parse({"$schema": "http://json-schema.org/draft-03/schema#", "type": "string"})
    message = str(info.value)
    assert "draft-03" in message
    for uri in (DRAFT4, DRAFT6, DRAFT7, DRAFT2019, DRAFT2020):
        assert uri in message


def test_schema_must_be_an_object_or_boolean() -> None:
    with pytest.raises(InvalidSchemaError, match=r"^/: "):
        JSON_SCHEMA.parse("[1, 2]")


# ---------------------------------------------------------------- drafts


@pytest.mark.parametrize(
    ("uri", "name"),
    [
        (DRAFT4, "draft-04"),
        (DRAFT6, "draft-06"),
        (DRAFT7, "draft-07"),
        ("https://json-schema.org/draft-07/schema", "draft-07"),
        (DRAFT2019, "2019-09"),
        (DRAFT2020, "2020-12"),
        (DRAFT2020 + "#", "2020-12"),
    ],
)
def test_schema_keyword_picks_the_draft(uri: str, name: str) -> None:
    assert parse({"$schema": uri, "type": "string"}).draft.name == name


def test_default_draft_is_2020_12() -> None:
    assert parse({"type": "string"}).draft.name == "2020-12"


def test_draft4_boolean_exclusive_maximum_behaves_as_draft4() -> None:
    schema = parse({"$schema": DRAFT4, "type": "number", "maximum": 10, "exclusiveMaximum": True})
    validator = schema.validator()
    validator.validate(b"9.5")
    assert "(maximum)" in rejects(validator, b"10")
    # The same construct is a metaschema violation in later drafts.
    with pytest.raises(InvalidSchemaError, match=r"^/exclusiveMaximum: "):
        parse({"type": "number", "maximum": 10, "exclusiveMaximum": True})


def test_draft6_numeric_exclusive_maximum_is_invalid_in_draft4() -> None:
    parse({"$schema": DRAFT6, "exclusiveMaximum": 10}).validator().validate(b"9")
    with pytest.raises(InvalidSchemaError, match=r"^/exclusiveMaximum: "):
        parse({"$schema": DRAFT4, "exclusiveMaximum": 10})


def test_boolean_schemas_need_draft6() -> None:
    assert parse(True).canonical == "true"
    with pytest.raises(InvalidSchemaError):
        parse({"$schema": DRAFT4, "properties": {"a": False}})
    with pytest.raises(InvalidRecordError):
        parse({"$schema": DRAFT6, "properties": {"a": False}}).validator().validate(b'{"a": 1}')


def test_draft7_tuple_items_and_2020_prefix_items() -> None:
    tuple7 = parse({"$schema": DRAFT7, "items": [{"type": "string"}], "additionalItems": False})
    assert "(additionalItems)" in rejects(tuple7.validator(), b'["a", "b"]')
    assert "/0:" in rejects(tuple7.validator(), b"[1]")
    with pytest.raises(InvalidSchemaError, match=r"^/items: "):
        parse({"items": [{"type": "string"}]})
    prefix = parse({"prefixItems": [{"type": "string"}], "items": False})
    assert "(items)" in rejects(prefix.validator(), b'["a", "b"]')
    # Draft 7 does not know prefixItems: it is an unknown keyword there.
    parse({"$schema": DRAFT7, "prefixItems": [{"type": "string"}]}).validator().validate(b"[1]")


def test_dependent_required_is_2019_09_and_later() -> None:
    doc = {"dependentRequired": {"card": ["zip"]}}
    with pytest.raises(InvalidRecordError, match=r"\(dependentRequired\)"):
        parse({"$schema": DRAFT2019, **doc}).validator().validate(b'{"card": "1"}')
    parse({"$schema": DRAFT7, **doc}).validator().validate(b'{"card": "1"}')


# ---------------------------------------------------------------- references

ADDRESS = {"type": "object", "properties": {"street": {"type": "string"}}, "required": ["street"]}


def test_reference_by_name_resolves_for_validation() -> None:
    address = parse(ADDRESS)
    person = parse(
        {"type": "object", "properties": {"home": {"$ref": "address.json"}}},
        [ResolvedReference("address.json", address)],
    )
    person.validator().validate(b'{"home": {"street": "Main"}}')
    message = rejects(person.validator(), b'{"home": {"street": 5}}')
    assert message.startswith("/home/street: ")
    assert "(type)" in message


def test_reference_resolves_against_root_id() -> None:
    address = parse(ADDRESS)
    person = parse(
        {"$id": "https://example.com/schemas/person.json", "$ref": "address.json"},
        [ResolvedReference("address.json", address)],
    )
    assert "(required)" in rejects(person.validator(), b"{}")


def test_reference_with_a_pointer_into_it() -> None:
    common = parse({"$defs": {"id": {"type": "string", "pattern": "^[0-9]+$"}}})
    schema = parse(
        {"properties": {"id": {"$ref": "common.json#/$defs/id"}}},
        [ResolvedReference("common.json", common)],
    )
    assert "(pattern)" in rejects(schema.validator(), b'{"id": "x"}')
    with pytest.raises(InvalidReferenceError, match="nothing at that JSON pointer"):
        parse(
            {"properties": {"id": {"$ref": "common.json#/$defs/nope"}}},
            [ResolvedReference("common.json", common)],
        )


def test_nested_references_are_registered_transitively() -> None:
    street = parse({"type": "string", "maxLength": 5})
    address = parse(
        {"properties": {"street": {"$ref": "street.json"}}},
        [ResolvedReference("street.json", street)],
    )
    person = parse({"$ref": "address.json"}, [ResolvedReference("address.json", address)])
    assert "(maxLength)" in rejects(person.validator(), b'{"street": "too long"}')


def test_unresolvable_ref_names_the_ref_and_where() -> None:
    with pytest.raises(InvalidReferenceError) as info:
        parse({"properties": {"home": {"$ref": "address.json"}}})
    assert "'address.json'" in str(info.value)
    assert info.value.metadata == {"ref": "address.json", "path": "/properties/home"}


def test_unresolvable_local_pointer() -> None:
    with pytest.raises(InvalidReferenceError, match=r"#/\$defs/missing"):
        parse({"$defs": {"a": {}}, "items": {"$ref": "#/$defs/missing"}})


def test_reference_to_another_format_is_rejected() -> None:
    class Other(ParsedSchema):
        schema_type = SchemaType.AVRO
        text = '"string"'
        references = ()

        @property
        def canonical(self) -> str:
            return self.text

        def validator(self) -> RecordValidator:
            raise NotImplementedError

    with pytest.raises(InvalidReferenceError, match="AVRO"):
        parse({"$ref": "x.avsc"}, [ResolvedReference("x.avsc", Other())])


def test_recursive_schema_parses_and_validates() -> None:
    tree = {
        "$defs": {
            "node": {
                "type": "object",
                "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
                "additionalProperties": False,
            }
        },
        "$ref": "#/$defs/node",
    }
    validator = parse(tree).validator()
    validator.validate(b'{"children": [{"children": []}]}')
    assert rejects(validator, b'{"children": [{"x": 1}]}').startswith("/children/0: ")


# ---------------------------------------------------------------- canonical form


def test_canonical_is_stable_under_formatting() -> None:
    a = JSON_SCHEMA.parse('{"type":"object","properties":{"b":{"type":"string"},"a":{}}}')
    b = JSON_SCHEMA.parse(
        '{\r\n  "properties": {\r\n    "a": {},\r\n    "b": {"type": "string"}\r\n  },\r\n'
        '  "type": "object"\r\n}\r\n'
    )
    assert (
        a.canonical
        == b.canonical
        == ('{"properties":{"a":{},"b":{"type":"string"}},"type":"object"}')
    )
    assert a.fingerprint == b.fingerprint
    assert JSON_SCHEMA.parse(a.canonical).canonical == a.canonical


def test_fingerprint_depends_on_references() -> None:
    doc = {"$ref": "a.json"}
    one = parse(doc, [ResolvedReference("a.json", parse({"type": "string"}))])
    two = parse(doc, [ResolvedReference("a.json", parse({"type": "integer"}))])
    assert one.canonical == two.canonical
    assert one.fingerprint != two.fingerprint


def test_parsed_schema_is_immutable_and_registered_as_json() -> None:
    schema = parse(PERSON)
    assert get_format(SchemaType.JSON) is JSON_SCHEMA
    assert schema.schema_type is SchemaType.JSON
    with pytest.raises(FrozenInstanceError):
        schema.text = "{}"  # type: ignore[misc]


# ---------------------------------------------------------------- record validation


def test_good_payloads_pass() -> None:
    validator = parse(PERSON).validator()
    validator.validate(b'{"name": "Ada", "age": 36, "tags": ["x"]}')
    validator.validate('{"name": "Zoë"}'.encode())


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b'{"name": "Ada", "age": "x"}', "/age: 'x' is not of type 'integer' (type)"),
        (b'{"age": 3}', "/: 'name' is a required property (required)"),
        (b'{"name": ""}', "/name: "),
        (b'{"name": "a", "age": -1}', "(minimum)"),
        (b'{"name": "a", "tags": ["x", 2]}', "/tags/1: 2 is not of type 'string' (type)"),
        (b"[]", "/: [] is not of type 'object' (type)"),
    ],
)
def test_bad_payloads_name_path_rule_and_reason(payload: bytes, expected: str) -> None:
    assert expected in rejects(parse(PERSON).validator(), payload)


def test_record_error_metadata_carries_path_and_rule() -> None:
    with pytest.raises(InvalidRecordError) as info:
        parse(PERSON).validator().validate(b'{"name": "a", "age": 1.5}')
    assert info.value.metadata == {"path": "/age", "rule": "type"}


def test_pointer_escapes_slashes_and_tildes() -> None:
    validator = parse({"properties": {"a/b~c": {"type": "string"}}}).validator()
    assert rejects(validator, b'{"a/b~c": 1}').startswith("/a~1b~0c: ")


def test_malformed_json_payload() -> None:
    message = rejects(parse(PERSON).validator(), b'{"name": "a",\n "age": }')
    assert message.startswith("payload is not valid JSON at line 2 column 9")


def test_invalid_utf8_payload() -> None:
    assert "not valid UTF-8" in rejects(parse(PERSON).validator(), b'{"name": "\xff"}')


def test_nan_payload_is_rejected() -> None:
    assert "NaN" in rejects(parse({"type": "number"}).validator(), b"NaN")


def test_deeply_nested_payload_is_a_clear_error() -> None:
    message = rejects(parse({}).validator(), b"[" * 100_000 + b"]" * 100_000)
    assert "too deeply" in message


def test_formats_are_checked() -> None:
    validator = parse({"type": "string", "format": "date"}).validator()
    validator.validate(b'"2024-02-29"')
    assert "(format)" in rejects(validator, b'"2024-13-45"')


def test_long_values_are_truncated_in_messages() -> None:
    message = rejects(parse({"type": "integer"}).validator(), json.dumps("x" * 5000).encode())
    assert len(message) < 400
    assert message.endswith("(type)")


def test_validator_reuses_the_compiled_validator() -> None:
    schema = parse(PERSON)
    first, second = schema.validator(), schema.validator()
    assert first._validator is second._validator is schema.compiled  # type: ignore[attr-defined]


# ---------------------------------------------------------------- compatibility details


def test_incompatibility_paths_and_messages() -> None:
    old = parse({"type": "object", "properties": {"a/b": {"type": "string"}}})
    new = parse({"type": "object", "properties": {"a/b": {"type": "string", "maxLength": 3}}})
    (found,) = check_pair(new, old)
    assert (found.rule, found.path) == ("MAX_LENGTH_ADDED", "/properties/a~1b/maxLength")
    assert "maxLength 3" in found.message
    assert check_pair(old, new) == []


def test_mutually_recursive_references_terminate() -> None:
    defs = {
        "a": {
            "type": "object",
            "properties": {"b": {"$ref": "#/$defs/b"}, "n": {"type": "integer"}},
        },
        "b": {"type": "object", "properties": {"a": {"$ref": "#/$defs/a"}}},
    }
    old = parse({"$defs": defs, "$ref": "#/$defs/a"})
    changed = json.loads(json.dumps(defs))
    changed["a"]["properties"]["n"] = {"type": "string"}
    new = parse({"$defs": changed, "$ref": "#/$defs/a"})
    assert check_pair(old, old) == []
    rules = {(i.rule, i.path) for i in check_pair(new, old)}
    assert ("TYPE_CHANGED", "/properties/n") in rules


def test_self_referencing_union_terminates() -> None:
    doc = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"$ref": "#"}}]}
    schema = parse(doc)
    assert check_pair(schema, schema) == []
    narrowed = parse({"anyOf": [{"type": "array", "items": {"$ref": "#"}}]})
    assert {i.rule for i in check_pair(narrowed, schema)} == {"SUM_TYPE_NARROWED"}


def test_subschema_mismatch_message_names_the_closest_cause() -> None:
    old = parse({"type": "string", "enum": ["a", "b"]})
    new = parse({"type": "string", "enum": ["a"]})
    (found,) = check_pair(new, old)
    assert found.rule == "COMBINED_TYPE_SUBSCHEMAS_CHANGED"
    assert "ENUM_ARRAY_NARROWED" in found.message
