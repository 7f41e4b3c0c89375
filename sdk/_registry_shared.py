"""Request building and response parsing for the registry clients, free of any I/O.

The sync SchemaRegistryClient and the AsyncSchemaRegistryClient stay thin: each method asks
a builder below for a ``Call`` (method, checked request, reply parser, whether it may run
twice), sends it, and returns what the parser makes of the reply. Bad arguments raise the
same WeirError classes the server would, before anything is sent. ``SchemaCache`` holds the
schemas fetched by id for both.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Iterable
from typing import Any, TypeVar

from weir.core.convert import from_proto, parse_enum, to_proto
from weir.core.errors import InvalidArgumentError, InvalidVersionError
from weir.core.types import CompatibilityLevel, Mode, SchemaId, SchemaType, Subject, Version
from weir.sdk._call import Call
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


def id_arg(schema_id: int) -> int:
    """A schema id: a positive integer."""
    if isinstance(schema_id, bool) or not isinstance(schema_id, int) or schema_id < 1:
        raise InvalidArgumentError(f"schema id {schema_id!r} is not valid: use a positive integer")
    return schema_id


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


# ----- calls: one builder per client method -----------------------------------------------

STUB = "registry"
"""The name of the RegistryService stub in the clients' stub table."""


def _call(method: str, request: Any, parse: Any, *, idempotent: bool = True) -> Call[Any]:
    return Call(STUB, method, request, parse, idempotent)


def register(
    subject: str,
    schema_text: str,
    schema_type: SchemaType | str,
    references: Iterable[SchemaReference],
) -> Call[RegisteredSchema]:
    """RegisterSchema; registering the same schema again returns the same id, so it may retry."""
    request = rs.RegisterSchemaRequest(
        subject=subject_arg(subject), schema=schema_input(schema_text, schema_type, references)
    )
    return _call("RegisterSchema", request, registered_from_proto)


def get_schema(schema_id: int) -> Call[Schema]:
    """GetSchema by global id."""
    request = rs.GetSchemaRequest(id=id_arg(schema_id))
    return _call("GetSchema", request, lambda reply: schema_from_proto(reply.schema))


def get_schema_versions(schema_id: int, include_deleted: bool) -> Call[list[SubjectVersion]]:
    """ListSchemaVersions: every subject version holding an id."""
    request = rs.ListSchemaVersionsRequest(id=id_arg(schema_id), include_deleted=include_deleted)
    return _call(
        "ListSchemaVersions", request, lambda reply: [version_from_proto(v) for v in reply.versions]
    )


def get_version(
    subject: str, version: VersionSelector, include_deleted: bool
) -> Call[SubjectVersion]:
    """GetSubjectVersion for a number or ``"latest"``."""
    request = rs.GetSubjectVersionRequest(
        subject=subject_arg(subject), include_deleted=include_deleted, **version_arg(version)
    )
    return _call("GetSubjectVersion", request, lambda reply: version_from_proto(reply.version))


def list_subjects(include_deleted: bool, prefix: str) -> Call[list[Subject]]:
    """ListSubjects, optionally by prefix."""
    request = rs.ListSubjectsRequest(include_deleted=include_deleted, prefix=prefix)
    return _call("ListSubjects", request, lambda reply: [Subject(s) for s in reply.subjects])


def list_versions(subject: str, include_deleted: bool) -> Call[list[Version]]:
    """ListVersions of a subject."""
    request = rs.ListVersionsRequest(subject=subject_arg(subject), include_deleted=include_deleted)
    return _call("ListVersions", request, lambda reply: [Version(v) for v in reply.versions])


def lookup(
    subject: str,
    schema_text: str,
    schema_type: SchemaType | str,
    references: Iterable[SchemaReference],
    include_deleted: bool,
) -> Call[SubjectVersion]:
    """LookupSchema: the version of a subject holding a schema."""
    request = rs.LookupSchemaRequest(
        subject=subject_arg(subject),
        schema=schema_input(schema_text, schema_type, references),
        include_deleted=include_deleted,
    )
    return _call("LookupSchema", request, lambda reply: version_from_proto(reply.version))


