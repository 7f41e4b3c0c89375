"""JSONSerializer and JSONDeserializer: JSON Schema with Confluent framing.

Records are validated against the schema before they are sent (Confluent does the same), with
a validator compiled once per schema. The bytes are confluent-kafka's: compact JSON
(``separators=(",", ":")``, non-ASCII kept as UTF-8) after the 5-byte header.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import referencing.jsonschema
from jsonschema.exceptions import SchemaError, best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from referencing import Registry, Resource

from weir.core.errors import InvalidRecordError, InvalidSchemaError
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
from weir.sdk._types import Schema, SchemaReference


def compile_json(text: str, bundle: Bundle, what: str = "JSON schema") -> Validator:
    """A validator for schema text; referenced schemas are registered under their ref names."""
    registry: Registry[Any] = Registry()
    for name, schema in bundle:
        contents = _load(schema.text, f"referenced JSON schema {name!r}")
        resource = Resource.from_contents(
            contents, default_specification=referencing.jsonschema.DRAFT202012
        )
        registry = registry.with_resource(name, resource)
    schema_obj = _load(text, what)
    try:
        cls = validator_for(schema_obj)
        cls.check_schema(schema_obj)
    except SchemaError as err:
        where = "/" + "/".join(str(p) for p in err.path)
        raise InvalidSchemaError(
            f"{what} is not a valid JSON Schema at {where}: {err.message}; fix the schema"
        ) from None
    return cls(schema_obj, registry=registry)


def _load(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as err:
        raise InvalidSchemaError(f"{what} is not valid JSON: {err}; fix the schema text") from None


def check_record(validator: Validator, value: Any, schema_id: int | None) -> None:
    """Raise InvalidRecordError naming the field path and rule when value breaks the schema."""
    if validator.is_valid(value):
        return
    error = best_match(validator.iter_errors(value))
    path = "/" + "/".join(str(p) for p in error.absolute_path)
    which = f"JSON schema id {schema_id}" if schema_id is not None else "the JSON schema"
    raise InvalidRecordError(
        f"record does not match {which} at {path}: {error.message} (rule {error.validator}); "
        "fix the record or register a schema that allows it",
        metadata={"path": path, "rule": str(error.validator)},
    )


def dumps(value: Any) -> bytes:
    """Compact JSON bytes, exactly as confluent-kafka's JSONSerializer writes them."""
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError) as err:
        raise InvalidRecordError(
            f"record cannot be written as JSON: {err}; convert it with to_dict"
        ) from None


class JSONSerializer(SchemaSerializer[Validator]):
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
            loaded = _load(schema_str, "JSON schema")
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

    def _compile(self, text: str, bundle: Bundle) -> Validator:
        return compile_json(text, bundle)

    def _encode(
        self, obj: Any, ctx: SerializationContext | None, target: Target[Validator]
    ) -> bytes:
        value = as_dict(obj, ctx, self._to_dict)
        if self._validate:
            check_record(target.writer, value, target.schema_id)
        return target.prefix + dumps(value)


class JSONDeserializer(SchemaDeserializer[Validator | None]):
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

    def _reader_plan(self, schema_id: int) -> Plan[Validator | None]:
        if self._reader is not None:
            return constant(self._readers.setdefault(schema_id, self._reader))
        return super()._reader_plan(schema_id)

    def _compile(self, schema: Schema, bundle: Bundle) -> Validator | None:
        if not self._validate:
            return None
        return compile_json(schema.text, bundle, f"registered JSON schema id {schema.id}")

    def _decode(
        self,
        data: bytes,
        schema_id: int,
        reader: Validator | None,
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
