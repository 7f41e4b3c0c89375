"""The JSON Schema format: parse, check against the draft's metaschema, canonicalize, validate.

``JSON_SCHEMA.parse(text, references)`` decodes the text (syntax errors name line and
column), picks the draft from ``$schema`` (drafts 4, 6, 7, 2019-09 and 2020-12; 2020-12 when
absent), checks the schema against that draft's metaschema (errors name the JSON pointer of
the bad keyword), checks every pattern can be matched with a time bound (see
``json_schema_patterns``), registers the references so every ``$ref`` resolves, and compiles a
jsonschema validator once. The canonical form is compact JSON with sorted keys.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import SchemaError
from jsonschema.protocols import Validator
from referencing import Registry, Resource

from weir.core.errors import InvalidReferenceError, InvalidSchemaError
from weir.core.types import SchemaType
from weir.registry.formats.base import ParsedSchema, RecordValidator, ResolvedReference
from weir.registry.formats.json_schema_budget import bounded_expansion, guarded_class
from weir.registry.formats.json_schema_drafts import Draft, draft_of
from weir.registry.formats.json_schema_fast import FastCheck, fast_check
from weir.registry.formats.json_schema_patterns import backtracking_patterns, check_patterns
from weir.registry.formats.json_schema_refs import RefDoc, build_registry, check_refs
from weir.registry.formats.json_schema_regex import PatternTimeout
from weir.registry.formats.json_schema_validator import (
    JsonRecordValidator,
    decode_json,
    pointer,
)


@dataclass(frozen=True, slots=True, eq=False)
class JsonSchema(ParsedSchema):
    """A parsed, valid JSON Schema with its draft, ``$ref`` registry and compiled validator."""

    schema_type = SchemaType.JSON

    text: str
    """The text as given."""
    references: tuple[ResolvedReference, ...]
    """The references, each a parsed JsonSchema named by the URL used in ``$ref``."""
    contents: Any
    """The decoded schema document (a dict, or a bool for drafts 6 and later)."""
    draft: Draft
    """The draft named by ``$schema``, or the default one."""
    registry: Registry[Any]
    """Every referenced schema, registered so ``$ref`` lookups resolve."""
    resource: Resource[Any]
    """The schema as a referencing resource of its draft."""
    canonical_text: str
    """Compact JSON with sorted keys."""
    compiled: Validator
    """The jsonschema validator, built once at parse time."""
    fast: FastCheck | None = None
    """The compiled Rust check that accepts valid records quickly, when it could be built."""

    @property
    def canonical(self) -> str:
        """Compact JSON with sorted keys: stable under whitespace, key order and EOLs."""
        return self.canonical_text

    def record_name(self, message_indexes: Sequence[int] = ()) -> str | None:
        """The schema's ``title``, as Confluent's record strategies use it."""
        title = self.contents.get("title") if isinstance(self.contents, dict) else None
        return title if isinstance(title, str) else None

    def validator(self) -> RecordValidator:
        """A record validator that reuses the compiled jsonschema validator."""
        return JsonRecordValidator(self.compiled, self.fast)


def canonical_json(contents: Any) -> str:
    """Compact JSON with sorted keys and unescaped non-ASCII text."""
    return json.dumps(contents, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class JsonSchemaFormat:
    """The JSON Schema language (Confluent's ``JSON`` schema type)."""

    schema_type = SchemaType.JSON

    def parse(self, text: str, references: Sequence[ResolvedReference] = ()) -> JsonSchema:
        """Parse and check schema text; raise InvalidSchemaError / InvalidReferenceError."""
        try:
            contents = decode_json(text, "schema")
        except ValueError as exc:
            raise InvalidSchemaError(str(exc)) from None
        draft = draft_of(contents)
        _check_metaschema(contents, draft)
        resource = draft.specification.create_resource(contents)
        check_patterns(resource)
        registry = build_registry(resource, [_ref_doc(r) for r in references])
        try:
            check_refs(resource, registry, [r.name for r in references])
        except RecursionError:
            raise InvalidSchemaError("schema nests too deeply to resolve its $refs") from None
        compiled = guarded_class(draft.validator_class)(
            contents,
            registry=registry,
            format_checker=draft.validator_class.FORMAT_CHECKER,
        )
        bounded = bounded_expansion(resource, registry, draft.specification)
        fast_ok = bounded and not backtracking_patterns(resource, references)
        return JsonSchema(
            text=text,
            references=tuple(references),
            contents=contents,
            draft=draft,
            registry=registry,
            resource=resource,
            canonical_text=canonical_json(contents),
            compiled=compiled,
            fast=fast_check(contents, draft, registry) if fast_ok else None,
        )


def _check_metaschema(contents: Any, draft: Draft) -> None:
    try:
        draft.validator_class.check_schema(contents)
    except SchemaError as exc:
        where = pointer(list(exc.absolute_path))
        raise InvalidSchemaError(
            f"{where}: {exc.message} (the {draft.name} metaschema's {exc.validator!r} rule); "
            f"fix the schema there or declare another draft with $schema",
            metadata={"path": where, "rule": str(exc.validator), "draft": draft.name},
        ) from None
    except RecursionError:
        raise InvalidSchemaError("schema nests too deeply to check") from None
    except PatternTimeout as exc:
        raise InvalidSchemaError(
            f"checking the schema against its metaschema ran out of time on pattern "
            f"{exc.pattern[:100]!r}",
            metadata={"limit": "pattern_timeout_ms"},
        ) from None


def _ref_doc(ref: ResolvedReference) -> RefDoc:
    target = ref.schema
    if not isinstance(target, JsonSchema):
        raise InvalidReferenceError(
            f"reference {ref.name!r} is a {target.schema_type} schema; "
            "a JSON schema can only reference JSON schemas",
            metadata={"ref": ref.name},
        )
    nested = tuple(_ref_doc(r) for r in target.references)
    return RefDoc(ref.name, target.resource, nested)


JSON_SCHEMA = JsonSchemaFormat()
