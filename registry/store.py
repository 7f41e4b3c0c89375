"""Where registry state lives: an ordered stream of keyed records, replayed on start.

The registry writes records in the shape of a compacted topic: a key names a thing
(a subject version, a config, a mode) and the newest value per key wins; ``None`` is a
tombstone. The server keeps them in the compacted ``_schemas`` topic
(``weir.broker.schemas_topic``); any ordered, durable log of records would do.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol


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
