"""`weir.toml`: the subjects a repository keeps in git, for `weir schema apply/check/lint`.

    [registry]
    server = "localhost:50051"          # optional; --server and $WEIR_SERVER win

    [subjects.money-value]              # file defaults to schemas/money-value.avsc|.proto|.json
    compatibility = "FULL"

    [subjects.orders-value]
    file = "schemas/order.proto"
    type = "PROTOBUF"                   # optional: the extension says it
    compatibility = "BACKWARD_TRANSITIVE"
    references = [
      { name = "money.proto", entry = "money-value" },               # another entry here
      { name = "acme.Tax", subject = "tax-value", version = 2 },     # a registry subject
    ]

    [lint]
    disable = ["AVRO_FIELD_DOC"]        # rule ids to switch off, everywhere

A reference ``{subject = S}`` without a version names an entry when S is one, else the latest
version of S in the registry. Paths are relative to the config file. Unknown keys are errors.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from weir.core.errors import InvalidArgumentError, InvalidConfigError
from weir.core.types import CompatibilityLevel, SchemaType
from weir.sdk.cli import _schema_input as given

DEFAULT_CONFIG = Path("weir.toml")
"""Where the config is looked for when --config is not given."""

_TOP_KEYS = {"registry", "subjects", "lint"}
_SUBJECT_KEYS = {"file", "type", "compatibility", "references", "lint_disable"}
_REFERENCE_KEYS = {"name", "entry", "subject", "version"}


@dataclass(frozen=True, slots=True)
class ReferenceSpec:
    """One reference of an entry: the name the schema uses and what it points at."""

    name: str
    """Avro full name, .proto import path or JSON Schema $ref URL."""
    entry: str | None
    """The subject of another entry in this config, or None for a registry subject."""
    subject: str | None
    """A registry subject outside this config (when ``entry`` is None)."""
    version: int | None
    """That subject's version; None means its latest."""


@dataclass(frozen=True, slots=True)
class SubjectEntry:
    """One subject the repository owns."""

    subject: str
    """The registry subject name."""
    file: Path
    """The schema file, absolute."""
    schema_type: SchemaType
    """The schema's language."""
    compatibility: CompatibilityLevel | None
    """The level to set and check with; None keeps the registry's."""
    references: tuple[ReferenceSpec, ...]
    """The schemas it refers to, in order."""
    lint_disable: frozenset[str]
    """Lint rule ids switched off for this subject only."""


@dataclass(frozen=True, slots=True)
class WorkflowConfig:
    """A loaded weir.toml."""

    path: Path
    """The config file, absolute."""
    server: str | None
    """The registry address from [registry] server, if any."""
    entries: tuple[SubjectEntry, ...]
    """Every subject, references before the entries that use them."""
    lint_disable: frozenset[str]
    """Lint rule ids switched off everywhere."""

    @property
    def root(self) -> Path:
        """The directory the config's paths are relative to."""
        return self.path.parent

    def entry(self, subject: str) -> SubjectEntry:
        """The entry for a subject (it must exist)."""
        return next(e for e in self.entries if e.subject == subject)


