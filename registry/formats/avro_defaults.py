"""Checks that a field default fits the field's type, as Avro Java does when it parses.

fastavro lets most mismatched defaults through; Confluent (Avro Java) rejects them, so the
registry does too. Unions follow the Avro 1.12 rule: the default must fit one of the branches
(Avro 1.11 and earlier required the first branch).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from weir.registry.formats.avro_canonical import PRIMITIVES

Resolve = Callable[[str], Any]
"""Looks up a named type's canonical definition by full name."""

_INT_RANGE = {"int": 2**31, "long": 2**63}


def default_problem(node: Any, value: Any, resolve: Resolve) -> str | None:
    """Why ``value`` is not a valid default for the type ``node``, or None when it is."""
    if isinstance(node, str):
        if node in PRIMITIVES:
            return _primitive_problem(node, value)
        return default_problem(resolve(node), value, resolve)
    if isinstance(node, list):
        return _union_problem(node, value, resolve)
    kind = node["type"]
    if kind in PRIMITIVES:
        return _primitive_problem(kind, value)
    if kind in ("record", "error"):
        return _record_problem(node, value, resolve)
    if kind == "enum":
        if isinstance(value, str) and value in node["symbols"]:
            return None
        return f"{_show(value)} is not one of the symbols of enum '{node['name']}'"
    if kind == "fixed":
        return None if isinstance(value, str) else f"{_show(value)} is not a string"
    if kind == "array":
        if not isinstance(value, list):
            return f"{_show(value)} is not a JSON array"
        for index, item in enumerate(value):
            problem = default_problem(node["items"], item, resolve)
            if problem:
                return f"item {index}: {problem}"
        return None
    if kind == "map":
        if not isinstance(value, dict):
            return f"{_show(value)} is not a JSON object"
        for key, item in value.items():
            problem = default_problem(node["values"], item, resolve)
            if problem:
                return f"map value '{key}': {problem}"
        return None
    return f"type '{kind}' cannot have a default"


def _union_problem(branches: list[Any], value: Any, resolve: Resolve) -> str | None:
    if not branches:
        return "an empty union has no valid default"
    problems = [default_problem(branch, value, resolve) for branch in branches]
    if any(problem is None for problem in problems):
        return None
    return f"{_show(value)} fits no branch of the union (first branch: {problems[0]})"


def _record_problem(node: dict[str, Any], value: Any, resolve: Resolve) -> str | None:
    if not isinstance(value, dict):
        return f"{_show(value)} is not a JSON object for record '{node['name']}'"
    for field in node["fields"]:
        name = field["name"]
        if name in value:
            item = value[name]
        elif "default" in field:
            item = field["default"]
        else:
            return f"record field '{name}' is missing and has no default"
        problem = default_problem(field["type"], item, resolve)
        if problem:
            return f"record field '{name}': {problem}"
    return None


def _primitive_problem(kind: str, value: Any) -> str | None:
    ok: bool
    if kind == "null":
        ok = value is None
    elif kind == "boolean":
        ok = isinstance(value, bool)
    elif kind in _INT_RANGE:
        bound = _INT_RANGE[kind]
        ok = isinstance(value, int) and not isinstance(value, bool) and -bound <= value < bound
    elif kind in ("float", "double"):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    else:  # bytes, string
        ok = isinstance(value, str)
    return None if ok else f"{_show(value)} is not a valid {kind}"


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."
