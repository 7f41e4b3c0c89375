"""Schema formats by type: ``get_format(SchemaType.AVRO).parse(text)``."""

from __future__ import annotations

from weir.core.types import SchemaType
from weir.registry.formats.avro import AVRO
from weir.registry.formats.base import (
    ParsedSchema,
    RecordValidator,
    ResolvedReference,
    SchemaFormat,
)
from weir.registry.formats.json_schema import JSON_SCHEMA
from weir.registry.formats.protobuf import PROTOBUF

_FORMATS: dict[SchemaType, SchemaFormat] = {
    SchemaType.AVRO: AVRO,
    SchemaType.PROTOBUF: PROTOBUF,
    SchemaType.JSON: JSON_SCHEMA,
}


def get_format(schema_type: SchemaType) -> SchemaFormat:
    """The format for a schema type."""
    return _FORMATS[schema_type]


__all__ = [
    "ParsedSchema",
    "RecordValidator",
    "ResolvedReference",
    "SchemaFormat",
    "get_format",
]
