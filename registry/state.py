"""The registry's in-memory state, rebuilt by replaying store records.

Every change is a ``StoreRecord``; ``RegistryState.apply`` folds one into the indexes, so the
same code serves live writes and replay on start.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from weir.core.types import CompatibilityLevel, Mode, SchemaId, SchemaType, Subject, Version
from weir.registry.model import Reference, StoredSchema, SubjectVersion
from weir.registry.store import StoreRecord

GLOBAL = Subject("")
"""The config and mode scope that applies when a subject has none of its own."""


def version_key(subject: Subject, version: Version) -> str:
    """Store key of one subject version."""
    return json.dumps(["SCHEMA", subject, version])


def config_key(subject: Subject) -> str:
    """Store key of a compatibility level (GLOBAL for the registry-wide one)."""
    return json.dumps(["CONFIG", subject])


def mode_key(subject: Subject) -> str:
    """Store key of a mode (GLOBAL for the registry-wide one)."""
    return json.dumps(["MODE", subject])


def version_value(sv: SubjectVersion, identity: str) -> dict[str, Any]:
    """The stored value of a subject version."""
    s = sv.schema
    return {
        "id": s.id,
        "type": s.schema_type.value,
        "schema": s.text,
        "references": [[r.name, r.subject, r.version] for r in s.references],
        "identity": identity,
        "deleted": sv.deleted,
    }


@dataclass(slots=True)
class RegistryState:
    """Indexes over every subject version, config and mode."""

    subjects: dict[Subject, dict[Version, SubjectVersion]] = field(default_factory=dict)
    """Every version of every subject, soft-deleted ones included."""
    schemas: dict[SchemaId, StoredSchema] = field(default_factory=dict)
    """Schemas that at least one version (deleted or not) still holds."""
    holders: dict[SchemaId, set[tuple[Subject, Version]]] = field(default_factory=dict)
    """The subject versions holding each schema id."""
    ids_by_identity: dict[str, SchemaId] = field(default_factory=dict)
    """Content address (canonical form + references) to id."""
    configs: dict[Subject, CompatibilityLevel] = field(default_factory=dict)
    """Compatibility levels set explicitly; GLOBAL for the registry-wide one."""
    modes: dict[Subject, Mode] = field(default_factory=dict)
    """Modes set explicitly; GLOBAL for the registry-wide one."""
    max_id: int = 0
    """The highest id ever assigned; ids are never reused."""

    def replay(self, records: Iterable[StoreRecord]) -> None:
        """Apply records oldest first."""
        for record in records:
            self.apply(record)

    def apply(self, record: StoreRecord) -> None:
        """Fold one record into the indexes."""
        kind, subject, *rest = json.loads(record.key)
        if kind == "SCHEMA":
            self._apply_version(Subject(subject), Version(rest[0]), record.value)
        elif kind == "CONFIG":
            self._set(self.configs, Subject(subject), record.value, "level", CompatibilityLevel)
        elif kind == "MODE":
            self._set(self.modes, Subject(subject), record.value, "mode", Mode)

    @staticmethod
    def _set(
        table: dict[Subject, Any],
        subject: Subject,
        value: dict[str, Any] | None,
        name: str,
        kind: Any,
    ) -> None:
        if value is None:
            table.pop(subject, None)
        else:
            table[subject] = kind(value[name])

    def _apply_version(
        self, subject: Subject, version: Version, value: dict[str, Any] | None
    ) -> None:
        versions = self.subjects.setdefault(subject, {})
        old = versions.pop(version, None)
        if old is not None:
            self._release(old.schema.id, subject, version)
        if value is None:
            if not versions:
                del self.subjects[subject]
            return
        schema_id = SchemaId(value["id"])
        schema = self.schemas.get(schema_id) or StoredSchema(
            id=schema_id,
            schema_type=SchemaType(value["type"]),
            text=value["schema"],
            references=tuple(
                Reference(n, Subject(s), Version(v)) for n, s, v in value["references"]
            ),
        )
        self.schemas[schema_id] = schema
        self.holders.setdefault(schema_id, set()).add((subject, version))
        self.ids_by_identity[value["identity"]] = schema_id
        self.max_id = max(self.max_id, schema_id)
        versions[version] = SubjectVersion(subject, version, schema, bool(value["deleted"]))

    def _release(self, schema_id: SchemaId, subject: Subject, version: Version) -> None:
        holders = self.holders[schema_id]
        holders.discard((subject, version))
        if not holders:
            del self.holders[schema_id]
            del self.schemas[schema_id]
            self.ids_by_identity = {k: v for k, v in self.ids_by_identity.items() if v != schema_id}
