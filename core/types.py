"""The typed vocabulary shared by server and SDK: ids and the registry's enums."""

from __future__ import annotations

import enum
from typing import NewType

SchemaId = NewType("SchemaId", int)
Subject = NewType("Subject", str)
Version = NewType("Version", int)


class SchemaType(enum.StrEnum):
    """The language a schema is written in (Confluent's names)."""

    AVRO = "AVRO"
    PROTOBUF = "PROTOBUF"
    JSON = "JSON"


class CompatibilityLevel(enum.StrEnum):
    """Confluent Schema Registry's compatibility levels."""

    NONE = "NONE"
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"

    @property
    def transitive(self) -> bool:
        """True when every live version is checked, not only the latest."""
        return self.name.endswith("_TRANSITIVE")

    @property
    def backward(self) -> bool:
        """True when the new schema must read data written with old ones."""
        return self.name.startswith(("BACKWARD", "FULL"))

    @property
    def forward(self) -> bool:
        """True when old schemas must read data written with the new one."""
        return self.name.startswith(("FORWARD", "FULL"))


class Mode(enum.StrEnum):
    """Which writes the registry accepts."""

    READWRITE = "READWRITE"
    READONLY = "READONLY"
    IMPORT = "IMPORT"
