"""Compatibility results as data: every incompatibility has a rule, a path and a message."""

from __future__ import annotations

from dataclasses import dataclass

from weir.core.types import CompatibilityLevel


@dataclass(frozen=True, slots=True)
class Incompatibility:
    """One reason a schema change breaks compatibility."""

    rule: str
    """Stable rule id, for example ``READER_FIELD_MISSING_DEFAULT_VALUE``."""
    path: str
    """Where in the schema, JSON-pointer style, for example ``/fields/email``."""
    message: str
    """A sentence a person understands."""
    direction: CompatibilityLevel | None = None
    """BACKWARD or FORWARD: which reading failed. Set by the engine."""
    version: int | None = None
    """The version checked against, when known. Set by the engine."""


@dataclass(frozen=True, slots=True)
class CompatibilityResult:
    """The verdict of one check."""

    level: CompatibilityLevel
    """The level that was applied."""
    incompatibilities: tuple[Incompatibility, ...] = ()
    """Every reason found; empty means compatible."""

    @property
    def compatible(self) -> bool:
        """True when nothing breaks."""
        return not self.incompatibilities
