"""Confluent's wire format: magic byte 0, a 4-byte big-endian schema id, and for protobuf a
message-index path of zig-zag varints, then the payload.

Bytes framed by Confluent serializers (Java, Go, .NET, Python) parse unchanged.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from weir.core.errors import InvalidRecordError

MAGIC = 0
_HEADER = struct.Struct(">bI")
MAX_INDEX_DEPTH = 64
"""Message-index paths deeper than this are refused (protobuf nesting is never this deep)."""


@dataclass(frozen=True, slots=True)
class Framed:
    """A parsed frame: which schema, which message, and where the payload starts."""

    schema_id: int
    """The registered schema id."""
    message_indexes: tuple[int, ...]
    """The protobuf message-index path; () for other formats or the first message."""
    payload_start: int
    """Offset of the payload in the framed bytes."""


def frame(schema_id: int, payload: bytes, message_indexes: tuple[int, ...] | None = None) -> bytes:
    """Frame a payload. ``message_indexes`` is given for protobuf only (() = first message)."""
    head = _HEADER.pack(MAGIC, schema_id)
    if message_indexes is None:
        return head + payload
    if message_indexes in ((), (0,)):
        return head + b"\x00" + payload
    path = _zigzag(len(message_indexes)) + b"".join(_zigzag(i) for i in message_indexes)
    return head + path + payload


def parse_header(data: bytes) -> int:
    """The schema id of framed bytes; raises InvalidRecordError on a bad magic byte or length."""
    if len(data) < 5:
        raise InvalidRecordError(
            f"payload has {len(data)} bytes, fewer than the 5-byte schema header "
            "(magic byte 0 + 4-byte schema id); frame it with a schema-registry serializer",
            metadata={"rule": "framing"},
        )
    magic, schema_id = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise InvalidRecordError(
            f"unknown magic byte {magic} (expected 0); the payload is not in the schema-registry "
            "wire format",
            metadata={"rule": "magic-byte"},
        )
    return int(schema_id)


def parse_protobuf_indexes(data: bytes, start: int = 5) -> tuple[tuple[int, ...], int]:
    """Read the message-index path at ``start``; return it and where the payload begins."""
    if len(data) > start and data[start] == 0:  # Confluent's one-byte form of [0]
        return (), start + 1
    count, pos = _read_zigzag(data, start)
    if count == 0:
        return (), pos
    if count < 0 or count > MAX_INDEX_DEPTH:
        raise InvalidRecordError(
            f"message-index count {count} is not valid (0 to {MAX_INDEX_DEPTH})",
            metadata={"rule": "message-index"},
        )
    indexes = []
    for _ in range(count):
        index, pos = _read_zigzag(data, pos)
        if index < 0:
            raise InvalidRecordError(
                f"message index {index} is negative", metadata={"rule": "message-index"}
            )
        indexes.append(index)
    return tuple(indexes), pos


def _zigzag(n: int) -> bytes:
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while z > 0x7F:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


def _read_zigzag(data: bytes, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if pos >= len(data):
            raise InvalidRecordError(
                "payload ends inside the protobuf message-index varints",
                metadata={"rule": "message-index"},
            )
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return (result >> 1) ^ -(result & 1), pos
        shift += 7
        if shift > 63:
            raise InvalidRecordError(
                "message-index varint is too long", metadata={"rule": "message-index"}
            )
