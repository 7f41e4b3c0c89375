"""Whether an Avro schema is recursive: a named type that can contain itself.

Only such a schema lets a payload nest deeper than the schema itself, so only its records
need a depth check while decoding.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


def is_recursive(named: Mapping[str, dict[str, Any]]) -> bool:
    """True when some named type reaches itself through the types it uses."""
    edges = {name: set(_uses(definition, named)) for name, definition in named.items()}
    done: set[str] = set()
    for start, uses in edges.items():
        if start in done:
            continue
        path: set[str] = set()
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(uses))]
        path.add(start)
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.discard(node)
                done.add(node)
            elif child in path:
                return True
            elif child not in done and child in edges:
                path.add(child)
                stack.append((child, iter(edges[child])))
    return False


def _uses(definition: dict[str, Any], named: Mapping[str, dict[str, Any]]) -> Iterator[str]:
    """Full names of the named types a definition uses (by name or defined inside it)."""
    stack: list[Any] = []
    if definition.get("type") in ("record", "error"):
        stack += [f.get("type") for f in definition.get("fields", ()) if isinstance(f, dict)]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if node in named:
                yield node
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            kind = node.get("type")
            name = node.get("name")
            if kind in ("record", "error", "enum", "fixed") and isinstance(name, str):
                yield name  # a nested definition: an edge to it, walked as its own node
            elif kind == "array":
                stack.append(node.get("items"))
            elif kind == "map":
                stack.append(node.get("values"))
            else:
                stack.append(kind)
