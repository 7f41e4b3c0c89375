"""protobuf compatibility rules (placeholder until implemented)."""

from __future__ import annotations

from weir.registry.compatibility.result import Incompatibility
from weir.registry.formats.base import ParsedSchema


def check(reader: ParsedSchema, writer: ParsedSchema) -> list[Incompatibility]:
    """What stops ``reader`` from reading data written with ``writer``."""
    raise NotImplementedError
