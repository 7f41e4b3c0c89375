"""Protobuf lint rules: buf lint's naming rules, `_UNSPECIFIED` zero values, reserved deletions.

Works on the compiled FileDescriptorProto. Paths use the compatibility engine's spelling
(``#/Order/Line/2``: message names, then a field number or an enum value name), so findings
land on the right line with the same locator. Map-entry messages protoc generates are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from google.protobuf.descriptor_pb2 import (
    DescriptorProto,
    EnumDescriptorProto,
    FileDescriptorProto,
)

from weir.registry.formats import ParsedSchema
from weir.registry.formats.protobuf import ProtobufSchema

Finding = tuple[str, str, str]
"""(rule, path, message)."""

RULES = {
    "PROTO_MESSAGE_PASCAL_CASE": "message names are PascalCase",
    "PROTO_FIELD_LOWER_SNAKE_CASE": "field names are lower_snake_case",
    "PROTO_ENUM_PASCAL_CASE": "enum names are PascalCase",
    "PROTO_ENUM_VALUE_UPPER_SNAKE_CASE": "enum value names are UPPER_SNAKE_CASE",
    "PROTO_ENUM_VALUE_PREFIX": "enum values start with the enum's name in UPPER_SNAKE_CASE",
    "PROTO_ENUM_ZERO_VALUE_SUFFIX": "an enum's zero value ends in _UNSPECIFIED",
    "PROTO_FIELD_NO_DELETE_UNLESS_RESERVED": "a deleted field's number and name are reserved",
    "PROTO_ENUM_VALUE_NO_DELETE_UNLESS_RESERVED": (
        "a deleted enum value's number and name are reserved"
    ),
}
"""Rule id -> what it asks for."""

_PASCAL = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_LOWER_SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
_UPPER_SNAKE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")


def upper_snake(name: str) -> str:
    """PascalCase to UPPER_SNAKE_CASE, the way buf names enum value prefixes."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    return spaced.upper()


def lint(schema: ParsedSchema, previous: ParsedSchema | None) -> list[Finding]:
    """Every finding in ``schema``; deletions are judged against ``previous`` when given."""
    if not isinstance(schema, ProtobufSchema):
        return []
    file = schema.file
    found: list[Finding] = []
    for path, message in _messages(list(file.message_type), ()):
        found += _message(path, message)
    for path, enum in _enums(file):
        found += _enum(path, enum)
    if isinstance(previous, ProtobufSchema):
        found += _deleted(previous.file, file)
    return found


def _messages(
    messages: list[DescriptorProto], scope: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], DescriptorProto]]:
    for message in messages:
        if message.options.map_entry:
            continue
        path = (*scope, message.name)
        yield path, message
        yield from _messages(list(message.nested_type), path)


def _enums(file: FileDescriptorProto) -> Iterator[tuple[tuple[str, ...], EnumDescriptorProto]]:
    for enum in file.enum_type:
        yield (enum.name,), enum
    for path, message in _messages(list(file.message_type), ()):
        for enum in message.enum_type:
            yield (*path, enum.name), enum


def _message(path: tuple[str, ...], message: DescriptorProto) -> list[Finding]:
    where = "#/" + "/".join(path)
    found = []
    if not _PASCAL.match(message.name):
        found.append(
            ("PROTO_MESSAGE_PASCAL_CASE", where, f"message {message.name} is not PascalCase")
        )
    for field in message.field:
        if not _LOWER_SNAKE.match(field.name):
            found.append(
                (
                    "PROTO_FIELD_LOWER_SNAKE_CASE",
                    f"{where}/{field.number}",
                    f"field {field.name} of {message.name} is not lower_snake_case",
                )
            )
    return found


def _enum(path: tuple[str, ...], enum: EnumDescriptorProto) -> list[Finding]:
    where = "#/" + "/".join(path)
    found = []
    if not _PASCAL.match(enum.name):
        found.append(("PROTO_ENUM_PASCAL_CASE", where, f"enum {enum.name} is not PascalCase"))
    prefix = upper_snake(enum.name) + "_"
    for value in enum.value:
        at = f"{where}/{value.name}"
        if not _UPPER_SNAKE.match(value.name):
            found.append(
                (
                    "PROTO_ENUM_VALUE_UPPER_SNAKE_CASE",
                    at,
                    f"enum value {value.name} is not UPPER_SNAKE_CASE",
                )
            )
        if not value.name.startswith(prefix):
            found.append(
                (
                    "PROTO_ENUM_VALUE_PREFIX",
                    at,
                    f"enum value {value.name} should start with {prefix}",
                )
            )
        if value.number == 0 and not value.name.endswith("_UNSPECIFIED"):
            found.append(
                (
                    "PROTO_ENUM_ZERO_VALUE_SUFFIX",
                    at,
                    f"the zero value of {enum.name} is {value.name}; name it {prefix}UNSPECIFIED "
                    "so an unset field does not read as a real value",
                )
            )
    return found


def _deleted(old: FileDescriptorProto, new: FileDescriptorProto) -> list[Finding]:
    found: list[Finding] = []
    new_messages = dict(_messages(list(new.message_type), ()))
    for path, before in _messages(list(old.message_type), ()):
        after = new_messages.get(path)
        if after is None:
            continue
        numbers = {f.number for f in after.field}
        for field in before.field:
            if field.number in numbers:
                continue
            missing = _unreserved(
                field.number,
                field.name,
                [(r.start, r.end - 1) for r in after.reserved_range],  # end is exclusive
                after.reserved_name,
            )
            if missing:
                found.append(
                    (
                        "PROTO_FIELD_NO_DELETE_UNLESS_RESERVED",
                        "#/" + "/".join(path),
                        f"field {field.number} ({field.name}) of {path[-1]} was deleted "
                        f"without reserving its {missing}; add `reserved {field.number};` and "
                        f'`reserved "{field.name}";` so they are never reused',
                    )
                )
    new_enums = dict(_enums(new))
    for path, before_enum in _enums(old):
        after_enum = new_enums.get(path)
        if after_enum is None:
            continue
        kept = {v.number for v in after_enum.value}
        for value in before_enum.value:
            if value.number in kept:
                continue
            missing = _unreserved(
                value.number,
                value.name,
                [(r.start, r.end) for r in after_enum.reserved_range],  # end is inclusive
                after_enum.reserved_name,
            )
            if missing:
                found.append(
                    (
                        "PROTO_ENUM_VALUE_NO_DELETE_UNLESS_RESERVED",
                        "#/" + "/".join(path),
                        f"enum value {value.name} ({value.number}) of {path[-1]} was deleted "
                        f"without reserving its {missing}; reserve them so they are never reused",
                    )
                )
    return found


def _unreserved(number: int, name: str, ranges: list[tuple[int, int]], names: Iterable[str]) -> str:
    missing = []
    if not any(start <= number <= end for start, end in ranges):
        missing.append("number")
    if name not in set(names):
        missing.append("name")
    return " and ".join(missing)
