"""Reading schema files from git history with the `git` command, for offline checks.

Every failure is a WeirError: not a repository or an unknown ref is InvalidArgumentError
(exit 2); no `git` executable is UnavailableError (exit 3).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from weir.core.errors import InvalidArgumentError, UnavailableError


@dataclass(frozen=True, slots=True)
class FileVersion:
    """A file's content at one commit."""

    commit: str
    """The full commit id."""
    path: str
    """The file's path at that commit, relative to the repository root."""
    text: str
    """The file's content there."""


class GitRepo:
    """A git work tree, addressed through its top-level directory."""

    def __init__(self, inside: Path) -> None:
        what = f"{inside} is not in a git work tree"
        top = _git(inside, "rev-parse", "--show-toplevel", what=what)
        self.root = Path(top.strip())
        """The work tree's top-level directory."""

    def resolve(self, ref: str) -> str:
        """The commit id a ref names; InvalidArgumentError when it names none."""
        out = _git(
            self.root,
            "rev-parse",
            "--verify",
            "--quiet",
            f"{ref}^{{commit}}",
            what=f"git ref {ref!r} names no commit; pass a branch, tag or commit (e.g. HEAD)",
        )
        return out.strip()

    def relative(self, path: Path) -> str:
        """A path relative to the repository root, in git's spelling."""
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            raise InvalidArgumentError(
                f"{path} is outside the git work tree at {self.root}"
            ) from None

    def show(self, commit: str, path: str) -> str | None:
        """A file's text at a commit; None when the file is not there."""
        done = _run(self.root, "show", f"{commit}:{path}")
        if done.returncode != 0:
            return None
        return done.stdout

    def history(self, commit: str, path: str) -> list[FileVersion]:
        """The file's versions up to ``commit``, oldest first, following renames.

        One entry per commit that changed the file; commits that deleted it are left out.
        """
        out = _git(
            self.root,
            "log",
            "--follow",
            "--format=%x00%H",
            "--name-only",
            commit,
            "--",
            path,
            what=f"cannot read the git history of {path}",
        )
        versions = []
        for chunk in out.split("\0")[1:]:
            lines = [line for line in chunk.splitlines() if line.strip()]
            if len(lines) < 2:
                continue
            sha, name = lines[0].strip(), lines[-1].strip()
            text = self.show(sha, name)
            if text is not None:
                versions.append(FileVersion(sha, name, text))
        versions.reverse()
        return versions


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", "-c", "core.quotePath=false", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=60,
            check=False,
        )
    except FileNotFoundError:
        raise UnavailableError(
            "the git command is not installed; install git, or check with --against-server"
        ) from None
    except subprocess.TimeoutExpired:
        raise UnavailableError(f"git {' '.join(args)} took longer than 60 s") from None


def _git(cwd: Path, *args: str, what: str) -> str:
    done = _run(cwd, *args)
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()
        raise InvalidArgumentError(f"{what}" + (f" (git: {detail[-1]})" if detail else ""))
    return done.stdout
