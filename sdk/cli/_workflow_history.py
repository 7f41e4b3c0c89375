"""A subject's earlier versions from git: every commit up to a ref that changed its file.

The file is found at the ref by the subject's entry in weir.toml as it was at that ref
(falling back to today's path), and its history is walked with `git log --follow`, so a
renamed file keeps its past. Each version is parsed with its references as they were at
the same commit. A version that no longer parses is skipped with a warning on stderr.
"""

from __future__ import annotations

import posixpath
import sys
import tomllib
from typing import Any

from weir.core.errors import WeirError
from weir.registry.formats import ParsedSchema
from weir.sdk.cli._workflow_config import SubjectEntry, WorkflowConfig
from weir.sdk.cli._workflow_git import FileVersion, GitRepo
from weir.sdk.cli._workflow_schemas import Snapshot, offline
from weir.sdk.cli._workflow_verdict import Prior, dedupe


class GitHistory:
    """Earlier versions of weir.toml's subjects, read from one git ref."""

    def __init__(self, config: WorkflowConfig, ref: str) -> None:
        self.config = config
        """Today's config: its entries are what gets checked."""
        self.repo = GitRepo(config.root)
        """The repository the config lives in."""
        self.ref = ref
        """The ref as the user named it."""
        self.commit = self.repo.resolve(ref)
        """The commit it names."""
        self._old_config = self._config_at_ref()
        self._versions: dict[str, list[FileVersion]] = {}
        self._snapshots: dict[str, Snapshot] = {}

    def priors(self, entry: SubjectEntry) -> list[Prior]:
        """The entry's distinct versions up to the ref, oldest first."""
        found = []
        for version in self.versions(entry):
            try:
                schema = self._snapshot(version.commit).parse(entry, version.text)
            except WeirError as e:
                print(
                    f"weir: warning: skipping {version.path} at {version.commit[:7]}: {e.message}",
                    file=sys.stderr,
                )
                continue
            found.append(Prior(f"commit {version.commit[:7]}", schema))
        return dedupe(found)

    def at_ref(self, entry: SubjectEntry) -> ParsedSchema | None:
        """The entry as it was at the ref, parsed; None when its file was not there."""
        versions = self.versions(entry)
        if not versions:
            return None
        return self._snapshot(versions[-1].commit).parse(entry, versions[-1].text)

    def versions(self, entry: SubjectEntry) -> list[FileVersion]:
        """The entry's file at every commit that changed it, up to the ref, oldest first."""
        if entry.subject not in self._versions:
            path = self._path_at_ref(entry)
            self._versions[entry.subject] = self.repo.history(self.commit, path)
        return self._versions[entry.subject]

    def _snapshot(self, commit: str) -> Snapshot:
        if commit not in self._snapshots:

            def read(entry: SubjectEntry) -> str | None:
                names = [v.path for v in reversed(self.versions(entry))]
                for name in dict.fromkeys([*names, self.repo.relative(entry.file)]):
                    text = self.repo.show(commit, name)
                    if text is not None:
                        return text
                return None

            self._snapshots[commit] = Snapshot(self.config, read, offline)
        return self._snapshots[commit]

    def _path_at_ref(self, entry: SubjectEntry) -> str:
        table = self._old_config.get(entry.subject)
        if isinstance(table, dict) and isinstance(table.get("file"), str):
            config_dir = posixpath.dirname(self.repo.relative(self.config.path))
            return posixpath.normpath(posixpath.join(config_dir, table["file"]))
        return self.repo.relative(entry.file)

    def _config_at_ref(self) -> dict[str, Any]:
        text = self.repo.show(self.commit, self.repo.relative(self.config.path))
        if text is None:
            return {}
        try:
            subjects = tomllib.loads(text).get("subjects", {})
        except tomllib.TOMLDecodeError:
            return {}
        return subjects if isinstance(subjects, dict) else {}
