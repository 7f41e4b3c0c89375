"""Request building and response parsing for the registry clients, free of any I/O.

The sync client (and a later asyncio one) stay thin: each method builds a request here,
sends it, and parses the response here. Bad arguments raise the same WeirError classes the
server would, before anything is sent.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any, TypeVar

from weir.core.convert import from_proto, parse_enum, to_proto
from weir.core.errors import InvalidArgumentError, InvalidVersionError
from weir.core.types import CompatibilityLevel, Mode, SchemaId, SchemaType, Subject, Version
from weir.sdk._types import (
    LATEST,
    CompatibilityCheck,
    Incompatibility,
    RegisteredSchema,
    Schema,
    SchemaReference,
    SubjectVersion,
    VersionSelector,
)
from weir.v1 import registry_pb2 as pb
from weir.v1 import registry_service_pb2 as rs

E = TypeVar("E", bound=enum.StrEnum)


def enum_arg(kind: type[E], value: E | str) -> E:
    """A domain enum from an enum value or its name in any case."""
    if isinstance(value, kind):
        return value
    # parse_enum raises the kind's own error class (InvalidCompatibilityLevelError, ...).
    return parse_enum(kind, value if isinstance(value, str) else repr(value))


def subject_arg(subject: str) -> str:
    """A non-empty subject name."""
    if not isinstance(subject, str) or not subject:
        raise InvalidArgumentError("subject is empty; name the subject")
    return subject


def version_arg(version: VersionSelector) -> dict[str, Any]:
    """The oneof fields selecting a version: ``{"version": n}`` or ``{"latest": True}``."""
    if version == LATEST:
        return {"latest": True}
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidVersionError(
            f"version {version!r} is not valid: use a positive integer or 'latest'"
        )
    return {"version": version}


def version_number(version: int) -> int:
    """An explicit version number (from 1); ``"latest"`` is not allowed here."""
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidVersionError(f"version {version!r} is not valid: use a positive integer")
    return version


def schema_input(
    schema_text: str, schema_type: SchemaType | str, references: Iterable[SchemaReference]
) -> rs.SchemaInput:
    """The SchemaInput message for text, type and references."""
    if not isinstance(schema_text, str) or not schema_text.strip():
        raise InvalidArgumentError("schema text is empty; pass the schema to register or check")
    refs = []
    for ref in references:
        if not isinstance(ref, SchemaReference):
            raise InvalidArgumentError(
                f"reference {ref!r} is not a SchemaReference(name, subject, version)"
            )
        version_number(ref.version)
        refs.append(pb.SchemaReference(name=ref.name, subject=ref.subject, version=ref.version))
    return rs.SchemaInput(
        schema_type=to_proto(enum_arg(SchemaType, schema_type)),  # type: ignore[arg-type]
        schema=schema_text,
        references=refs,
    )


def check_request(
    subject: str,
    schema_text: str,
    schema_type: SchemaType | str,
    references: Iterable[SchemaReference],
    version: VersionSelector | None,
) -> rs.CheckCompatibilityRequest:
    """Check against one version, the latest, or (None) the subject's level and history."""
    against = {} if version is None else version_arg(version)
    return rs.CheckCompatibilityRequest(
        subject=subject_arg(subject),
        schema=schema_input(schema_text, schema_type, references),
        **against,
    )


def scope(subject: str | None) -> dict[str, str]:
    """The optional subject field of config and mode requests (absent means global)."""
    return {} if subject is None else {"subject": subject_arg(subject)}


# ----- responses ---------------------------------------------------------------------------


def schema_from_proto(message: pb.Schema) -> Schema:
    """A Schema message as a value."""
    return Schema(
        id=SchemaId(message.id),
        schema_type=from_proto(SchemaType, message.schema_type),
        text=message.schema,
        references=tuple(SchemaReference(r.name, r.subject, r.version) for r in message.references),
    )


def version_from_proto(message: pb.SubjectVersion) -> SubjectVersion:
    """A SubjectVersion message as a value; its schema is None when the message has none."""
    return SubjectVersion(
        subject=Subject(message.subject),
        version=Version(message.version),
        schema=schema_from_proto(message.schema) if message.HasField("schema") else None,
        deleted=message.deleted,
    )


def registered_from_proto(message: rs.RegisterSchemaResponse) -> RegisteredSchema:
    """The id and version a registration returned."""
    return RegisteredSchema(SchemaId(message.id), Version(message.version))


def check_from_proto(message: rs.CheckCompatibilityResponse) -> CompatibilityCheck:
    """A compatibility verdict as a value."""
    return CompatibilityCheck(
        compatible=message.compatible,
        level=_optional_level(message.level),
        incompatibilities=tuple(
            Incompatibility(
                rule=i.rule,
                path=i.path,
                message=i.message,
                level=_optional_level(i.level),
                version=i.version or None,
            )
            for i in message.incompatibilities
        ),
    )


def level_from_proto(value: int) -> CompatibilityLevel:
    """A compatibility level number as the domain enum."""
    return from_proto(CompatibilityLevel, value)


def mode_from_proto(value: int) -> Mode:
    """A mode number as the domain enum."""
    return from_proto(Mode, value)


def _optional_level(value: int) -> CompatibilityLevel | None:
    return None if value == 0 else from_proto(CompatibilityLevel, value)


__all__: list[str] = []  # helpers for the clients only; nothing here is public API
