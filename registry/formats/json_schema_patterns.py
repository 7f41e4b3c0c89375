"""JSON Schema patterns compiled once for the time-bounded ``regex`` engine, or refused.

Records are matched only in ``regex`` (with a timeout, see ``json_schema_regex``); Python's
``re`` cannot be interrupted, so it is never used. Registration checks every ``pattern``
and ``patternProperties`` key with ``compile_pattern``, so a schema whose patterns cannot
be matched with a time bound is refused there, naming the JSON pointer. Three things stand
between a pattern that ``re`` accepts (the metaschema's ``format: regex`` check) and one
``regex`` can run:

* a ``{`` that does not start a repeat count (``a{e}``, ``x{ 1}``) is a literal brace in
  ``re`` and in ECMA-262, but ``regex`` may read it as fuzzy-matching syntax (``{e}`` means
  "any number of errors"); ``translate`` escapes such braces so they stay literal;
* ``regex`` unfolds fixed repeat counts when compiling: ``a{100000000}`` asks for gigabytes
  (the process is killed), ``(?:(?:a{100}){100}){100}`` for 270 MB and half a second.
  ``expansion`` estimates the unfolded size, which may be at most ``MAX_EXPANSION``;
* syntax ``regex`` refuses, or nesting too deep for either engine's parser.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any

import regex
from referencing import Resource

from weir.core.errors import InvalidSchemaError

MAX_EXPANSION = 10_000
"""Largest unfolded size (atoms, fixed repeat counts multiplied out) a pattern may have."""
_OVER = MAX_EXPANSION + 1
_COUNT = re.compile(r"\{(\d*)(?:(,)(\d*))?\}")
_GROUP = re.compile(r"\(\?(?:P?<[^>=!]*>|<[=!]|[=!:>]|[aiLmsux-]*[:)])")
"""The opening of a group, lookaround or flags group: no atoms of its own."""
_FLAGS = re.compile(r"\(\?[aiLmsux-]*x[aiLmsux-]*[:)]")


class PatternRefused(Exception):
    """A pattern that cannot be matched with a time bound."""

    def __init__(self, pattern: str, reason: str, advice: str) -> None:
        super().__init__(f"pattern {pattern!r} {reason}")
        self.pattern = pattern
        """The pattern as written in the schema."""
        self.reason = reason
        """Why it cannot be matched."""
        self.advice = advice
        """What to change."""


def translate(pattern: str) -> tuple[str, int]:
    """The pattern for ``regex``, with literal braces escaped, and its unfolded size.

    Character classes, escapes, ``(?#...)`` comments and (in verbose mode) ``#`` comments
    are copied as they are. A repeat count ``{m}``, ``{m,}``, ``{m,n}`` multiplies the size
    of the atom before it by ``m`` (``regex`` unfolds the fixed part).
    """
    out: list[str] = []
    levels: list[list[int]] = [[]]
    verbose = bool(_FLAGS.search(pattern))
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        start = i
        if c == "\\":
            i += 2
            if pattern.startswith("N{", i - 1):
                end = pattern.find("}", i)
                i = n if end < 0 else end + 1
            levels[-1].append(1)
        elif c == "[":
            i = _class_end(pattern, i)
            levels[-1].append(1)
        elif c == "(" and pattern.startswith("(?#", i):
            end = pattern.find(")", i)
            i = n if end < 0 else end + 1
        elif c == "(":
            m = _GROUP.match(pattern, i)
            i = i + 1 if m is None else m.end()
            if not pattern.endswith(")", 0, i):  # (?i) alone opens no group
                levels.append([])
        elif c == ")" and len(levels) > 1:
            inner = levels.pop()
            levels[-1].append(min(max(sum(inner), 1), _OVER))
            i += 1
        elif c == "#" and verbose:
            end = pattern.find("\n", i)
            i = n if end < 0 else end + 1
        elif c == "{":
            i = _brace(pattern, i, levels[-1])
            if i == start + 1:
                out.append("\\{")  # a literal brace, as in re and ECMA-262
                continue
        elif c.isspace() and verbose:
            i += 1
        else:
            levels[-1].append(1)
            i += 1
        out.append(pattern[start:i])
    while len(levels) > 1:
        inner = levels.pop()
        levels[-1].append(sum(inner))
    return "".join(out), sum(levels[0])


def _brace(pattern: str, i: int, atoms: list[int]) -> int:
    """Account for the ``{`` at ``i``: a repeat count (returns its end) or a literal brace."""
    m = _COUNT.match(pattern, i)
    if m is None or not (m[1] or m[2]):
        atoms.append(1)
        return i + 1
    if atoms and m[1]:
        atoms[-1] = min(atoms[-1] * max(int(m[1]), 1), _OVER)
    return m.end()


def _class_end(pattern: str, i: int) -> int:
    """The position after the character class starting at ``i``."""
    n = len(pattern)
    j = i + 1
    if j < n and pattern[j] == "^":
        j += 1
    if j < n and pattern[j] == "]":
        j += 1
    while j < n and pattern[j] != "]":
        j += 2 if pattern[j] == "\\" else 1
    return min(j + 1, n)


@lru_cache(maxsize=4096)
def compile_pattern(pattern: str, flags: int = 0) -> Any:
    """The compiled ``regex`` pattern; raises PatternRefused when it cannot be had."""
    try:
        translated, size = translate(pattern)
    except (ValueError, OverflowError):
        size, translated = MAX_EXPANSION + 1, pattern
    if size > MAX_EXPANSION:
        raise PatternRefused(
            pattern,
            f"unfolds to more than {MAX_EXPANSION} atoms when compiled (fixed repeat counts "
            "multiply), over the limit",
            "lower the repeat counts; a range such as {1,n} is not unfolded, {n} is",
        )
    try:
        return regex.compile(translated, flags)
    except regex.error as exc:
        raise PatternRefused(
            pattern,
            f"is not a valid regex for the time-bounded matcher ({exc})",
            "write it in the ECMA-262 syntax JSON Schema specifies",
        ) from None
    except RecursionError:
        raise PatternRefused(
            pattern, "nests groups too deeply", "flatten the groups of the pattern"
        ) from None
    except (OverflowError, MemoryError):
        raise PatternRefused(
            pattern, "has a repeat count too large to compile", "lower the repeat counts"
        ) from None


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def schema_patterns(resource: Resource[Any], path: str = "") -> Iterator[tuple[str, str]]:
    """(JSON pointer, pattern) of every ``pattern`` and ``patternProperties`` key in a schema."""
    contents = resource.contents
    if not isinstance(contents, Mapping):
        return
    pattern = contents.get("pattern")
    if isinstance(pattern, str):
        yield f"{path}/pattern", pattern
    properties = contents.get("patternProperties")
    if isinstance(properties, Mapping):
        for key in properties:
            if isinstance(key, str):
                yield f"{path}/patternProperties/{_escape(key)}", key
    located = _locate(contents)
    for sub in resource.subresources():
        yield from schema_patterns(sub, f"{path}/{located.get(id(sub.contents), '?')}")


def _locate(contents: Mapping[str, Any]) -> dict[int, str]:
    """Relative pointers of the direct child schemas (by identity)."""
    found: dict[int, str] = {}
    for key, value in contents.items():
        token = _escape(str(key))
        if isinstance(value, Mapping):
            found.setdefault(id(value), token)
            for sub_key, item in value.items():
                found.setdefault(id(item), f"{token}/{_escape(str(sub_key))}")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                found.setdefault(id(item), f"{token}/{i}")
    return found


def check_patterns(resource: Resource[Any]) -> None:
    """Raise InvalidSchemaError naming the first pattern that cannot be matched in time."""
    for where, pattern in schema_patterns(resource):
        try:
            compile_pattern(pattern)
        except PatternRefused as exc:
            raise InvalidSchemaError(
                f"{where}: pattern {pattern[:100]!r} cannot be matched with a time bound: it "
                f"{exc.reason}; {exc.advice}",
                metadata={"path": where, "rule": "pattern"},
            ) from None
        except RecursionError:
            raise InvalidSchemaError("schema nests too deeply to check its patterns") from None


__all__ = [
    "MAX_EXPANSION",
    "PatternRefused",
    "check_patterns",
    "compile_pattern",
    "schema_patterns",
    "translate",
]


_BACKTRACKING = re.compile(r"\\[1-9]|\\k<|\(\?P=|\(\?<?[=!]")
"""Backreferences and lookaround: the fast path's engine runs them in a backtracking fallback
bounded only by a step limit (~40-60 ms per string), which the request's time budget cannot cut."""


def backtracking_patterns(resource: Resource[Any], references: Sequence[Any]) -> bool:
    """True when the schema (or a schema it references) has a pattern with backreferences or
    lookaround, so records are matched only by the time-bounded validator."""
    if any(_BACKTRACKING.search(p) for _, p in schema_patterns(resource)):
        return True
    return any(getattr(r.schema, "fast", True) is None for r in references)
