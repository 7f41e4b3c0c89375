"""JSON <-> schema-encoded bytes for `weir produce` and `weir consume`.

A ``Codec`` turns a JSON value into the Confluent wire format for one registered schema
(magic byte, schema id, for protobuf the message index, then the payload) and back:

- Avro: the JSON value is the record in its natural form (unions unwrapped; ``bytes`` and
  ``fixed`` as strings of code points 0-255, as in Avro's JSON encoding), written by fastavro;
- Protobuf: the proto3 JSON mapping (google.protobuf.json_format) into the file's first
  message; decoding picks the message named by the frame's message-index path;
- JSON Schema: the UTF-8 JSON text.

``Schemas`` resolves registered schemas, with their references, through the registry
client and caches codecs by id. The CLI is the composition root, so it parses schemas with
``weir.registry.formats``. Values that cannot be encoded raise InvalidRecordError naming
the field and what the schema wants.
"""

from __future__ import annotations

import base64
import io
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

import fastavro
from fastavro.validation import ValidationError, validate
from google.protobuf import descriptor_pool, json_format, message, message_factory

from weir.core.errors import (
    InvalidRecordError,
    SubjectNotFoundError,
    UnavailableError,
    WeirError,
)
from weir.core.framing import frame, parse_header, parse_protobuf_indexes
from weir.core.types import SchemaType
from weir.registry.formats import ParsedSchema, ResolvedReference, get_format
from weir.registry.formats.avro import AvroSchema, decode_problem
from weir.registry.formats.avro_canonical import to_fastavro
from weir.registry.formats.protobuf import ProtobufSchema
from weir.sdk import LATEST, Schema, SchemaRegistryClient


class Codec(ABC):
    """Encodes JSON values with one registered schema, and decodes its payloads."""

    def __init__(self, schema_id: int, subject_version: str) -> None:
        self.schema_id = schema_id
        """The registered schema id written in every frame."""
        self.where = subject_version
        """How errors name the schema, for example "schema id 3"."""

    @abstractmethod
    def encode(self, value: Any) -> bytes:
        """The framed bytes of a JSON value; InvalidRecordError when it does not fit."""

    @abstractmethod
    def decode(self, data: bytes) -> Any:
        """The JSON value of framed bytes."""

    def _bad(self, detail: str) -> InvalidRecordError:
        return InvalidRecordError(f"does not fit {self.where}: {detail}")


class JsonCodec(Codec):
    """JSON Schema: the payload is the UTF-8 JSON text (the broker validates it)."""

    def encode(self, value: Any) -> bytes:
        """Compact UTF-8 JSON, framed."""
        return frame(self.schema_id, dumps(value).encode())

    def decode(self, data: bytes) -> Any:
        """The parsed JSON document."""
        try:
            return json.loads(data[5:].decode())
        except ValueError as e:
            raise self._bad(f"the payload is not UTF-8 JSON ({e})") from None


class AvroCodec(Codec):
    """Avro binary via fastavro, with the schema's references loaded first."""

    def __init__(self, schema_id: int, where: str, parsed: AvroSchema) -> None:
        super().__init__(schema_id, where)
        named: dict[str, Any] = {}
        schema: Any = None
        for tree in parsed.chain:
            schema = fastavro.parse_schema(to_fastavro(tree), named_schemas=named)
        self._schema = schema
        self._named: Mapping[str, Any] = named

    def encode(self, value: Any) -> bytes:
        """Avro binary of the natural JSON form, framed."""
        datum = _to_avro(self._schema, value, self._named)
        try:
            validate(datum, self._schema, raise_errors=True)
        except ValidationError as e:
            problems = "; ".join(str(p) for p in e.errors) or str(e)
            raise self._bad(problems) from None
        out = io.BytesIO()
        try:
            fastavro.schemaless_writer(out, self._schema, datum)
        except Exception as e:  # fastavro raises several types for values it cannot write
            raise self._bad(f"{type(e).__name__}: {e}") from None
        return frame(self.schema_id, out.getvalue())

    def decode(self, data: bytes) -> Any:
        """The record in its natural JSON form."""
        try:
            return fastavro.schemaless_reader(io.BytesIO(data[5:]), self._schema, None)
        except Exception as e:  # corrupt or foreign payloads raise many types
            raise self._bad(f"Avro decode failed: {decode_problem(e, len(data) - 5)}") from None


class ProtobufCodec(Codec):
    """Protobuf through the JSON mapping, in message classes from a private pool."""

    def __init__(self, schema_id: int, where: str, parsed: ProtobufSchema) -> None:
        super().__init__(schema_id, where)
        self._parsed = parsed
        self._pool = descriptor_pool.DescriptorPool()
        for file in parsed.files:
            self._pool.Add(file)

    def _message(self, indexes: tuple[int, ...]) -> message.Message:
        name = self._parsed.record_name(indexes)
        if not name:
            raise self._bad(f"message index path {list(indexes)} names no message")
        return message_factory.GetMessageClass(self._pool.FindMessageTypeByName(name))()

    def encode(self, value: Any) -> bytes:
        """The first message of the file, from its JSON mapping, framed."""
        msg = self._message(())
        try:
            json_format.ParseDict(value, msg)
            payload = msg.SerializeToString()
        except (json_format.ParseError, message.EncodeError) as e:
            raise self._bad(str(e)) from None
        return frame(self.schema_id, payload, ())

    def decode(self, data: bytes) -> Any:
        """The JSON mapping of the message the frame names."""
        indexes, start = parse_protobuf_indexes(data)
        msg = self._message(indexes)
        try:
            msg.ParseFromString(data[start:])
        except message.DecodeError as e:
            raise self._bad(f"protobuf decode failed: {e}") from None
        return json_format.MessageToDict(msg, preserving_proto_field_name=True)


