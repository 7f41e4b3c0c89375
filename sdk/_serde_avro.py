"""AvroSerializer and AvroDeserializer: fastavro with Confluent framing.

The bytes are exactly what confluent-kafka's AvroSerializer writes for the same schema id:
magic byte 0, the 4-byte id, then fastavro's schemaless encoding.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

import fastavro
from fastavro.validation import ValidationError, validate

from weir.core.errors import InvalidRecordError, InvalidSchemaError
from weir.core.types import SchemaType
from weir.sdk._records import SerializationContext
from weir.sdk._serde import SubjectNameStrategy, as_dict
from weir.sdk._serde_base import Bundle, SchemaDeserializer, SchemaSerializer, Target
from weir.sdk._types import Schema, SchemaReference

Parsed = Any
"""A schema parsed by fastavro.parse_schema (a dict, list or str)."""


def parse_avro(text: str, bundle: Bundle, what: str = "Avro schema") -> Parsed:
    """Parse schema text (and the named types its references bring) once, with fastavro."""
    named: dict[str, Any] = {}
    for name, schema in bundle:
        _parse(schema.text, named, f"referenced Avro schema {name!r}")
    return _parse(text, named, what)


def _parse(text: str, named: dict[str, Any], what: str) -> Parsed:
    try:
        loaded = json.loads(text)
    except ValueError as err:
        raise InvalidSchemaError(f"{what} is not valid JSON: {err}; fix the schema text") from None
    try:
        return fastavro.parse_schema(loaded, named_schemas=named)
    except Exception as err:  # fastavro raises several unrelated classes for bad schemas
        raise InvalidSchemaError(
            f"{what} is not valid Avro: {err}; fix the schema (named types from other "
            "subjects need references=[SchemaReference(name, subject, version)])"
        ) from None


def record_name(parsed: Parsed, text: str) -> str | None:
    """The full name the record strategies use: a named type's name, a primitive's type."""
    if isinstance(parsed, dict):
        name = parsed.get("name")
        return str(name) if name else str(json.loads(text).get("type"))
    return parsed if isinstance(parsed, str) else None


class AvroSerializer(SchemaSerializer[Parsed]):
    """Serialize dicts or dataclasses as Avro with Confluent framing.

    ``serializer(obj, ctx)`` with a SchemaRegistryClient, ``await serializer.serialize_async(obj,
    ctx)`` with an AsyncSchemaRegistryClient. The schema id is found once per subject.
    """

    schema_type = SchemaType.AVRO

    def __init__(
        self,
        registry: Any,
        schema_str: str | None = None,
        to_dict: Callable[[Any, SerializationContext | None], Any] | None = None,
        *,
        references: Iterable[SchemaReference] = (),
        subject_name_strategy: str | SubjectNameStrategy = "topic",
        auto_register: bool | None = None,
        use_latest_version: bool = False,
        latest_ttl_s: float | None = None,
    ) -> None:
        refs = tuple(references)
        name = None
        local = None
        if schema_str is not None and not refs:
            local = parse_avro(schema_str, [])
            name = record_name(local, schema_str)
        elif schema_str is not None:
            name = _name_without_refs(schema_str)
        super().__init__(
            registry,
            text=schema_str,
            references=refs,
            record_name=name,
            subject_name_strategy=subject_name_strategy,
            auto_register=auto_register,
            use_latest_version=use_latest_version,
            latest_ttl_s=latest_ttl_s,
        )
        self._local = local
        self._to_dict = to_dict

    def _compile(self, text: str, bundle: Bundle) -> Parsed:
        return parse_avro(text, bundle)

    def _encode(self, obj: Any, ctx: SerializationContext | None, target: Target[Parsed]) -> bytes:
        value = as_dict(obj, ctx, self._to_dict)
        out = io.BytesIO()
        out.write(target.prefix)
        try:
            fastavro.schemaless_writer(out, target.writer, value)
        except Exception as err:  # fastavro raises TypeError, ValueError, KeyError, ...
            raise InvalidRecordError(
                f"record does not match Avro schema id {target.schema_id}: "
                f"{_explain(value, target.writer, err)}; fix the record or register a schema "
                "that allows it",
                metadata={"id": str(target.schema_id), "rule": "avro"},
            ) from None
        return out.getvalue()


def _name_without_refs(text: str) -> str | None:
    try:
        loaded = json.loads(text)
    except ValueError:
        raise InvalidSchemaError("Avro schema is not valid JSON; fix the schema text") from None
    if not isinstance(loaded, dict) or "name" not in loaded:
        return None
    name, space = str(loaded["name"]), loaded.get("namespace")
    return f"{space}.{name}" if space and "." not in name else name


def _explain(value: Any, parsed: Parsed, err: Exception) -> str:
    """The field path and rule fastavro's validator names, else the writer's own message."""
    try:
        validate(value, parsed, raise_errors=True)
    except ValidationError as found:
        first = found.errors[0] if found.errors else None
        if first is not None:
            expected = first.schema
            if isinstance(expected, dict):
                expected = f"{expected.get('type')} {expected.get('name', '')}".strip()
            return f"field {first.field} is {first.datum!r}, expected {expected}"
    except Exception:  # validate itself choked; the writer's message is all we have
        return str(err)
    return str(err)


class AvroDeserializer(SchemaDeserializer[tuple[Parsed, Parsed]]):
    """Read Confluent-framed Avro with the writer schema from the registry, as dicts.

    ``schema_str`` (optional) is a reader schema: records are resolved into it, Avro's way.
    ``from_dict(dict, ctx)`` turns each record into an application object.
    """

    schema_type = SchemaType.AVRO

    def __init__(
        self,
        registry: Any,
        schema_str: str | None = None,
        from_dict: Callable[[Any, SerializationContext | None], Any] | None = None,
    ) -> None:
        super().__init__(registry, from_dict)
        self._reader = None if schema_str is None else parse_avro(schema_str, [], "reader schema")

    def _compile(self, schema: Schema, bundle: Bundle) -> tuple[Parsed, Parsed]:
        writer = parse_avro(schema.text, bundle, f"registered Avro schema id {schema.id}")
        return writer, self._reader

    def _decode(
        self,
        data: bytes,
        schema_id: int,
        reader: tuple[Parsed, Parsed],
        ctx: SerializationContext | None,
    ) -> Any:
        stream = io.BytesIO(data)
        stream.seek(5)
        try:
            record = fastavro.schemaless_reader(stream, reader[0], reader[1])
        except Exception as err:  # truncated data, bad unions, schema resolution failures, ...
            if isinstance(err, (EOFError, IndexError, StopIteration)):
                detail = f"the data ends early (at byte {stream.tell()} of {len(data)})"
            else:
                detail = f"{type(err).__name__}: {err}"
            raise InvalidRecordError(
                f"cannot decode an Avro record with schema id {schema_id}: {detail}; the bytes "
                "were not written with that schema"
                + (" or the reader schema cannot read it" if reader[1] is not None else ""),
                metadata={"id": str(schema_id), "rule": "avro"},
            ) from None
        if stream.tell() != len(data):
            raise InvalidRecordError(
                f"{len(data) - stream.tell()} bytes left after the Avro record with schema id "
                f"{schema_id}; the bytes were not written with that schema",
                metadata={"id": str(schema_id), "rule": "avro"},
            )
        return record if self._from_dict is None else self._from_dict(record, ctx)


__all__ = ["AvroDeserializer", "AvroSerializer"]
