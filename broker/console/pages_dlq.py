"""Dead-letter topics (``<topic>.dlq``) and why their records were refused.

The produce path writes the reason into each dead letter's headers (``weir.dlq.*``: source
topic and partition, error reason, subject, rule, message); this page reads them back.
"""

from __future__ import annotations

from collections import Counter

from aiohttp import web

from weir.broker.console.context import Console
from weir.broker.console.errors import bad_request, parse_int
from weir.broker.console.formatting import when
from weir.broker.console.markup import Markup, join, link, page, table, tag, url
from weir.broker.log.api import Record
from weir.broker.topics import DLQ_SUFFIX, Topic

PREFIX = "weir.dlq."
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


async def dlq_page(c: Console, request: web.Request) -> str:
    """Every dead-letter topic with its newest records' rejection reasons."""
    limit = parse_int(request.query.get("limit"), "limit", DEFAULT_LIMIT, low=1)
    if limit > MAX_LIMIT:
        raise bad_request(f"limit must be at most {MAX_LIMIT}, got {limit}")
    dlqs = [t for t in c.topics.list() if t.name.endswith(DLQ_SUFFIX)]
    if not dlqs:
        note = (
            "No dead-letter topics. A topic with on.invalid=dead_letter sends refused records "
            "to <topic>.dlq."
        )
        return page("Dead letters", tag("p", note, class_="empty"), "dlq")
    sections = [await _section(c, topic, limit) for topic in dlqs]
    return page("Dead letters", join(sections), "dlq")


async def _section(c: Console, topic: Topic, limit: int) -> Markup:
    letters: list[tuple[int, Record]] = []
    total = 0
    for p in range(topic.partition_count):
        tp = topic.partition(p)
        bounds = c.log.offsets(tp)
        start, end = int(bounds.log_start), int(bounds.log_end)
        total += end - start
        first = max(start, end - limit)
        if first < end:
            letters += [(p, r) for r in await c.log.read(tp, first, 1 << 20)]
    letters.sort(key=lambda pr: pr[1].timestamp_ms, reverse=True)
    letters = letters[:limit]
    why = [_why(r) for _, r in letters]
    counts = Counter((w.get("reason", "?"), w.get("rule", "")) for w in why)
    summary = table(
        ("Reason", "Rule", "Records (newest shown)"),
        ((reason, rule, n) for (reason, rule), n in counts.most_common()),
        class_="dlq-summary",
    )
    rows = [
        (
            link(url("topics", topic.name, p, offset=r.offset, limit=1), f"{p}:{r.offset}"),
            when(r.timestamp_ms),
            f"{w.get('topic', '?')}-{w.get('partition', '?')}",
            w.get("subject", ""),
            w.get("reason", ""),
            tag("code", w.get("rule", "")),
            w.get("message", ""),
        )
        for (p, r), w in zip(letters, why, strict=True)
    ]
    records = table(
        ("Record", "Time", "From", "Subject", "Reason", "Rule", "Message"), rows, class_="dlq"
    )
    return tag(
        "section",
        tag("h2", link(url("topics", topic.name), topic.name)),
        tag("p", f"{total} dead letter(s); the newest {len(letters)} shown"),
        summary,
        records,
        class_="dlq-topic",
    )


def _why(record: Record) -> dict[str, str]:
    found = {}
    for name, value in record.headers:
        if name.startswith(PREFIX):
            found[name[len(PREFIX) :]] = value.decode("utf-8", errors="replace")
    return found
