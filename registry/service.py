"""The registry's operations, with Confluent Schema Registry's semantics.

``SchemaRegistry`` owns the state and the store. Reads answer from memory; every write goes
to the store first (durably) and then into memory through the same ``apply`` that replays
the store on start. Parsed schemas and their validators are built once per id and cached
(schema_cache).
"""

from __future__ import annotations

import json
import re

from weir.core.errors import (
    CompatibilityNotConfiguredError,
    IncompatibleSchemaError,
    InvalidArgumentError,
    InvalidVersionError,
    ModeNotConfiguredError,
    OperationNotPermittedError,
    ReferenceExistsError,
    SchemaNotFoundError,
    SubjectNotFoundError,
    SubjectNotSoftDeletedError,
    SubjectSoftDeletedError,
    VersionNotFoundError,
    VersionNotSoftDeletedError,
    VersionSoftDeletedError,
)
from weir.core.types import CompatibilityLevel, Mode, SchemaId, Subject, Version
from weir.registry.compatibility import CompatibilityResult, check_compatibility
from weir.registry.formats import ParsedSchema, RecordValidator
from weir.registry.model import SchemaInput, StoredSchema, SubjectVersion
from weir.registry.schema_cache import SchemaCache
from weir.registry.schema_limits import SchemaLimits
from weir.registry.state import (
    GLOBAL,
    RegistryState,
    config_key,
    mode_key,
    version_key,
    version_value,
)
from weir.registry.store import RegistryStore, StoreRecord

DEFAULT_LEVEL = CompatibilityLevel.BACKWARD
DEFAULT_MODE = Mode.READWRITE
LATEST: None = None
"""Pass as a version to mean the latest live version."""
DEFAULT_MAX_NAME_BYTES = 1000
"""The longest subject name, in UTF-8 bytes, unless configured (ServerConfig.max_name_bytes)."""
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
"""Control characters (Java's isISOControl), which Confluent refuses in subject names."""


