"""avro schema format (placeholder until implemented)."""

from __future__ import annotations

from collections.abc import Sequence

from weir.core.types import SchemaType
from weir.registry.formats.base import ParsedSchema, ResolvedReference


class AvroFormat:
    """The AVRO schema language."""

    schema_type = SchemaType.AVRO

    def parse(self, text: str, references: Sequence[ResolvedReference] = ()) -> ParsedSchema:
        """Parse and validate schema text."""
        raise NotImplementedError


AVRO = AvroFormat()