class Schemas:
    """Codecs for registered schemas, resolved with their references and cached by id."""

    def __init__(self, client: SchemaRegistryClient) -> None:
        self.client = client
        """The registry client used for lookups."""
        self._parsed: dict[int, ParsedSchema] = {}
        self._codecs: dict[int, Codec] = {}

    def latest(self, subject: str) -> Codec | None:
        """The codec of a subject's latest live version; None when the subject has none."""
        try:
            found = self.client.get_version(subject, LATEST)
        except SubjectNotFoundError:
            return None
        assert found.schema is not None
        where = f"subject '{subject}' version {found.version} (schema id {found.schema.id})"
        return self._codec(found.schema, where)

    def by_id(self, schema_id: int) -> Codec:
        """The codec of a schema id."""
        cached = self._codecs.get(schema_id)
        if cached is not None:
            return cached
        return self._codec(self.client.get_schema(schema_id), f"schema id {schema_id}")

    def _codec(self, schema: Schema, where: str) -> Codec:
        parsed = self._parse(schema)
        codec: Codec
        if isinstance(parsed, AvroSchema):
            codec = AvroCodec(schema.id, where, parsed)
        elif isinstance(parsed, ProtobufSchema):
            codec = ProtobufCodec(schema.id, where, parsed)
        else:
            codec = JsonCodec(schema.id, where)
        self._codecs.setdefault(schema.id, codec)
        return codec

    def _parse(self, schema: Schema) -> ParsedSchema:
        cached = self._parsed.get(schema.id)
        if cached is not None:
            return cached
        refs = []
        for ref in schema.references:
            target = self.client.get_version(ref.subject, ref.version).schema
            assert target is not None
            refs.append(ResolvedReference(ref.name, self._parse(target)))
        parsed = get_format(SchemaType(schema.schema_type)).parse(schema.text, refs)
        self._parsed[schema.id] = parsed
        return parsed

    def decode(self, data: bytes, stored_id: int) -> tuple[Any, int]:
        """(JSON value, schema id) of framed bytes; (None, 0) when they are not framed."""
        if stored_id == 0 and (len(data) < 5 or data[0] != 0):
            return None, 0
        try:
            schema_id = parse_header(data)
            return self.by_id(schema_id).decode(data), schema_id
        except WeirError as e:
            if stored_id or isinstance(e, UnavailableError):
                raise
            return None, 0  # looked framed, but no registered schema: show it raw


def dumps(value: Any) -> str:
    """Compact JSON; bytes (from Avro) as strings of code points 0-255."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_default)


def raw_value(data: bytes, parse_json: bool) -> tuple[Any, bool]:
    """(value, is_base64) of unframed bytes: JSON (if asked and it parses), text, or base64."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii"), True
    if parse_json:
        try:
            return json.loads(text), False
        except ValueError:
            pass
    return text, False


def _default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("latin-1")
    return str(value)  # Decimal, datetime, UUID from logical types


def _to_avro(schema: Any, value: Any, named: Mapping[str, Any]) -> Any:
    """The natural JSON value with ``bytes``/``fixed`` strings turned into bytes."""
    if isinstance(schema, str):
        if schema in named:
            return _to_avro(named[schema], value, named)
        return _latin1(value) if schema == "bytes" else value
    if isinstance(schema, list):
        return _to_avro(_branch(schema, value, named), value, named)
    kind = schema.get("type")
    if kind in ("bytes", "fixed"):
        return _latin1(value)
    if kind == "record" and isinstance(value, dict):
        fields = {f["name"]: f["type"] for f in schema["fields"]}
        return {k: _to_avro(fields[k], v, named) if k in fields else v for k, v in value.items()}
    if kind == "array" and isinstance(value, list):
        return [_to_avro(schema["items"], v, named) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: _to_avro(schema["values"], v, named) for k, v in value.items()}
    if isinstance(kind, str | list | dict) and kind not in ("record", "array", "map", "enum"):
        return _to_avro(kind, value, named)
    return value


def _branch(union: list[Any], value: Any, named: Mapping[str, Any]) -> Any:
    """The union branch a JSON value most likely means (for the bytes conversion only)."""

    def kind(branch: Any) -> str:
        target = named.get(branch, branch) if isinstance(branch, str) else branch
        return target if isinstance(target, str) else str(target.get("type"))

    kinds = [kind(b) for b in union]
    wanted: tuple[str, ...] = ()
    if isinstance(value, str):
        wanted = ("string", "enum") if {"string", "enum"} & set(kinds) else ("bytes", "fixed")
    elif isinstance(value, dict):
        keys = set(value)
        for branch, k in zip(union, kinds, strict=True):
            target = named.get(branch, branch) if isinstance(branch, str) else branch
            if k == "record" and keys <= {f["name"] for f in target["fields"]}:
                return branch
        wanted = ("map",)
    elif isinstance(value, list):
        wanted = ("array",)
    for branch, k in zip(union, kinds, strict=True):
        if k in wanted:
            return branch
    return "null"


def _latin1(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        raise InvalidRecordError(
            "a bytes/fixed value must be a string of code points 0-255 (Avro's JSON encoding), "
            f"got {value[:40]!r}"
        ) from None
