"""gRPC RegistryService: translates weir.v1 messages to domain calls and back.

Protobuf stops here; ``SchemaRegistry`` only sees domain values.
"""

from __future__ import annotations

from typing import Any

from weir.core.convert import from_proto, to_proto
from weir.core.errors import InvalidArgumentError
from weir.core.rpc import rpc
from weir.core.types import CompatibilityLevel, Mode, SchemaType, Subject, Version
from weir.core.visibility import visible, visible_by
from weir.registry.compatibility import CompatibilityResult
from weir.registry.formats.protobuf_text import proto_text
from weir.registry.model import Reference, SchemaInput, StoredSchema, SubjectVersion
from weir.registry.service import SchemaRegistry
from weir.v1 import registry_pb2 as pb
from weir.v1 import registry_service_pb2 as rs
from weir.v1 import registry_service_pb2_grpc as rs_grpc

Ctx = Any


def schema_to_proto(schema: StoredSchema) -> pb.Schema:
    """Domain schema to its message."""
    return pb.Schema(
        id=schema.id,
        schema_type=to_proto(schema.schema_type),  # type: ignore[arg-type]
        schema=schema.text,
        references=[
            pb.SchemaReference(name=r.name, subject=r.subject, version=r.version)
            for r in schema.references
        ],
    )


def version_to_proto(sv: SubjectVersion, with_schema: bool = True) -> pb.SubjectVersion:
    """Domain subject version to its message."""
    return pb.SubjectVersion(
        subject=sv.subject,
        version=sv.version,
        schema=schema_to_proto(sv.schema) if with_schema else None,
        deleted=sv.deleted,
    )


def input_from_proto(message: rs.SchemaInput) -> SchemaInput:
    """The schema offered in a request; a base64 protobuf descriptor becomes .proto text."""
    if not message.schema:
        raise InvalidArgumentError("schema text is empty; send the schema to register or check")
    schema_type = from_proto(SchemaType, message.schema_type)
    return SchemaInput(
        schema_type,
        proto_text(schema_type, message.schema),
        tuple(
            Reference(r.name, Subject(r.subject), Version(r.version)) for r in message.references
        ),
    )


def result_to_proto(result: CompatibilityResult) -> rs.CheckCompatibilityResponse:
    """A compatibility verdict to its message."""
    return rs.CheckCompatibilityResponse(
        compatible=result.compatible,
        level=to_proto(result.level),  # type: ignore[arg-type]
        incompatibilities=[
            pb.Incompatibility(
                rule=i.rule,
                path=i.path,
                message=i.message,
                level=to_proto(i.direction) if i.direction else 0,  # type: ignore[arg-type]
                version=i.version or 0,
            )
            for i in result.incompatibilities
        ],
    )


def _subject(name: str) -> str:
    if not name:
        raise InvalidArgumentError("subject is empty; name the subject")
    return name


def _subject_of(sv: SubjectVersion) -> str:
    return sv.subject


