"""Lint rules per format, as (rule, path) pairs."""

from __future__ import annotations

import json

import pytest

from weir.core.types import SchemaType
from weir.registry.formats import get_format
from weir.sdk.cli._workflow_lint import RULES, lint
from weir.sdk.cli._workflow_lint_proto import upper_snake


def rules(schema_type: SchemaType, text: str, previous: str | None = None) -> set[tuple[str, str]]:
    fmt = get_format(schema_type)
    before = fmt.parse(previous) if previous is not None else None
    return {(rule, path) for rule, path, _ in lint(fmt.parse(text), before)}


def test_clean_avro() -> None:
    schema = {
        "type": "record",
        "name": "User",
        "namespace": "acme",
        "doc": "A user.",
        "fields": [
            {"name": "email", "type": ["null", "string"], "default": None, "doc": "Email."},
            {
                "name": "home",
                "doc": "Address.",
                "type": {
                    "type": "record",
                    "name": "Address",
                    "doc": "Where.",
                    "fields": [{"name": "city", "type": "string", "doc": "City."}],
                },
            },
        ],
    }
    assert rules(SchemaType.AVRO, json.dumps(schema)) == set()


def test_avro_findings() -> None:
    schema = {
        "type": "record",
        "name": "User",
        "fields": [
            {"name": "email", "type": ["null", "string"]},
            {
                "name": "tags",
                "doc": "Tags.",
                "type": {
                    "type": "array",
                    "items": {"type": "record", "name": "Tag", "fields": []},
                },
            },
        ],
    }
    assert rules(SchemaType.AVRO, json.dumps(schema)) == {
        ("AVRO_NAMESPACE", "/"),
        ("AVRO_RECORD_DOC", "/"),
        ("AVRO_FIELD_DOC", "/fields/0"),
        ("AVRO_OPTIONAL_DEFAULT", "/fields/0"),
        ("AVRO_NAMESPACE", "/fields/1/type/items"),
        ("AVRO_RECORD_DOC", "/fields/1/type/items"),
    }
    assert rules(SchemaType.AVRO, '"string"') == {("AVRO_RECORD_NAMED", "/")}


def test_proto_naming_rules() -> None:
    text = """syntax = "proto3";
package acme;
message order_line {
  string Item_ID = 1;
  map<string, int32> counts = 2;
}
enum Color {
  RED = 0;
  COLOR_blue = 1;
}
enum HTTPStatus {
  HTTP_STATUS_UNSPECIFIED = 0;
}
"""
    assert rules(SchemaType.PROTOBUF, text) == {
        ("PROTO_MESSAGE_PASCAL_CASE", "#/order_line"),
        ("PROTO_FIELD_LOWER_SNAKE_CASE", "#/order_line/1"),
        ("PROTO_ENUM_VALUE_PREFIX", "#/Color/RED"),
        ("PROTO_ENUM_ZERO_VALUE_SUFFIX", "#/Color/RED"),
        ("PROTO_ENUM_VALUE_UPPER_SNAKE_CASE", "#/Color/COLOR_blue"),
    }


def test_proto_deleted_fields_must_be_reserved() -> None:
    before = """syntax = "proto3";
message Order { string id = 1; string note = 2; string tag = 3; }
enum Kind { KIND_UNSPECIFIED = 0; KIND_A = 1; }
"""
    after = """syntax = "proto3";
message Order { string id = 1; reserved 2; reserved "note"; reserved 3; }
enum Kind { KIND_UNSPECIFIED = 0; }
"""
    assert rules(SchemaType.PROTOBUF, after, before) == {
        ("PROTO_FIELD_NO_DELETE_UNLESS_RESERVED", "#/Order"),  # tag: number only
        ("PROTO_ENUM_VALUE_NO_DELETE_UNLESS_RESERVED", "#/Kind"),
    }
    fully = after.replace("reserved 3;", 'reserved 3; reserved "tag";').replace(
        "KIND_UNSPECIFIED = 0;", 'KIND_UNSPECIFIED = 0; reserved 1; reserved "KIND_A";'
    )
    assert rules(SchemaType.PROTOBUF, fully, before) == set()


def test_json_rules() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a/b": {"type": "object", "properties": {}},
            "c": {"type": "object", "additionalProperties": False},
            "d": {"type": "array", "items": {"properties": {"x": {"type": "string"}}}},
        },
        "unevaluatedProperties": False,
    }
    assert rules(SchemaType.JSON, json.dumps(schema)) == {
        ("JSON_SCHEMA_DECLARED", "/"),
        ("JSON_ADDITIONAL_PROPERTIES_EXPLICIT", "/properties/a~1b"),
        ("JSON_ADDITIONAL_PROPERTIES_EXPLICIT", "/properties/d/items"),
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Color", "COLOR"), ("HTTPStatus", "HTTP_STATUS"), ("OrderLine2", "ORDER_LINE2")],
)
def test_upper_snake(name: str, expected: str) -> None:
    assert upper_snake(name) == expected


def test_every_rule_is_documented() -> None:
    assert all(rule.isupper() and text for rule, text in RULES.items())
    assert len(RULES) == 15
