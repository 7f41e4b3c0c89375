"""What the registry holds for weir.toml's subjects: parsed versions and levels.

Versions are fetched through SchemaRegistryClient and parsed locally with the registry's
own formats, so `check --against-server` and `apply` run the same engine on the same
history as the server would, under the level weir.toml asks for.
"""

from __future__ import annotations

from weir.core.errors import NotFoundError
from weir.core.types import CompatibilityLevel
from weir.registry.formats import ParsedSchema, ResolvedReference
from weir.sdk import LATEST, SchemaRegistryClient
from weir.sdk.cli._workflow_config import ReferenceSpec
from weir.sdk.cli._workflow_schemas import parse


class RegistryView:
    """Cached, parsed reads of a registry's subjects."""

    def __init__(self, client: SchemaRegistryClient) -> None:
        self.client = client
        """The client every read goes through."""
        self._parsed: dict[tuple[str, int], ParsedSchema] = {}

    def history(self, subject: str) -> list[tuple[int, ParsedSchema]]:
        """The subject's live versions, oldest first; empty for an unknown subject."""
        try:
            versions = self.client.list_versions(subject)
        except NotFoundError:
            return []
        return [(v, self.parsed(subject, v)) for v in versions]

    def parsed(self, subject: str, version: int) -> ParsedSchema:
        """One version's schema, parsed with its references (soft-deleted ones too)."""
        key = (subject, version)
        if key not in self._parsed:
            sv = self.client.get_version(subject, version, include_deleted=True)
            assert sv.schema is not None  # get_version always carries the schema
            refs = [
                ResolvedReference(r.name, self.parsed(r.subject, r.version))
                for r in sv.schema.references
            ]
            where = f"registry subject {subject!r} version {version}"
            self._parsed[key] = parse(sv.schema.schema_type, where, sv.schema.text, refs)
        return self._parsed[key]

    def version_of(self, ref: ReferenceSpec) -> int:
        """The version a registry reference pins: its own, or the subject's latest."""
        assert ref.subject is not None
        if ref.version is not None:
            return ref.version
        return self.client.get_version(ref.subject, LATEST).version

    def external(self, ref: ReferenceSpec) -> ParsedSchema:
        """Resolve a reference to a registry subject outside weir.toml."""
        assert ref.subject is not None
        return self.parsed(ref.subject, self.version_of(ref))

    def level_in_force(self, subject: str) -> CompatibilityLevel:
        """The subject's own level, else the global one."""
        return self.client.get_compatibility(subject, default_to_global=True)

    def own_level(self, subject: str) -> CompatibilityLevel | None:
        """The subject's own level; None when it has none."""
        try:
            return self.client.get_compatibility(subject)
        except NotFoundError:
            return None
