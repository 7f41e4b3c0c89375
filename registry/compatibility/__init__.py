"""The compatibility engine: Confluent's seven levels over per-format pairwise rules.

``check_compatibility(level, new, history)`` applies a level to a new schema and the
subject's live versions (oldest first). Pairwise rules are ``check(reader, writer)`` per
format: what stops ``reader`` from reading data written with ``writer``. BACKWARD reads old
data with the new schema (reader=new, writer=old); FORWARD the reverse; FULL both.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from weir.core.types import CompatibilityLevel, SchemaType
from weir.registry.compatibility import avro, json_schema, protobuf
from weir.registry.compatibility.result import CompatibilityResult, Incompatibility
from weir.registry.formats import ParsedSchema

PairCheck = Callable[[ParsedSchema, ParsedSchema], list[Incompatibility]]

_RULES: dict[SchemaType, PairCheck] = {
    SchemaType.AVRO: avro.check,
    SchemaType.PROTOBUF: protobuf.check,
    SchemaType.JSON: json_schema.check,
}


def check_pair(reader: ParsedSchema, writer: ParsedSchema) -> list[Incompatibility]:
    """What stops ``reader`` from reading data written with ``writer`` (same format)."""
    if reader.schema_type != writer.schema_type:
        return [
            Incompatibility(
                "SCHEMA_TYPE_CHANGED",
                "/",
                f"schema type changed from {writer.schema_type} to {reader.schema_type}",
            )
        ]
    return _RULES[reader.schema_type](reader, writer)


def check_compatibility(
    level: CompatibilityLevel,
    new: ParsedSchema,
    history: Sequence[ParsedSchema],
    versions: Sequence[int] | None = None,
) -> CompatibilityResult:
    """Apply ``level`` to ``new`` against ``history`` (live versions, oldest first).

    ``versions`` labels the history entries in the result (default 1, 2, ...).
    Non-transitive levels check only the latest entry.
    """
    labels = list(versions) if versions is not None else list(range(1, len(history) + 1))
    pairs = list(zip(labels, history, strict=True))
    if not level.transitive:
        pairs = pairs[-1:]
    found: list[Incompatibility] = []
    for version, old in reversed(pairs):
        if level.backward:
            found += _tag(check_pair(new, old), CompatibilityLevel.BACKWARD, version)
        if level.forward:
            found += _tag(check_pair(old, new), CompatibilityLevel.FORWARD, version)
    return CompatibilityResult(level, tuple(found))


def _tag(
    found: list[Incompatibility], direction: CompatibilityLevel, version: int
) -> list[Incompatibility]:
    return [dataclasses.replace(i, direction=direction, version=version) for i in found]


__all__ = ["CompatibilityResult", "Incompatibility", "check_compatibility", "check_pair"]
