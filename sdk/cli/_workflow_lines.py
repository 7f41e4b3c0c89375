"""Which line of a schema file an incompatibility or lint finding is about.

Paths come from the compatibility engine and the linter: Avro ``/fields/1/type`` (field
indexes of the reader schema), protobuf ``#/Order/Line/2`` (message names, then a field
number; see _workflow_lines_proto) and JSON Schema ``/properties/total`` (a JSON pointer).
The path's names are looked for in the file text one after another, each below the
previous one, so a nested field lands on its own line and not on a same-named field
elsewhere. Line 1 when nothing matches.
"""

from __future__ import annotations

import json
import re
from typing import Any

from weir.core.types import SchemaType
from weir.sdk.cli._workflow_lines_proto import locate_proto


def locate(schema_type: SchemaType, text: str, path: str, reader_text: str | None = None) -> int:
    """The 1-based line in ``text`` that ``path`` points at.

    ``reader_text`` is the Avro schema the path's field indexes count in (default ``text``);
    a FORWARD finding counts in the old schema but is shown in the new file.
    """
    tokens = [t for t in path.lstrip("#").split("/") if t]
    if schema_type is SchemaType.PROTOBUF:
        return locate_proto(text, tokens)
    if schema_type is SchemaType.AVRO:
        patterns = _avro_patterns(reader_text or text, tokens)
    else:
        patterns = [_key(_unescape(t)) for t in tokens if not t.isdigit()]
    return _search(text, patterns)


def line_of_key(text: str, key: str) -> int:
    """The line of a JSON object key (1 when absent)."""
    return _search(text, [_key(key)])


def _key(key: str) -> re.Pattern[str]:
    return re.compile(rf'"{re.escape(key)}"\s*:')


def _search(text: str, patterns: list[re.Pattern[str]]) -> int:
    """Match each pattern below the previous match; a miss keeps the enclosing line."""
    position, found = 0, 0
    for pattern in patterns:
        match = pattern.search(text, position)
        if match is not None:
            position, found = match.end(), match.start()
    return text.count("\n", 0, found) + 1


def _avro_patterns(reader_text: str, tokens: list[str]) -> list[re.Pattern[str]]:
    """Turn field indexes into field names by walking the reader schema's JSON."""
    try:
        node: Any = json.loads(reader_text)
    except ValueError:
        return []
    names: list[str] = []
    if isinstance(node, dict) and isinstance(node.get("name"), str):
        names.append(node["name"])
    for token in tokens:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        elif token.isdigit() or token.startswith("$"):
            continue
        else:
            break
        if isinstance(node, dict) and isinstance(node.get("name"), str):
            names.append(node["name"])
    return [re.compile(rf'"name"\s*:\s*"{re.escape(n)}"') for n in names]


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")
