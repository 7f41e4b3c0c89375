"""Decode stored payloads for display with the server-side registry's parsed schemas.

Framed payloads (magic byte 0, schema id, protobuf message indexes) are decoded by the
schema's format: Avro with fastavro, Protobuf into a message built from the registered
descriptors, JSON as text. Anything else is shown as UTF-8 text or hex. Decoding never
raises: a payload that cannot be decoded is shown raw with the reason.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastavro import parse_schema, schemaless_reader
from fastavro._read_py import schemaless_reader as python_reader
from google.protobuf import descriptor_pool, json_format, message_factory

from weir.core.errors import WeirError
from weir.core.framing import parse_header, parse_protobuf_indexes
from weir.core.types import SchemaType
from weir.registry.formats import ParsedSchema
from weir.registry.formats.avro import AvroSchema
from weir.registry.formats.avro_canonical import to_fastavro
from weir.registry.formats.avro_recursion import is_recursive
from weir.registry.formats.protobuf import ProtobufSchema
from weir.registry.formats.protobuf_types import message_at
from weir.registry.service import SchemaRegistry

Reader = Callable[[bytes, Sequence[int]], Any]
"""Decodes a payload (after the framing) with one schema into JSON-ready data."""
MAX_CACHED = 256
"""Decoders kept per server; the cache is emptied when it grows past this."""
SHOWN_BYTES = 4096
"""Raw payloads longer than this are cut when shown as hex."""
TOO_DEEP = "the record nests too deeply to decode or show; its raw bytes are shown instead"
"""Raw payloads longer than this are cut when shown as hex."""


@dataclass(frozen=True, slots=True)
class Decoded:
    """A payload ready to show."""

    text: str
    """Pretty JSON for decoded records, else the text or hex of the bytes."""
    schema: str = ""
    """Which schema decoded it ('' when none did)."""
    problem: str = ""
    """Why a framed payload could not be decoded ('' when it was)."""


class RecordDecoder:
    """Builds a reader per schema id once and decodes payloads with it."""

    def __init__(self, registry: SchemaRegistry) -> None:
        self._registry = registry
        self._readers: dict[int, Reader] = {}

    def decode(self, data: bytes | None, schema_id: int = 0) -> Decoded:
        """Decode a key or value; ``schema_id`` is the id the broker stamped (0 = none)."""
        if data is None:
            return Decoded("null (tombstone)" if schema_id == 0 else "null")
        if schema_id == 0 and not _looks_framed(data):
            return Decoded(_raw(data))
        try:
            framed_id = parse_header(data)
            parsed = self._registry.parsed(framed_id)
            start = 5
            indexes: tuple[int, ...] = ()
            if parsed.schema_type is SchemaType.PROTOBUF:
                indexes, start = parse_protobuf_indexes(data)
            value = self._reader(framed_id, parsed)(data[start:], indexes)
        except WeirError as e:
            return Decoded(_raw(data), problem=e.message)
        except RecursionError:
            return Decoded(_raw(data), problem=TOO_DEEP)
        except Exception as e:  # a decoder library's own error: show it, never raise
            return Decoded(_raw(data), problem=f"{type(e).__name__}: {e}")
        try:
            text = json.dumps(value, indent=2, ensure_ascii=False, default=_jsonable)
        except RecursionError:
            return Decoded(_raw(data), problem=TOO_DEEP)
        return Decoded(text, self._label(framed_id, parsed))

    def _label(self, schema_id: int, parsed: ParsedSchema) -> str:
        holders = self._registry.schema_versions(schema_id)
        where = f" · {holders[0].subject} v{holders[0].version}" if holders else ""
        return f"{parsed.schema_type} id {schema_id}{where}"

    def _reader(self, schema_id: int, parsed: ParsedSchema) -> Reader:
        reader = self._readers.get(schema_id)
        if reader is None:
            if len(self._readers) >= MAX_CACHED:
                self._readers.clear()
            reader = self._readers[schema_id] = _build(parsed)
        return reader


def _build(parsed: ParsedSchema) -> Reader:
    if isinstance(parsed, AvroSchema):
        return _avro_reader(parsed)
    if isinstance(parsed, ProtobufSchema):
        return _protobuf_reader(parsed)
    return lambda payload, _: json.loads(payload)


def _avro_reader(schema: AvroSchema) -> Reader:
    named: dict[str, Any] = {}
    compiled: Any = None
    for tree in schema.chain:
        compiled = parse_schema(to_fastavro(tree), named_schemas=named)
    # fastavro's compiled reader recurses on the C stack and crashes the process on a deeply
    # nested payload of a recursive schema; its Python reader raises RecursionError instead
    reader = python_reader if is_recursive(schema.named) else schemaless_reader

    def read(payload: bytes, _: Sequence[int]) -> Any:
        stream = io.BytesIO(payload)
        value = reader(stream, compiled, None)
        left = len(payload) - stream.tell()
        if left:
            raise ValueError(f"{left} trailing bytes after the Avro record")
        return value

    return read


def _protobuf_reader(schema: ProtobufSchema) -> Reader:
    pool = descriptor_pool.DescriptorPool()
    for file in schema.files:
        pool.Add(file)

    def read(payload: bytes, indexes: Sequence[int]) -> Any:
        found = message_at(schema.file, indexes)
        if found is None:
            raise ValueError(f"message index path {list(indexes) or [0]} names no message")
        cls = message_factory.GetMessageClass(pool.FindMessageTypeByName(found[1]))
        record = cls()
        record.ParseFromString(payload)
        return json_format.MessageToDict(record, preserving_proto_field_name=True)

    return read


def _looks_framed(data: bytes) -> bool:
    return len(data) >= 5 and data[0] == 0


def _raw(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        cut = data[:SHOWN_BYTES]
        more = f" … ({len(data)} bytes)" if len(data) > SHOWN_BYTES else ""
        return cut.hex(" ") + more


def _jsonable(value: object) -> object:
    if isinstance(value, bytes):
        return "base64:" + base64.b64encode(value).decode()
    return str(value)