def referenced_by(subject: str, version: int) -> Call[list[SchemaId]]:
    """GetReferencedBy for one explicit version."""
    request = rs.GetReferencedByRequest(
        subject=subject_arg(subject), version=version_number(version)
    )
    return _call("GetReferencedBy", request, lambda reply: [SchemaId(i) for i in reply.ids])


def check_compatibility(
    subject: str,
    schema_text: str,
    schema_type: SchemaType | str,
    version: VersionSelector | None,
    references: Iterable[SchemaReference],
) -> Call[CompatibilityCheck]:
    """CheckCompatibility against one version, the latest, or the subject's history."""
    request = check_request(subject, schema_text, schema_type, references, version)
    return _call("CheckCompatibility", request, check_from_proto)


def delete_subject(subject: str, permanent: bool) -> Call[list[Version]]:
    """DeleteSubject; never retried (a second run answers differently)."""
    request = rs.DeleteSubjectRequest(subject=subject_arg(subject), permanent=permanent)
    return _call(
        "DeleteSubject",
        request,
        lambda reply: [Version(v) for v in reply.versions],
        idempotent=False,
    )


def delete_version(subject: str, version: VersionSelector, permanent: bool) -> Call[Version]:
    """DeleteSchemaVersion; never retried (a second run answers differently)."""
    request = rs.DeleteSchemaVersionRequest(
        subject=subject_arg(subject), permanent=permanent, **version_arg(version)
    )
    return _call(
        "DeleteSchemaVersion", request, lambda reply: Version(reply.version), idempotent=False
    )


def get_compatibility(subject: str | None, default_to_global: bool) -> Call[CompatibilityLevel]:
    """GetCompatibility of the global scope or a subject."""
    request = rs.GetCompatibilityRequest(default_to_global=default_to_global, **scope(subject))
    return _call("GetCompatibility", request, lambda reply: level_from_proto(reply.level))


def set_compatibility(
    level: CompatibilityLevel | str, subject: str | None
) -> Call[CompatibilityLevel]:
    """SetCompatibility of the global scope or a subject."""
    wanted = enum_arg(CompatibilityLevel, level)
    request = rs.SetCompatibilityRequest(
        level=to_proto(wanted),  # type: ignore[arg-type]
        **scope(subject),
    )
    return _call("SetCompatibility", request, lambda reply: level_from_proto(reply.level))


def delete_compatibility(subject: str) -> Call[CompatibilityLevel]:
    """DeleteCompatibility of a subject (setting it again is harmless, so it may retry)."""
    request = rs.DeleteCompatibilityRequest(subject=subject_arg(subject))
    return _call("DeleteCompatibility", request, lambda reply: level_from_proto(reply.level))


def get_mode(subject: str | None, default_to_global: bool) -> Call[Mode]:
    """GetMode of the global scope or a subject."""
    request = rs.GetModeRequest(default_to_global=default_to_global, **scope(subject))
    return _call("GetMode", request, lambda reply: mode_from_proto(reply.mode))


def set_mode(mode: Mode | str, subject: str | None, force: bool) -> Call[Mode]:
    """SetMode of the global scope or a subject."""
    wanted = enum_arg(Mode, mode)
    request = rs.SetModeRequest(
        mode=to_proto(wanted),  # type: ignore[arg-type]
        force=force,
        **scope(subject),
    )
    return _call("SetMode", request, lambda reply: mode_from_proto(reply.mode))


# ----- cache -------------------------------------------------------------------------------


class SchemaCache:
    """Schemas by global id for a client's lifetime: an id never changes what it names."""

    def __init__(self) -> None:
        self._schemas: dict[int, Schema] = {}
        self._lock = threading.Lock()

    def get(self, schema_id: int) -> Schema | None:
        """The cached schema for a (checked) id, or None."""
        return self._schemas.get(id_arg(schema_id))

    def put(self, schema_id: int, schema: Schema) -> Schema:
        """Remember a fetched schema; returns it."""
        with self._lock:
            return self._schemas.setdefault(schema_id, schema)

    def __len__(self) -> int:
        return len(self._schemas)


__all__: list[str] = []  # helpers for the clients only; nothing here is public API
