from weir.v1 import registry_pb2 as _registry_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SchemaInput(_message.Message):
    __slots__ = ("schema_type", "schema", "references")
    SCHEMA_TYPE_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    REFERENCES_FIELD_NUMBER: _ClassVar[int]
    schema_type: _registry_pb2.SchemaType
    schema: str
    references: _containers.RepeatedCompositeFieldContainer[_registry_pb2.SchemaReference]
    def __init__(self, schema_type: _Optional[_Union[_registry_pb2.SchemaType, str]] = ..., schema: _Optional[str] = ..., references: _Optional[_Iterable[_Union[_registry_pb2.SchemaReference, _Mapping]]] = ...) -> None: ...

class RegisterSchemaRequest(_message.Message):
    __slots__ = ("subject", "schema", "id", "version")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    subject: str
    schema: SchemaInput
    id: int
    version: int
    def __init__(self, subject: _Optional[str] = ..., schema: _Optional[_Union[SchemaInput, _Mapping]] = ..., id: _Optional[int] = ..., version: _Optional[int] = ...) -> None: ...

class RegisterSchemaResponse(_message.Message):
    __slots__ = ("id", "version")
    ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    id: int
    version: int
    def __init__(self, id: _Optional[int] = ..., version: _Optional[int] = ...) -> None: ...

class GetSchemaRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class GetSchemaResponse(_message.Message):
    __slots__ = ("schema",)
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    schema: _registry_pb2.Schema
    def __init__(self, schema: _Optional[_Union[_registry_pb2.Schema, _Mapping]] = ...) -> None: ...

class ListSchemaVersionsRequest(_message.Message):
    __slots__ = ("id", "include_deleted")
    ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_DELETED_FIELD_NUMBER: _ClassVar[int]
    id: int
    include_deleted: bool
    def __init__(self, id: _Optional[int] = ..., include_deleted: _Optional[bool] = ...) -> None: ...

class ListSchemaVersionsResponse(_message.Message):
    __slots__ = ("versions",)
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedCompositeFieldContainer[_registry_pb2.SubjectVersion]
    def __init__(self, versions: _Optional[_Iterable[_Union[_registry_pb2.SubjectVersion, _Mapping]]] = ...) -> None: ...

class GetSubjectVersionRequest(_message.Message):
    __slots__ = ("subject", "version", "latest", "include_deleted")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    LATEST_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_DELETED_FIELD_NUMBER: _ClassVar[int]
    subject: str
    version: int
    latest: bool
    include_deleted: bool
    def __init__(self, subject: _Optional[str] = ..., version: _Optional[int] = ..., latest: _Optional[bool] = ..., include_deleted: _Optional[bool] = ...) -> None: ...

class GetSubjectVersionResponse(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: _registry_pb2.SubjectVersion
    def __init__(self, version: _Optional[_Union[_registry_pb2.SubjectVersion, _Mapping]] = ...) -> None: ...

class ListSubjectsRequest(_message.Message):
    __slots__ = ("include_deleted", "prefix")
    INCLUDE_DELETED_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    include_deleted: bool
    prefix: str
    def __init__(self, include_deleted: _Optional[bool] = ..., prefix: _Optional[str] = ...) -> None: ...

class ListSubjectsResponse(_message.Message):
    __slots__ = ("subjects",)
    SUBJECTS_FIELD_NUMBER: _ClassVar[int]
    subjects: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, subjects: _Optional[_Iterable[str]] = ...) -> None: ...

class ListVersionsRequest(_message.Message):
    __slots__ = ("subject", "include_deleted")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_DELETED_FIELD_NUMBER: _ClassVar[int]
    subject: str
    include_deleted: bool
    def __init__(self, subject: _Optional[str] = ..., include_deleted: _Optional[bool] = ...) -> None: ...

class ListVersionsResponse(_message.Message):
    __slots__ = ("versions",)
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, versions: _Optional[_Iterable[int]] = ...) -> None: ...

class LookupSchemaRequest(_message.Message):
    __slots__ = ("subject", "schema", "include_deleted")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_DELETED_FIELD_NUMBER: _ClassVar[int]
    subject: str
    schema: SchemaInput
    include_deleted: bool
    def __init__(self, subject: _Optional[str] = ..., schema: _Optional[_Union[SchemaInput, _Mapping]] = ..., include_deleted: _Optional[bool] = ...) -> None: ...

