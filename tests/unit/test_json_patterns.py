"""JSON Schema patterns: checked at registration, matched only in the time-bounded engine."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.unit.test_registry_service import open_registry
from weir.core.errors import InvalidRecordError, InvalidSchemaError
from weir.core.types import CompatibilityLevel, SchemaType
from weir.registry.compatibility import check_compatibility
from weir.registry.formats import json_schema_regex
from weir.registry.formats.json_schema import JSON_SCHEMA
from weir.registry.formats.json_schema_patterns import (
    MAX_EXPANSION,
    PatternRefused,
    compile_pattern,
    translate,
)
from weir.registry.formats.json_schema_validator import JsonRecordValidator
from weir.registry.model import SchemaInput

DRAFT4 = "http://json-schema.org/draft-04/schema#"


def parse(schema: Any) -> Any:
    return JSON_SCHEMA.parse(json.dumps(schema))


def valid(schema: Any, doc: Any) -> bool:
    try:
        parse(schema).validator().validate(json.dumps(doc).encode())
    except InvalidRecordError:
        return False
    return True


@pytest.mark.parametrize(
    ("pattern", "translated", "size"),
    [
        ("^a{3}$", "^a{3}$", 5),
        ("a{e}", "a\\{e}", 4),
        ("x{ 1}", "x\\{ 1}", 5),
        ("a{1<=e}", "a\\{1<=e}", 7),
        ("a{,3}b{2,}c{}", "a{,3}b{2,}c\\{}", 6),
        ("[{e}]{2}", "[{e}]{2}", 2),
        ("\\{e}", "\\{e}", 3),
        ("(?:ab){10}", "(?:ab){10}", 20),
        ("(?:(?:a{10}){10}){10}", "(?:(?:a{10}){10}){10}", 1000),
        ("(?x) a # {e} (\n{e}", "(?x) a # {e} (\n\\{e}", 4),
        ("(?#{e})a", "(?#{e})a", 1),
        ("\\N{EM DASH}{3}", "\\N{EM DASH}{3}", 3),
        ("(?P<n>ab){3}(?P=n)", "(?P<n>ab){3}(?P=n)", 10),
        ("(?i)a{2}", "(?i)a{2}", 2),
    ],
)
def test_translate_escapes_literal_braces_and_counts_the_unfolded_size(
    pattern: str, translated: str, size: int
) -> None:
    assert translate(pattern) == (translated, size)


def test_a_brace_that_is_no_repeat_count_is_literal_as_in_re() -> None:
    # the regex engine would read {e} as fuzzy matching ("any number of errors")
    schema = {"type": "string", "pattern": "^a{e}$"}
    assert valid(schema, "a{e}")
    assert not valid(schema, "a")
    assert not valid(schema, "b")
    for text in ("a{e}", "a", "x{ 1}", "x1"):
        for pattern in ("^a{e}$", "^x{ 1}$", "^a{,1}$"):
            assert bool(compile_pattern(pattern).search(text)) == bool(re.search(pattern, text))


@pytest.mark.parametrize(
    ("schema", "where"),
    [
        ({"type": "string", "pattern": "^a{100000000}$"}, "/pattern"),
        ({"properties": {"p": {"pattern": "(?:(?:a{100}){100}){100}"}}}, "/properties/p/pattern"),
        ({"items": {"pattern": "a{2147483647}"}}, "/items/pattern"),
        ({"$defs": {"d": {"pattern": "a{20000}"}}}, "/$defs/d/pattern"),
        ({"propertyNames": {"pattern": "a{99999}"}}, "/propertyNames/pattern"),
        ({"not": {"anyOf": [{}, {"pattern": "a{99999}"}]}}, "/not/anyOf/1/pattern"),
        ({"patternProperties": {"^x/a{99999}$": {}}}, "/patternProperties/^x~1a{99999}$"),
        (
            {"$schema": DRAFT4, "patternProperties": {"(": {}}},
            "/patternProperties/(",
        ),
        (
            {"$schema": DRAFT4, "definitions": {"d": {"patternProperties": {"a{9999999}": {}}}}},
            "/definitions/d/patternProperties/a{9999999}",
        ),
    ],
)
def test_registration_refuses_a_pattern_that_cannot_be_bounded(
    schema: dict[str, Any], where: str
) -> None:
    started = time.perf_counter()
    with pytest.raises(InvalidSchemaError) as info:
        parse(schema)
    assert time.perf_counter() - started < 2
    assert info.value.metadata["path"] == where
    assert info.value.metadata["rule"] == "pattern"
    message = str(info.value)
    assert message.startswith(f"{where}: pattern ")
    assert "cannot be matched with a time bound" in message


def test_refusals_say_why_and_what_to_change() -> None:
    with pytest.raises(PatternRefused) as big:
        compile_pattern("a{100000}")
    assert f"more than {MAX_EXPANSION} atoms" in big.value.reason
    assert "{1,n}" in big.value.advice
    with pytest.raises(PatternRefused) as bad:
        compile_pattern("(")
    assert "not a valid regex for the time-bounded matcher" in bad.value.reason
    assert "ECMA-262" in bad.value.advice


def test_patterns_at_the_limit_and_in_data_keywords_are_fine() -> None:
    parse({"type": "string", "pattern": "(?:[a-z]{100}){100}"})  # exactly the limit
    parse({"type": "string", "pattern": "^.{0,100000000}$"})  # ranges are not unfolded
    parse({"type": "string", "pattern": "^[a-z]{1,100000}$"})
    # "pattern" inside data (enum, const, examples, default) is not a keyword
    parse(
        {
            "enum": [{"pattern": "a{100000000}"}],
            "const": {"patternProperties": {"(": 1}},
            "examples": [{"pattern": "("}],
            "default": {"pattern": "a{99999}"},
        }
    )
    assert valid({"pattern": "^[a-z]{1,100000}$"}, "abc")


def test_a_pattern_registered_before_the_check_refuses_the_record_never_calls_re(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("Python's re must never match a record")

    monkeypatch.setattr(re, "search", forbidden)
    # a schema compiled without the registration check (as one stored before it existed)
    compiled = Draft202012Validator(
        {"properties": {"id": {"type": "string", "pattern": "^a{100000000}$"}}}
    )
    validator = JsonRecordValidator(compiled)
    started = time.perf_counter()
    with pytest.raises(InvalidRecordError) as info:
        validator.validate(b'{"id": "aaa"}')
    assert time.perf_counter() - started < 2
    assert info.value.metadata["rule"] == "pattern"
    assert info.value.metadata["pattern"] == "^a{100000000}$"
    assert "cannot be matched with a time bound" in str(info.value)
    assert json_schema_regex.installed()
    # patternProperties keys go the same way
    props = JsonRecordValidator(
        Draft202012Validator({"patternProperties": {"a{99999}": {}}, "additionalProperties": False})
    )
    with pytest.raises(InvalidRecordError) as again:
        props.validate(b'{"x": 1}')
    assert "cannot be matched with a time bound" in str(again.value)


def test_the_registry_refuses_the_schema_naming_the_pointer(tmp_path: Path) -> None:
    registry = open_registry(tmp_path)
    try:
        text = json.dumps(
            {"type": "object", "properties": {"code": {"type": "string", "pattern": "x{99999}"}}}
        )
        with pytest.raises(InvalidSchemaError) as info:
            registry.register("codes-value", SchemaInput(SchemaType.JSON, text))
        assert info.value.metadata["path"] == "/properties/code/pattern"
        assert "x{99999}" in str(info.value)
        ok = text.replace("x{99999}", "x{1,99999}")
        assert registry.register("codes-value", SchemaInput(SchemaType.JSON, ok)).version == 1
    finally:
        registry.close()


@pytest.mark.parametrize(
    "pattern", [r"^(a*)*\1$", r"(?P<n>x)(?P=n)", r"^(?=a)b", r"^(?!a)", r"(?<=a)b", r"(?<!a)b"]
)
def test_backreferences_and_lookaround_skip_the_fast_path(pattern: str) -> None:
    """The fast engine runs these in a fallback bounded only by a step limit (~40-60 ms per
    string, which the request's time budget cannot cut); the bounded validator decides."""
    schema = parse({"type": "array", "items": {"type": "string", "pattern": pattern}})
    assert schema.fast is None
    nested = parse({"properties": {"a": {"patternProperties": {pattern: {}}}}})
    assert nested.fast is None


def test_plain_patterns_keep_the_fast_path() -> None:
    assert parse({"type": "string", "pattern": r"^[a-z]+\d{2,4}$"}).fast is not None


def test_comparing_schemas_matches_pattern_properties_with_a_time_bound() -> None:
    """The writer's property '30 a's + !' against the reader's '^(a+)+$' patternProperties
    key: Python's re backtracks for about a minute; the compatibility check answers at once."""
    name = "a" * 30 + "!"
    writer = parse({"type": "object", "properties": {name: {"type": "string"}}})
    reader = parse(
        {
            "type": "object",
            "patternProperties": {"^(a+)+$": {"type": "string"}},
            "additionalProperties": False,
        }
    )
    started = time.monotonic()
    result = check_compatibility(CompatibilityLevel.BACKWARD, reader, [writer])
    assert time.monotonic() - started < 2
    assert not result.compatible  # the reader refuses what the writer wrote
