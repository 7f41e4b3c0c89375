"""Check Protobuf payloads against a registered schema with dynamically built message classes.

The compiled files go into a private ``DescriptorPool`` (never the process-wide default
pool, so two schemas may declare the same names) and message classes are built once, per
message-index path, on first use.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from google.protobuf import descriptor_pool, message, message_factory

from weir.core.errors import InvalidRecordError, InvalidSchemaError
from weir.registry.formats.limits import current, too_deep
from weir.registry.formats.protobuf_depth import is_recursive, message_depth
from weir.registry.formats.protobuf_types import FileProto, message_at

MessageClass = type[message.Message]


class ProtobufValidator:
    """Validates payloads (the bytes after the Confluent framing) against one schema."""

    def __init__(self, files: Sequence[FileProto]) -> None:
        self._main = files[-1]
        self._pool = descriptor_pool.DescriptorPool()
        try:
            for file in files:
                self._pool.Add(file)
        except (TypeError, ValueError) as exc:  # a conflict protoc itself would have caught
            raise InvalidSchemaError(
                f"cannot load the Protobuf schema's descriptors: {exc}"
            ) from None
        self._classes: dict[tuple[int, ...], tuple[MessageClass, str]] = {}
        self._recursive: set[str] = set()
        """Message types that can contain themselves: their payloads' depth is checked."""
        self._lock = threading.Lock()

    def validate(self, payload: bytes, message_indexes: Sequence[int] = ()) -> None:
        """Raise InvalidRecordError unless ``payload`` parses as the indexed message."""
        cls, name = self._message_class(tuple(message_indexes))
        record = cls()
        try:
            record.ParseFromString(payload)
        except message.DecodeError as exc:
            if "MaxDepth" in str(exc):  # upb's own limit: 100 levels
                raise too_deep(None, f"{name} payload") from None
            raise InvalidRecordError(
                f"payload is not a valid {name} message: {exc}",
                metadata={"message": name, "rule": "PROTOBUF_DECODE"},
            ) from None
        if name in self._recursive:
            limit = current().max_payload_depth
            depth = message_depth(record, limit)
            if depth > limit:
                raise too_deep(depth, f"{name} payload")
        if not record.IsInitialized():
            # FindInitializationErrors is public runtime API that types-protobuf omits.
            missing: list[str] = record.FindInitializationErrors()  # type: ignore[attr-defined]
            fields = ", ".join(missing)
            raise InvalidRecordError(
                f"{name} payload lacks required field(s) {fields}; proto2 `required` fields "
                "must be set",
                metadata={"message": name, "field": missing[0], "rule": "REQUIRED_FIELD_MISSING"},
            )

    def _message_class(self, indexes: tuple[int, ...]) -> tuple[MessageClass, str]:
        key = indexes or (0,)
        cached = self._classes.get(key)
        if cached is not None:
            return cached
        found = message_at(self._main, key)
        if found is None:
            shown = list(indexes) or [0]
            raise InvalidRecordError(
                f"message index path {shown} names no message in the schema (it declares "
                f"{len(self._main.message_type)} top-level message(s)); check the framing "
                "written by the producer",
                metadata={"message_indexes": ",".join(map(str, shown))},
            )
        _, name = found
        kind = self._pool.FindMessageTypeByName(name)
        cls = message_factory.GetMessageClass(kind)
        with self._lock:
            if is_recursive(kind):
                self._recursive.add(name)
            self._classes[key] = (cls, name)
        return cls, name
