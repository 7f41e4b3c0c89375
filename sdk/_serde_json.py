"""JSONSerializer and JSONDeserializer: JSON Schema with Confluent framing.

Records are validated against the schema before they are sent (Confluent does the same), with
a validator compiled once per schema (see ``_serde_json_schema``). The bytes are
confluent-kafka's: compact JSON (``separators=(",", ":")``, non-ASCII kept as UTF-8) after
the 5-byte header.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from weir.core.errors import InvalidRecordError
from weir.core.types import SchemaType
from weir.sdk._records import SerializationContext
from weir.sdk._serde import Plan, SubjectNameStrategy, as_dict
from weir.sdk._serde_base import (
    Bundle,
    SchemaDeserializer,
    SchemaSerializer,
    Target,
    constant,
)
from weir.sdk._serde_json_schema import CompiledJson, check_record, compile_json, dumps, load
from weir.sdk._types import Schema, SchemaReference


class JSONSerializer(SchemaSerializer[CompiledJson]):
    """Serialize dicts or dataclasses as JSON, validated against a JSON Schema, with framing.

    ``serializer(obj, ctx)`` with a SchemaRegistryClient, ``await serializer.serialize_async(obj,
    ctx)`` with an AsyncSchemaRegistryClient. The schema id is found once per subject.
    """

    schema_type = SchemaType.JSON

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
        validate: bool = True,
    ) -> None:
        refs = tuple(references)
        title = None
        if schema_str is not None:
            loaded = load(schema_str, "JSON schema")
            title = loaded.get("title") if isinstance(loaded, dict) else None
        super().__init__(
            registry,
            text=schema_str,
            references=refs,
            record_name=title if isinstance(title, str) else None,
            subject_name_strategy=subject_name_strategy,
            auto_register=auto_register,
            use_latest_version=use_latest_version,
            latest_ttl_s=latest_ttl_s,
        )
        if schema_str is not None and not refs:
            self._local = compile_json(schema_str, [])
        self._to_dict = to_dict
        self._validate = validate

    def _compile(self, text: str, bundle: Bundle) -> CompiledJson:
        return compile_json(text, bundle)

    def _encode(
        self, obj: Any, ctx: SerializationContext | None, target: Target[CompiledJson]
    ) -> bytes:
        value = as_dict(obj, ctx, self._to_dict)
        if self._validate:
            check_record(target.writer, value, target.schema_id)
        return target.prefix + dumps(value)


class JSONDeserializer(SchemaDeserializer[CompiledJson | None]):
    """Read Confluent-framed JSON as dicts, validated against a schema.

    With ``schema_str`` records are validated against it and the registry is not asked;
    without it, against the writer schema the id names. ``from_dict(dict, ctx)`` turns each
    record into an application object.
    """

    schema_type = SchemaType.JSON

    def __init__(
        self,
        registry: Any,
        schema_str: str | None = None,
        from_dict: Callable[[Any, SerializationContext | None], Any] | None = None,
        *,
        validate: bool = True,
    ) -> None:
        super().__init__(registry, from_dict)
        self._reader = None if schema_str is None else compile_json(schema_str, [], "reader schema")
        self._validate = validate

    def _reader_plan(self, schema_id: int) -> Plan[CompiledJson | None]:
        if self._reader is not None:
            return constant(self._readers.setdefault(schema_id, self._reader))
        return super()._reader_plan(schema_id)

    def _compile(self, schema: Schema, bundle: Bundle) -> CompiledJson | None:
        if not self._validate:
            return None
        return compile_json(schema.text, bundle, f"registered JSON schema id {schema.id}")

    def _decode(
        self,
        data: bytes,
        schema_id: int,
        reader: CompiledJson | None,
        ctx: SerializationContext | None,
    ) -> Any:
        try:
            value = json.loads(data[5:])
        except ValueError as err:
            raise InvalidRecordError(
                f"record with schema id {schema_id} is not valid JSON: {err}; "
                "the bytes were not written by a JSON serializer",
                metadata={"id": str(schema_id), "rule": "json"},
            ) from None
        if self._validate and reader is not None:
            check_record(reader, value, schema_id)
        return value if self._from_dict is None else self._from_dict(value, ctx)


__all__ = ["JSONDeserializer", "JSONSerializer"]
