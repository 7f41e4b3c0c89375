"""`weir consume TOPIC`: print records as JSON lines, decoded with the registry.

Reads every partition (or ``--partition``) with Fetch, long-polling, from the end (the
default, like Kafka's console consumer), the beginning, an offset or a time. It stops after
``--max`` records, or when ``--timeout-ms`` passes with no new record (2000 ms when
``--max`` is not given; without a timeout and with ``--max`` it waits for ``--max``
records). No consumer group is involved and nothing is committed.

Each line: topic, partition, offset, timestamp (ms), key, value, headers, schema_id,
key_schema_id. Framed keys and values are decoded with the schema their frame names;
unframed values are shown as JSON when they parse, else as text; bytes that are not UTF-8
are shown in base64 with ``"key_base64"``/``"value_base64": true``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from typing import Any

from weir.core.errors import InvalidArgumentError, UnavailableError, WeirError, error_class
from weir.sdk import Admin, TopicInfo
from weir.sdk.cli._broker import Clients, add_connection_args, connect
from weir.sdk.cli._codec import Schemas, dumps, raw_value
from weir.sdk.cli._group_consume import Member, consume_in_group
from weir.sdk.cli._output import OK, Output, command, emit
from weir.v1 import errors_pb2
from weir.v1 import log_pb2 as lp
from weir.v1 import log_service_pb2 as ls

DEFAULT_TIMEOUT_MS = 2000
POLL_MS = 1000
FETCH_MAX_BYTES = 8 << 20

EXAMPLES = """\
examples:
  weir consume orders --from-beginning --max 10
  weir consume orders --partition 2 --offset 1500 --timeout-ms 5000
  weir consume orders --since 2024-06-01T12:00:00Z
  weir consume orders --from-beginning | jq .value
  weir consume orders --group billing --reset earliest --max 100   # commits as it prints

exit codes:
  0 done (including no records)   2 unknown topic or partition, offset out of range,
  or usage   3 server unreachable   4 server error
