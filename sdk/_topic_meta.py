"""The producer's topic metadata: partition counts cached per topic, free of I/O.

A count is fetched with TopicService GetTopic the first time a topic is produced to, again
once it is older than ``metadata_max_age_ms``, and again after the broker said a partition
or the topic was not found. A failed refresh keeps the old count: a topic does not lose
partitions, and a server that is briefly away must not stop produce().
"""

from __future__ import annotations

from dataclasses import dataclass

from weir.core.errors import WeirError
from weir.sdk._retry import RetryPolicy
from weir.v1 import topic_service_pb2 as ts

LOG_APPEND_TIME = "LogAppendTime"


@dataclass(frozen=True, slots=True)
class TopicMeta:
    """What the producer needs to know about a topic."""

    name: str
    """The topic name."""
    partition_count: int
    """How many partitions it has."""
    log_append_time: bool
    """True when the broker stamps records with its append time (message.timestamp.type)."""
    fetched_at: float
    """When this was fetched, on the monotonic clock (seconds)."""


class TopicMetadataCache:
    """Partition counts by topic, with an age limit."""

    __slots__ = ("_entries", "_stale", "max_age_s")

    def __init__(self, max_age_s: float) -> None:
        self.max_age_s = max_age_s
        """How long an entry is used before it is fetched again."""
        self._entries: dict[str, TopicMeta] = {}
        self._stale: set[str] = set()

    def get(self, topic: str) -> TopicMeta | None:
        """The cached entry, fresh or not."""
        return self._entries.get(topic)

    def needs_fetch(self, topic: str, now: float) -> bool:
        """True when the topic is unknown, too old, or was marked stale."""
        entry = self._entries.get(topic)
        return entry is None or topic in self._stale or now - entry.fetched_at >= self.max_age_s

    def put(self, meta: TopicMeta) -> None:
        """Store a freshly fetched entry."""
        self._entries[meta.name] = meta
        self._stale.discard(meta.name)

    def invalidate(self, topic: str) -> None:
        """Fetch the topic again before its next record (the broker said something changed)."""
        if topic in self._entries:
            self._stale.add(topic)

    def forget(self, topic: str) -> None:
        """Drop a topic the broker says does not exist."""
        self._entries.pop(topic, None)
        self._stale.discard(topic)


def get_topic_request(topic: str) -> ts.GetTopicRequest:
    """The GetTopic request for a topic."""
    return ts.GetTopicRequest(name=topic)


def meta_from_reply(reply: ts.GetTopicResponse, now: float) -> TopicMeta:
    """The cache entry for a GetTopic reply."""
    topic = reply.topic
    return TopicMeta(
        name=topic.name,
        partition_count=topic.partition_count,
        log_append_time=topic.config.get("message.timestamp.type") == LOG_APPEND_TIME,
        fetched_at=now,
    )


def fetch_pause(
    error: WeirError, attempt: int, now: float, deadline: float, policy: RetryPolicy
) -> float | None:
    """The pause before fetching again after ``error``, or None to give up (by the deadline)."""
    if not error.retriable:
        return None
    pause = policy.backoff_s(attempt)
    return pause if now + pause < deadline else None


def resolve(
    cache: TopicMetadataCache, topic: str, fetched: TopicMeta | WeirError | None
) -> TopicMeta | WeirError:
    """The entry to produce with after a fetch: a failed refresh falls back to the old entry.

    A TopicNotFoundError always wins (the topic is gone); another error is returned only when
    nothing is cached.
    """
    if isinstance(fetched, TopicMeta):
        cache.put(fetched)
        return fetched
    old = cache.get(topic)
    if fetched is not None and (old is None or fetched.reason == "TOPIC_NOT_FOUND"):
        cache.forget(topic)
        return fetched
    if old is None:  # pragma: no cover - a fetch returns an entry or an error
        raise AssertionError("resolve() needs a fetch result when nothing is cached")
    return old


class MetaFetch:
    """One topic's GetTopic attempts: the request, each call's deadline, and the pauses."""

    __slots__ = ("attempt", "deadline", "error", "policy", "request", "timeout_s")

    def __init__(
        self, topic: str, now: float, budget_s: float, timeout_s: float, policy: RetryPolicy
    ) -> None:
        self.request = get_topic_request(topic)
        """The GetTopic request to send."""
        self.deadline = now + budget_s
        """When to give up (monotonic seconds)."""
        self.timeout_s = timeout_s
        """The client's deadline per call."""
        self.policy = policy
        """The backoff between attempts."""
        self.attempt = 1
        """The attempt about to be made."""
        self.error: WeirError | None = None
        """The last failure."""

    def wait_s(self, now: float) -> float:
        """The deadline of the next call."""
        return min(self.timeout_s, max(self.deadline - now, 0.05))

    def failed(self, error: WeirError, now: float) -> float | None:
        """The pause before the next attempt, or None to give up (``error`` is kept)."""
        self.error = error
        pause = fetch_pause(error, self.attempt, now, self.deadline, self.policy)
        self.attempt += 1
        return pause


def unusable(error: WeirError, topic: str) -> WeirError:
    """The error a record gets when its topic's metadata could not be had."""
    return type(error)(
        f"cannot produce to topic '{topic}': {error.message}",
        metadata={**error.metadata, "topic": topic},
    )


__all__: list[str] = []
