"""A typed model of a JSON Schema, shaped the way Confluent's JSON Schema diff sees schemas.

Confluent loads schemas with the everit library and diffs its schema classes. This module
builds the same shapes from a parsed document, so the diff agrees with Confluent:

- ``true`` / ``{}`` is an EmptyNode, ``false`` a FalseNode, ``$ref`` a RefNode (lazy, so
  recursive schemas become cycles, not infinite trees);
- ``type`` gives a String/Number/Boolean/Null/Object/ArrayNode (``integer`` is a NumberNode
  that requires integers); a list of types is an ``anyOf`` of one node per type;
- without ``type``, keywords are sniffed: ``maxLength`` alone makes a StringNode, and so on;
- ``enum``, ``const``, ``not``, ``allOf``/``anyOf``/``oneOf`` and ``if`` each add a node;
- when one schema object yields several nodes they are combined with a synthetic ``allOf``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


def canonical(value: Any) -> str:
    """Compact sorted JSON, used to compare JSON values and to deduplicate subschemas."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True, eq=False)
class Node:
    """One schema in the model. Compared by identity, so cycles can be detected."""

    key: str
    """Canonical text of the schema object this node came from, to deduplicate subschemas."""
    has_default: bool
    """True when the schema object has a ``default``."""


@dataclass(frozen=True, slots=True, eq=False)
class EmptyNode(Node):
    """``true`` or a schema without assertions: accepts everything."""


@dataclass(frozen=True, slots=True, eq=False)
class FalseNode(Node):
    """``false``: accepts nothing."""


@dataclass(frozen=True, slots=True, eq=False)
class BooleanNode(Node):
    """``type: boolean``."""


@dataclass(frozen=True, slots=True, eq=False)
class NullNode(Node):
    """``type: null``."""


@dataclass(frozen=True, slots=True, eq=False)
class ConditionalNode(Node):
    """``if``/``then``/``else``; Confluent's diff does not look inside it."""


@dataclass(frozen=True, slots=True, eq=False)
class StringNode(Node):
    """A string schema (``type: string`` or string keywords)."""

    min_length: int | None
    """``minLength``."""
    max_length: int | None
    """``maxLength``."""
    pattern: str | None
    """``pattern``."""


@dataclass(frozen=True, slots=True, eq=False)
class NumberNode(Node):
    """A number or integer schema."""

    requires_integer: bool
    """True for ``type: integer``."""
    minimum: float | None
    """``minimum``."""
    maximum: float | None
    """``maximum``."""
    exclusive_minimum: float | None
    """Numeric ``exclusiveMinimum`` (draft 6 and later)."""
    exclusive_maximum: float | None
    """Numeric ``exclusiveMaximum`` (draft 6 and later)."""
    multiple_of: float | None
    """``multipleOf``."""


@dataclass(frozen=True, slots=True, eq=False)
class EnumNode(Node):
    """``enum``: the allowed values, each as canonical JSON."""

    values: frozenset[str]
    """The allowed values as canonical JSON text."""


@dataclass(frozen=True, slots=True, eq=False)
class ConstNode(Node):
    """``const``: the one allowed value as canonical JSON."""

    value: str
    """The allowed value as canonical JSON text."""


@dataclass(frozen=True, slots=True, eq=False)
class NotNode(Node):
    """``not``."""

    must_not: Node
    """The schema a value must not match."""


@dataclass(frozen=True, slots=True, eq=False)
class CombinedNode(Node):
    """``allOf``, ``anyOf`` or ``oneOf`` (also the synthetic ``allOf`` of sibling keywords)."""

    criterion: str
    """``allOf``, ``anyOf`` or ``oneOf``."""
    subschemas: tuple[Node, ...]
    """The combined schemas, in order."""


@dataclass(frozen=True, slots=True, eq=False)
class ObjectNode(Node):
    """An object schema and its content model."""

    properties: Mapping[str, Node]
    """``properties``."""
    required: frozenset[str]
    """``required``."""
    additional_allowed: bool
    """False only for ``additionalProperties: false``."""
    additional_schema: Node | None
    """The schema of ``additionalProperties`` when it is an object."""
    pattern_properties: tuple[tuple[str, Node], ...]
    """``patternProperties`` in document order."""
    unevaluated: Node | None
    """``unevaluatedProperties``."""
    property_dependencies: Mapping[str, frozenset[str]]
    """Array-valued ``dependencies`` and ``dependentRequired``."""
    schema_dependencies: Mapping[str, Node]
    """Schema-valued ``dependencies`` and ``dependentSchemas``."""
    min_properties: int | None
    """``minProperties``."""
    max_properties: int | None
    """``maxProperties``."""


@dataclass(frozen=True, slots=True, eq=False)
class ArrayNode(Node):
    """An array schema and its content model."""

    all_items: Node | None
    """``items`` when one schema applies to every item."""
    item_schemas: tuple[Node, ...]
    """Positional item schemas (array ``items`` or ``prefixItems``)."""
    tuple_keyword: str
    """``items`` or ``prefixItems``: where the positional schemas came from."""
    additional_allowed: bool
    """False when items past the positional ones are forbidden."""
    additional_schema: Node | None
    """The schema for items past the positional ones, when given."""
    unevaluated: Node | None
    """``unevaluatedItems``."""
    min_items: int | None
    """``minItems``."""
    max_items: int | None
    """``maxItems``."""
    unique_items: bool
    """``uniqueItems``."""
    min_contains: int | None
    """``minContains``."""
    max_contains: int | None
    """``maxContains``."""


@dataclass(frozen=True, slots=True, eq=False)
class RefNode(Node):
    """``$ref``: resolved on first use, so recursion builds a cycle."""

    ref: str
    """The reference as written."""
    resolve: Callable[[], Node] = field(repr=False)
    """Loads (once) and returns the referenced schema."""

    @property
    def target(self) -> Node:
        """The referenced schema."""
        return self.resolve()
