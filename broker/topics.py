"""Topics: names, partition counts and config overrides, kept in ``topics.json``.

The file is rewritten atomically (write, fsync, rename) on every change; the log engine
holds the partitions' data. Internal topics (``_schemas``, ``__consumer_offsets``) are
created on first start as compacted topics.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from weir.broker.log.api import LogStore, PartitionId, TopicName, TopicPartition
from weir.broker.topic_config import TopicConfig, check_overrides, effective
from weir.core.errors import (
    InvalidArgumentError,
    PartitionNotFoundError,
    TopicAlreadyExistsError,
    TopicNotFoundError,
)

log = logging.getLogger("weir.topics")

SCHEMAS_TOPIC = TopicName("_schemas")
OFFSETS_TOPIC = TopicName("__consumer_offsets")
INTERNAL_CONFIG = {
    "cleanup.policy": "compact",
    "retention.ms": "-1",
    "value.schema.validation": "none",
}
INTERNAL_TOPICS = {SCHEMAS_TOPIC: 1, OFFSETS_TOPIC: 1}
DLQ_SUFFIX = ".dlq"
MAX_PARTITIONS = 10_000
_LEGAL = re.compile(r"^[a-zA-Z0-9._-]{1,249}$")


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic's metadata."""

    name: TopicName
    """The topic name."""
    partition_count: int
    """How many partitions it has."""
    overrides: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Config keys set explicitly, by Kafka name."""
    config: TopicConfig = field(default_factory=TopicConfig)
    """Defaults plus overrides."""
    internal: bool = False
    """True for the broker's own topics."""

    def partition(self, partition: int) -> TopicPartition:
        """The TopicPartition for a partition number, checked."""
        if not 0 <= partition < self.partition_count:
            raise PartitionNotFoundError(
                f"topic '{self.name}' has partitions 0..{self.partition_count - 1}, "
                f"not {partition}",
                metadata={"topic": self.name, "partition": str(partition)},
            )
        return TopicPartition(self.name, PartitionId(partition))


def check_name(name: str) -> TopicName:
    """A legal topic name, as Kafka defines it."""
    if not _LEGAL.match(name) or name in (".", ".."):
        raise InvalidArgumentError(
            f"topic name {name!r} is not valid: use 1 to 249 letters, digits, '.', '_' or '-'",
            metadata={"topic": name},
        )
    return TopicName(name)


