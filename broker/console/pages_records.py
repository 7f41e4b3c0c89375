"""A partition's records, decoded with the registry, with seek by offset or time and paging."""

from __future__ import annotations

from aiohttp import web

from weir.broker.console.context import Console
from weir.broker.console.errors import ConsoleError, bad_request, parse_int
from weir.broker.console.formatting import parse_time, when
from weir.broker.console.markup import Markup, join, link, page, pre, tag, url
from weir.broker.log.api import Record, TopicPartition

DEFAULT_LIMIT = 20
MAX_LIMIT = 200
READ_BYTES = 1 << 20


async def records_page(c: Console, request: web.Request) -> str:
    """Up to ``limit`` records from ``offset`` (or the first at/after ``time``)."""
    topic = c.topics.get(request.match_info["topic"])
    partition = parse_int(request.match_info["partition"], "partition")
    tp = topic.partition(partition)
    query = request.query
    limit = parse_int(query.get("limit"), "limit", DEFAULT_LIMIT, low=1)
    if limit > MAX_LIMIT:
        raise bad_request(f"limit must be at most {MAX_LIMIT}, got {limit}")
    bounds = c.log.offsets(tp)
    start, end = int(bounds.log_start), int(bounds.log_end)
    note = ""
    if query.get("time", "").strip():
        at_ms = parse_time(query["time"])
        found = await c.log.offset_for_time(tp, at_ms)
        offset = end if found is None else int(found)
        note = f"first record at or after {when(at_ms)}: offset {offset}"
        if found is None:
            note = f"no record at or after {when(at_ms)}; showing the log end"
    else:
        offset = parse_int(query.get("offset"), "offset", max(start, end - limit))
        if not start <= offset <= end:
            raise ConsoleError(
                400,
                f"offset {offset} is outside partition {topic.name}-{partition}'s range "
                f"{start}..{end} (log start..log end)",
            )
    records = await _read(c, tp, offset, end, limit)
    body = join(
        (
            _seek_form(topic.name, partition, offset, limit),
            tag("p", note, class_="note") if note else None,
            tag("p", f"log start {start} · log end {end} · showing from offset {offset}"),
            _pager(topic.name, partition, offset, records, start=start, end=end, n=limit),
            _records(c, records),
        )
    )
    return page(f"{topic.name} · partition {partition}", body, "topics")


async def _read(c: Console, tp: TopicPartition, offset: int, end: int, limit: int) -> list[Record]:
    found: list[Record] = []
    position = offset
    while len(found) < limit and position < end:
        batch = await c.log.read(tp, position, READ_BYTES)
        if not batch:
            break
        found.extend(batch)
        position = int(batch[-1].offset) + 1
    return found[:limit]


def _seek_form(topic: str, partition: int, offset: int, limit: int) -> Markup:
    return tag(
        "form",
        tag("label", "Offset ", tag("input", name="offset", value=offset, size=10, id="offset")),
        tag(
            "label",
            " or time ",
            tag("input", name="time", placeholder="2024-05-01T12:00:00Z or epoch ms", id="time"),
        ),
        tag("label", " limit ", tag("input", name="limit", value=limit, size=4)),
        tag("button", "Seek", type="submit", id="seek"),
        method="get",
        action=url("topics", topic, partition),
        class_="seek",
    )


def _pager(
    topic: str, partition: int, offset: int, records: list[Record], *, start: int, end: int, n: int
) -> Markup:
    def go(label: str, to: int, enabled: bool) -> Markup:
        if not enabled:
            return tag("span", label, class_="disabled")
        return link(url("topics", topic, partition, offset=to, limit=n), label, class_="page")

    after = int(records[-1].offset) + 1 if records else offset
    return tag(
        "p",
        go("<< first", start, offset > start),
        " ",
        go("< older", max(start, offset - n), offset > start),
        " ",
        go("newer >", after, after < end),
        " ",
        go("latest >>", max(start, end - n), after < end),
        class_="pager",
    )


def _records(c: Console, records: list[Record]) -> Markup:
    if not records:
        return tag("p", "no records here", class_="empty")
    items = []
    for r in records:
        value = c.decoder.decode(r.value, r.value_schema_id)
        key = c.decoder.decode(r.key, r.key_schema_id) if r.key is not None else None
        headers = join(tag("li", tag("code", name), " = ", _header(v)) for name, v in r.headers)
        items.append(
            tag(
                "article",
                tag("h3", f"offset {r.offset}", tag("small", when(r.timestamp_ms))),
                tag("p", "key: ", tag("code", key.text)) if key else None,
                tag("p", value.schema, class_="schema") if value.schema else None,
                tag("p", f"not decoded: {value.problem}", class_="problem")
                if value.problem
                else None,
                pre(value.text, class_="value"),
                tag("ul", headers, class_="headers") if r.headers else None,
                class_="record",
                id=f"record-{r.offset}",
            )
        )
    return join(items)


def _header(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.hex(" ")
