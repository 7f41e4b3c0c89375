"""Property tests: the Avro canonical form ignores spelling and is a fixed point.

Random schemas are generated with fully qualified names, then written out several ways: keys
shuffled, different whitespace and line endings, primitives as strings or objects, and names
qualified through ``namespace`` or spelled in full. Every spelling must give one canonical text,
and parsing that text must give it back.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from weir.registry.formats.avro import AVRO

PRIMS = ["null", "boolean", "int", "long", "float", "double", "bytes", "string"]
SPACES = ["", "a", "a.b", "org.example"]


@dataclass
class Ctx:
    """Names defined so far, in document order (simple names are unique)."""

    named: list[str] = field(default_factory=list)
    counter: int = 0

    def new_name(self, space: str) -> str:
        self.counter += 1
        simple = f"T{self.counter}"
        return f"{space}.{simple}" if space else simple


def gen_type(data: st.DataObject, ctx: Ctx, depth: int) -> Any:
    kinds = ["prim", "logical"] + (["ref"] if ctx.named else [])
    if depth < 3:
        kinds += ["record", "enum", "fixed", "array", "map", "union"]
    kind = data.draw(st.sampled_from(kinds))
    if kind == "prim":
        return data.draw(st.sampled_from(PRIMS))
    if kind == "logical":
        return data.draw(
            st.sampled_from(
                [
                    {"type": "int", "logicalType": "date"},
                    {"type": "long", "logicalType": "timestamp-millis"},
                    {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2},
                    {"type": "string", "logicalType": "uuid"},
                ]
            )
        )
    if kind == "ref":
        return data.draw(st.sampled_from(ctx.named))
    if kind == "array":
        return {"type": "array", "items": gen_type(data, ctx, depth + 1)}
    if kind == "map":
        return {"type": "map", "values": gen_type(data, ctx, depth + 1)}
    if kind == "union":
        branches: list[Any] = data.draw(
            st.lists(st.sampled_from(PRIMS), min_size=1, max_size=3, unique=True)
        )
        if data.draw(st.booleans()):
            branches.append(gen_named(data, ctx, depth + 1, "enum"))
        return branches
    return gen_named(data, ctx, depth, kind)


def gen_named(data: st.DataObject, ctx: Ctx, depth: int, kind: str) -> dict[str, Any]:
    full = ctx.new_name(data.draw(st.sampled_from(SPACES)))
    out: dict[str, Any] = {"type": kind, "name": full}
    if data.draw(st.booleans()):
        out["doc"] = data.draw(st.text(max_size=8))
    if data.draw(st.booleans()):
        out["x-owner"] = {"team": data.draw(st.sampled_from(["x", "y"])), "tier": 1}
    ctx.named.append(full)
    if kind == "enum":
        symbols = data.draw(
            st.lists(st.sampled_from(["A", "B", "C", "D"]), min_size=1, max_size=4, unique=True)
        )
        out["symbols"] = symbols
        if data.draw(st.booleans()):
            out["default"] = symbols[0]
    elif kind == "fixed":
        out["size"] = data.draw(st.integers(0, 32))
    else:
        fields = []
        for index in range(data.draw(st.integers(0, 3))):
            f: dict[str, Any] = {"name": f"f{index}", "type": gen_type(data, ctx, depth + 1)}
            if f["type"] == "int" and data.draw(st.booleans()):
                f["default"] = data.draw(st.integers(-(2**31), 2**31 - 1))
            if f["type"] == "string" and data.draw(st.booleans()):
                f["default"] = data.draw(st.text(max_size=5))
            if data.draw(st.booleans()):
                f["aliases"] = [f"old_f{index}"]
            fields.append(f)
        out["fields"] = fields
    return out


def render(node: Any, rng: random.Random, enclosing: str) -> Any:
    """One spelling of a fully qualified schema tree, relative to the enclosing namespace."""
    if isinstance(node, str):
        if node in PRIMS:
            return {"type": node} if rng.random() < 0.3 else node
        space, _, simple = node.rpartition(".")
        return simple if space == enclosing and rng.random() < 0.5 else node
    if isinstance(node, list):
        return [render(branch, rng, enclosing) for branch in node]
    out = dict(node)
    space = enclosing
    if "name" in node and node["type"] in ("record", "enum", "fixed"):
        space, _, simple = node["name"].rpartition(".")
        spelling = rng.choice(["full", "namespace", "relative"])
        if not space and enclosing:
            out["name"], out["namespace"] = simple, ""
        elif spelling == "namespace" or (spelling == "relative" and space != enclosing):
            out["name"], out["namespace"] = simple, space
        elif spelling == "relative":
            out["name"] = simple
    if "fields" in node:
        out["fields"] = [
            shuffle({**f, "type": render(f["type"], rng, space)}, rng) for f in node["fields"]
        ]
    for key in ("items", "values"):
        if key in node:
            out[key] = render(node[key], rng, space)
    return shuffle(out, rng)


def shuffle(obj: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    keys = list(obj)
    rng.shuffle(keys)
    return {key: obj[key] for key in keys}


def write(tree: Any, rng: random.Random) -> str:
    text = json.dumps(
        render(tree, rng, ""),
        indent=rng.choice([None, 1, 4, "\t"]),
        separators=rng.choice([(",", ":"), (", ", ": "), (" ,", " : ")]),
    )
    return text.replace("\n", "\r\n") if rng.random() < 0.5 else text


@settings(max_examples=150, deadline=None)
@given(st.data(), st.integers(0, 2**32))
def test_canonical_ignores_spelling(data: st.DataObject, seed: int) -> None:
    tree = gen_named(data, Ctx(), 0, "record")
    rng = random.Random(seed)
    canonicals = {AVRO.parse(write(tree, rng)).canonical for _ in range(4)}
    assert len(canonicals) == 1, canonicals
    assert AVRO.parse(write(tree, random.Random(0))).canonical in canonicals


@settings(max_examples=150, deadline=None)
@given(st.data(), st.integers(0, 2**32))
def test_canonical_is_a_fixed_point(data: st.DataObject, seed: int) -> None:
    tree = gen_named(data, Ctx(), 0, "record")
    canonical = AVRO.parse(write(tree, random.Random(seed))).canonical
    assert AVRO.parse(canonical).canonical == canonical
    assert not any(ch in canonical for ch in "\r\n\t")


@settings(max_examples=80, deadline=None)
@given(st.data(), st.text(min_size=1, max_size=10))
def test_doc_is_part_of_identity(data: st.DataObject, doc: str) -> None:
    tree = gen_named(data, Ctx(), 0, "record")
    changed = {**tree, "doc": tree.get("doc", "") + doc}
    before = AVRO.parse(write(tree, random.Random(0))).canonical
    assert before != AVRO.parse(write(changed, random.Random(0))).canonical


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_reparsed_canonical_keeps_fingerprint(data: st.DataObject) -> None:
    """Registering the canonical text again gives the same identity (and fastavro loads it)."""
    tree = gen_named(data, Ctx(), 0, "record")
    schema = AVRO.parse(write(tree, random.Random(1)))
    again = AVRO.parse(schema.canonical)
    assert again.fingerprint == schema.fingerprint
