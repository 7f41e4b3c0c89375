"""Shared display helpers: times, sizes, partition sizes and time input parsing."""

from __future__ import annotations

from datetime import UTC, datetime

from weir.broker.console.errors import bad_request
from weir.broker.log.api import TopicPartition
from weir.broker.log.engine import EmbeddedLogStore


def when(ms: int) -> str:
    """A UTC timestamp for people, to the millisecond."""
    if ms <= 0:
        return "—"
    stamp = datetime.fromtimestamp(ms / 1000, UTC)
    return stamp.strftime("%Y-%m-%d %H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def size(n: int) -> str:
    """Bytes in a short human form (exact below 1 KiB)."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover - the loop always returns


def seconds(ms: int) -> str:
    """Milliseconds as seconds with one decimal."""
    return f"{ms / 1000:.1f} s"


def partition_bytes(store: EmbeddedLogStore, tp: TopicPartition) -> int:
    """Bytes the partition's segments take on disk."""
    return sum(segment.size for segment in store.partition(tp).segments())


def parse_time(text: str) -> int:
    """A time given as epoch milliseconds or ISO 8601 (UTC unless it names an offset)."""
    raw = text.strip()
    if raw.lstrip("-").isdigit():
        value = int(raw)
        if value < 0:
            raise bad_request(f"time must not be negative, got {value}")
        return value
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise bad_request(
            f"time {text!r} is neither epoch milliseconds nor ISO 8601 "
            "(for example 2024-05-01T12:00:00Z)"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)
