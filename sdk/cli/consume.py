"""`weir consume TOPIC`: print records as JSON lines, decoded with the registry.

Reads every partition (or ``--partition``) with the SDK Consumer, from the end (the
default, like Kafka's console consumer), the beginning, an offset or a time. It stops after
``--max`` records, or when ``--timeout-ms`` passes with no new record (2000 ms when
``--max`` is not given; without a timeout and with ``--max`` it waits for ``--max``
records). Without ``--group`` nothing is committed; with ``--group GROUP`` it is a member
of that consumer group, reads the partitions the coordinator assigns from the group's
commits (else from ``--reset``), commits each printed record, and leaves the group on exit
(including Ctrl-C and SIGTERM) so its partitions move at once.

Each line: topic, partition, offset, timestamp (ms), key, value, headers, schema_id,
key_schema_id. Framed keys and values are decoded with the schema their frame names;
unframed values are shown as JSON when they parse, else as text; bytes that are not UTF-8
are shown in base64 with ``"key_base64"``/``"value_base64": true``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import signal
import sys
import threading
import time
from typing import Any

from weir.core.errors import (
    InvalidArgumentError,
    PartitionNotAssignedError,
    StaleMemberEpochError,
    UnavailableError,
    WeirError,
)
from weir.sdk import Admin, Consumer, Message, TopicInfo, TopicPartition
from weir.sdk.cli._broker import add_connection_args, connect
from weir.sdk.cli._codec import Schemas, dumps, raw_value
from weir.sdk.cli._output import OK, Output, command, emit

DEFAULT_TIMEOUT_MS = 2000
POLL_MS = 1000

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
        consumer = Consumer(
            None,
            server=clients.server,
            auto_offset_reset="none",
            timeout_s=clients.admin.timeout_s,
            credentials=clients.admin.credentials,
        )
        with consumer:
            for partition, offset in positions.items():
                consumer.assign([*consumer.assignment(), TopicPartition(args.topic, partition)])
                consumer.seek(TopicPartition(args.topic, partition), offset)
            with _Stop() as stop:
                count = _read(
                    consumer, Schemas(clients.registry), args.max, timeout_ms, stop, commit=False
                )
    stop.exit_if_signalled()
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
    earliest = args.reset == "earliest" or (args.reset is None and args.from_beginning)
    with connect(args) as clients:
        clients.admin.describe_topic(args.topic)  # an unknown topic fails before joining
        consumer = Consumer(
            args.group,
            [args.topic],
            server=clients.server,
            auto_offset_reset="earliest" if earliest else "latest",
            timeout_s=clients.admin.timeout_s,
            credentials=clients.admin.credentials,
        )
        try:
            with _Stop() as stop:
                count = _read(
                    consumer, Schemas(clients.registry), args.max, timeout_ms, stop, commit=True
                )
        finally:
            consumer.close()  # leaves the group, so its partitions move at once
    stop.exit_if_signalled()
    print(f"weir: consumed {count} record{'s' if count != 1 else ''}", file=sys.stderr)
    return OK


class _Stop:
    """SIGINT and SIGTERM stop the read loop between polls (at most POLL_MS later), never in
    the middle of a call: a KeyboardInterrupt raised inside a lock or a gRPC call could leave
    the consumer unable to close and leave its group. The exit code is still 130 or 143."""

    def __init__(self) -> None:
        self.signum = 0
        """The signal that asked to stop, or 0."""
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _Stop:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._on_signal)
        return self

    def _on_signal(self, signum: int, frame: object) -> None:
        self.signum = signum

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def exit_if_signalled(self) -> None:
        """After the consumer closed: end as the signal would have (130 for SIGINT)."""
        if self.signum == signal.SIGINT:
            raise KeyboardInterrupt
        if self.signum:
            raise SystemExit(128 + self.signum)


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


def _read(
    consumer: Consumer,
    schemas: Schemas,
    max_records: int | None,
    timeout_ms: int | None,
    stop: _Stop,
    *,
    commit: bool,
) -> int:
    """Print records until --max, the idle timeout or a signal (committing each, in a group);
    the count."""
    count = 0
    idle_since = time.monotonic()
    while (max_records is None or count < max_records) and not stop.signum:
        idle_ms = (time.monotonic() - idle_since) * 1000
        if timeout_ms is not None and idle_ms >= timeout_ms:
            break
        wait = POLL_MS if timeout_ms is None else max(0, min(POLL_MS, int(timeout_ms - idle_ms)))
        message = consumer.poll(wait / 1000)
        if message is None:
            continue
        _print(message_json(schemas, message))
        count += 1
        idle_since = time.monotonic()
        if commit:  # a partition that moved meanwhile is re-read by its new owner
            with contextlib.suppress(PartitionNotAssignedError, StaleMemberEpochError):
                consumer.commit(message)
    return count


def _print(doc: dict[str, Any]) -> None:
    if not emit(dumps(doc)):  # `weir consume ... | head`: the reader has gone, stop quietly
        raise SystemExit(OK)


def message_json(schemas: Schemas, message: Message) -> dict[str, Any]:
    """One record as the JSON object `weir consume` prints."""
    doc: dict[str, Any] = {
        "topic": message.topic,
        "partition": message.partition,
        "offset": message.offset,
        "timestamp": message.timestamp,
    }
    key, value = message.key, message.value
    doc["key"], key_id = _field(schemas, doc, "key", key, message.key_schema_id or 0)
    doc["value"], value_id = _field(schemas, doc, "value", value, message.schema_id or 0)
    headers: dict[str, Any] = {}
    for name, raw in message.headers:
        text = raw.decode("utf-8", errors="backslashreplace")
        prior = headers.get(name)
        if prior is None:
            headers[name] = text
        else:
            headers[name] = [*prior, text] if isinstance(prior, list) else [prior, text]
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
