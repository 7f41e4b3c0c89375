"""Fuzzing the wire framing, the three schema parsers and the record validators.

Random and mutated input may be refused, but only ever with a WeirError subclass: never a
raw library exception, a crash or a hang (hypothesis' deadline bounds each example).
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from weir.core.errors import InvalidRecordError, WeirError
from weir.core.framing import MAX_INDEX_DEPTH, frame, parse_header, parse_protobuf_indexes
from weir.core.types import SchemaType
from weir.registry.formats import get_format
from weir.registry.formats.limits import budget

RUNS: Counter[str] = Counter()
"""Examples run per target (a test prints it)."""
FAST = settings(
    max_examples=500,
    deadline=2000,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ----- framing ---------------------------------------------------------------------------


@FAST
@given(data=st.binary(max_size=64))
def test_framing_parser_refuses_only_with_invalid_record(data: bytes) -> None:
    RUNS["framing"] += 1
    try:
        schema_id = parse_header(data)
        indexes, start = parse_protobuf_indexes(data)
    except InvalidRecordError as e:
        rule = e.metadata["rule"]
        assert rule in ("framing", "magic-byte", "message-index")
        return
    assert 0 <= schema_id < 2**32
    assert 5 <= start <= len(data)
    assert len(indexes) <= MAX_INDEX_DEPTH
    assert all(i >= 0 for i in indexes)


@FAST
@given(
    schema_id=st.integers(0, 2**32 - 1),
    indexes=st.lists(st.integers(0, 2**31), max_size=MAX_INDEX_DEPTH),
    payload=st.binary(max_size=32),
)
def test_framing_round_trips(schema_id: int, indexes: list[int], payload: bytes) -> None:
    RUNS["framing"] += 1
    data = frame(schema_id, payload, tuple(indexes))
    assert parse_header(data) == schema_id
    parsed, start = parse_protobuf_indexes(data)
    assert parsed == (tuple(indexes) if indexes != [0] else ())
    assert data[start:] == payload


# ----- schema text -----------------------------------------------------------------------

SEEDS = {
    SchemaType.AVRO: json.dumps(
        {
            "type": "record",
            "name": "Order",
            "namespace": "shop",
            "fields": [
                {"name": "id", "type": "string"},
                {"name": "tags", "type": {"type": "array", "items": "string"}, "default": []},
                {"name": "kind", "type": {"type": "enum", "name": "K", "symbols": ["A", "B"]}},
                {"name": "next", "type": ["null", "Order"], "default": None},
            ],
        }
    ),
    SchemaType.JSON: json.dumps(
        {
            "type": "object",
            "properties": {
                "id": {"type": "string", "pattern": "^[a-z]+$"},
                "n": {"type": "integer", "minimum": 0},
                "child": {"$ref": "#"},
            },
            "required": ["id"],
            "additionalProperties": False,
        }
    ),
    SchemaType.PROTOBUF: (
        'syntax = "proto3";\npackage shop;\nmessage Order {\n  string id = 1;\n'
        "  repeated string tags = 2;\n  Order next = 3;\n  map<string, int32> counts = 4;\n"
        "  enum K { K_UNSPECIFIED = 0; A = 1; }\n  K kind = 5;\n}\n"
    ),
}
ALPHABET = st.sampled_from(list('{}[]",:;=<>/\\ \nabcdefgnrtyp0123456789-_.$#*'))


@st.composite
def mutated(draw: st.DrawFn, seed: str) -> str:
    """The seed with a few characters replaced, inserted or deleted."""
    text = list(seed)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["replace", "insert", "delete"]))
        at = draw(st.integers(0, max(len(text) - 1, 0)))
        if op == "delete" and text:
            del text[at]
        elif op == "insert":
            text.insert(at, draw(ALPHABET))
        elif text:
            text[at] = draw(ALPHABET)
    return "".join(text)


def _parse(kind: SchemaType, text: str) -> None:
    RUNS[f"{kind} schema"] += 1
    with contextlib.suppress(WeirError):  # a refusal is the usual outcome
        get_format(kind).parse(text)


@settings(FAST, max_examples=400)
@given(text=st.one_of(st.text(max_size=200), mutated(SEEDS[SchemaType.AVRO])))
def test_avro_parser_raises_only_weir_errors(text: str) -> None:
    _parse(SchemaType.AVRO, text)


@settings(FAST, max_examples=400)
@given(text=st.one_of(st.text(max_size=200), mutated(SEEDS[SchemaType.JSON])))
def test_json_schema_parser_raises_only_weir_errors(text: str) -> None:
    _parse(SchemaType.JSON, text)


@settings(FAST, max_examples=250)
@given(text=st.one_of(st.text(max_size=120), mutated(SEEDS[SchemaType.PROTOBUF])))
def test_protobuf_parser_raises_only_weir_errors(text: str) -> None:
    _parse(SchemaType.PROTOBUF, text)


# ----- payloads ----------------------------------------------------------------------------

VALIDATORS = {kind: get_format(kind).parse(text).validator() for kind, text in SEEDS.items()}


@settings(FAST, max_examples=600)
@given(
    kind=st.sampled_from(sorted(VALIDATORS, key=str)),
    payload=st.one_of(
        st.binary(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=8),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.sampled_from(["id", "n", "child", "x"]), inner, max_size=3)
            ),
            max_leaves=20,
        ).map(lambda doc: json.dumps(doc).encode()),
    ),
)
def test_validators_refuse_only_with_invalid_record(kind: SchemaType, payload: bytes) -> None:
    RUNS[f"{kind} payload"] += 1
    with budget(20, 1000, 100), contextlib.suppress(InvalidRecordError):
        VALIDATORS[kind].validate(payload, ())


def test_zz_report_examples_run() -> None:
    """Prints how many examples each target ran (for the report); run after the others."""
    print("parser fuzz examples:", dict(RUNS))
