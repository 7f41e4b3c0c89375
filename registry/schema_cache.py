"""Parsed schemas and record validators, built once per schema id, with references resolved.

The registry's state holds schema text; checks and the produce path need parsed schemas and
compiled validators. ``SchemaCache`` builds each once, resolving references through the
subject versions they name, and derives the content address (identity) that makes
registering the same schema twice return the same id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from weir.core.errors import InvalidReferenceError
from weir.core.types import SchemaId
from weir.registry.formats import ParsedSchema, RecordValidator, ResolvedReference, get_format
from weir.registry.model import SchemaInput, StoredSchema
from weir.registry.state import RegistryState


class SchemaCache:
    """Parsed schemas and validators by id, over the registry's state."""

    def __init__(self, state: RegistryState) -> None:
        self._state = state
        self._parsed: dict[SchemaId, ParsedSchema] = {}
        self._validators: dict[SchemaId, RecordValidator] = {}

    def parsed(self, stored: StoredSchema) -> ParsedSchema:
        """The parsed form of a registered schema, built once."""
        return self._parsed_stored(stored, ())

    def validator(self, stored: StoredSchema) -> RecordValidator:
        """The compiled record validator of a registered schema, built once."""
        cached = self._validators.get(stored.id)
        if cached is None:
            cached = self._validators[stored.id] = self.parsed(stored).validator()
        return cached

    def parse_input(self, schema: SchemaInput) -> tuple[ParsedSchema, str]:
        """Parse offered schema text; returns it with its identity (canonical form + refs)."""
        parsed = get_format(schema.schema_type).parse(schema.text, self._resolve(schema, ()))
        refs = json.dumps([[r.name, r.subject, r.version] for r in schema.references])
        identity = hashlib.sha256(f"{parsed.fingerprint}\0{refs}".encode()).hexdigest()
        return parsed, identity

    def remember(self, schema_id: SchemaId, parsed: ParsedSchema) -> None:
        """Keep a schema parsed for registration, unless the id already has one."""
        self._parsed.setdefault(schema_id, parsed)

    def forget(self, schema_id: SchemaId) -> None:
        """Drop what was built for an id that no subject version holds any more."""
        self._parsed.pop(schema_id, None)
        self._validators.pop(schema_id, None)

    def _parsed_stored(self, stored: StoredSchema, seen: Sequence[tuple[str, int]]) -> ParsedSchema:
        cached = self._parsed.get(stored.id)
        if cached is None:
            refs = self._resolve(stored, seen)
            cached = self._parsed[stored.id] = get_format(stored.schema_type).parse(
                stored.text, refs
            )
        return cached

    def _resolve(
        self, schema: SchemaInput | StoredSchema, seen: Sequence[tuple[str, int]]
    ) -> list[ResolvedReference]:
        resolved = []
        for ref in schema.references:
            if (ref.subject, ref.version) in seen:
                raise InvalidReferenceError(
                    f"reference cycle through '{ref.subject}' version {ref.version}; "
                    "a schema cannot refer back to itself",
                    metadata={"reference": ref.name, "subject": ref.subject},
                )
            # Soft-deleted versions still resolve, as in Confluent Schema Registry.
            target = self._state.subjects.get(ref.subject, {}).get(ref.version)
            if target is None:
                raise InvalidReferenceError(
                    f"reference '{ref.name}' points at subject '{ref.subject}' version "
                    f"{ref.version}, which does not exist; register it first",
                    metadata={"reference": ref.name, "subject": ref.subject},
                )
            parsed = self._parsed_stored(target.schema, [*seen, (ref.subject, ref.version)])
            resolved.append(ResolvedReference(ref.name, parsed))
        return resolved
