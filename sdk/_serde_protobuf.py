"""ProtobufSerializer and ProtobufDeserializer for generated message classes.

Registration follows confluent-kafka: the schema is the base64 of the class's
FileDescriptorProto, and every imported file (except the well-known types under
``google/protobuf/``, ``google/type/`` and ``confluent/``) is registered first under a subject
named by its import path, then referenced by the importing schema. The frame carries the
message-index path of the class in its file (a single 0 byte for the first message).
"""

from __future__ import annotations

import base64
from typing import Any

from google.protobuf.message import DecodeError, Message

from weir.core.errors import InvalidArgumentError, InvalidRecordError
from weir.core.framing import parse_protobuf_indexes
from weir.core.types import SchemaType
from weir.sdk._records import SerializationContext
from weir.sdk._serde import Plan, SubjectNameStrategy, schema_id_plan
from weir.sdk._serde_base import Bundle, SchemaDeserializer, SchemaSerializer, Target
from weir.sdk._types import Schema, SchemaReference

_BUILTIN_PREFIXES = ("google/protobuf/", "google/type/", "confluent/")


def is_builtin(path: str) -> bool:
    """A file the registry knows without registration (well-known and Confluent types)."""
    return path.startswith(_BUILTIN_PREFIXES)


def schema_text(file: Any) -> str:
    """The schema confluent-kafka registers for a FileDescriptor: base64 of its proto."""
    return base64.standard_b64encode(file.serialized_pb).decode("ascii")


def message_indexes(descriptor: Any) -> tuple[int, ...]:
    """Where a message sits in its file: top-level index, then nested indexes."""
    path: list[int] = []
    current = descriptor
    while current.containing_type is not None:
        parent = current.containing_type
        path.append(list(parent.nested_types).index(current))
        current = parent
    path.append(list(descriptor.file.message_types_by_name).index(current.name))
    return tuple(reversed(path))


def _message_class(message_class: Any, role: str) -> type[Message]:
    if not (isinstance(message_class, type) and issubclass(message_class, Message)):
        raise InvalidArgumentError(
            f"{role} needs a generated protobuf message class (for example orders_pb2.Order), "
            f"not {message_class!r}"
        )
    return message_class


class ProtobufSerializer(SchemaSerializer[None]):
    """Serialize instances of one generated protobuf message class with Confluent framing.

    ``serializer(msg, ctx)`` with a SchemaRegistryClient, ``await serializer.serialize_async(msg,
    ctx)`` with an AsyncSchemaRegistryClient. The schema id is found once per subject.
    """

    schema_type = SchemaType.PROTOBUF
    _fetch_references = False

    def __init__(
        self,
        registry: Any,
        message_class: type[Message],
        *,
        subject_name_strategy: str | SubjectNameStrategy = "topic",
        auto_register: bool | None = None,
        use_latest_version: bool = False,
        latest_ttl_s: float | None = None,
    ) -> None:
        self._class = _message_class(message_class, "ProtobufSerializer")
        descriptor = self._class.DESCRIPTOR
        super().__init__(
            registry,
            text=schema_text(descriptor.file),
            references=(),
            record_name=descriptor.full_name,
            subject_name_strategy=subject_name_strategy,
            auto_register=auto_register,
            use_latest_version=use_latest_version,
            latest_ttl_s=latest_ttl_s,
        )
        self._indexes = message_indexes(descriptor)
        self._local_refs: tuple[SchemaReference, ...] | None = None

    def _local_references_plan(self) -> Plan[tuple[SchemaReference, ...]]:
        if self._local_refs is None:
            self._local_refs = yield from self._imports_plan(self._class.DESCRIPTOR.file)
        return self._local_refs

    def _imports_plan(self, file: Any) -> Plan[tuple[SchemaReference, ...]]:
        """Register (or find) each imported file, dependencies first; the references."""
        refs = []
        for dep in file.dependencies:
            if is_builtin(dep.name):
                continue
            dep_refs = yield from self._imports_plan(dep)
            _, version = yield from schema_id_plan(
                dep.name, schema_text(dep), SchemaType.PROTOBUF, dep_refs, self._auto_register
            )
            refs.append(SchemaReference(dep.name, dep.name, version))
        return tuple(refs)

    def _compile(self, text: str, bundle: Bundle) -> None:
        return None  # the generated class is the writer

    def _encode(self, obj: Any, ctx: SerializationContext | None, target: Target[None]) -> bytes:
        if not isinstance(obj, self._class):
            raise InvalidArgumentError(
                f"ProtobufSerializer for {self._class.DESCRIPTOR.full_name} got "
                f"{type(obj).__name__}; pass a {self._class.__name__} message"
            )
        return target.prefix + obj.SerializeToString()


class ProtobufDeserializer(SchemaDeserializer[None]):
    """Read Confluent-framed protobuf into instances of one generated message class.

    The writer schema id is checked once to be a registered protobuf schema; the payload is
    parsed with the class (protobuf messages are self-describing by field number).
    """

    schema_type = SchemaType.PROTOBUF
    _fetch_references = False

    def __init__(self, registry: Any, message_class: type[Message]) -> None:
        super().__init__(registry, None)
        self._class = _message_class(message_class, "ProtobufDeserializer")

    def _compile(self, schema: Schema, bundle: Bundle) -> None:
        return None  # the generated class is the reader; the schema id was checked

    def _decode(
        self, data: bytes, schema_id: int, reader: None, ctx: SerializationContext | None
    ) -> Any:
        _, start = parse_protobuf_indexes(data)
        message = self._class()
        try:
            message.ParseFromString(data[start:])
        except DecodeError as err:
            raise InvalidRecordError(
                f"cannot decode a {self._class.DESCRIPTOR.full_name} from the record with schema "
                f"id {schema_id}: {err}; the bytes were not written for this message class",
                metadata={"id": str(schema_id), "rule": "protobuf"},
            ) from None
        return message


__all__ = ["ProtobufDeserializer", "ProtobufSerializer"]
