"""Topic configuration with Kafka's key names, parsed and checked in one table.

Every override arrives as text (``{"retention.ms": "3600000"}``). An unknown key or a bad
value is an InvalidConfigError that names both and says what is allowed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from weir.broker.log.api import StorageConfig
from weir.core.errors import InvalidConfigError

DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class TopicConfig:
    """Effective settings of one topic (defaults plus overrides)."""

    cleanup_policy: frozenset[str] = frozenset({"delete"})
    """cleanup.policy: delete, compact, or both."""
    retention_ms: int = 7 * DAY_MS
    """retention.ms: -1 keeps forever."""
    retention_bytes: int = -1
    """retention.bytes per partition: -1 means no limit."""
    segment_bytes: int = 1 << 30
    """segment.bytes: roll size."""
    segment_ms: int = 7 * DAY_MS
    """segment.ms: roll age."""
    max_message_bytes: int = 1048588
    """max.message.bytes: the largest record (key + value + headers)."""
    delete_retention_ms: int = DAY_MS
    """delete.retention.ms: tombstone lifetime under compaction."""
    min_compaction_lag_ms: int = 0
    """min.compaction.lag.ms: records younger than this are not compacted."""
    message_timestamp_type: str = "CreateTime"
    """message.timestamp.type: CreateTime or LogAppendTime."""
    value_schema_validation: str = "strict"
    """value.schema.validation: strict (decode), id (registered id only) or none."""
    key_schema_validation: str = "none"
    """key.schema.validation: strict, id or none."""
    value_subject_name_strategy: str = "topic"
    """value.subject.name.strategy: topic, record or topic_record."""
    key_subject_name_strategy: str = "topic"
    """key.subject.name.strategy: topic, record or topic_record."""
    on_invalid: str = "reject"
    """on.invalid: reject (whole request), reject_record, or dead_letter."""

    def storage(self) -> StorageConfig:
        """The part of the config the log engine needs."""
        return StorageConfig(
            segment_bytes=self.segment_bytes,
            segment_ms=self.segment_ms,
            retention_ms=self.retention_ms,
            retention_bytes=self.retention_bytes,
            cleanup_delete="delete" in self.cleanup_policy,
            cleanup_compact="compact" in self.cleanup_policy,
            delete_retention_ms=self.delete_retention_ms,
            min_compaction_lag_ms=self.min_compaction_lag_ms,
        )


def _int(low: int, allow_minus_one: bool = False) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < low and not (allow_minus_one and value == -1):
            extra = " or -1" if allow_minus_one else ""
            raise ValueError(f"must be an integer >= {low}{extra}")
        return value

    return parse


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return text

    return parse


def _policy(text: str) -> frozenset[str]:
    parts = frozenset(p.strip() for p in text.split(","))
    if not parts or not parts <= {"delete", "compact"}:
        raise ValueError("must be delete, compact, or compact,delete")
    return parts


_STRATEGY = _choice("topic", "record", "topic_record")
_VALIDATION = _choice("strict", "id", "none")

KEYS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "cleanup.policy": ("cleanup_policy", _policy),
    "retention.ms": ("retention_ms", _int(0, allow_minus_one=True)),
    "retention.bytes": ("retention_bytes", _int(0, allow_minus_one=True)),
    "segment.bytes": ("segment_bytes", _int(1024)),
    "segment.ms": ("segment_ms", _int(1)),
    "max.message.bytes": ("max_message_bytes", _int(1)),
    "delete.retention.ms": ("delete_retention_ms", _int(0)),
    "min.compaction.lag.ms": ("min_compaction_lag_ms", _int(0)),
    "message.timestamp.type": ("message_timestamp_type", _choice("CreateTime", "LogAppendTime")),
    "value.schema.validation": ("value_schema_validation", _VALIDATION),
    "key.schema.validation": ("key_schema_validation", _VALIDATION),
    "value.subject.name.strategy": ("value_subject_name_strategy", _STRATEGY),
    "key.subject.name.strategy": ("key_subject_name_strategy", _STRATEGY),
    "on.invalid": ("on_invalid", _choice("reject", "reject_record", "dead_letter")),
}
"""Kafka key -> (attribute, parser). The parser raises ValueError with what is allowed."""


def check_overrides(overrides: Mapping[str, str]) -> dict[str, str]:
    """Validate overrides by key and value; return them normalized (stripped)."""
    clean = {}
    for key, raw in overrides.items():
        if key not in KEYS:
            raise InvalidConfigError(
                f"unknown topic config key '{key}'; known keys: {', '.join(sorted(KEYS))}",
                metadata={"key": key},
            )
        value = str(raw).strip()
        try:
            KEYS[key][1](value)
        except ValueError as e:
            reason = str(e) if "must" in str(e) else "must be an integer"
            raise InvalidConfigError(
                f"topic config {key}={raw!r} is not valid: {reason}",
                metadata={"key": key, "value": str(raw)},
            ) from None
        clean[key] = value
    return clean


def effective(overrides: Mapping[str, str], base: TopicConfig | None = None) -> TopicConfig:
    """Defaults (or ``base``) with checked overrides applied."""
    values = {KEYS[k][0]: KEYS[k][1](v) for k, v in check_overrides(overrides).items()}
    return dataclasses.replace(base or TopicConfig(), **values)