class LookupSchemaResponse(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: _registry_pb2.SubjectVersion
    def __init__(self, version: _Optional[_Union[_registry_pb2.SubjectVersion, _Mapping]] = ...) -> None: ...

class GetReferencedByRequest(_message.Message):
    __slots__ = ("subject", "version")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    subject: str
    version: int
    def __init__(self, subject: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class GetReferencedByResponse(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, ids: _Optional[_Iterable[int]] = ...) -> None: ...

class CheckCompatibilityRequest(_message.Message):
    __slots__ = ("subject", "schema", "version", "latest")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    LATEST_FIELD_NUMBER: _ClassVar[int]
    subject: str
    schema: SchemaInput
    version: int
    latest: bool
    def __init__(self, subject: _Optional[str] = ..., schema: _Optional[_Union[SchemaInput, _Mapping]] = ..., version: _Optional[int] = ..., latest: _Optional[bool] = ...) -> None: ...

class CheckCompatibilityResponse(_message.Message):
    __slots__ = ("compatible", "incompatibilities", "level")
    COMPATIBLE_FIELD_NUMBER: _ClassVar[int]
    INCOMPATIBILITIES_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    compatible: bool
    incompatibilities: _containers.RepeatedCompositeFieldContainer[_registry_pb2.Incompatibility]
    level: _registry_pb2.CompatibilityLevel
    def __init__(self, compatible: _Optional[bool] = ..., incompatibilities: _Optional[_Iterable[_Union[_registry_pb2.Incompatibility, _Mapping]]] = ..., level: _Optional[_Union[_registry_pb2.CompatibilityLevel, str]] = ...) -> None: ...

class DeleteSubjectRequest(_message.Message):
    __slots__ = ("subject", "permanent")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    PERMANENT_FIELD_NUMBER: _ClassVar[int]
    subject: str
    permanent: bool
    def __init__(self, subject: _Optional[str] = ..., permanent: _Optional[bool] = ...) -> None: ...

class DeleteSubjectResponse(_message.Message):
    __slots__ = ("versions",)
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, versions: _Optional[_Iterable[int]] = ...) -> None: ...

class DeleteSchemaVersionRequest(_message.Message):
    __slots__ = ("subject", "version", "latest", "permanent")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    LATEST_FIELD_NUMBER: _ClassVar[int]
    PERMANENT_FIELD_NUMBER: _ClassVar[int]
    subject: str
    version: int
    latest: bool
    permanent: bool
    def __init__(self, subject: _Optional[str] = ..., version: _Optional[int] = ..., latest: _Optional[bool] = ..., permanent: _Optional[bool] = ...) -> None: ...

class DeleteSchemaVersionResponse(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: int
    def __init__(self, version: _Optional[int] = ...) -> None: ...

class GetCompatibilityRequest(_message.Message):
    __slots__ = ("subject", "default_to_global")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_TO_GLOBAL_FIELD_NUMBER: _ClassVar[int]
    subject: str
    default_to_global: bool
    def __init__(self, subject: _Optional[str] = ..., default_to_global: _Optional[bool] = ...) -> None: ...

class GetCompatibilityResponse(_message.Message):
    __slots__ = ("level",)
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    level: _registry_pb2.CompatibilityLevel
    def __init__(self, level: _Optional[_Union[_registry_pb2.CompatibilityLevel, str]] = ...) -> None: ...

class SetCompatibilityRequest(_message.Message):
    __slots__ = ("subject", "level")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    subject: str
    level: _registry_pb2.CompatibilityLevel
    def __init__(self, subject: _Optional[str] = ..., level: _Optional[_Union[_registry_pb2.CompatibilityLevel, str]] = ...) -> None: ...

class SetCompatibilityResponse(_message.Message):
    __slots__ = ("level",)
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    level: _registry_pb2.CompatibilityLevel
    def __init__(self, level: _Optional[_Union[_registry_pb2.CompatibilityLevel, str]] = ...) -> None: ...

class DeleteCompatibilityRequest(_message.Message):
    __slots__ = ("subject",)
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    subject: str
    def __init__(self, subject: _Optional[str] = ...) -> None: ...

class DeleteCompatibilityResponse(_message.Message):
    __slots__ = ("level",)
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    level: _registry_pb2.CompatibilityLevel
    def __init__(self, level: _Optional[_Union[_registry_pb2.CompatibilityLevel, str]] = ...) -> None: ...

class GetModeRequest(_message.Message):
    __slots__ = ("subject", "default_to_global")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_TO_GLOBAL_FIELD_NUMBER: _ClassVar[int]
    subject: str
    default_to_global: bool
    def __init__(self, subject: _Optional[str] = ..., default_to_global: _Optional[bool] = ...) -> None: ...

class GetModeResponse(_message.Message):
    __slots__ = ("mode",)
    MODE_FIELD_NUMBER: _ClassVar[int]
    mode: _registry_pb2.Mode
    def __init__(self, mode: _Optional[_Union[_registry_pb2.Mode, str]] = ...) -> None: ...

class SetModeRequest(_message.Message):
    __slots__ = ("subject", "mode", "force")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    subject: str
    mode: _registry_pb2.Mode
    force: bool
    def __init__(self, subject: _Optional[str] = ..., mode: _Optional[_Union[_registry_pb2.Mode, str]] = ..., force: _Optional[bool] = ...) -> None: ...

class SetModeResponse(_message.Message):
    __slots__ = ("mode",)
    MODE_FIELD_NUMBER: _ClassVar[int]
    mode: _registry_pb2.Mode
    def __init__(self, mode: _Optional[_Union[_registry_pb2.Mode, str]] = ...) -> None: ...
