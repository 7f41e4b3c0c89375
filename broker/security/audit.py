"""The audit log: one JSON line per admin or registry change, allowed or refused.

Each line says who (``principal``), what (``action``, the RPC or HTTP route, and the
``resources`` it touched), when (``time``, UTC ISO 8601) and the ``outcome``: ``ok`` or the
error reason (``PERMISSION_DENIED``, ``TOPIC_ALREADY_EXISTS``, ...). Lines are appended and
flushed as they happen, so a crash loses none that were written.
"""

from __future__ import annotations

import datetime
import json
import logging
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from weir.core.rpc import REQUEST_ID

log = logging.getLogger("weir.audit")


class AuditLog:
    """Appends audit lines to a file (opened once, line-buffered)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        """Where the lines go."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: TextIO | None = path.open("a", encoding="utf-8", buffering=1)
        self._lock = threading.Lock()

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
    ) -> None:
        """Write one line."""
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
        text = json.dumps(line, sort_keys=True)
        with self._lock:
            if self._file is None:
                return
            try:
                self._file.write(text + "\n")
            except OSError:
                log.exception("cannot write the audit log %s", self.path)

    def close(self) -> None:
        """Close the file; later records are dropped."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
