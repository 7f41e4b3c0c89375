"""Diff bookkeeping for JSON Schema compatibility: differences, paths, cycle and memo state.

A Difference is named with Confluent's ``Difference.Type`` ids. COMPATIBLE lists the ones
Confluent's default (strict) policy accepts; every other type breaks compatibility.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from weir.registry.compatibility.json_schema_model import Node

COMPATIBLE: frozenset[str] = frozenset(
    {
        "ID_CHANGED",
        "DESCRIPTION_CHANGED",
        "TITLE_CHANGED",
        "DEFAULT_CHANGED",
        "SCHEMA_REMOVED",
        "TYPE_EXTENDED",
        "MAX_LENGTH_INCREASED",
        "MAX_LENGTH_REMOVED",
        "MIN_LENGTH_DECREASED",
        "MIN_LENGTH_REMOVED",
        "PATTERN_REMOVED",
        "MAXIMUM_INCREASED",
        "MAXIMUM_REMOVED",
        "MINIMUM_DECREASED",
        "MINIMUM_REMOVED",
        "EXCLUSIVE_MAXIMUM_INCREASED",
        "EXCLUSIVE_MAXIMUM_REMOVED",
        "EXCLUSIVE_MINIMUM_DECREASED",
        "EXCLUSIVE_MINIMUM_REMOVED",
        "MULTIPLE_OF_REDUCED",
        "MULTIPLE_OF_REMOVED",
        "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED",
        "REQUIRED_ATTRIBUTE_REMOVED",
        "DEPENDENCY_ARRAY_NARROWED",
        "DEPENDENCY_ARRAY_REMOVED",
        "DEPENDENCY_SCHEMA_REMOVED",
        "MAX_PROPERTIES_INCREASED",
        "MAX_PROPERTIES_REMOVED",
        "MIN_PROPERTIES_DECREASED",
        "MIN_PROPERTIES_REMOVED",
        "ADDITIONAL_PROPERTIES_ADDED",
        "ADDITIONAL_PROPERTIES_EXTENDED",
        "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
        "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL",
        "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
        "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
        "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL",
        "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        "UNEVALUATED_PROPERTIES_ADDED",
        "UNEVALUATED_PROPERTIES_EXTENDED",
        "MAX_ITEMS_INCREASED",
        "MAX_ITEMS_REMOVED",
        "MIN_ITEMS_DECREASED",
        "MIN_ITEMS_REMOVED",
        "MAX_CONTAINS_INCREASED",
        "MAX_CONTAINS_REMOVED",
        "MIN_CONTAINS_DECREASED",
        "MIN_CONTAINS_REMOVED",
        "UNIQUE_ITEMS_REMOVED",
        "ADDITIONAL_ITEMS_ADDED",
        "ADDITIONAL_ITEMS_EXTENDED",
        "UNEVALUATED_ITEMS_ADDED",
        "UNEVALUATED_ITEMS_EXTENDED",
        "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
        "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL",
        "ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
        "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL",
        "ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        "ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        "ENUM_ARRAY_EXTENDED",
        "COMBINED_TYPE_EXTENDED",
        "PRODUCT_TYPE_NARROWED",
        "SUM_TYPE_EXTENDED",
        "NOT_TYPE_NARROWED",
    }
)


@dataclass(frozen=True, slots=True)
class Difference:
    """One difference between the original (writer) and the update (reader)."""

    rule: str
    """Confluent's Difference.Type name."""
    path: tuple[str, ...]
    """Escaped JSON-pointer tokens from the schema root."""
    message: str
    """What changed, for a person."""

    @property
    def compatible(self) -> bool:
        """True when Confluent's strict policy accepts this change."""
        return self.rule in COMPATIBLE

    @property
    def pointer(self) -> str:
        """The path as a JSON pointer; the root is ``/``."""
        return "/" + "/".join(self.path)


@dataclass(slots=True)
class _Shared:
    """State shared by a context and all its subcontexts."""

    in_progress: set[tuple[int, int]] = field(default_factory=set)
    """Node pairs being compared right now: meeting one again is a recursive cycle."""
    memo: dict[tuple[int, int], list[Difference]] = field(default_factory=dict)
    """Differences of finished pairs, relative to the pair."""
    keep: list[Node] = field(default_factory=list)
    """Keeps memoized nodes alive so their ids stay unique."""


def token(name: str) -> str:
    """Escape one JSON-pointer token."""
    return name.replace("~", "~0").replace("/", "~1")


def limit(
    ctx: Context, word: str, prefix: str, original: float | None, update: float | None
) -> None:
    """Compare one numeric bound (``maxLength``, ``minimum``, ...) the way Confluent does."""
    if original == update:
        return
    if original is None:
        ctx.add(f"{prefix}_ADDED", f"the reader schema adds {word} {update}", word)
    elif update is None:
        ctx.add(f"{prefix}_REMOVED", f"the reader schema drops {word} {original}", word)
    elif original < update:
        ctx.add(f"{prefix}_INCREASED", f"{word} increased from {original} to {update}", word)
    else:
        ctx.add(f"{prefix}_DECREASED", f"{word} decreased from {original} to {update}", word)


class Context:
    """Collects differences at the current path."""

    __slots__ = ("_path", "_shared", "diffs")

    def __init__(self, path: tuple[str, ...] = (), shared: _Shared | None = None) -> None:
        self._path = list(path)
        self._shared = shared or _Shared()
        self.diffs: list[Difference] = []

    def sub(self) -> Context:
        """A context at the same path with its own differences and the shared state."""
        return Context(tuple(self._path), self._shared)

    @contextmanager
    def at(self, *tokens: str) -> Iterator[None]:
        """Descend into ``tokens`` (already escaped) for the duration of a block."""
        self._path.extend(tokens)
        try:
            yield
        finally:
            del self._path[len(self._path) - len(tokens) :]

    def add(self, rule: str, message: str, *tokens: str) -> None:
        """Record a difference at the current path (plus ``tokens``)."""
        self.diffs.append(Difference(rule, (*self._path, *tokens), message))

    def extend(self, diffs: list[Difference]) -> None:
        """Record differences found by a subcontext."""
        self.diffs.extend(diffs)

    @property
    def compatible(self) -> bool:
        """True when every difference so far is a compatible one."""
        return all(d.compatible for d in self.diffs)

    def memoized(self, original: Node, update: Node, body: Callable[[Context], None]) -> None:
        """Run ``body`` on a pair once; a pair met again inside itself counts as compatible."""
        key = (id(original), id(update))
        shared = self._shared
        if key not in shared.memo:
            if key in shared.in_progress:
                return
            shared.in_progress.add(key)
            try:
                fresh = Context((), shared)
                body(fresh)
            finally:
                shared.in_progress.discard(key)
            shared.memo[key] = fresh.diffs
            shared.keep.extend((original, update))
        prefix = tuple(self._path)
        self.diffs.extend(Difference(d.rule, prefix + d.path, d.message) for d in shared.memo[key])
