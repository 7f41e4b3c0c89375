"""Where registry state lives: an ordered stream of keyed records, replayed on start.

The registry writes records in the shape of a compacted topic: a key names a thing
(a subject version, a config, a mode) and the newest value per key wins; ``None`` is a
tombstone. ``FileRegistryStore`` keeps them in one append-only file, one CRC-checked JSON
line per record, fsynced before ``append`` returns. A torn last line (crash mid-write) is
dropped on load; a damaged line elsewhere is an error naming the file and line.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from weir.core.errors import InternalError


@dataclass(frozen=True, slots=True)
class StoreRecord:
    """One keyed record; the newest value per key wins."""

    key: str
    """What the record is about, e.g. ``SCHEMA/orders-value/3`` or ``CONFIG/``."""
    value: dict[str, Any] | None
    """The state, or None to forget the key."""


class RegistryStore(Protocol):
    """Durable, ordered storage for registry records."""

    def load(self) -> Iterator[StoreRecord]:
        """Every record ever appended, oldest first."""
        ...

    def append(self, record: StoreRecord) -> None:
        """Write one record durably before returning."""
        ...

    def close(self) -> None:
        """Release the file."""
        ...


class FileRegistryStore:
    """RegistryStore in one append-only file of ``<crc32 hex> <json>`` lines."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._truncate_torn_tail()
        self._file = path.open("ab")

    def load(self) -> Iterator[StoreRecord]:
        """Every record in the file, oldest first."""
        with self.path.open("rb") as f:
            for number, line in enumerate(f, start=1):
                yield self._decode(line, number)

    def append(self, record: StoreRecord) -> None:
        """Append and fsync one record."""
        body = json.dumps({"key": record.key, "value": record.value}, separators=(",", ":"))
        data = body.encode()
        self._file.write(b"%08x %s\n" % (zlib.crc32(data), data))
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        """Close the file."""
        self._file.close()

    def _decode(self, line: bytes, number: int) -> StoreRecord:
        crc, _, data = line.rstrip(b"\n").partition(b" ")
        try:
            ok = int(crc, 16) == zlib.crc32(data)
            doc = json.loads(data) if ok else None
        except ValueError:
            ok = False
        if not ok or not isinstance(doc, dict):
            raise InternalError(
                f"registry store {self.path} line {number} is damaged (bad CRC or JSON); "
                "restore it from a backup or remove the line"
            )
        return StoreRecord(doc["key"], doc["value"])

    def _truncate_torn_tail(self) -> None:
        """Drop a last line that lacks its newline: the write that a crash cut short."""
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            with self.path.open("r+b") as f:
                f.truncate(data.rfind(b"\n") + 1)
                os.fsync(f.fileno())
