"""protobuf schema format (placeholder until implemented)."""

from __future__ import annotations

from collections.abc import Sequence

from weir.core.types import SchemaType
from weir.registry.formats.base import ParsedSchema, ResolvedReference


class ProtobufFormat:
    """The PROTOBUF schema language."""

    schema_type = SchemaType.PROTOBUF

    def parse(self, text: str, references: Sequence[ResolvedReference] = ()) -> ParsedSchema:
        """Parse and validate schema text."""
        raise NotImplementedError


PROTOBUF = ProtobufFormat()
