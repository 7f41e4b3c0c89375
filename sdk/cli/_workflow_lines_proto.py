"""Lines in .proto text: a path's message names open nested scopes, the last token is found
in the innermost one, outside nested messages and enums (so ``#/Order/2`` is not the
``= 2`` of a message nested in Order). Comments and string literals never match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MASK = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.DOTALL)
_BLOCK = re.compile(r"\b(message|enum|service|oneof|extend)\s+([\w.]+)\s*\{")


@dataclass(frozen=True, slots=True)
class _Block:
    """A braced declaration: ``message Name { ... }``."""

    start: int
    """Where the keyword starts."""
    body: int
    """Just after the opening brace."""
    end: int
    """Just after the closing brace (the text's end when unbalanced)."""
    kind: str
    """message, enum, service, oneof or extend."""
    name: str
    """The declared name."""


def locate_proto(text: str, tokens: list[str]) -> int:
    """The 1-based line ``tokens`` (message names, then a field number or name) point at."""
    masked = _MASK.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)
    blocks = _blocks(masked)
    scope, found = (0, len(masked)), 0
    for token in tokens:
        name = token.rsplit(".", 1)[-1]
        inner = [b for b in blocks if scope[0] <= b.start and b.end <= scope[1]]
        nested = [b for b in inner if b.kind in ("message", "enum")]
        named = [b for b in nested if b.name == name and not _inside(b.start, nested, b)]
        if named:
            scope, found = (named[0].body, named[0].end), named[0].start
            continue
        pattern = re.compile(rf"\b\w+\s*=\s*{token}\b" if token.isdigit() else rf"\b{name}\b")
        for match in pattern.finditer(masked, scope[0], scope[1]):
            if not _inside(match.start(), nested):
                found = match.start()
                break
    return text.count("\n", 0, found) + 1


def _inside(position: int, blocks: list[_Block], exclude: _Block | None = None) -> bool:
    return any(b.start <= position < b.end for b in blocks if b is not exclude)


def _blocks(masked: str) -> list[_Block]:
    found = []
    for match in _BLOCK.finditer(masked):
        depth, position = 1, match.end()
        while depth and position < len(masked):
            char = masked[position]
            depth += (char == "{") - (char == "}")
            position += 1
        found.append(_Block(match.start(), match.end(), position, match[1], match[2]))
    return found
