"""Avro compatibility details the case table does not show: paths, messages, recursion."""

from __future__ import annotations

import json
from typing import Any

import pytest

from weir.registry.compatibility.avro import check
from weir.registry.formats import ResolvedReference
from weir.registry.formats.avro import AVRO


def rec(name: str, *fields: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "record", "name": name, "fields": list(fields), **extra}


def pair(reader: Any, writer: Any) -> list[tuple[str, str]]:
    found = check(AVRO.parse(json.dumps(reader)), AVRO.parse(json.dumps(writer)))
    assert all(i.message for i in found)
    return [(i.rule, i.path) for i in found]


def test_identical_schemas_are_compatible() -> None:
    schema = rec("R", {"name": "a", "type": {"type": "map", "values": ["null", "R"]}})
    assert pair(schema, schema) == []


def test_paths_follow_confluent_style() -> None:
    writer = rec("R", {"name": "xs", "type": {"type": "array", "items": "long"}})
    reader = rec("R", {"name": "xs", "type": {"type": "array", "items": "int"}})
    assert pair(reader, writer) == [("TYPE_MISMATCH", "/fields/0/type/items")]


def test_missing_field_message_says_what_to_do() -> None:
    writer = rec("User", {"name": "id", "type": "int"})
    reader = rec("User", {"name": "id", "type": "int"}, {"name": "email", "type": "string"})
    (found,) = check(AVRO.parse(json.dumps(reader)), AVRO.parse(json.dumps(writer)))
    assert found.rule == "READER_FIELD_MISSING_DEFAULT_VALUE"
    assert found.path == "/fields/1"
    assert "reader field 'email' has no default" in found.message
    assert "add a default" in found.message


def test_every_problem_is_reported() -> None:
    writer = rec("R", {"name": "a", "type": "string"}, {"name": "b", "type": "long"})
    reader = rec(
        "R",
        {"name": "a", "type": "int"},
        {"name": "b", "type": "int"},
        {"name": "c", "type": "int"},
    )
    assert pair(reader, writer) == [
        ("TYPE_MISMATCH", "/fields/0/type"),
        ("TYPE_MISMATCH", "/fields/1/type"),
        ("READER_FIELD_MISSING_DEFAULT_VALUE", "/fields/2"),
    ]


def test_mutually_recursive_types_terminate() -> None:
    def schema(extra: list[dict[str, Any]]) -> dict[str, Any]:
        b = rec("B", {"name": "a", "type": ["null", "A"], "default": None}, *extra)
        return rec("A", {"name": "b", "type": ["null", b], "default": None})

    same = schema([])
    assert pair(same, same) == []
    broken = schema([{"name": "n", "type": "int"}])
    assert pair(broken, same) == [("MISSING_UNION_BRANCH", "/fields/0/type/1")]


def test_recursive_problem_is_found_once_per_pair() -> None:
    writer = rec("N", {"name": "v", "type": "long"}, {"name": "next", "type": ["null", "N"]})
    reader = rec("N", {"name": "v", "type": "int"}, {"name": "next", "type": ["null", "N"]})
    assert pair(reader, writer) == [("TYPE_MISMATCH", "/fields/0/type")]


def test_union_branch_message_quotes_the_closest_branch() -> None:
    inner_w = rec("Addr", {"name": "s", "type": "string"})
    inner_r = rec("Addr", {"name": "s", "type": "string"}, {"name": "zip", "type": "string"})
    found = check(
        AVRO.parse(json.dumps(rec("R", {"name": "a", "type": ["null", inner_r]}))),
        AVRO.parse(json.dumps(rec("R", {"name": "a", "type": ["null", inner_w]}))),
    )
    assert [(i.rule, i.path) for i in found] == [("MISSING_UNION_BRANCH", "/fields/0/type/1")]
    assert "reader field 'zip' has no default" in found[0].message


@pytest.mark.parametrize(
    ("reader_name", "aliases", "compatible"),
    [
        ("x.Person", ["y.User"], True),
        ("x.Person", ["User"], False),  # qualifies to x.User, not y.User
        ("x.User", [], True),  # unqualified names match, as in Avro Java
    ],
)
def test_named_type_matching(reader_name: str, aliases: list[str], compatible: bool) -> None:
    writer = rec("y.User", {"name": "id", "type": "int"})
    reader = rec(reader_name, {"name": "id", "type": "int"}, aliases=aliases)
    assert (pair(reader, writer) == []) is compatible


def test_reader_enum_default_accepts_unknown_symbols() -> None:
    writer = {"type": "enum", "name": "E", "symbols": ["A", "B", "C"]}
    assert pair({**writer, "symbols": ["A"]}, writer) == [("MISSING_ENUM_SYMBOLS", "/symbols")]
    assert pair({**writer, "symbols": ["A"], "default": "A"}, writer) == []


def test_referenced_types_are_compared_by_content() -> None:
    address_v1 = AVRO.parse(json.dumps(rec("com.acme.Address", {"name": "s", "type": "string"})))
    address_v2 = AVRO.parse(
        json.dumps(
            rec("com.acme.Address", {"name": "s", "type": "string"}, {"name": "z", "type": "int"})
        )
    )
    text = json.dumps(rec("com.acme.User", {"name": "home", "type": "Address"}))
    writer = AVRO.parse(text, [ResolvedReference("com.acme.Address", address_v1)])
    reader = AVRO.parse(text, [ResolvedReference("com.acme.Address", address_v2)])
    found = check(reader, writer)
    assert [(i.rule, i.path) for i in found] == [
        ("READER_FIELD_MISSING_DEFAULT_VALUE", "/fields/0/type/fields/1")
    ]
    assert check(writer, reader) == []
