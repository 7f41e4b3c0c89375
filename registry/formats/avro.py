"""The Avro schema format: parsing with references, canonical text and record validators.

``AVRO.parse(text, references)`` checks the schema the way Confluent (Avro Java) does, naming
the JSON line/column or the schema path of the first problem. Named types of referenced
schemas (records, enums and fixed, by full name) are visible to the schema, as in Confluent.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from fastavro import parse_schema, schemaless_reader
from fastavro._read_py import schemaless_reader as python_reader

from weir.core.errors import InvalidRecordError, InvalidReferenceError, InvalidSchemaError
from weir.core.types import SchemaType
from weir.registry.formats.avro_canonical import dumps, to_fastavro
from weir.registry.formats.avro_parse import load_json, parse_tree
from weir.registry.formats.avro_recursion import is_recursive
from weir.registry.formats.base import ParsedSchema, RecordValidator, ResolvedReference
from weir.registry.formats.limits import check_depth, too_deep


class AvroSchema(ParsedSchema):
    """A parsed, valid Avro schema."""

    schema_type = SchemaType.AVRO

    def __init__(
        self,
        text: str,
        references: tuple[ResolvedReference, ...],
        tree: Any,
        named: Mapping[str, dict[str, Any]],
        chain: tuple[Any, ...],
    ) -> None:
        self.text = text
        """The text as given."""
        self.references = references
        """The references, each already parsed."""
        self.tree = tree
        """The canonical tree: named types fully qualified, named by full name after first use."""
        self.named = named
        """Every named type visible to this schema (its own and its references'), by full name."""
        self.chain = chain
        """Canonical trees to load in order: the references' (transitively), then this one."""
        self._canonical = dumps(tree)
        self._fastavro = _load_fastavro(chain)

    @property
    def canonical(self) -> str:
        """Compact JSON with full names and a fixed key order; keeps docs, defaults, props."""
        return self._canonical

    def record_name(self, message_indexes: Sequence[int] = ()) -> str | None:
        """The full name of the top-level named type."""
        name = self.tree.get("name") if isinstance(self.tree, dict) else None
        return name if isinstance(name, str) else None

    def resolve(self, node: Any) -> Any:
        """The definition behind a named-type reference; other nodes are returned unchanged."""
        if isinstance(node, str) and node in self.named:
            return self.named[node]
        return node

    def validator(self) -> RecordValidator:
        """A validator that decodes payloads with fastavro and requires every byte be used.

        A recursive schema (a record that can contain itself) lets a payload nest without
        bound, and fastavro's compiled reader recurses on the C stack until the process
        crashes; those schemas decode with fastavro's Python reader, whose depth is checked.
        """
        return AvroValidator(self._fastavro, recursive=is_recursive(self.named))


class AvroValidator:
    """Decodes Avro binary payloads against one schema; the fastavro schema is built once."""

    __slots__ = ("_recursive", "_schema")

    def __init__(self, fastavro_schema: Any, recursive: bool = False) -> None:
        self._schema = fastavro_schema
        self._recursive = recursive

    def validate(self, payload: bytes, message_indexes: Sequence[int] = ()) -> None:
        """Raise InvalidRecordError unless ``payload`` is exactly one record of the schema."""
        stream = io.BytesIO(payload)
        try:
            if self._recursive:
                check_depth(python_reader(stream, self._schema, None), "Avro payload")
            else:
                schemaless_reader(stream, self._schema, None)
        except RecursionError:
            raise too_deep(None, "Avro payload") from None
        except InvalidRecordError:
            raise
        except Exception as exc:  # fastavro raises many types for corrupt input
            rule = "truncated" if isinstance(exc, EOFError) else "decode"
            raise InvalidRecordError(
                f"Avro decode failed: {decode_problem(exc, len(payload))}", metadata={"rule": rule}
            ) from None
        left = len(payload) - stream.tell()
        if left:
            raise InvalidRecordError(
                f"Avro decode failed: {left} trailing bytes after the record;"
                " the payload holds more than one record or was written with another schema",
                metadata={"rule": "trailing-bytes"},
            )


def decode_problem(exc: Exception, size: int) -> str:
    """What a fastavro decode failure of ``size`` bytes means, without fastavro's internals."""
    if isinstance(exc, EOFError):
        return (
            f"the payload ended early ({size} bytes); "
            "the record is truncated or was written with another schema"
        )
    if isinstance(exc, UnicodeDecodeError):
        return (
            f"a string holds bytes that are not UTF-8 (byte {exc.object[exc.start]:#04x}); "
            "the payload is corrupt or was written with another schema"
        )
    return (
        "the bytes do not follow the schema (a union branch, enum symbol or length is out "
        "of range); the payload is corrupt or was written with another schema"
    )


class AvroFormat:
    """The AVRO schema language."""

    schema_type = SchemaType.AVRO

    def parse(self, text: str, references: Sequence[ResolvedReference] = ()) -> AvroSchema:
        """Parse and validate schema text; raise InvalidSchemaError saying where it is wrong."""
        external: dict[str, dict[str, Any]] = {}
        chain: list[Any] = []
        for ref in references:
            if not isinstance(ref.schema, AvroSchema):
                raise InvalidReferenceError(
                    f"Reference '{ref.name}' is a {ref.schema.schema_type} schema;"
                    " an Avro schema can only reference Avro schemas",
                    metadata={"reference": ref.name},
                )
            _merge_named(external, ref.name, ref.schema)
            seen = {dumps(tree) for tree in chain}
            chain.extend(tree for tree in ref.schema.chain if dumps(tree) not in seen)
        parsed = parse_tree(load_json(text), external, frozenset(r.name for r in references))
        chain.append(parsed.tree)
        return AvroSchema(
            text, tuple(references), parsed.tree, {**external, **parsed.named}, tuple(chain)
        )


def _merge_named(external: dict[str, dict[str, Any]], ref_name: str, schema: AvroSchema) -> None:
    """Add a reference's named types; the same name defined two ways is an error."""
    for name, definition in schema.named.items():
        known = external.setdefault(name, definition)
        if known is not definition and dumps(known) != dumps(definition):
            raise InvalidReferenceError(
                f"References define the type '{name}' in two different ways (seen again in"
                f" reference '{ref_name}'); make every reference use the same version of it",
                metadata={"reference": ref_name, "type": name},
            )


def _load_fastavro(chain: tuple[Any, ...]) -> Any:
    """Parse the chain with fastavro, as a last check and to build the decoder's schema."""
    named: dict[str, Any] = {}
    parsed: Any = None
    try:
        for tree in chain:
            parsed = parse_schema(to_fastavro(tree), named_schemas=named)
    except Exception as exc:  # fastavro raises several types; none may escape
        raise InvalidSchemaError(
            f"Invalid Avro schema: fastavro rejected it: {type(exc).__name__}: {exc}"
        ) from None
    return parsed


AVRO = AvroFormat()
