"""Canonical JSON for Avro schemas: one key order, no whitespace, nested values sorted.

The walker in ``avro_parse`` builds the canonical tree; this module owns the key order and the
text form, so that two texts meaning the same schema give byte-identical canonical text.
"""

from __future__ import annotations

import json
from typing import Any

PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
"""Avro's primitive type names."""

KEY_ORDER = (
    "name",
    "namespace",
    "type",
    "doc",
    "aliases",
    "fields",
    "symbols",
    "items",
    "values",
    "size",
    "default",
    "order",
)
"""Known keys come first in this order; every other key (custom properties) follows, sorted."""

_RANK = {key: rank for rank, key in enumerate(KEY_ORDER)}


def reorder_in_place(obj: dict[str, Any]) -> dict[str, Any]:
    """Put ``obj``'s keys in canonical order without changing its identity; return it."""
    items = sorted(obj.items(), key=lambda kv: (_RANK.get(kv[0], len(_RANK)), kv[0]))
    obj.clear()
    obj.update(items)
    return obj


def sorted_json(value: Any) -> Any:
    """A copy of a JSON value with every object's keys sorted (for defaults and properties)."""
    if isinstance(value, dict):
        return {key: sorted_json(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [sorted_json(item) for item in value]
    return value


def dumps(tree: Any) -> str:
    """The canonical text of a canonical tree: compact JSON, keys in the order they were built."""
    return json.dumps(tree, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def null_namespace_key(full_name: str) -> str:
    """A name fastavro can resolve for a type in the null namespace nested in a namespace.

    fastavro always qualifies an unqualified reference with the enclosing namespace, so types
    without a namespace get a private one when a schema is handed to fastavro. Names do not
    affect the binary encoding, so decoding is unchanged.
    """
    return full_name if "." in full_name else f"weir_null_namespace.{full_name}"


def to_fastavro(node: Any) -> Any:
    """A copy of a canonical tree for fastavro: names resolve as in Avro Java, no logical types."""
    if isinstance(node, str):
        return node if node in PRIMITIVES else null_namespace_key(node)
    if isinstance(node, list):
        return [to_fastavro(branch) for branch in node]
    kind = node["type"]
    # Logical types do not change the binary layout; without them fastavro checks only the
    # encoding and never rejects a valid payload over a value conversion (dates past 9999).
    out = {k: v for k, v in node.items() if k not in ("namespace", "logicalType")}
    if kind in ("record", "error", "enum", "fixed"):
        out["name"] = null_namespace_key(node["name"])
        out.pop("aliases", None)
    if kind in ("record", "error"):
        out["fields"] = [{**field, "type": to_fastavro(field["type"])} for field in node["fields"]]
    elif kind == "array":
        out["items"] = to_fastavro(node["items"])
    elif kind == "map":
        out["values"] = to_fastavro(node["values"])
    return out