"""


def add_parser(commands: Any) -> None:
    """Register `weir consume`."""
    p = commands.add_parser(
        "consume",
        help="print a topic's records as JSON lines, decoded with the registry",
        description="Read records from TOPIC and print one JSON object per record.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("topic", metavar="TOPIC")
    start = p.add_mutually_exclusive_group()
    start.add_argument(
        "--from-beginning", action="store_true", help="start at each partition's log start"
    )
    start.add_argument("--offset", type=int, metavar="N", help="start at offset N (--partition)")
    start.add_argument(
        "--since", metavar="ISO8601", help="start at the first record at or after this time (UTC)"
    )
    p.add_argument("--partition", type=int, metavar="P", help="read only partition P")
    p.add_argument(
        "--group",
        metavar="GROUP",
        help="consume as a member of this consumer group: read its assigned partitions from "
        "the committed offsets and commit after each printed record",
    )
    p.add_argument(
        "--reset",
        choices=("earliest", "latest"),
        help="with --group: where a partition without a committed offset starts "
        "(auto.offset.reset; default latest)",
    )
    p.add_argument("--max", type=int, metavar="N", help="stop after N records")
    p.add_argument(
        "--timeout-ms",
        type=int,
        metavar="T",
        help=f"stop after T ms without a new record (default {DEFAULT_TIMEOUT_MS} without --max)",
    )
    add_connection_args(p)
    p.set_defaults(run=command(_consume))


def _consume(args: argparse.Namespace, out: Output) -> int:
    if args.max is not None and args.max < 1:
        raise InvalidArgumentError(f"--max must be at least 1, got {args.max}")
    if args.timeout_ms is not None and args.timeout_ms < 0:
        raise InvalidArgumentError(f"--timeout-ms must be >= 0, got {args.timeout_ms}")
    timeout_ms = args.timeout_ms
    if timeout_ms is None and args.max is None:
        timeout_ms = DEFAULT_TIMEOUT_MS
    if args.group is not None:
        return _consume_group(args, timeout_ms)
    if args.reset is not None:
        raise InvalidArgumentError("--reset applies to --group only; add --group GROUP")
    with connect(args) as clients:
        positions = _start(clients.admin, args)
        count = _loop(clients, args.topic, positions, args.max, timeout_ms)
    print(f"weir: consumed {count} record{'s' if count != 1 else ''}", file=sys.stderr)
    return OK


def _consume_group(args: argparse.Namespace, timeout_ms: int | None) -> int:
    for flag, given in (
        ("--partition", args.partition is not None),
        ("--offset", args.offset is not None),
        ("--since", args.since is not None),
    ):
        if given:
            raise InvalidArgumentError(
                f"{flag} cannot be used with --group: the group's committed offsets and "
                "assignment decide what is read; use `weir group reset` to move them"
            )
    if not args.group.strip():
        raise InvalidArgumentError("--group is empty; name the consumer group")
    if args.from_beginning and args.reset == "latest":
        raise InvalidArgumentError(
            "--from-beginning contradicts --reset latest; with --group, --from-beginning "
            "means --reset earliest (it applies only to partitions without a commit)"
        )
    reset = args.reset or ("earliest" if args.from_beginning else "latest")
    member = Member(group=args.group, topic=args.topic, reset=reset)
    with connect(args) as clients:
        clients.admin.describe_topic(args.topic)  # an unknown topic fails before joining
        schemas = Schemas(clients.registry)

        def fetch(positions: dict[int, int], wait_ms: int) -> list[tuple[int, list[Any]]]:
            return _fetch(clients, args.topic, positions, wait_ms)

        def show(partition: int, record: lp.StoredRecord) -> None:
            _print(record_json(schemas, args.topic, partition, record))

        count = consume_in_group(
            clients, member, fetch, show, max_records=args.max, timeout_ms=timeout_ms
        )
    print(f"weir: consumed {count} record{'s' if count != 1 else ''}", file=sys.stderr)
    return OK


def _start(admin: Admin, args: argparse.Namespace) -> dict[int, int]:
    """The first offset to read, per partition."""
    topic = admin.describe_topic(args.topic)
    parts = topic.partitions
    if args.partition is not None:
        if not 0 <= args.partition < topic.partition_count:
            raise InvalidArgumentError(
                f"topic '{topic.name}' has partitions 0..{topic.partition_count - 1}, "
                f"not {args.partition}"
            )
        parts = tuple(p for p in parts if p.partition == args.partition)
    if args.offset is not None:
        return _at_offset(topic, args.offset, args.partition)
    if args.since is not None:
        since = _parse_time(args.since)
        starts = {}
        for p in parts:
            found = admin.list_offsets(topic.name, p.partition, since)
            starts[p.partition] = found.log_end_offset if found.offset is None else found.offset
        return starts
    if args.from_beginning:
        return {p.partition: p.log_start_offset for p in parts}
    return {p.partition: p.log_end_offset for p in parts}


def _at_offset(topic: TopicInfo, offset: int, partition: int | None) -> dict[int, int]:
    if partition is None:
        if topic.partition_count != 1:
            raise InvalidArgumentError(
                f"--offset needs --partition: topic '{topic.name}' has "
                f"{topic.partition_count} partitions"
            )
        partition = 0
    bounds = topic.partitions[partition]
    if not bounds.log_start_offset <= offset <= bounds.log_end_offset:
        raise InvalidArgumentError(
            f"offset {offset} is out of range for partition {partition} of '{topic.name}': "
            f"log start {bounds.log_start_offset}, log end {bounds.log_end_offset}"
        )
    return {partition: offset}


def _parse_time(text: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidArgumentError(
            f"--since {text!r} is not an ISO 8601 time; for example 2024-06-01T12:00:00Z"
        ) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def _loop(
    clients: Clients,
    topic: str,
    positions: dict[int, int],
    max_records: int | None,
    timeout_ms: int | None,
) -> int:
    """Fetch and print until --max records or the idle timeout; returns the count."""
    schemas = Schemas(clients.registry)
    count = 0
    idle_since = time.monotonic()
    while max_records is None or count < max_records:
        idle_ms = (time.monotonic() - idle_since) * 1000
        if timeout_ms is not None and idle_ms >= timeout_ms:
            break
        wait = POLL_MS if timeout_ms is None else max(0, min(POLL_MS, int(timeout_ms - idle_ms)))
        got = 0
        for partition, records in _fetch(clients, topic, positions, wait):
            for record in records:
                if max_records is not None and count >= max_records:
                    break
                _print(record_json(schemas, topic, partition, record))
                positions[partition] = record.offset + 1
                count += 1
                got += 1
        if got:
            idle_since = time.monotonic()
    return count


def _fetch(
    clients: Clients, topic: str, positions: dict[int, int], wait_ms: int
) -> list[tuple[int, list[lp.StoredRecord]]]:
    """One long-polling Fetch from every position; a partition error is raised."""
    request = ls.FetchRequest(max_wait_ms=wait_ms, min_bytes=1, max_bytes=FETCH_MAX_BYTES)
    for partition, offset in sorted(positions.items()):
        request.partitions.add(topic=topic, partition=partition, offset=offset)
    found = []
    for part in clients.log.fetch(request).partitions:
        if part.error_reason:
            name = errors_pb2.ErrorReason.Name(part.error_reason)
            raise error_class(name.removeprefix("ERROR_REASON_"))(part.error_message)
        found.append((part.partition, list(part.records)))
    return found


def _print(doc: dict[str, Any]) -> None:
    if not emit(dumps(doc)):  # `weir consume ... | head`: the reader has gone, stop quietly
        raise SystemExit(OK)


def record_json(
    schemas: Schemas, topic: str, partition: int, record: lp.StoredRecord
) -> dict[str, Any]:
    """One stored record as the JSON object `weir consume` prints."""
    doc: dict[str, Any] = {
        "topic": topic,
        "partition": partition,
        "offset": record.offset,
        "timestamp": record.timestamp_ms,
    }
    key = record.key if record.HasField("key") else None
    value = record.value if record.HasField("value") else None
    doc["key"], key_id = _field(schemas, doc, "key", key, record.key_schema_id)
    doc["value"], value_id = _field(schemas, doc, "value", value, record.value_schema_id)
    headers: dict[str, Any] = {}
    for h in record.headers:
        text = h.value.decode("utf-8", errors="backslashreplace")
        prior = headers.get(h.key)
        if prior is None:
            headers[h.key] = text
        else:
            headers[h.key] = [*prior, text] if isinstance(prior, list) else [prior, text]
    doc["headers"] = headers
    doc["schema_id"] = value_id
    doc["key_schema_id"] = key_id
    return doc


def _field(
    schemas: Schemas, doc: dict[str, Any], part: str, data: bytes | None, stored_id: int
) -> tuple[Any, int]:
    if data is None:
        return None, 0
    try:
        decoded, schema_id = schemas.decode(data, stored_id)
        if schema_id:
            return decoded, schema_id
    except UnavailableError:
        raise
    except WeirError as e:  # a record that does not decode is shown raw, with the reason
        doc[f"{part}_error"] = e.message
    value, is_base64 = raw_value(data, parse_json=part == "value")
    if is_base64:
        doc[f"{part}_base64"] = True
    return value, 0
