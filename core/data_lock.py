"""One server per data directory: an exclusive ``flock`` on ``DATA_DIR/weir.lock``.

The lock is taken before the log is opened (recovery truncates torn tails, which must never
happen under a running server) and held until the server stops; the kernel drops it when the
process dies, so a crash never leaves a stale lock behind. The file holds the owner's pid,
for the error a second server prints.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from weir.core.crash_points import crash_point
from weir.core.errors import FailedPreconditionError

LOCK_FILE = "weir.lock"
"""The lock's file name inside the data directory."""


class DataDirLock:
    """The held lock on a data directory; ``release()`` (or process exit) frees it."""

    def __init__(self, data_dir: Path) -> None:
        """Create the data directory if needed and lock it, or raise FailedPreconditionError.

        OSError when the directory or the lock file cannot be created or opened.
        """
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / LOCK_FILE
        """The lock file."""
        self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _owner(self._fd)
            self.release()
            raise FailedPreconditionError(
                f"data directory {data_dir} is in use by another weir server{owner}: it holds "
                f"the lock {self.path}; stop that server or pass another --data-dir",
                metadata={"lock": str(self.path)},
            ) from None
        except OSError:
            self.release()
            raise
        with contextlib.suppress(OSError):  # the pid is only a hint for the error above
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, f"{os.getpid()}\n".encode(), 0)
        crash_point("data_lock.after_lock")

    def release(self) -> None:
        """Unlock and close (the file stays: removing it could race a new owner)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _owner(fd: int) -> str:
    try:
        pid = int(os.pread(fd, 32, 0).decode().strip())
    except (OSError, ValueError, UnicodeDecodeError):
        return ""
    return f" (pid {pid})"