class SchemaRegistry:
    """Subjects, versions, schemas, levels and modes over a durable store."""

    def __init__(
        self,
        store: RegistryStore,
        limits: SchemaLimits | None = None,
        max_name_bytes: int = DEFAULT_MAX_NAME_BYTES,
    ) -> None:
        self._store = store
        self.limits = limits or SchemaLimits()
        """Size and depth limits on offered schema text (stored schemas are not re-checked)."""
        self.max_name_bytes = max_name_bytes
        """The longest subject name, in UTF-8 bytes (see check_subject)."""
        self._state = RegistryState()
        self._state.replay(store.load())
        self._cache = SchemaCache(self._state)
        self._membership: dict[tuple[str, int], Version | None] = {}
        self.generation = 0
        """Counts writes; caches keyed on registry state compare it."""
        self.registrations = 0
        """New subject versions registered since start (a metric)."""
        self.compatibility_failures: dict[tuple[str, str], int] = {}
        """Failed compatibility checks since start, per (operation, rule) (a metric)."""

    def close(self) -> None:
        """Close the store."""
        self._store.close()

    def check_subject(self, subject: str, creating: bool = False) -> None:
        """Refuse a subject name over ``max_name_bytes``; when the call would create or change
        the subject (``creating``), also one with control characters, as Confluent does
        (42208). Reads and deletes check only the length, so an older name stays removable."""
        check_name("subject", subject, self.max_name_bytes, creating)

    # ----- reads -------------------------------------------------------------------------

    def get_schema(self, schema_id: int) -> StoredSchema:
        """A schema by id; soft-deleted versions keep their schema readable."""
        schema = self._state.schemas.get(SchemaId(schema_id))
        if schema is None:
            raise SchemaNotFoundError(
                f"schema id {schema_id} not found", metadata={"id": str(schema_id)}
            )
        return schema

    def schema_versions(
        self, schema_id: int, include_deleted: bool = False
    ) -> list[SubjectVersion]:
        """Every subject version that holds a schema id."""
        self.get_schema(schema_id)
        found = [self._state.subjects[s][v] for s, v in self._state.holders[SchemaId(schema_id)]]
        return sorted(
            (sv for sv in found if include_deleted or not sv.deleted),
            key=lambda sv: (sv.subject, sv.version),
        )

    def list_subjects(self, include_deleted: bool = False, prefix: str = "") -> list[Subject]:
        """Subject names, sorted."""
        return sorted(
            s
            for s, versions in self._state.subjects.items()
            if s.startswith(prefix)
            and (include_deleted or any(not v.deleted for v in versions.values()))
        )

    def list_versions(self, subject: str, include_deleted: bool = False) -> list[Version]:
        """Version numbers of a subject, ascending."""
        return [sv.version for sv in self._versions(subject, include_deleted)]

    def get_version(
        self, subject: str, version: int | None = LATEST, include_deleted: bool = False
    ) -> SubjectVersion:
        """One version of a subject, or its latest (live) one."""
        versions = self._versions(subject, include_deleted)
        if version is None:
            return versions[-1]
        if version < 1:
            raise InvalidVersionError(
                f"version {version} is not valid: use a positive integer or latest",
                metadata={"subject": subject, "version": str(version)},
            )
        found = self._state.subjects[Subject(subject)].get(Version(version))
        if found is None or (found.deleted and not include_deleted):
            hint = " (it was soft-deleted; ask with deleted versions included)" if found else ""
            raise VersionNotFoundError(
                f"version {version} of subject '{subject}' not found{hint}",
                metadata={"subject": subject, "version": str(version)},
            )
        return found

    def lookup(
        self, subject: str, schema: SchemaInput, include_deleted: bool = False
    ) -> SubjectVersion:
        """The version of ``subject`` that holds ``schema``."""
        versions = self._versions(subject, include_deleted)
        _, identity = self._parse_input(schema)
        schema_id = self._state.ids_by_identity.get(identity)
        for sv in reversed(versions):
            if sv.schema.id == schema_id:
                return sv
        raise SchemaNotFoundError(
            f"schema not found in subject '{subject}'; register it first",
            metadata={"subject": subject},
        )

    def referenced_by(self, subject: str, version: int) -> list[SchemaId]:
        """Ids of live schemas whose references name this subject version."""
        self.get_version(subject, version, include_deleted=True)
        return sorted(
            {
                sv.schema.id
                for versions in self._state.subjects.values()
                for sv in versions.values()
                if not sv.deleted
                and any(r.subject == subject and r.version == version for r in sv.schema.references)
            }
        )

    def version_of(self, subject: str, schema_id: int) -> Version | None:
        """The latest live version of ``subject`` holding ``schema_id``, or None (cached)."""
        key = (subject, schema_id)
        if key not in self._membership:
            versions = self._state.subjects.get(Subject(subject), {})
            live = [v for v, sv in versions.items() if sv.schema.id == schema_id and not sv.deleted]
            self._membership[key] = max(live, default=None)
        return self._membership[key]

    def parsed(self, schema_id: int) -> ParsedSchema:
        """The parsed schema for an id, built once."""
        return self._cache.parsed(self.get_schema(schema_id))

    def validator(self, schema_id: int) -> RecordValidator:
        """The compiled record validator for an id, built once."""
        return self._cache.validator(self.get_schema(schema_id))

    def _parse_input(self, schema: SchemaInput) -> tuple[ParsedSchema, str]:
        """Check the offered text against the limits, then parse it."""
        self.limits.check(schema.schema_type, schema.text)
        for reference in schema.references:  # it must name an existing subject: length only
            self.check_subject(reference.subject)
        return self._cache.parse_input(schema)

    # ----- compatibility -----------------------------------------------------------------

    def check(
        self, subject: str, schema: SchemaInput, version: int | None = None, latest: bool = False
    ) -> CompatibilityResult:
        """Check against one version, the latest, or (neither given) the subject's history."""
        result = self._check(subject, schema, version, latest)
        self._count_failures("check", result)
        return result

    def _count_failures(self, operation: str, result: CompatibilityResult) -> None:
        for i in result.incompatibilities:
            key = (operation, i.rule)
            self.compatibility_failures[key] = self.compatibility_failures.get(key, 0) + 1

    def counts(self) -> tuple[int, int, int]:
        """(schemas, live subjects, live versions) right now."""
        live = [
            sum(not sv.deleted for sv in versions.values())
            for versions in self._state.subjects.values()
        ]
        return len(self._state.schemas), sum(1 for n in live if n), sum(live)

    def _check(
        self, subject: str, schema: SchemaInput, version: int | None, latest: bool
    ) -> CompatibilityResult:
        level = self.get_config(subject, default_to_global=True)
        new, _ = self._parse_input(schema)
        if version is not None or latest:
            old = self.get_version(subject, None if latest else version)
            return check_compatibility(
                level, new, [self.parsed(old.schema.id)], versions=[old.version]
            )
        if Subject(subject) not in self._state.subjects:
            return CompatibilityResult(level)
        live = self._versions(subject, include_deleted=False, allow_empty=True)
        return check_compatibility(
            level, new, [self.parsed(sv.schema.id) for sv in live], [sv.version for sv in live]
        )

    # ----- writes ------------------------------------------------------------------------

    def register(
        self,
        subject: str,
        schema: SchemaInput,
        schema_id: int | None = None,
        version: int | None = None,
    ) -> SubjectVersion:
        """Add a schema to a subject; registering it again returns the same id and version."""
        self.check_subject(subject, creating=True)
        mode = self.get_mode(subject, default_to_global=True)
        self._require_writable(mode, subject)
        if (schema_id is not None or version is not None) and mode != Mode.IMPORT:
            raise OperationNotPermittedError(
                f"an explicit id or version needs IMPORT mode (subject '{subject}' is in {mode}); "
                "set the mode to IMPORT first",
                metadata={"subject": subject},
            )
        parsed, identity = self._parse_input(schema)
        known = self._state.ids_by_identity.get(identity)
        current = self._state.subjects.get(Subject(subject), {})
        for sv in current.values():
            if not sv.deleted and sv.schema.id == known and version in (None, sv.version):
                return sv
        if mode != Mode.IMPORT:
            result = self._check(subject, schema, None, False)
            if not result.compatible:
                self._count_failures("register", result)
                raise _incompatible(subject, result)
        new_id = self._choose_id(known, schema_id, identity)
        new_version = Version(version if version is not None else max(current, default=0) + 1)
        if version is not None and Version(version) in current:
            raise InvalidVersionError(
                f"version {version} of subject '{subject}' already exists",
                metadata={"subject": subject, "version": str(version)},
            )
        sv = SubjectVersion(
            Subject(subject),
            new_version,
            StoredSchema(new_id, schema.schema_type, schema.text, schema.references),
        )
        self._write(StoreRecord(version_key(sv.subject, sv.version), version_value(sv, identity)))
        self._cache.remember(new_id, parsed)
        self.registrations += 1
        return self._state.subjects[sv.subject][sv.version]

    def delete_subject(self, subject: str, permanent: bool = False) -> list[Version]:
        """Soft-delete every version, or remove soft-deleted ones for good."""
        self._require_writable(self.get_mode(subject, default_to_global=True), subject)
        versions = self._versions(subject, include_deleted=True)
        live = [sv for sv in versions if not sv.deleted]
        if permanent and live:
            raise SubjectNotSoftDeletedError(
                f"subject '{subject}' must be soft-deleted before a permanent delete",
                metadata={"subject": subject},
            )
        if not permanent and not live:
            raise SubjectSoftDeletedError(
                f"subject '{subject}' was soft-deleted; use permanent delete to remove it",
                metadata={"subject": subject},
            )
        targets = versions if permanent else live
        for sv in targets:
            self._require_unreferenced(sv)
        for sv in targets:
            self._delete(sv, permanent)
        if permanent:
            for key, table in ((config_key, self._state.configs), (mode_key, self._state.modes)):
                if Subject(subject) in table:
                    self._write(StoreRecord(key(Subject(subject)), None))
        return [sv.version for sv in targets]

    def delete_version(
        self, subject: str, version: int | None = LATEST, permanent: bool = False
    ) -> Version:
        """Soft-delete one version, or remove a soft-deleted one for good."""
        self._require_writable(self.get_mode(subject, default_to_global=True), subject)
        sv = self.get_version(subject, version, include_deleted=version is not None)
        if permanent and not sv.deleted:
            raise VersionNotSoftDeletedError(
                f"version {sv.version} of subject '{subject}' must be soft-deleted first",
                metadata={"subject": subject, "version": str(sv.version)},
            )
        if not permanent and sv.deleted:
            raise VersionSoftDeletedError(
                f"version {sv.version} of subject '{subject}' was already soft-deleted",
                metadata={"subject": subject, "version": str(sv.version)},
            )
        self._require_unreferenced(sv)
        self._delete(sv, permanent)
        return sv.version

    def get_config(
        self, subject: str | None = None, default_to_global: bool = False
    ) -> CompatibilityLevel:
        """The subject's level, or the global one."""
        if subject:
            self.check_subject(subject)
        level = self._state.configs.get(Subject(subject or GLOBAL))
        if level is not None:
            return level
        if subject and not default_to_global:
            raise CompatibilityNotConfiguredError(
                f"subject '{subject}' has no compatibility level of its own; "
                "ask with default_to_global to see the level in force",
                metadata={"subject": subject},
            )
        return self._state.configs.get(GLOBAL, DEFAULT_LEVEL)

    def set_config(self, level: CompatibilityLevel, subject: str | None = None) -> None:
        """Set the subject's level, or the global one."""
        if subject:
            self.check_subject(subject, creating=True)
        self._write(StoreRecord(config_key(Subject(subject or GLOBAL)), {"level": level.value}))

    def delete_config(self, subject: str) -> CompatibilityLevel:
        """Remove the subject's own level; return the level it had."""
        level = self.get_config(subject)
        self._write(StoreRecord(config_key(Subject(subject)), None))
        return level

    def delete_global_config(self) -> CompatibilityLevel:
        """Reset the global level to the default; return the level it had."""
        level = self.get_config()
        if GLOBAL in self._state.configs:
            self._write(StoreRecord(config_key(GLOBAL), None))
        return level

    def get_mode(self, subject: str | None = None, default_to_global: bool = False) -> Mode:
        """The subject's mode, or the global one."""
        if subject:
            self.check_subject(subject)
        mode = self._state.modes.get(Subject(subject or GLOBAL))
        if mode is not None:
            return mode
        if subject and not default_to_global:
            raise ModeNotConfiguredError(
                f"subject '{subject}' has no mode of its own; ask with default_to_global",
                metadata={"subject": subject},
            )
        return self._state.modes.get(GLOBAL, DEFAULT_MODE)

    def set_mode(self, mode: Mode, subject: str | None = None, force: bool = False) -> None:
        """Set the subject's mode, or the global one. IMPORT needs an empty scope or force."""
        if subject:
            self.check_subject(subject, creating=True)
        if mode == Mode.IMPORT and not force:
            holding = [s for s in self.list_subjects() if not subject or s == subject]
            if holding:
                raise OperationNotPermittedError(
                    f"cannot enter IMPORT mode: {len(holding)} subject(s) already hold schemas; "
                    "pass force to do it anyway",
                    metadata={"subject": subject or ""},
                )
        self._write(StoreRecord(mode_key(Subject(subject or GLOBAL)), {"mode": mode.value}))

    def delete_mode(self, subject: str) -> Mode:
        """Remove the subject's own mode; return the mode it had."""
        mode = self.get_mode(subject)
        self._write(StoreRecord(mode_key(Subject(subject)), None))
        return mode

    def max_schema_id(self) -> int:
        """The largest schema id ever assigned (0 when none)."""
        return self._state.max_id

    # ----- helpers -----------------------------------------------------------------------

    def _write(self, record: StoreRecord) -> None:
        self._store.append(record)
        self._state.apply(record)
        self._membership.clear()
        self.generation += 1

    def _delete(self, sv: SubjectVersion, permanent: bool) -> None:
        key = version_key(sv.subject, sv.version)
        if permanent:
            self._write(StoreRecord(key, None))
            if sv.schema.id not in self._state.schemas:
                self._cache.forget(sv.schema.id)
            return
        identity = next(k for k, v in self._state.ids_by_identity.items() if v == sv.schema.id)
        deleted = SubjectVersion(sv.subject, sv.version, sv.schema, deleted=True)
        self._write(StoreRecord(key, version_value(deleted, identity)))

    def _versions(
        self, subject: str, include_deleted: bool, allow_empty: bool = False
    ) -> list[SubjectVersion]:
        self.check_subject(subject)
        versions = self._state.subjects.get(Subject(subject), {})
        found = [
            versions[v] for v in sorted(versions) if include_deleted or not versions[v].deleted
        ]
        if not found and not allow_empty:
            hint = " (all its versions are soft-deleted)" if versions else ""
            raise SubjectNotFoundError(
                f"subject '{subject}' not found{hint}", metadata={"subject": subject}
            )
        return found

    def _choose_id(self, known: SchemaId | None, wanted: int | None, identity: str) -> SchemaId:
        if wanted is None:
            return known if known is not None else SchemaId(self._state.max_id + 1)
        if known is not None and known != wanted:
            raise OperationNotPermittedError(
                f"this schema already has id {known}; it cannot be imported as id {wanted}",
                metadata={"id": str(wanted)},
            )
        other = self._state.schemas.get(SchemaId(wanted))
        if other is not None and self._state.ids_by_identity.get(identity) != wanted:
            raise OperationNotPermittedError(
                f"id {wanted} already holds a different schema", metadata={"id": str(wanted)}
            )
        return SchemaId(wanted)

    def _require_writable(self, mode: Mode, subject: str) -> None:
        if mode == Mode.READONLY:
            raise OperationNotPermittedError(
                f"subject '{subject}' is in READONLY mode; set the mode to READWRITE to change it",
                metadata={"subject": subject},
            )

    def _require_unreferenced(self, sv: SubjectVersion) -> None:
        users = self.referenced_by(sv.subject, sv.version)
        if users:
            raise ReferenceExistsError(
                f"version {sv.version} of subject '{sv.subject}' is referenced by schema id(s) "
                f"{', '.join(map(str, users))}; delete those first",
                metadata={"subject": sv.subject, "version": str(sv.version)},
            )


