"""Topics: the list with partitions, offsets and sizes, and one topic with its config."""

from __future__ import annotations

from aiohttp import web

from weir.broker.console.context import Console
from weir.broker.console.formatting import partition_bytes, size
from weir.broker.console.markup import join, link, page, table, tag, url
from weir.broker.topic_config import KEYS
from weir.broker.topics import DLQ_SUFFIX, Topic


def _totals(c: Console, topic: Topic) -> tuple[int, int]:
    records = stored = 0
    for p in range(topic.partition_count):
        tp = topic.partition(p)
        bounds = c.log.offsets(tp)
        records += int(bounds.log_end) - int(bounds.log_start)
        stored += partition_bytes(c.log, tp)
    return records, stored


async def topics_page(c: Console, request: web.Request) -> str:
    """Every topic (internal ones too, marked) with partitions, records and bytes."""
    rows = []
    for topic in c.topics.list(include_internal=True):
        records, stored = _totals(c, topic)
        kind = "internal" if topic.internal else ("dead letters" if _is_dlq(topic) else "")
        rows.append(
            (
                link(url("topics", topic.name), topic.name),
                topic.partition_count,
                records,
                size(stored),
                topic.config.value_schema_validation,
                topic.config.on_invalid,
                kind,
            )
        )
    headers = ("Topic", "Partitions", "Records", "Size", "Validation", "On invalid", "")
    return page("Topics", table(headers, rows, class_="topics"), "topics")


async def topic_page(c: Console, request: web.Request) -> str:
    """One topic: each partition's offsets and size, and its effective config."""
    topic = c.topics.get(request.match_info["topic"])
    rows = []
    for p in range(topic.partition_count):
        tp = topic.partition(p)
        bounds = c.log.offsets(tp)
        stored = partition_bytes(c.log, tp)
        rows.append(
            (
                p,
                int(bounds.log_start),
                int(bounds.log_end),
                int(bounds.log_end) - int(bounds.log_start),
                tag("span", size(stored), title=f"{stored} bytes"),
                link(url("topics", topic.name, p), "browse records"),
            )
        )
    partitions = table(
        ("Partition", "Log start", "Log end", "Records", "Size", ""), rows, class_="partitions"
    )
    config = table(
        ("Key", "Value", "Source"),
        (
            (key, _show(getattr(topic.config, attr)), "override" if key in topic.overrides else "")
            for key, (attr, _) in sorted(KEYS.items())
        ),
        class_="config",
    )
    body = join((tag("h2", "Partitions"), partitions, tag("h2", "Config"), config))
    return page(f"Topic {topic.name}", body, "topics")


def _show(value: object) -> str:
    if isinstance(value, frozenset):
        return ",".join(sorted(value))
    return str(value)


def _is_dlq(topic: Topic) -> bool:
    return topic.name.endswith(DLQ_SUFFIX)