def load(path: Path | None) -> WorkflowConfig:
    """Read and validate a weir.toml; InvalidConfigError names the key and what to write."""
    path = (path or DEFAULT_CONFIG).absolute()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        hint = "" if path.name != DEFAULT_CONFIG.name else "; create one or pass --config FILE"
        raise InvalidConfigError(f"config file {str(path)!r} does not exist{hint}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InvalidConfigError(f"cannot read config file {str(path)!r}: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise InvalidConfigError(f"{path}: not valid TOML: {e}") from None
    return parse(data, path)


def parse(data: Mapping[str, Any], path: Path) -> WorkflowConfig:
    """Validate parsed TOML (``path`` locates files and names the config in errors)."""
    where = str(path)
    _known(data, _TOP_KEYS, where)
    registry = _table(data.get("registry", {}), f"{where}: [registry]")
    _known(registry, {"server"}, f"{where}: [registry]")
    server = registry.get("server")
    if server is not None and (not isinstance(server, str) or not server.strip()):
        raise InvalidConfigError(f"{where}: [registry] server must be a HOST:PORT string")
    lint = _table(data.get("lint", {}), f"{where}: [lint]")
    _known(lint, {"disable"}, f"{where}: [lint]")
    subjects = _table(data.get("subjects", {}), f"{where}: [subjects]")
    if not subjects:
        raise InvalidConfigError(
            f"{where}: no subjects; add a table such as [subjects.orders-value] "
            'with file = "schemas/order.avsc"'
        )
    entries = [_entry(name, value, path.parent, where) for name, value in subjects.items()]
    _check_references(entries, where)
    return WorkflowConfig(
        path=path,
        server=server,
        entries=tuple(dependency_order(entries)),
        lint_disable=frozenset(_strings(lint.get("disable", []), f"{where}: [lint] disable")),
    )


def dependency_order(entries: Sequence[SubjectEntry]) -> list[SubjectEntry]:
    """Entries with every referenced entry first; config order otherwise. Cycles are errors."""
    by_subject = {e.subject: e for e in entries}
    done: dict[str, SubjectEntry] = {}
    visiting: list[str] = []

    def visit(entry: SubjectEntry) -> None:
        if entry.subject in done:
            return
        if entry.subject in visiting:
            cycle = " -> ".join([*visiting[visiting.index(entry.subject) :], entry.subject])
            raise InvalidConfigError(f"references form a cycle: {cycle}; break it")
        visiting.append(entry.subject)
        for ref in entry.references:
            if ref.entry is not None:
                visit(by_subject[ref.entry])
        visiting.pop()
        done[entry.subject] = entry

    for entry in entries:
        visit(entry)
    return list(done.values())


def _entry(subject: str, value: Any, root: Path, where: str) -> SubjectEntry:
    at = f"{where}: [subjects.{subject}]"
    table = _table(value, at)
    _known(table, _SUBJECT_KEYS, at)
    raw_type = table.get("type")
    if raw_type is not None and not isinstance(raw_type, str):
        raise InvalidConfigError(f"{at} type must be one of {', '.join(SchemaType)}")
    file = table.get("file")
    if file is None:
        path = _conventional_file(subject, root, raw_type, at)
    elif isinstance(file, str) and file.strip():
        path = (root / file).absolute()
    else:
        raise InvalidConfigError(f"{at} file must be a path string")
    try:
        schema_type = given.schema_type(raw_type, path)
    except InvalidArgumentError as e:  # phrased for flags: rephrase it for the config
        message = str(e).replace("pass --type", "set type =")
        raise InvalidConfigError(f"{at}: {message}") from None
    level = table.get("compatibility")
    compatibility = None
    if level is not None:
        known = CompatibilityLevel.__members__
        if not isinstance(level, str) or level.strip().upper() not in known:
            raise InvalidConfigError(
                f"{at} compatibility {level!r} is not a level; use one of {given.LEVEL_CHOICES}"
            )
        compatibility = CompatibilityLevel[level.strip().upper()]
    refs = table.get("references", [])
    if not isinstance(refs, list):
        raise InvalidConfigError(f"{at} references must be a list of tables")
    return SubjectEntry(
        subject=subject,
        file=path,
        schema_type=schema_type,
        compatibility=compatibility,
        references=tuple(_reference(r, f"{at} references[{i}]") for i, r in enumerate(refs)),
        lint_disable=frozenset(_strings(table.get("lint_disable", []), f"{at} lint_disable")),
    )


def _conventional_file(subject: str, root: Path, raw_type: str | None, at: str) -> Path:
    candidates = [root / "schemas" / f"{subject}{ext}" for ext in given.EXTENSIONS]
    if raw_type is not None:
        wanted = raw_type.strip().upper()
        candidates = [p for p in candidates if given.EXTENSIONS[p.suffix] == wanted]
    found = [p for p in candidates if p.exists()]
    if len(found) == 1:
        return found[0].absolute()
    names = ", ".join(str(p.relative_to(root)) for p in candidates)
    if not found:
        raise InvalidConfigError(f"{at} has no file and none of {names} exists; set file = ...")
    raise InvalidConfigError(f"{at} has no file and several of {names} exist; set file = ...")


def _reference(value: Any, at: str) -> ReferenceSpec:
    table = _table(value, at)
    _known(table, _REFERENCE_KEYS, at)
    name, entry, subject = table.get("name"), table.get("entry"), table.get("subject")
    version = table.get("version")
    if not isinstance(name, str) or not name:
        raise InvalidConfigError(f'{at} needs name = "..." (the name the schema text uses)')
    if (entry is None) == (subject is None):
        raise InvalidConfigError(f'{at} needs exactly one of entry = "..." or subject = "..."')
    if entry is not None and version is not None:
        raise InvalidConfigError(f"{at}: an entry reference takes no version; apply picks it")
    if version is not None and (
        isinstance(version, bool) or not isinstance(version, int) or version < 1
    ):
        raise InvalidConfigError(f"{at} version must be a positive integer")
    for key, text in (("entry", entry), ("subject", subject)):
        if text is not None and (not isinstance(text, str) or not text):
            raise InvalidConfigError(f"{at} {key} must be a subject name")
    return ReferenceSpec(name=name, entry=entry, subject=subject, version=version)


def _check_references(entries: list[SubjectEntry], where: str) -> None:
    subjects = {e.subject for e in entries}
    for index, entry in enumerate(entries):
        fixed = []
        for ref in entry.references:
            if ref.entry is None and ref.version is None and ref.subject in subjects:
                ref = ReferenceSpec(ref.name, ref.subject, None, None)  # noqa: PLW2901
            if ref.entry is not None and ref.entry not in subjects:
                raise InvalidConfigError(
                    f"{where}: [subjects.{entry.subject}] refers to entry {ref.entry!r}, which "
                    f"is not in this file; add [subjects.{ref.entry}] or use subject = ..."
                )
            if ref.entry == entry.subject:
                raise InvalidConfigError(f"{where}: [subjects.{entry.subject}] refers to itself")
            fixed.append(ref)
        entries[index] = SubjectEntry(
            entry.subject,
            entry.file,
            entry.schema_type,
            entry.compatibility,
            tuple(fixed),
            entry.lint_disable,
        )


def _table(value: Any, at: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise InvalidConfigError(f"{at} must be a table")
    return value


def _known(table: Mapping[str, Any], known: set[str], at: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise InvalidConfigError(
            f"{at}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
            f"known keys are {', '.join(sorted(known))}"
        )


def _strings(value: Any, at: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidConfigError(f"{at} must be a list of strings")
    return [v.strip().upper() for v in value]
