"""Index the message and enum types of compiled .proto files by fully qualified name."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from google.protobuf import descriptor_pb2

FileProto = descriptor_pb2.FileDescriptorProto
MessageProto = descriptor_pb2.DescriptorProto
EnumProto = descriptor_pb2.EnumDescriptorProto


@dataclass(frozen=True, slots=True)
class ProtoType:
    """One message or enum type and the file that declares it."""

    full_name: str
    """Fully qualified name without the leading dot, for example ``shop.Order.Line``."""
    file: FileProto
    """The file that declares the type."""
    message: MessageProto | None = None
    """The message declaration, or None for an enum."""
    enum: EnumProto | None = None
    """The enum declaration, or None for a message."""

    @property
    def package(self) -> str:
        """The declaring file's package ('' when it has none)."""
        return self.file.package

    @property
    def local_name(self) -> str:
        """The name inside its package, for example ``Order.Line``."""
        prefix = f"{self.package}." if self.package else ""
        return self.full_name.removeprefix(prefix)

    @property
    def is_map_entry(self) -> bool:
        """True for the synthetic ``XxxEntry`` message protoc makes for a map field."""
        return self.message is not None and self.message.options.map_entry


def index_types(files: Iterable[FileProto]) -> dict[str, ProtoType]:
    """Every message and enum (nested ones too) of ``files``, by fully qualified name."""
    found: dict[str, ProtoType] = {}
    for file in files:
        prefix = f"{file.package}." if file.package else ""
        _add_scope(found, file, prefix, file.message_type, file.enum_type)
    return found


def _add_scope(
    found: dict[str, ProtoType],
    file: FileProto,
    prefix: str,
    messages: Iterable[MessageProto],
    enums: Iterable[EnumProto],
) -> None:
    for enum in enums:
        name = prefix + enum.name
        found[name] = ProtoType(name, file, enum=enum)
    for message in messages:
        name = prefix + message.name
        found[name] = ProtoType(name, file, message=message)
        _add_scope(found, file, f"{name}.", message.nested_type, message.enum_type)


def lookup(types: Mapping[str, ProtoType], type_name: str) -> ProtoType | None:
    """Find a field's ``type_name`` (protoc writes it fully qualified, with a leading dot)."""
    return types.get(type_name.removeprefix("."))


def message_at(file: FileProto, indexes: Iterable[int]) -> tuple[MessageProto, str] | None:
    """The message at a Confluent message-index path and its full name, or None.

    The first index picks a top-level message, each following one a nested message of
    the previous; an empty path means the first top-level message.
    """
    path = list(indexes) or [0]
    scope: Iterable[MessageProto] = file.message_type
    name = file.package
    message: MessageProto | None = None
    for index in path:
        candidates = list(scope)
        if index < 0 or index >= len(candidates):
            return None
        message = candidates[index]
        name = f"{name}.{message.name}" if name else message.name
        scope = message.nested_type
    assert message is not None
    return message, name
