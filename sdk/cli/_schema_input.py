"""Parsing what users type for `weir schema`: files, types, versions, levels, references.

Every problem is an InvalidArgumentError (exit 2) that says what to pass instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from weir.core.errors import (
    InvalidArgumentError,
    InvalidCompatibilityLevelError,
    InvalidVersionError,
)
from weir.core.types import CompatibilityLevel, SchemaType
from weir.sdk import LATEST, SchemaReference, VersionSelector

EXTENSIONS: dict[str, SchemaType] = {
    ".avsc": SchemaType.AVRO,
    ".proto": SchemaType.PROTOBUF,
    ".json": SchemaType.JSON,
}
"""File extensions that name their schema type."""

TYPE_FLAG = "--type " + "|".join(SchemaType.__members__)
LEVEL_CHOICES = ", ".join(CompatibilityLevel.__members__)


def schema_type(given: str | None, path: Path) -> SchemaType:
    """The --type value, or the type the file's extension implies."""
    if given is not None:
        try:
            return SchemaType[given.strip().upper()]
        except KeyError:
            raise InvalidArgumentError(
                f"--type {given!r} is not a schema type; pass {TYPE_FLAG}"
            ) from None
    found = EXTENSIONS.get(path.suffix.lower())
    if found is None:
        known = ", ".join(f"{ext} ({t})" for ext, t in EXTENSIONS.items())
        raise InvalidArgumentError(
            f"cannot tell the schema type of {str(path)!r} from its extension (known: {known}); "
            f"pass {TYPE_FLAG}"
        )
    return found


def read_schema(path: Path) -> str:
    """A schema file's text (UTF-8)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidArgumentError(f"schema file {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise InvalidArgumentError(f"{str(path)!r} is a directory; pass a schema file") from None
    except UnicodeDecodeError as e:
        raise InvalidArgumentError(
            f"schema file {str(path)!r} is not UTF-8 text (byte {e.start}); save it as UTF-8"
        ) from None
    except OSError as e:
        raise InvalidArgumentError(f"cannot read schema file {str(path)!r}: {e.strerror}") from None
    if not text.strip():
        raise InvalidArgumentError(f"schema file {str(path)!r} is empty")
    return text


def version(text: str | None, *, allow_latest: bool = True) -> VersionSelector | None:
    """A --version value: a positive integer or 'latest' (None when not given)."""
    if text is None:
        return None
    cleaned = text.strip().lower()
    if allow_latest and cleaned == LATEST:
        return LATEST
    if cleaned.isdigit() and int(cleaned) >= 1:
        return int(cleaned)
    wanted = "a positive integer or 'latest'" if allow_latest else "a positive integer"
    raise InvalidVersionError(f"--version {text!r} is not valid; pass {wanted}")


def level(text: str) -> CompatibilityLevel:
    """A --level value, any case."""
    try:
        return CompatibilityLevel[text.strip().upper()]
    except KeyError:
        raise InvalidCompatibilityLevelError(
            f"--level {text!r} is not a compatibility level; pass one of {LEVEL_CHOICES}"
        ) from None


def references(texts: Sequence[str] | None) -> tuple[SchemaReference, ...]:
    """--reference NAME=SUBJECT:VERSION values."""
    return tuple(_reference(t) for t in texts or ())


def _reference(text: str) -> SchemaReference:
    name, eq, target = text.rpartition("=")
    subject, colon, number = target.rpartition(":")
    if not (eq and colon and name and subject and number.isdigit() and int(number) >= 1):
        raise InvalidArgumentError(
            f"--reference {text!r} is not valid; pass NAME=SUBJECT:VERSION, "
            "for example --reference common.proto=common-value:1"
        )
    return SchemaReference(name, subject, int(number))
