"""JSON Schema compatibility, as Confluent Schema Registry's JsonSchemaDiff decides it.

``check(reader, writer)`` diffs the writer schema (Confluent's *original*) against the reader
schema (the *update*): a BACKWARD check is ``check(reader=new, writer=old)``. Every
difference Confluent's default strict policy rejects comes back as an Incompatibility whose
rule is Confluent's Difference.Type name (TYPE_CHANGED, MAX_LENGTH_ADDED,
PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL, ...) and whose path is a JSON pointer into the schema.
``$ref``s, local and to referenced schemas, are followed; recursion is cut where a pair of
schemas is met again inside its own comparison.
"""

from __future__ import annotations

from weir.core.errors import InvalidSchemaError
from weir.registry.compatibility.json_schema_context import Context, Difference
from weir.registry.compatibility.json_schema_diff import compare
from weir.registry.compatibility.json_schema_loader import load
from weir.registry.compatibility.result import Incompatibility
from weir.registry.formats.base import ParsedSchema
from weir.registry.formats.json_schema import JsonSchema


def differences(reader: JsonSchema, writer: JsonSchema) -> list[Difference]:
    """Every difference, compatible or not, from ``writer`` (original) to ``reader`` (update)."""
    ctx = Context()
    try:
        compare(ctx, load(writer), load(reader))
    except RecursionError:
        raise InvalidSchemaError(
            "schemas nest too deeply to compare; simplify the schema or use $ref"
        ) from None
    return ctx.diffs


def check(reader: ParsedSchema, writer: ParsedSchema) -> list[Incompatibility]:
    """What stops ``reader`` from reading data written with ``writer``."""
    if not isinstance(reader, JsonSchema) or not isinstance(writer, JsonSchema):
        raise TypeError("json_schema.check compares two parsed JSON schemas")
    found: list[Incompatibility] = []
    seen: set[tuple[str, str]] = set()
    for diff in differences(reader, writer):
        if diff.compatible or (diff.rule, diff.pointer) in seen:
            continue
        seen.add((diff.rule, diff.pointer))
        found.append(Incompatibility(diff.rule, diff.pointer, f"{diff.message}{_effect(diff)}"))
    return found


def _effect(diff: Difference) -> str:
    if diff.rule.startswith(("TYPE_", "COMBINED_", "SUM_", "PRODUCT_", "NOT_", "ENUM_")):
        return "; data the writer schema accepts may not fit the reader schema"
    return "; data valid under the writer schema may be rejected by the reader schema"