class TopicManager:
    """Creates, finds, reconfigures, grows and deletes topics over a LogStore."""

    def __init__(self, root: Path, log: LogStore) -> None:
        self._path = root / "topics.json"
        self._log = log
        self._topics: dict[TopicName, Topic] = {}

    async def open(self) -> None:
        """Load topics.json, make sure every partition exists, create internal topics."""
        if self._path.exists():
            for name, doc in json.loads(self._path.read_text()).items():
                self._topics[TopicName(name)] = _topic(name, doc)
        for tp in self._log.partitions():  # left behind by a delete that a crash cut short
            topic = self._topics.get(tp.topic)
            if topic is None or tp.partition >= topic.partition_count:
                log.warning(
                    "removing partition %s-%d: its topic was deleted", tp.topic, tp.partition
                )
                await self._log.delete_partition(tp)
        for topic in self._topics.values():
            for p in range(topic.partition_count):
                await self._log.create_partition(topic.partition(p), topic.config.storage())
        for name, count in INTERNAL_TOPICS.items():
            await self.ensure_internal(name, count)

    async def ensure_internal(self, name: str, partitions: int = 1) -> Topic:
        """An internal compacted topic (``_schemas``, ``__acls``, ...), created when missing."""
        existing = self._topics.get(TopicName(name))
        if existing is not None:
            return existing
        return await self._create(TopicName(name), partitions, INTERNAL_CONFIG, internal=True)

    def find(self, name: str) -> Topic | None:
        """A topic by name, or None."""
        return self._topics.get(TopicName(name))

    def get(self, name: str) -> Topic:
        """A topic by name."""
        topic = self._topics.get(TopicName(name))
        if topic is None:
            raise TopicNotFoundError(
                f"topic '{name}' does not exist; create it with `weir topic create {name}`",
                metadata={"topic": name},
            )
        return topic

    def list(self, include_internal: bool = False) -> Sequence[Topic]:
        """Topics sorted by name."""
        return [t for n, t in sorted(self._topics.items()) if include_internal or not t.internal]

    async def create(self, name: str, partitions: int, overrides: dict[str, str]) -> Topic:
        """Create a topic and its partitions."""
        return await self._create(check_name(name), partitions, overrides, internal=False)

    async def update_config(self, name: str, set_: dict[str, str], remove: Sequence[str]) -> Topic:
        """Set and remove overrides; the engine picks up storage changes."""
        topic = self.get(name)
        overrides = {k: v for k, v in topic.overrides.items() if k not in remove}
        overrides.update(check_overrides(set_))
        unknown = [k for k in remove if k not in topic.overrides]
        if unknown:
            raise InvalidArgumentError(
                f"topic '{name}' has no override for {', '.join(unknown)}; nothing to remove",
                metadata={"topic": name},
            )
        updated = _make(topic.name, topic.partition_count, overrides, topic.internal)
        for p in range(updated.partition_count):
            self._log.set_config(updated.partition(p), updated.config.storage())
        return self._save(updated)

    async def add_partitions(self, name: str, count: int) -> Topic:
        """Grow a topic to ``count`` partitions (never shrink)."""
        topic = self.get(name)
        if count <= topic.partition_count or count > MAX_PARTITIONS:
            raise InvalidArgumentError(
                f"topic '{name}' has {topic.partition_count} partitions; the new count must be "
                f"larger (and at most {MAX_PARTITIONS}), got {count}",
                metadata={"topic": name},
            )
        grown = _make(topic.name, count, dict(topic.overrides), topic.internal)
        for p in range(topic.partition_count, count):
            await self._log.create_partition(grown.partition(p), grown.config.storage())
        return self._save(grown)

    async def delete(self, name: str) -> None:
        """Remove a topic and its data."""
        topic = self.get(name)
        if topic.internal:
            raise InvalidArgumentError(f"'{name}' is an internal topic and cannot be deleted")
        del self._topics[topic.name]
        self._write()
        for p in range(topic.partition_count):
            await self._log.delete_partition(topic.partition(p))

    async def _create(
        self, name: TopicName, partitions: int, overrides: dict[str, str], internal: bool
    ) -> Topic:
        if name in self._topics:
            raise TopicAlreadyExistsError(
                f"topic '{name}' already exists", metadata={"topic": name}
            )
        if not 1 <= partitions <= MAX_PARTITIONS:
            raise InvalidArgumentError(
                f"partition count must be 1 to {MAX_PARTITIONS}, got {partitions}",
                metadata={"topic": name},
            )
        topic = _make(name, partitions, check_overrides(overrides), internal)
        for p in range(partitions):
            await self._log.create_partition(topic.partition(p), topic.config.storage())
        return self._save(topic)

    def _save(self, topic: Topic) -> Topic:
        self._topics[topic.name] = topic
        self._write()
        return topic

    def _write(self) -> None:
        doc = {
            name: {
                "partitions": t.partition_count,
                "config": dict(t.overrides),
                "internal": t.internal,
            }
            for name, t in sorted(self._topics.items())
        }
        tmp = self._path.with_suffix(".tmp")
        with tmp.open("w") as f:
            json.dump(doc, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(self._path)
        dir_fd = os.open(self._path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _make(name: TopicName, partitions: int, overrides: dict[str, str], internal: bool) -> Topic:
    return Topic(
        name, partitions, MappingProxyType(dict(overrides)), effective(overrides), internal
    )


def _topic(name: str, doc: dict[str, Any]) -> Topic:
    return _make(
        TopicName(name), int(doc["partitions"]), dict(doc["config"]), bool(doc["internal"])
    )
