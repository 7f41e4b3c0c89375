"""JSON Schema compiled once for the serializers: jsonschema decides, jsonschema_rs speeds up.

jsonschema_rs answers "is this record valid?" much faster than jsonschema, and is trusted only
to ACCEPT (the registry's produce path does the same): a refusal is always decided and
explained by jsonschema, so errors name the field path and the rule.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
import referencing.jsonschema
from jsonschema import (
    Draft4Validator,
    Draft6Validator,
    Draft7Validator,
    Draft201909Validator,
    Draft202012Validator,
)
from jsonschema.exceptions import SchemaError, best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable

from weir.core.errors import InvalidRecordError, InvalidSchemaError
from weir.sdk._serde_base import Bundle


@dataclass(frozen=True, slots=True)
class CompiledJson:
    """A JSON Schema compiled once: the reference validator and an optional fast check."""

    validator: Validator
    """jsonschema's validator: decides every refusal and explains it."""
    fast: Callable[[Any], bool] | None
    """jsonschema_rs's ``is_valid``, trusted only to accept (None when it cannot compile)."""


_FAST = {
    Draft4Validator: jsonschema_rs.Draft4Validator,
    Draft6Validator: jsonschema_rs.Draft6Validator,
    Draft7Validator: jsonschema_rs.Draft7Validator,
    Draft201909Validator: jsonschema_rs.Draft201909Validator,
    Draft202012Validator: jsonschema_rs.Draft202012Validator,
}


_RS_BASE = "json-schema:///"


def _fast_check(cls: Any, contents: Any, registry: Registry[Any]) -> Callable[[Any], bool] | None:
    """A compiled Rust check; ``$ref`` reads only the schema's references, never the network."""
    fast_cls = _FAST.get(cls)
    if fast_cls is None:
        return None

    def retrieve(uri: str) -> Any:
        # jsonschema_rs resolves a relative $ref such as "address.json" against its default
        # base "json-schema:///"; references are registered under the name as written.
        for name in (uri.rstrip("#"), uri.rstrip("#").removeprefix(_RS_BASE)):
            try:
                return registry.contents(name)
            except (Unresolvable, LookupError):
                continue
        raise ValueError(f"{uri} is not a registered reference")

    try:
        is_valid: Callable[[Any], bool] = fast_cls(
            contents, validate_formats=False, retriever=retrieve
        ).is_valid
    except Exception:  # a schema the fast validator cannot compile just has no fast path
        return None

    def check(document: Any) -> bool:
        try:
            return is_valid(document)
        except Exception:  # jsonschema decides instead
            return False

    return check


def compile_json(text: str, bundle: Bundle, what: str = "JSON schema") -> CompiledJson:
    """A validator for schema text; referenced schemas are registered under their ref names."""
    registry: Registry[Any] = Registry()
    for name, schema in bundle:
        contents = load(schema.text, f"referenced JSON schema {name!r}")
        resource = Resource.from_contents(
            contents, default_specification=referencing.jsonschema.DRAFT202012
        )
        registry = registry.with_resource(name, resource)
    schema_obj = load(text, what)
    try:
        cls = validator_for(schema_obj)
        cls.check_schema(schema_obj)
    except SchemaError as err:
        where = "/" + "/".join(str(p) for p in err.path)
        raise InvalidSchemaError(
            f"{what} is not a valid JSON Schema at {where}: {err.message}; fix the schema"
        ) from None
    return CompiledJson(cls(schema_obj, registry=registry), _fast_check(cls, schema_obj, registry))


def load(text: str, what: str) -> Any:
    """Schema text as JSON; InvalidSchemaError saying where it does not parse."""
    try:
        return json.loads(text)
    except ValueError as err:
        raise InvalidSchemaError(f"{what} is not valid JSON: {err}; fix the schema text") from None


def check_record(compiled: CompiledJson, value: Any, schema_id: int | None) -> None:
    """Raise InvalidRecordError naming the field path and rule when value breaks the schema."""
    if compiled.fast is not None and compiled.fast(value):
        return
    if compiled.validator.is_valid(value):
        return
    error = best_match(compiled.validator.iter_errors(value))
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


__all__: list[str] = []  # helpers for JSONSerializer and JSONDeserializer
