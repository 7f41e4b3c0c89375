"""The registry's store on the compacted ``_schemas`` topic.

Each registry record becomes one log record: the key is the record's key, the value its JSON
(None for a tombstone). Appends are fsynced before they return (acks=all), and the registry
replays the topic from its log start on open, past any damaged batch (logged, naming the
file). Compaction keeps the newest value per key,
which is exactly the state the registry needs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

from weir.broker.log.api import Acks, NewRecord
from weir.broker.log.partition import Partition
from weir.broker.log.replay import DamageSkipper, replay
from weir.core.crash_points import crash_point
from weir.registry.store import StoreRecord

_READ_BYTES = 1 << 20
log = logging.getLogger("weir.registry")


class TopicRegistryStore:
    """RegistryStore over partition 0 of ``_schemas`` (the partition's synchronous API)."""

    def __init__(self, partition: Partition) -> None:
        self._partition = partition

    def load(self) -> Iterator[StoreRecord]:
        """Every readable record from the log start, oldest first (damage is skipped)."""
        bounds = self._partition.offsets()
        skipper = DamageSkipper(
            log, "_schemas", "the schemas and settings in it are lost; register them again"
        )
        for record in replay(
            lambda offset: self._partition.read(offset, _READ_BYTES),
            bounds.log_start,
            bounds.log_end,
            skipper,
        ):
            value = json.loads(record.value) if record.value is not None else None
            yield StoreRecord((record.key or b"").decode(), value)

    def append(self, record: StoreRecord) -> None:
        """Append one record and fsync it."""
        value = None if record.value is None else json.dumps(record.value).encode()
        stamp = self._partition.now_ms()
        new = NewRecord(value=value, key=record.key.encode(), timestamp_ms=stamp)
        self._partition.append([new], Acks.ALL)
        crash_point("schemas.append.after_append")

    def close(self) -> None:
        """Nothing to do: the log store owns the partition."""