class RegistryServicer(rs_grpc.RegistryServiceServicer):
    """RegistryService over a SchemaRegistry."""

    def __init__(self, registry: SchemaRegistry) -> None:
        self.registry = registry

    @rpc
    async def RegisterSchema(self, request: rs.RegisterSchemaRequest, context: Ctx) -> Any:
        sv = self.registry.register(
            _subject(request.subject),
            input_from_proto(request.schema),
            schema_id=request.id if request.HasField("id") else None,
            version=request.version if request.HasField("version") else None,
        )
        return rs.RegisterSchemaResponse(id=sv.schema.id, version=sv.version)

    @rpc
    async def GetSchema(self, request: rs.GetSchemaRequest, context: Ctx) -> Any:
        return rs.GetSchemaResponse(schema=schema_to_proto(self.registry.get_schema(request.id)))

    @rpc
    async def ListSchemaVersions(self, request: rs.ListSchemaVersionsRequest, context: Ctx) -> Any:
        found = visible_by(
            "subject",
            self.registry.schema_versions(request.id, request.include_deleted),
            _subject_of,
        )
        return rs.ListSchemaVersionsResponse(versions=[version_to_proto(v, False) for v in found])

    @rpc
    async def GetSubjectVersion(self, request: rs.GetSubjectVersionRequest, context: Ctx) -> Any:
        version = request.version if request.WhichOneof("selector") == "version" else None
        sv = self.registry.get_version(_subject(request.subject), version, request.include_deleted)
        return rs.GetSubjectVersionResponse(version=version_to_proto(sv))

    @rpc
    async def ListSubjects(self, request: rs.ListSubjectsRequest, context: Ctx) -> Any:
        subjects = visible(
            "subject", self.registry.list_subjects(request.include_deleted, request.prefix)
        )
        return rs.ListSubjectsResponse(subjects=subjects)

    @rpc
    async def ListVersions(self, request: rs.ListVersionsRequest, context: Ctx) -> Any:
        found = self.registry.list_versions(_subject(request.subject), request.include_deleted)
        return rs.ListVersionsResponse(versions=found)

    @rpc
    async def LookupSchema(self, request: rs.LookupSchemaRequest, context: Ctx) -> Any:
        sv = self.registry.lookup(
            _subject(request.subject), input_from_proto(request.schema), request.include_deleted
        )
        return rs.LookupSchemaResponse(version=version_to_proto(sv))

    @rpc
    async def GetReferencedBy(self, request: rs.GetReferencedByRequest, context: Ctx) -> Any:
        ids = self.registry.referenced_by(_subject(request.subject), request.version)
        return rs.GetReferencedByResponse(ids=ids)

    @rpc
    async def CheckCompatibility(self, request: rs.CheckCompatibilityRequest, context: Ctx) -> Any:
        against = request.WhichOneof("against")
        result = self.registry.check(
            _subject(request.subject),
            input_from_proto(request.schema),
            version=request.version if against == "version" else None,
            latest=against == "latest",
        )
        return result_to_proto(result)

    @rpc
    async def DeleteSubject(self, request: rs.DeleteSubjectRequest, context: Ctx) -> Any:
        found = self.registry.delete_subject(_subject(request.subject), request.permanent)
        return rs.DeleteSubjectResponse(versions=found)

    @rpc
    async def DeleteSchemaVersion(
        self, request: rs.DeleteSchemaVersionRequest, context: Ctx
    ) -> Any:
        version = request.version if request.WhichOneof("selector") == "version" else None
        found = self.registry.delete_version(_subject(request.subject), version, request.permanent)
        return rs.DeleteSchemaVersionResponse(version=found)

    @rpc
    async def GetCompatibility(self, request: rs.GetCompatibilityRequest, context: Ctx) -> Any:
        subject = request.subject if request.HasField("subject") else None
        level = self.registry.get_config(subject, request.default_to_global)
        return rs.GetCompatibilityResponse(level=to_proto(level))  # type: ignore[arg-type]

    @rpc
    async def SetCompatibility(self, request: rs.SetCompatibilityRequest, context: Ctx) -> Any:
        subject = request.subject if request.HasField("subject") else None
        level = from_proto(CompatibilityLevel, request.level)
        self.registry.set_config(level, subject)
        return rs.SetCompatibilityResponse(level=request.level)

    @rpc
    async def DeleteCompatibility(
        self, request: rs.DeleteCompatibilityRequest, context: Ctx
    ) -> Any:
        level = self.registry.delete_config(_subject(request.subject))
        return rs.DeleteCompatibilityResponse(level=to_proto(level))  # type: ignore[arg-type]

    @rpc
    async def GetMode(self, request: rs.GetModeRequest, context: Ctx) -> Any:
        subject = request.subject if request.HasField("subject") else None
        mode = self.registry.get_mode(subject, request.default_to_global)
        return rs.GetModeResponse(mode=to_proto(mode))  # type: ignore[arg-type]

    @rpc
    async def SetMode(self, request: rs.SetModeRequest, context: Ctx) -> Any:
        subject = request.subject if request.HasField("subject") else None
        self.registry.set_mode(from_proto(Mode, request.mode), subject, request.force)
        return rs.SetModeResponse(mode=request.mode)
