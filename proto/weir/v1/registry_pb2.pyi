from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SchemaType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SCHEMA_TYPE_UNSPECIFIED: _ClassVar[SchemaType]
    SCHEMA_TYPE_AVRO: _ClassVar[SchemaType]
    SCHEMA_TYPE_PROTOBUF: _ClassVar[SchemaType]
    SCHEMA_TYPE_JSON: _ClassVar[SchemaType]

class CompatibilityLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COMPATIBILITY_LEVEL_UNSPECIFIED: _ClassVar[CompatibilityLevel]
    COMPATIBILITY_LEVEL_NONE: _ClassVar[CompatibilityLevel]
    COMPATIBILITY_LEVEL_BACKWARD: _ClassVar[CompatibilityLevel]
    COMPATIBILITY_LEVEL_BACKWARD_TRANSITIVE: _ClassVar[CompatibilityLevel]
    COMPATIBILITY_LEVEL_FORWARD: _ClassVar[CompatibilityLevel]
    COMPATIBILITY_LEVEL_FORWARD_TRANSITIVE: _ClassVar[CompatibilityLevel]
    COMPATIBILITY_LEVEL_FULL: _ClassVar[CompatibilityLevel]
    COMPATIBILITY_LEVEL_FULL_TRANSITIVE: _ClassVar[CompatibilityLevel]

class Mode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODE_UNSPECIFIED: _ClassVar[Mode]
    MODE_READWRITE: _ClassVar[Mode]
    MODE_READONLY: _ClassVar[Mode]
    MODE_IMPORT: _ClassVar[Mode]
SCHEMA_TYPE_UNSPECIFIED: SchemaType
SCHEMA_TYPE_AVRO: SchemaType
SCHEMA_TYPE_PROTOBUF: SchemaType
SCHEMA_TYPE_JSON: SchemaType
COMPATIBILITY_LEVEL_UNSPECIFIED: CompatibilityLevel
COMPATIBILITY_LEVEL_NONE: CompatibilityLevel
COMPATIBILITY_LEVEL_BACKWARD: CompatibilityLevel
COMPATIBILITY_LEVEL_BACKWARD_TRANSITIVE: CompatibilityLevel
COMPATIBILITY_LEVEL_FORWARD: CompatibilityLevel
COMPATIBILITY_LEVEL_FORWARD_TRANSITIVE: CompatibilityLevel
COMPATIBILITY_LEVEL_FULL: CompatibilityLevel
COMPATIBILITY_LEVEL_FULL_TRANSITIVE: CompatibilityLevel
MODE_UNSPECIFIED: Mode
MODE_READWRITE: Mode
MODE_READONLY: Mode
MODE_IMPORT: Mode

class SchemaReference(_message.Message):
    __slots__ = ("name", "subject", "version")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    name: str
    subject: str
    version: int
    def __init__(self, name: _Optional[str] = ..., subject: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class Schema(_message.Message):
    __slots__ = ("id", "schema_type", "schema", "references")
    ID_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_TYPE_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    REFERENCES_FIELD_NUMBER: _ClassVar[int]
    id: int
    schema_type: SchemaType
    schema: str
    references: _containers.RepeatedCompositeFieldContainer[SchemaReference]
    def __init__(self, id: _Optional[int] = ..., schema_type: _Optional[_Union[SchemaType, str]] = ..., schema: _Optional[str] = ..., references: _Optional[_Iterable[_Union[SchemaReference, _Mapping]]] = ...) -> None: ...

class SubjectVersion(_message.Message):
    __slots__ = ("subject", "version", "schema", "deleted")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    subject: str
    version: int
    schema: Schema
    deleted: bool
    def __init__(self, subject: _Optional[str] = ..., version: _Optional[int] = ..., schema: _Optional[_Union[Schema, _Mapping]] = ..., deleted: _Optional[bool] = ...) -> None: ...

class Incompatibility(_message.Message):
    __slots__ = ("rule", "path", "message", "level", "version")
    RULE_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    rule: str
    path: str
    message: str
    level: CompatibilityLevel
    version: int
    def __init__(self, rule: _Optional[str] = ..., path: _Optional[str] = ..., message: _Optional[str] = ..., level: _Optional[_Union[CompatibilityLevel, str]] = ..., version: _Optional[int] = ...) -> None: ...
