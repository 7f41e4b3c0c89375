"""Parsing weir.toml entries with their references, from the work tree or a git commit.

A ``Snapshot`` reads each entry's file from one place (the work tree, or one commit) and
parses it with its references resolved in that same place, so a historical version is
compared with the references it had then. References to registry subjects outside the
config go through an ``External`` resolver: the server, or an error when offline.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from weir.core.errors import InvalidArgumentError, InvalidSchemaError, WeirError
from weir.core.types import SchemaType
from weir.registry.formats import ParsedSchema, ResolvedReference, get_format
from weir.sdk.cli import _schema_input as given
from weir.sdk.cli._workflow_config import ReferenceSpec, SubjectEntry, WorkflowConfig

External = Callable[[ReferenceSpec], ParsedSchema]
"""Resolves a reference to a registry subject outside the config."""

Reader = Callable[[SubjectEntry], str | None]
"""An entry's file text in a snapshot; None when the file is not there."""


def display(path: Path) -> str:
    """A path as shown to users: relative to the working directory when below it."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def offline(ref: ReferenceSpec) -> ParsedSchema:
    """The External resolver of offline checks: registry subjects cannot be read."""
    raise InvalidArgumentError(
        f"reference {ref.name!r} names registry subject {ref.subject!r}, which offline checks "
        "cannot read; add that subject to weir.toml as an entry, or use --against-server"
    )


def parse(
    schema_type: SchemaType, where: str, text: str, refs: list[ResolvedReference]
) -> ParsedSchema:
    """Parse schema text; errors name the file first, as `weir schema compat` does."""
    try:
        return get_format(schema_type).parse(text, refs)
    except WeirError as e:
        raise type(e)(f"{where}: {e.message}", metadata=e.metadata) from None
    except (ValueError, TypeError) as e:  # a format that let a library error through
        raise InvalidSchemaError(f"{where}: not a valid {schema_type} schema: {e}") from None


class Snapshot:
    """Entries as they are in one place (the work tree or one commit), parsed on demand."""

    def __init__(self, config: WorkflowConfig, read: Reader, external: External) -> None:
        self.config = config
        """The config whose entries this snapshot parses."""
        self._read = read
        self._external = external
        self._parsed: dict[str, ParsedSchema] = {}

    def text(self, entry: SubjectEntry) -> str | None:
        """The entry's file text here; None when the file is not there."""
        return self._read(entry)

    def parse(self, entry: SubjectEntry, text: str | None = None) -> ParsedSchema:
        """The entry parsed with its references (``text`` overrides the file's own text)."""
        if text is None and entry.subject in self._parsed:
            return self._parsed[entry.subject]
        body = self._read(entry) if text is None else text
        if body is None:
            raise InvalidArgumentError(f"{display(entry.file)}: file not found")
        parsed = parse(entry.schema_type, display(entry.file), body, self.references(entry))
        if text is None:
            self._parsed[entry.subject] = parsed
        return parsed

    def references(self, entry: SubjectEntry) -> list[ResolvedReference]:
        """The entry's references, each parsed in this snapshot."""
        resolved = []
        for ref in entry.references:
            if ref.entry is not None:
                target = self.config.entry(ref.entry)
                if self._read(target) is None:
                    raise InvalidArgumentError(
                        f"{display(entry.file)} refers to {ref.name!r} (entry {ref.entry}), "
                        f"but {display(target.file)} is not there"
                    )
                resolved.append(ResolvedReference(ref.name, self.parse(target)))
            else:
                resolved.append(ResolvedReference(ref.name, self._external(ref)))
        return resolved


def work_tree(config: WorkflowConfig, external: External) -> Snapshot:
    """The entries as they are on disk now; a missing file is an error (exit 2)."""

    def read(entry: SubjectEntry) -> str:
        return given.read_schema(entry.file)

    return Snapshot(config, read, external)
