"""Property tests: the JSON Schema canonical form ignores formatting and is idempotent."""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from weir.registry.compatibility import check_pair
from weir.registry.formats.json_schema import JSON_SCHEMA

names = st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=8)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-1000, 1000), st.text(max_size=5), st.floats(-1e6, 1e6)
)

leaf_schemas = st.one_of(
    st.just({}),
    st.builds(
        lambda n, x: {"type": "string", **({"maxLength": n} if n else {}), **x},
        st.integers(0, 50),
        st.fixed_dictionaries({}, optional={"pattern": st.sampled_from(["^a", "[0-9]+", "x$"])}),
    ),
    st.builds(
        lambda t, lo: {"type": t, **({"minimum": lo} if lo is not None else {})},
        st.sampled_from(["integer", "number"]),
        st.none() | st.integers(-5, 5),
    ),
    st.sampled_from([{"type": "boolean"}, {"type": "null"}, {"type": ["string", "null"]}]),
    st.builds(lambda vs: {"enum": vs}, st.lists(scalars, min_size=1, max_size=4)),
)


def _extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    objects = st.builds(
        lambda props, closed, req: {
            "type": "object",
            "properties": props,
            **({"additionalProperties": False} if closed else {}),
            **({"required": sorted(props)[:1]} if req and props else {}),
        },
        st.dictionaries(names, children, max_size=4),
        st.booleans(),
        st.booleans(),
    )
    arrays = st.builds(lambda items: {"type": "array", "items": items}, children)
    unions = st.builds(
        lambda kind, subs: {kind: subs},
        st.sampled_from(["anyOf", "oneOf", "allOf"]),
        st.lists(children, min_size=1, max_size=3),
    )
    return objects | arrays | unions | st.builds(lambda s: {"not": s}, children)


schemas = st.recursive(leaf_schemas, _extend, max_leaves=12)


def shuffled(value: Any, rng: random.Random) -> Any:
    """The same JSON value with every object's keys in a random order."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [shuffled(v, rng) for v in value]
    return value


def reformatted(value: Any, rng: random.Random) -> str:
    """Random indentation, separators, escaping and line endings for the same document."""
    text = json.dumps(
        shuffled(value, rng),
        indent=rng.choice([None, 0, 1, 2, 4, "\t"]),
        separators=rng.choice([(",", ":"), (", ", ": "), (" ,", " : ")]),
        ensure_ascii=rng.choice([True, False]),
    )
    if rng.random() < 0.5:
        text = text.replace("\n", "\r\n")
    return rng.choice(["", " ", "\n", "\r\n\t"]) + text + rng.choice(["", "\n", "\r\n"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schemas, st.randoms(use_true_random=False))
def test_canonical_is_insensitive_to_formatting(doc: Any, rng: random.Random) -> None:
    plain = JSON_SCHEMA.parse(json.dumps(doc))
    other = JSON_SCHEMA.parse(reformatted(doc, rng))
    assert other.canonical == plain.canonical
    assert other.fingerprint == plain.fingerprint


@settings(max_examples=150, deadline=None)
@given(schemas)
def test_canonical_is_idempotent(doc: Any) -> None:
    once = JSON_SCHEMA.parse(json.dumps(doc)).canonical
    assert JSON_SCHEMA.parse(once).canonical == once
    assert json.loads(once) == doc


@settings(max_examples=100, deadline=None)
@given(schemas, st.randoms(use_true_random=False))
def test_a_schema_is_compatible_with_its_reformatting(doc: Any, rng: random.Random) -> None:
    one = JSON_SCHEMA.parse(json.dumps(doc))
    two = JSON_SCHEMA.parse(reformatted(doc, rng))
    assert check_pair(one, two) == []
    assert check_pair(two, one) == []
