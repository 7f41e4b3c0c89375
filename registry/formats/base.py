"""What every schema format provides: parsing, a canonical form and record validators.

A format is a ``SchemaFormat``. ``parse`` turns schema text plus its already-parsed
references into a ``ParsedSchema`` or raises ``InvalidSchemaError`` /
``InvalidReferenceError`` naming where the text is wrong. Compatibility rules live in
``weir.registry.compatibility``, which works on the native objects a ParsedSchema keeps.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from weir.core.types import SchemaType


@dataclass(frozen=True, slots=True)
class ResolvedReference:
    """A reference as a format sees it: the name used in the text and the parsed target."""

    name: str
    """The name the schema text uses: Avro full name, .proto import path or JSON $ref URL."""
    schema: ParsedSchema
    """The referenced schema, already parsed with its own references."""


class RecordValidator(Protocol):
    """A compiled check of one payload against one schema. Built once per schema id."""

    def validate(self, payload: bytes, message_indexes: Sequence[int] = ()) -> None:
        """Raise ``InvalidRecordError`` naming the field path and rule when payload is bad.

        ``message_indexes`` is the protobuf message-index path from the wire framing
        (empty means the first message); other formats ignore it.
        """


class ParsedSchema(ABC):
    """A parsed, valid schema. Immutable; subclasses keep their format's native objects."""

    schema_type: SchemaType
    text: str
    """The text as given."""
    references: tuple[ResolvedReference, ...]

    @property
    @abstractmethod
    def canonical(self) -> str:
        """Canonical text: stable under whitespace, key order, name qualification and EOLs."""

    @property
    def fingerprint(self) -> str:
        """sha256 hex of the type, canonical text and the references' fingerprints."""
        digest = hashlib.sha256(f"{self.schema_type}\0{self.canonical}".encode())
        for ref in self.references:
            digest.update(f"\0{ref.name}\0{ref.schema.fingerprint}".encode())
        return digest.hexdigest()

    @abstractmethod
    def validator(self) -> RecordValidator:
        """Build the record validator. Callers cache it; it may be costly."""

    def record_name(self, message_indexes: Sequence[int] = ()) -> str | None:
        """The fully qualified record name, for the record subject-name strategies.

        Avro: the top-level named type; protobuf: the message picked by the index path;
        JSON Schema: its ``title``. None when the schema has no such name.
        """
        return None


class SchemaFormat(Protocol):
    """One schema language."""

    schema_type: SchemaType

    def parse(self, text: str, references: Sequence[ResolvedReference] = ()) -> ParsedSchema:
        """Parse and validate schema text; raise InvalidSchemaError saying where it is wrong."""
        ...
