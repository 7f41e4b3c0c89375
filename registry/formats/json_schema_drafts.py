"""The JSON Schema drafts Weir accepts, found from a schema's ``$schema`` keyword."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import referencing.jsonschema
from jsonschema import (
    Draft4Validator,
    Draft6Validator,
    Draft7Validator,
    Draft201909Validator,
    Draft202012Validator,
)
from jsonschema.protocols import Validator
from referencing import Specification

from weir.core.errors import InvalidSchemaError


@dataclass(frozen=True, slots=True)
class Draft:
    """One JSON Schema draft: its name, dialect URI, validator class and referencing rules."""

    name: str
    """Short name people use, for example ``draft-07`` or ``2020-12``."""
    uri: str
    """The dialect URI written in ``$schema``."""
    validator_class: type[Validator]
    """The jsonschema validator class that implements the draft."""
    specification: Specification[Any]
    """How the referencing library finds ids, anchors and subschemas in this draft."""

    @property
    def number(self) -> int:
        """Ordering key: 4, 6, 7, 2019, 2020."""
        head = self.name.removeprefix("draft-").split("-")[0]
        return int(head)


DRAFT4 = Draft(
    "draft-04",
    "http://json-schema.org/draft-04/schema#",
    Draft4Validator,
    referencing.jsonschema.DRAFT4,
)
DRAFT6 = Draft(
    "draft-06",
    "http://json-schema.org/draft-06/schema#",
    Draft6Validator,
    referencing.jsonschema.DRAFT6,
)
DRAFT7 = Draft(
    "draft-07",
    "http://json-schema.org/draft-07/schema#",
    Draft7Validator,
    referencing.jsonschema.DRAFT7,
)
DRAFT201909 = Draft(
    "2019-09",
    "https://json-schema.org/draft/2019-09/schema",
    Draft201909Validator,
    referencing.jsonschema.DRAFT201909,
)
DRAFT202012 = Draft(
    "2020-12",
    "https://json-schema.org/draft/2020-12/schema",
    Draft202012Validator,
    referencing.jsonschema.DRAFT202012,
)

SUPPORTED: tuple[Draft, ...] = (DRAFT4, DRAFT6, DRAFT7, DRAFT201909, DRAFT202012)
"""Every supported draft, oldest first."""

DEFAULT = DRAFT202012
"""The draft of a schema without ``$schema``."""


def _key(uri: str) -> str:
    """Fold the spellings people use: http or https, with or without a trailing ``#``."""
    folded = uri.strip().rstrip("#")
    for scheme in ("https://", "http://"):
        folded = folded.removeprefix(scheme)
    return folded


_BY_KEY: dict[str, Draft] = {_key(d.uri): d for d in SUPPORTED}


def draft_of(schema: object) -> Draft:
    """The draft a parsed schema declares with ``$schema``, or the default one.

    Raises InvalidSchemaError naming the supported dialect URIs when ``$schema`` is unknown.
    """
    if not isinstance(schema, Mapping) or "$schema" not in schema:
        return DEFAULT
    declared = schema["$schema"]
    if isinstance(declared, str) and _key(declared) in _BY_KEY:
        return _BY_KEY[_key(declared)]
    supported = ", ".join(f"{d.uri} ({d.name})" for d in SUPPORTED)
    raise InvalidSchemaError(
        f"/$schema: unsupported JSON Schema dialect {declared!r}; "
        f"use one of {supported}, or leave $schema out for {DEFAULT.name}",
        metadata={"path": "/$schema"},
    )
