"""SchemaRegistryClient: a synchronous gRPC client for the Weir schema registry.

Every call has a deadline (``timeout_s``). A ``grpc.RpcError`` never escapes: it becomes the
WeirError subclass the server sent, or UnavailableError when the server cannot be reached.
Schemas fetched by id are cached for the client's lifetime, since ids are immutable.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from weir.core.convert import to_proto
from weir.core.errors import InvalidArgumentError
from weir.core.types import CompatibilityLevel, Mode, SchemaId, SchemaType, Subject, Version
from weir.sdk import _registry_shared as shared
from weir.sdk._channel import DEFAULT_SERVER, DEFAULT_TIMEOUT_S
from weir.sdk._client import GrpcClient
from weir.sdk._retry import RetryPolicy
from weir.sdk._types import (
    LATEST,
    CompatibilityCheck,
    RegisteredSchema,
    Schema,
    SchemaReference,
    SubjectVersion,
    VersionSelector,
)
from weir.v1 import registry_service_pb2 as rs
from weir.v1 import registry_service_pb2_grpc as rs_grpc


class SchemaRegistryClient(GrpcClient):
    """A sync client for RegistryService. Thread-safe; use as a context manager or close()."""

    def __init__(
        self,
        server: str = DEFAULT_SERVER,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(server, timeout_s=timeout_s, retry=retry)
        self._stub: Any = rs_grpc.RegistryServiceStub(self._channel)  # type: ignore[no-untyped-call]
        self._schemas: dict[int, Schema] = {}
        self._lock = threading.Lock()

    # ----- schemas -------------------------------------------------------------------------

    def register(
        self,
        subject: str,
        schema_text: str,
        schema_type: SchemaType | str,
        references: Iterable[SchemaReference] = (),
    ) -> RegisteredSchema:
        """Register a schema under a subject; registering it again returns the same result."""
        request = rs.RegisterSchemaRequest(
            subject=shared.subject_arg(subject),
            schema=shared.schema_input(schema_text, schema_type, references),
        )
        return shared.registered_from_proto(self._call(self._stub.RegisterSchema, request))

    def get_schema(self, schema_id: int) -> Schema:
        """A schema by its global id (cached: ids never change what they name)."""
        cached = self._schemas.get(schema_id)
        if cached is not None:
            return cached
        response = self._call(self._stub.GetSchema, rs.GetSchemaRequest(id=_id_arg(schema_id)))
        schema = shared.schema_from_proto(response.schema)
        with self._lock:
            self._schemas[schema_id] = schema
        return schema

    def get_schema_versions(
        self, schema_id: int, include_deleted: bool = False
    ) -> list[SubjectVersion]:
        """Every subject version that holds a schema id (without the schema itself)."""
        request = rs.ListSchemaVersionsRequest(
            id=_id_arg(schema_id), include_deleted=include_deleted
        )
        response = self._call(self._stub.ListSchemaVersions, request)
        return [shared.version_from_proto(v) for v in response.versions]

    def get_version(
        self, subject: str, version: VersionSelector = LATEST, include_deleted: bool = False
    ) -> SubjectVersion:
        """One version of a subject (``"latest"``: the latest live one), with its schema."""
        request = rs.GetSubjectVersionRequest(
            subject=shared.subject_arg(subject),
            include_deleted=include_deleted,
            **shared.version_arg(version),
        )
        return shared.version_from_proto(self._call(self._stub.GetSubjectVersion, request).version)

    def list_subjects(self, include_deleted: bool = False, prefix: str = "") -> list[Subject]:
        """Subject names, sorted; soft-deleted subjects only with ``include_deleted``."""
        request = rs.ListSubjectsRequest(include_deleted=include_deleted, prefix=prefix)
        return [Subject(s) for s in self._call(self._stub.ListSubjects, request).subjects]

    def list_versions(self, subject: str, include_deleted: bool = False) -> list[Version]:
        """A subject's version numbers, ascending."""
        request = rs.ListVersionsRequest(
            subject=shared.subject_arg(subject), include_deleted=include_deleted
        )
        return [Version(v) for v in self._call(self._stub.ListVersions, request).versions]

    def lookup(
        self,
        subject: str,
        schema_text: str,
        schema_type: SchemaType | str,
        references: Iterable[SchemaReference] = (),
        include_deleted: bool = False,
    ) -> SubjectVersion:
        """The version of a subject that holds this schema; SchemaNotFoundError if none."""
        request = rs.LookupSchemaRequest(
            subject=shared.subject_arg(subject),
            schema=shared.schema_input(schema_text, schema_type, references),
            include_deleted=include_deleted,
        )
        return shared.version_from_proto(self._call(self._stub.LookupSchema, request).version)

    def referenced_by(self, subject: str, version: int) -> list[SchemaId]:
        """Ids of live schemas whose references name this subject version."""
        request = rs.GetReferencedByRequest(
            subject=shared.subject_arg(subject), version=shared.version_number(version)
        )
        return [SchemaId(i) for i in self._call(self._stub.GetReferencedBy, request).ids]

    def check_compatibility(
        self,
        subject: str,
        schema_text: str,
        schema_type: SchemaType | str,
        version: VersionSelector | None = None,
        references: Iterable[SchemaReference] = (),
    ) -> CompatibilityCheck:
        """Would this schema be accepted? None: the subject's level against its history;
        a version or ``"latest"``: the subject's level against that one version."""
        request = shared.check_request(subject, schema_text, schema_type, references, version)
        return shared.check_from_proto(self._call(self._stub.CheckCompatibility, request))

    def delete_subject(self, subject: str, permanent: bool = False) -> list[Version]:
        """Soft-delete every version (or, after that, remove them for good); the versions hit."""
        request = rs.DeleteSubjectRequest(subject=shared.subject_arg(subject), permanent=permanent)
        return [
            Version(v)
            for v in self._call(self._stub.DeleteSubject, request, idempotent=False).versions
        ]

    def delete_version(
        self, subject: str, version: VersionSelector, permanent: bool = False
    ) -> Version:
        """Soft-delete one version (or, after that, remove it for good); the version hit."""
        request = rs.DeleteSchemaVersionRequest(
            subject=shared.subject_arg(subject), permanent=permanent, **shared.version_arg(version)
        )
        return Version(
            self._call(self._stub.DeleteSchemaVersion, request, idempotent=False).version
        )

    # ----- configuration -------------------------------------------------------------------

    def get_compatibility(
        self, subject: str | None = None, default_to_global: bool = False
    ) -> CompatibilityLevel:
        """The global level, or a subject's own (``default_to_global``: the one in force)."""
        request = rs.GetCompatibilityRequest(
            default_to_global=default_to_global, **shared.scope(subject)
        )
        return shared.level_from_proto(self._call(self._stub.GetCompatibility, request).level)

    def set_compatibility(
        self, level: CompatibilityLevel | str, subject: str | None = None
    ) -> CompatibilityLevel:
        """Set the global level, or a subject's own; returns the level now in force."""
        wanted = shared.enum_arg(CompatibilityLevel, level)
        request = rs.SetCompatibilityRequest(
            level=to_proto(wanted),  # type: ignore[arg-type]
            **shared.scope(subject),
        )
        return shared.level_from_proto(self._call(self._stub.SetCompatibility, request).level)

    def delete_compatibility(self, subject: str) -> CompatibilityLevel:
        """Remove a subject's own level so the global one applies; returns the removed level."""
        request = rs.DeleteCompatibilityRequest(subject=shared.subject_arg(subject))
        return shared.level_from_proto(self._call(self._stub.DeleteCompatibility, request).level)

    def get_mode(self, subject: str | None = None, default_to_global: bool = False) -> Mode:
        """The global mode, or a subject's own (``default_to_global``: the one in force)."""
        request = rs.GetModeRequest(default_to_global=default_to_global, **shared.scope(subject))
        return shared.mode_from_proto(self._call(self._stub.GetMode, request).mode)

    def set_mode(self, mode: Mode | str, subject: str | None = None, force: bool = False) -> Mode:
        """Set the global mode, or a subject's own; IMPORT on a non-empty scope needs force."""
        wanted = shared.enum_arg(Mode, mode)
        request = rs.SetModeRequest(
            mode=to_proto(wanted),  # type: ignore[arg-type]
            force=force,
            **shared.scope(subject),
        )
        return shared.mode_from_proto(self._call(self._stub.SetMode, request).mode)

    # ----- plumbing ------------------------------------------------------------------------


def _id_arg(schema_id: int) -> int:
    if isinstance(schema_id, bool) or not isinstance(schema_id, int) or schema_id < 1:
        raise InvalidArgumentError(f"schema id {schema_id!r} is not valid: use a positive integer")
    return schema_id


__all__ = ["SchemaRegistryClient"]
