"""The audit log: one JSON line per admin or registry change, allowed or refused.

Each line says who (``principal``), what (``action``, the RPC or HTTP route, and the
``resources`` it touched), when (``time``, UTC ISO 8601) and the ``outcome``: ``ok`` or the
error reason (``PERMISSION_DENIED``, ``TOPIC_ALREADY_EXISTS``, ...).

Durability: each line is written with one ``write`` and fsynced before ``record`` returns, so
a line written survives a crash or power loss (these are rare admin events; an fsync costs
about a millisecond on an SSD).

Rotation (``logging.handlers.RotatingFileHandler``'s scheme): when a line would take the file
past ``max_bytes``, ``audit.log`` becomes ``audit.log.1``, ``.1`` becomes ``.2`` and so on up
to ``backups`` files; the oldest is dropped. ``max_bytes`` 0 never rotates.

Failures are best-effort, as in Confluent's audit log: a line that cannot be written (disk
full, file removed or made read-only) is logged at ERROR naming the file, the change it
records stands, and the next line tries the file again (after ending a torn line). Opening
the file at start-up must succeed: the server refuses to start with a bad audit_log_file.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from weir.core.errors import InvalidArgumentError
from weir.core.rpc import REQUEST_ID

log = logging.getLogger("weir.audit")

DEFAULT_MAX_BYTES = 100 << 20
"""Rotate at 100 MiB unless told otherwise."""
DEFAULT_BACKUPS = 5
"""Keep audit.log.1 ... audit.log.5 unless told otherwise."""


class AuditLog:
    """Appends fsynced audit lines to a file, rotating it by size."""

    def __init__(
        self, path: Path, max_bytes: int = DEFAULT_MAX_BYTES, backups: int = DEFAULT_BACKUPS
    ) -> None:
        self.path = path
        """Where the lines go (the newest ones)."""
        self.max_bytes = max_bytes
        """Rotate before a line would take the file past this size; 0: never."""
        self.backups = backups
        """Rotated files kept: ``audit.log.1`` (newest) to ``audit.log.N``."""
        self.failures = 0
        """Lines that could not be written since start."""
        self._lock = threading.Lock()
        self._closed = False
        self._torn = False
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fd: int | None = self._open()
        except OSError as e:
            raise InvalidArgumentError(
                f"audit_log_file {path}: cannot open it ({e.strerror or e}); point "
                "audit_log_file (--audit-log) at a writable file"
            ) from None
        self._size = os.fstat(self._fd).st_size

    def _open(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)

    def record(
        self,
        *,
        principal: str,
        action: str,
        resources: Sequence[Mapping[str, str]],
        outcome: str,
        transport: str,
        peer: str,
        request_id: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> bool:
        """Write one line and fsync it; False when it could not be written (logged)."""
        line: dict[str, Any] = {
            "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
            "principal": principal,
            "action": action,
            "resources": list(resources),
            "outcome": outcome,
            "transport": transport,
            "peer": peer,
            "request_id": request_id or REQUEST_ID.get(),
        }
        if details:
            line["details"] = dict(details)
        data = (json.dumps(line, sort_keys=True) + "\n").encode()
        with self._lock:
            if self._closed:
                return False
            try:
                self._write(data)
            except OSError as e:
                self.failures += 1
                self._torn = True
                self._drop_fd()
                log.error(
                    "cannot write the audit log %s (%s): this %s by %s (%s) is not recorded",
                    self.path,
                    e.strerror or e,
                    action,
                    principal,
                    outcome,
                )
                return False
        return True

    def _write(self, data: bytes) -> None:
        if self._fd is None:  # an earlier line failed: try the file again
            self._fd = self._open()
            self._size = os.fstat(self._fd).st_size
        if self._torn:
            self._end_torn_line()
        if self.max_bytes and self._size and self._size + len(data) > self.max_bytes:
            self._rotate()
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
            self._size += written
        os.fsync(self._fd)

    def _end_torn_line(self) -> None:
        """After a failed write, end a partial last line so the next line parses."""
        assert self._fd is not None
        if self._size:
            with self.path.open("rb") as f:
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    self._size += os.write(self._fd, b"\n")
        self._torn = False

    def _rotate(self) -> None:
        """audit.log -> .1 -> .2 ... -> .N (the oldest dropped), then a fresh audit.log."""
        self._drop_fd()
        try:
            for i in range(self.backups - 1, 0, -1):
                older = self._backup(i)
                if older.exists():
                    os.replace(older, self._backup(i + 1))
            os.replace(self.path, self._backup(1))
            self._sync_dir()
        except OSError as e:
            log.error("cannot rotate the audit log %s (%s); it keeps growing", self.path, e)
        self._fd = self._open()
        self._size = os.fstat(self._fd).st_size

    def _backup(self, index: int) -> Path:
        return self.path.with_name(f"{self.path.name}.{index}")

    def _sync_dir(self) -> None:
        fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _drop_fd(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.close(fd)

    def close(self) -> None:
        """Close the file; later records are dropped."""
        with self._lock:
            self._closed = True
            self._drop_fd()
