"""The registry's domain values: schemas, references, subject versions."""

from __future__ import annotations

from dataclasses import dataclass

from weir.core.types import SchemaId, SchemaType, Subject, Version


@dataclass(frozen=True, slots=True)
class Reference:
    """A named pointer from a schema to another subject's version."""

    name: str
    """The name the schema text uses (Avro full name, .proto import, JSON $ref)."""
    subject: Subject
    """The subject that holds the referenced schema."""
    version: Version
    """The referenced version."""


@dataclass(frozen=True, slots=True)
class SchemaInput:
    """Schema text offered for registration, lookup or a check."""

    schema_type: SchemaType
    """The schema's language."""
    text: str
    """The schema text."""
    references: tuple[Reference, ...] = ()
    """What the text refers to, in order."""


@dataclass(frozen=True, slots=True)
class StoredSchema:
    """A registered schema, addressed by its global id."""

    id: SchemaId
    """Global, content-addressed id."""
    schema_type: SchemaType
    """The schema's language."""
    text: str
    """The text as first registered."""
    references: tuple[Reference, ...]
    """What the text refers to."""


@dataclass(frozen=True, slots=True)
class SubjectVersion:
    """One version of a subject."""

    subject: Subject
    """The subject name."""
    version: Version
    """The version number, from 1."""
    schema: StoredSchema
    """The schema at this version."""
    deleted: bool = False
    """True once soft-deleted."""
