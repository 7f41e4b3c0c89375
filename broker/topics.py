"""Topics: names, partition counts and config overrides, kept in ``topics.json``.

The file is rewritten atomically (write, fsync, rename) on every change, each entry with a
checksum; the log engine holds the partitions' data. A missing or damaged file is rebuilt
from the partition directories, so metadata damage never drops records. Internal topics
(``_schemas``, ``__consumer_offsets``) are created on first start as compacted topics.
"""

from __future__ import annotations

import json
import logging
import os
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from weir.broker.log.api import LogStore, PartitionId, TopicName, TopicPartition
from weir.broker.topic_config import TopicConfig, check_overrides, effective
from weir.core.crash_points import crash_point
from weir.core.errors import (
    InvalidArgumentError,
    PartitionNotFoundError,
    TopicAlreadyExistsError,
    TopicNotFoundError,
    WeirError,
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
REBUILT_INTERNAL = frozenset({SCHEMAS_TOPIC, OFFSETS_TOPIC, TopicName("__acls")})
"""Internal topics recognised when topics.json is rebuilt from the partition directories."""
CHECKSUM_KEY = "crc32"
"""The key of each topics.json entry's checksum."""
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
        """Load topics.json, make sure every partition exists, create internal topics.

        A missing or damaged topics.json while partitions exist is rebuilt from them (see
        ``_rebuild``); an unreadable one (permissions, a directory) raises OSError.
        """
        problem = self._load()
        if problem is not None and self._log.partitions():
            self._rebuild(problem)
        for tp in self._log.partitions():  # left behind by a delete that a crash cut short
            topic = self._topics.get(tp.topic)
            if topic is None or tp.partition >= topic.partition_count:
                log.warning(
                    "removing partition %s-%d: its topic was deleted", tp.topic, tp.partition
                )
                await self._log.delete_partition(tp)
        on_disk = set(self._log.partitions())
        for topic in self._topics.values():
            for p in range(topic.partition_count):
                tp = topic.partition(p)
                if tp not in on_disk:  # partitions are created before topics.json names them
                    log.warning(
                        "partition %s-%d has no directory under %s: its records were lost or "
                        "removed; it starts empty (restore the directory from a backup to keep "
                        "them)",
                        tp.topic,
                        tp.partition,
                        self._path.parent / "log",
                    )
                await self._log.create_partition(tp, topic.config.storage())
        for name, count in INTERNAL_TOPICS.items():
            await self.ensure_internal(name, count)

    def _load(self) -> str | None:
        """Read topics.json into ``_topics``; what is wrong with it, or None when it is fine."""
        try:
            text = self._path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return "missing"
        except UnicodeDecodeError as exc:
            return f"not UTF-8 ({exc.reason} at byte {exc.start})"
        try:
            self._topics = decode(text)
        except ValueError as exc:
            return f"damaged ({exc})"
        return None

    def _rebuild(self, problem: str) -> None:
        """Recreate the topics from the partition directories, keeping every record.

        Partition counts come from the directories. Config overrides are lost, so user
        topics come back with retention off (nothing is deleted) and internal ones with
        their usual settings. A damaged file is kept beside the new one.
        """
        counts: dict[TopicName, int] = {}
        for tp in self._log.partitions():
            counts[tp.topic] = max(counts.get(tp.topic, 0), tp.partition + 1)
        self._topics = {
            name: _make(name, count, *_rebuilt_config(name)) for name, count in counts.items()
        }
        kept = ""
        if self._path.exists():
            damaged = self._path.with_name(self._path.name + ".damaged")
            self._path.replace(damaged)
            kept = f"; the damaged file is kept as {damaged}"
        self._write()
        log.warning(
            "%s is %s; rebuilt %d topics from the partition directories (%s) with their "
            "config overrides lost: user topics keep every record (retention.ms=-1) until you "
            "re-apply their settings with `weir topic alter`%s",
            self._path,
            problem,
            len(counts),
            ", ".join(f"{n}:{c}" for n, c in sorted(counts.items())),
            kept,
        )

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
            if p == topic.partition_count and count - p > 1:
                crash_point("topics.add_partitions.after_first")
        crash_point("topics.add_partitions.after_partitions")
        return self._save(grown)

    async def delete(self, name: str) -> None:
        """Remove a topic and its data."""
        topic = self.get(name)
        if topic.internal:
            raise InvalidArgumentError(f"'{name}' is an internal topic and cannot be deleted")
        del self._topics[topic.name]
        self._write()
        crash_point("topics.delete.after_save")
        for p in range(topic.partition_count):
            await self._log.delete_partition(topic.partition(p))
            if p == 0 and topic.partition_count > 1:
                crash_point("topics.delete.after_first_partition")

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
            if p == 0 and partitions > 1:
                crash_point("topics.create.after_first_partition")
        crash_point("topics.create.after_partitions")
        self._save(topic)
        crash_point("topics.create.after_save")
        return topic

    def _save(self, topic: Topic) -> Topic:
        self._topics[topic.name] = topic
        self._write()
        return topic

    def _write(self) -> None:
        tmp = self._path.with_suffix(".tmp")
        with tmp.open("w") as f:
            f.write(encode(self._topics))
            f.flush()
            os.fsync(f.fileno())
        crash_point("topics.write.after_tmp")
        tmp.replace(self._path)
        crash_point("topics.write.after_rename")
        dir_fd = os.open(self._path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _make(name: TopicName, partitions: int, overrides: dict[str, str], internal: bool) -> Topic:
    return Topic(
        name, partitions, MappingProxyType(dict(overrides)), effective(overrides), internal
    )


def _rebuilt_config(name: TopicName) -> tuple[dict[str, str], bool]:
    if name in REBUILT_INTERNAL:
        return dict(INTERNAL_CONFIG), True
    return {"retention.ms": "-1"}, False


def _entry(t: Topic) -> dict[str, Any]:
    return {"partitions": t.partition_count, "config": dict(t.overrides), "internal": t.internal}


def _checksum(name: str, entry: dict[str, Any]) -> int:
    return zlib.crc32(json.dumps([name, entry], sort_keys=True).encode())


def encode(topics: dict[TopicName, Topic]) -> str:
    """The text of topics.json; each entry carries a CRC-32 of its name and content, so
    damage that still parses is caught."""
    doc = {}
    for name, t in sorted(topics.items()):
        entry = _entry(t)
        doc[name] = {**entry, CHECKSUM_KEY: _checksum(name, entry)}
    return json.dumps(doc, indent=1, sort_keys=True)


def decode(text: str) -> dict[TopicName, Topic]:
    """Topics from the text of topics.json; ValueError naming what is wrong.

    An entry without a checksum (written by an older version, or by hand) is trusted.
    """
    doc = json.loads(text)
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    topics: dict[TopicName, Topic] = {}
    for name, entry in doc.items():
        try:
            topic = _topic(check_name(name), entry)
        except (AttributeError, KeyError, TypeError, ValueError, WeirError) as exc:
            raise ValueError(f"bad entry for topic {name!r}: {exc}") from None
        topics[topic.name] = topic
    return topics


def _topic(name: TopicName, doc: dict[str, Any]) -> Topic:
    doc = dict(doc)
    crc = doc.pop(CHECKSUM_KEY, None)
    if set(doc) != {"partitions", "config", "internal"}:
        raise ValueError(f"keys {sorted(doc)} are not partitions, config and internal")
    if crc is not None and crc != _checksum(name, doc):
        raise ValueError("its checksum does not match its content")
    partitions, config, internal = doc["partitions"], doc["config"], doc["internal"]
    if not isinstance(partitions, int) or not 1 <= partitions <= MAX_PARTITIONS:
        raise ValueError(f"partition count {partitions!r} is not 1 to {MAX_PARTITIONS}")
    if not isinstance(config, dict) or not isinstance(internal, bool):
        raise ValueError("'config' must be an object and 'internal' true or false")
    return _make(name, partitions, check_overrides(config), internal)
