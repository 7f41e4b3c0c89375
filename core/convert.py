"""Enum translation between weir.v1 protobuf values and the domain's StrEnums.

Proto enum values carry a prefix (``SCHEMA_TYPE_AVRO``); the domain uses Confluent's bare
names (``AVRO``). The zero ``*_UNSPECIFIED`` value is always rejected with a clear error.
"""

from __future__ import annotations

import enum
from typing import Any, TypeVar

from weir.core.errors import (
    InvalidArgumentError,
    InvalidCompatibilityLevelError,
    InvalidModeError,
)
from weir.core.types import CompatibilityLevel, Mode, SchemaType
from weir.v1 import registry_pb2

E = TypeVar("E", bound=enum.StrEnum)

_PROTO_ENUMS: dict[type[Any], tuple[Any, str, type[InvalidArgumentError]]] = {
    SchemaType: (registry_pb2.SchemaType, "SCHEMA_TYPE_", InvalidArgumentError),
    CompatibilityLevel: (
        registry_pb2.CompatibilityLevel,
        "COMPATIBILITY_LEVEL_",
        InvalidCompatibilityLevelError,
    ),
    Mode: (registry_pb2.Mode, "MODE_", InvalidModeError),
}


def from_proto(kind: type[E], value: int) -> E:
    """The domain value for a proto enum number; UNSPECIFIED or unknown is an error."""
    wrapper, prefix, error = _PROTO_ENUMS[kind]
    name = wrapper.Name(value) if value in wrapper.values() else f"{value}"
    bare = name.removeprefix(prefix)
    if bare not in kind.__members__:
        choices = ", ".join(kind.__members__)
        raise error(f"{kind.__name__} {bare} is not valid; use one of {choices}")
    return kind[bare]


def to_proto(value: enum.StrEnum) -> int:
    """The proto enum number for a domain value."""
    wrapper, prefix, _ = _PROTO_ENUMS[type(value)]
    return int(wrapper.Value(prefix + value.name))


def parse_enum(kind: type[E], text: str) -> E:
    """The domain value named by user text (any case); an unknown name is an error."""
    _, _, error = _PROTO_ENUMS[kind]
    try:
        return kind[text.strip().upper()]
    except KeyError:
        choices = ", ".join(kind.__members__)
        raise error(f"{kind.__name__} '{text}' is not valid; use one of {choices}") from None
