"""The SDK's registry values: what SchemaRegistryClient returns, as frozen dataclasses.

The enums and id types are weir.core's own, re-exported so users need only ``weir.sdk``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from weir.core.types import CompatibilityLevel, Mode, SchemaId, SchemaType, Subject, Version

LATEST: Literal["latest"] = "latest"
"""Pass as a version to mean the latest live version."""

VersionSelector = int | Literal["latest"]
"""A version number (from 1) or ``"latest"``."""


@dataclass(frozen=True, slots=True)
class SchemaReference:
    """A named pointer from a schema to another subject's version."""

    name: str
    """The name the schema uses: an Avro full name, a .proto import path or a JSON $ref URL."""
    subject: str
    """The subject that holds the referenced schema."""
    version: int
    """The referenced version of that subject."""


@dataclass(frozen=True, slots=True)
class RegisteredSchema:
    """Where a registered schema landed."""

    id: SchemaId
    """The global, content-addressed schema id."""
    version: Version
    """The subject version that holds it."""


@dataclass(frozen=True, slots=True)
class Schema:
    """A registered schema, addressed by its global id."""

    id: SchemaId
    """The global, content-addressed schema id."""
    schema_type: SchemaType
    """The schema's language."""
    text: str
    """The schema text as first registered."""
    references: tuple[SchemaReference, ...] = ()
    """The schemas it refers to, in order."""


@dataclass(frozen=True, slots=True)
class SubjectVersion:
    """One version of a subject and the schema it holds."""

    subject: Subject
    """The subject name."""
    version: Version
    """The version number, from 1."""
    schema: Schema | None
    """The schema at this version (None in listings that leave it out)."""
    deleted: bool = False
    """True once soft-deleted."""


@dataclass(frozen=True, slots=True)
class Incompatibility:
    """One reason a schema change breaks compatibility."""

    rule: str
    """A stable rule id, for example ``READER_FIELD_MISSING_DEFAULT_VALUE``."""
    path: str
    """Where in the schema, JSON-pointer style, for example ``/fields/email``."""
    message: str
    """A sentence a person understands."""
    level: CompatibilityLevel | None = None
    """BACKWARD or FORWARD: which direction of reading failed, when known."""
    version: int | None = None
    """The registered version compared against, when known."""


@dataclass(frozen=True, slots=True)
class CompatibilityCheck:
    """The verdict of a compatibility check."""

    compatible: bool
    """True when the schema may join the subject."""
    level: CompatibilityLevel | None
    """The level that was applied (None if the server did not say)."""
    incompatibilities: tuple[Incompatibility, ...] = ()
    """Every reason found; empty when compatible."""


__all__ = [
    "LATEST",
    "CompatibilityCheck",
    "CompatibilityLevel",
    "Incompatibility",
    "Mode",
    "RegisteredSchema",
    "Schema",
    "SchemaId",
    "SchemaReference",
    "SchemaType",
    "Subject",
    "SubjectVersion",
    "Version",
    "VersionSelector",
]