def check_name(kind: str, name: str, max_bytes: int, creating: bool = False) -> None:
    """Refuse a ``kind`` name (subject, group_id, ...) over ``max_bytes`` UTF-8 bytes, or when
    ``creating``, one with a control character; the message names the limit and the size."""
    if len(name) * 4 > max_bytes:  # only then can it be over: a character is 1 to 4 bytes
        size = len(name.encode("utf-8", "surrogatepass"))
        if size > max_bytes:
            raise InvalidArgumentError(
                f"{kind} name is {size} bytes (UTF-8), over the limit of {max_bytes} "
                f"(max_name_bytes); it starts {name[:40]!r}: use a shorter name",
                metadata={"field": kind, "limit": "max_name_bytes", "size": str(size)},
            )
    if creating:
        bad = _CONTROL.search(name)
        if bad is not None:
            code = f"U+{ord(bad.group()):04X}"
            raise InvalidArgumentError(
                f"{kind} name {name!r} has the control character {code} at index "
                f"{bad.start()}; names may not contain control characters (U+0000-U+001F, "
                "U+007F-U+009F)",
                metadata={"field": kind, "character": code},
            )


def _incompatible(subject: str, result: CompatibilityResult) -> IncompatibleSchemaError:
    lines = [
        f"{i.direction or result.level} vs version {i.version}: {i.rule} at {i.path}: {i.message}"
        for i in result.incompatibilities
    ]
    return IncompatibleSchemaError(
        f"schema is incompatible with subject '{subject}' at level {result.level}: "
        + "; ".join(lines),
        metadata={
            "subject": subject,
            "level": result.level.value,
            "incompatibilities": json.dumps(
                [
                    {
                        "rule": i.rule,
                        "path": i.path,
                        "message": i.message,
                        "level": (i.direction or result.level).value,
                        "version": i.version,
                    }
                    for i in result.incompatibilities
                ]
            ),
        },
    )
