"""Limits on offered schema text: its size and its nesting, checked before parsing.

``max_schema_bytes`` bounds the UTF-8 size of the text. ``max_schema_depth`` bounds nesting:
JSON levels (objects and arrays) for Avro and JSON Schema, brace levels (messages, enums,
option blocks) for ``.proto`` text. A refusal is an InvalidSchemaError whose metadata names
the limit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from weir.core.errors import InvalidSchemaError
from weir.core.types import SchemaType
from weir.registry.formats.limits import nesting_depth

DEFAULT_MAX_SCHEMA_BYTES = 1 << 20
DEFAULT_MAX_SCHEMA_DEPTH = 100


@dataclass(frozen=True, slots=True)
class SchemaLimits:
    """How big and how deep an offered schema may be."""

    max_schema_bytes: int = DEFAULT_MAX_SCHEMA_BYTES
    """Largest schema text, in UTF-8 bytes."""
    max_schema_depth: int = DEFAULT_MAX_SCHEMA_DEPTH
    """Deepest nesting of the schema text."""

    def check(self, schema_type: SchemaType, text: str) -> None:
        """Raise InvalidSchemaError naming the limit the text goes over."""
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > self.max_schema_bytes:
            raise InvalidSchemaError(
                f"schema text is {size} bytes, over the limit max_schema_bytes="
                f"{self.max_schema_bytes}; split it into referenced schemas",
                metadata={"limit": "max_schema_bytes", "size": str(size)},
            )
        opened = text.count("{") + text.count("[")
        if opened <= self.max_schema_depth:  # cannot nest deeper than its brackets
            return
        depth = (
            _brace_depth(text) if schema_type == SchemaType.PROTOBUF else _json_depth(text, opened)
        )
        if depth > self.max_schema_depth:
            raise InvalidSchemaError(
                f"schema nests {depth} levels deep, over the limit max_schema_depth="
                f"{self.max_schema_depth}; flatten it or move nested types into references",
                metadata={"limit": "max_schema_depth", "depth": str(depth)},
            )


def _json_depth(text: str, opened: int) -> int:
    try:
        doc = json.loads(text)
    except RecursionError:
        return opened  # deeper than Python's parser goes: deep enough to refuse
    except ValueError:
        return 0  # not JSON: the format's parser says where
    return nesting_depth(doc, opened)


def _brace_depth(text: str) -> int:
    """Deepest ``{`` nesting of .proto text, outside strings and comments."""
    depth = deepest = 0
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            end = text.find(c, i + 1)
            while end > 0 and text[end - 1] == "\\":
                end = text.find(c, end + 1)
            i = n if end < 0 else end + 1
            continue
        if text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        if c == "{":
            depth += 1
            deepest = max(deepest, depth)
        elif c == "}":
            depth -= 1
        i += 1
    return deepest
