"""`weir produce TOPIC`: JSON lines from stdin or a file, encoded with the topic's schemas.

Each value is encoded with the latest schema of ``<TOPIC>-value`` (Avro, Protobuf through
the JSON mapping, or JSON Schema) and framed in the Confluent wire format. When that subject
has no schema and the topic's ``value.schema.validation`` is ``none``, the JSON text is sent
as is. Records go out in batches (``--batch-size``, one Produce request each).

Exit codes: 0 every record appended; 1 some record was refused (each refusal is printed
with its input line number and the broker's reason); 2 invalid input (a malformed line stops
the run; the batches before it were sent), an unknown topic, or usage; 3 server unreachable.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from weir.core.errors import InvalidArgumentError, InvalidRecordError
from weir.sdk.cli._broker import Clients, add_connection_args, connect
from weir.sdk.cli._codec import Schemas
from weir.sdk.cli._output import INVALID, OK, Output, command, emit
from weir.sdk.cli._produce_lines import BadLine, LineEncoder
from weir.v1 import errors_pb2
from weir.v1 import log_pb2 as lp
from weir.v1 import log_service_pb2 as ls

REFUSED = 1
MAX_REQUEST_BYTES = 8 << 20
ACKS = {"0": lp.ACKS_NONE, "1": lp.ACKS_LEADER, "all": lp.ACKS_ALL}

EXAMPLES = """\
examples:
  echo '{"id": "o-1", "qty": 2}' | weir produce orders
  weir produce orders --file orders.jsonl --acks 1
  weir produce orders --with-keys <<'EOF'
  {"key": "customer-7", "value": {"id": "o-2", "qty": 1}, "headers": {"source": "cli"}}
  {"key": "customer-7", "value": null}
  EOF

input:
  one JSON value per line; with --with-keys one object per line:
  {"key": ..., "value": ..., "headers": {"name": "text"}, "timestamp": MS}
  ("value" is required; null is a tombstone). Blank lines are skipped.

exit codes:
  0 every record appended   1 some records refused (printed with their line numbers)
  2 malformed input, unknown topic, or usage   3 server unreachable   4 server error
"""


def add_parser(commands: Any) -> None:
    """Register `weir produce`."""
    p = commands.add_parser(
        "produce",
        help="produce JSON lines to a topic, encoded with its registered schema",
        description="Read JSON lines from stdin (or --file), encode each value with the latest "
        "schema of the subject TOPIC-value, and append them to TOPIC.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("topic", metavar="TOPIC")
    p.add_argument("--file", type=Path, metavar="FILE", help="read lines from FILE, not stdin")
    p.add_argument(
        "--with-keys", action="store_true", help='lines are {"key", "value", "headers"} objects'
    )
    p.add_argument("--partition", type=int, metavar="P", help="append every record to P")
    p.add_argument("--acks", choices=tuple(ACKS), default="all", help="durability (default all)")
    p.add_argument(
        "--batch-size", type=int, default=500, metavar="N", help="records per request (500)"
    )
    p.add_argument(
        "--output", choices=("text", "json"), default="text", help="output format (default text)"
    )
    add_connection_args(p)
    p.set_defaults(run=command(_produce))


@dataclass(slots=True)
class Report:
    """What happened to the input."""

    topic: str
    """The topic produced to."""
    appended: list[dict[str, int]] = field(default_factory=list)
    """{"line", "partition", "offset"} for each appended record."""
    refused: list[dict[str, Any]] = field(default_factory=list)
    """Each refused record: line, reason, message, subject, rule, field path, dead-lettered."""
    not_appended: list[int] = field(default_factory=list)
    """Lines of valid records in batches the broker rejected as a whole (on.invalid=reject)."""
    bad_lines: list[dict[str, Any]] = field(default_factory=list)
    """Malformed input lines: line and problem."""

    def json(self) -> dict[str, Any]:
        """The report as one JSON document."""
        return {
            "topic": self.topic,
            "produced": len(self.appended),
            "records": sorted(self.appended, key=lambda r: r["line"]),
            "refused": sorted(self.refused, key=lambda r: int(r["line"])),
            "not_appended": self.not_appended,
            "bad_lines": self.bad_lines,
        }


def _produce(args: argparse.Namespace, out: Output) -> int:
    if args.batch_size < 1:
        raise InvalidArgumentError(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.partition is not None and args.partition < 0:
        raise InvalidArgumentError(f"--partition must be >= 0, got {args.partition}")
    with connect(args) as clients:
        encoder = _encoder(clients, args.topic, args.with_keys)
        report = Report(args.topic)
        with _open(args.file) as lines:
            for chunk in _chunks(lines, args.batch_size):
                records: list[tuple[int, lp.Record]] = []
                for number, text in chunk:
                    try:
                        records.append((number, encoder.encode(number, text)))
                    except BadLine as bad:
                        report.bad_lines.append({"line": bad.number, "message": bad.problem})
                if report.bad_lines:
                    break
                for request_records in _by_size(records):
                    _send(clients, args, request_records, report)
    return _finish(out, report)


def _encoder(clients: Clients, topic: str, with_keys: bool) -> LineEncoder:
    """Look up the topic and the latest key and value schemas."""
    info = clients.admin.describe_topic(topic)
    schemas = Schemas(clients.registry)
    value_codec = schemas.latest(f"{topic}-value")
    validation = info.config.get("value.schema.validation", "strict")
    if value_codec is None and validation != "none":
        raise InvalidArgumentError(
            f"subject '{topic}-value' has no schema, and topic '{topic}' checks values "
            f"(value.schema.validation={validation}); register one with `weir schema register "
            f"{topic}-value FILE`, or set value.schema.validation=none to send raw JSON"
        )
    key_codec = schemas.latest(f"{topic}-key") if with_keys else None
    return LineEncoder(value_codec, key_codec, with_keys)


class _open:
    """The input file, or stdin (not closed)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.file: TextIO | None = None

    def __enter__(self) -> TextIO:
        if self.path is None:
            return sys.stdin
        try:
            self.file = self.path.open(encoding="utf-8")
        except OSError as e:
            raise InvalidArgumentError(f"cannot read {self.path}: {e.strerror}") from None
        return self.file

    def __exit__(self, *exc: object) -> None:
        if self.file is not None:
            self.file.close()


def _chunks(lines: TextIO, size: int) -> Iterator[list[tuple[int, str]]]:
    """Non-blank lines with their 1-based numbers, ``size`` at a time."""
    chunk: list[tuple[int, str]] = []
    try:
        for number, text in enumerate(lines, start=1):
            if text.strip():
                chunk.append((number, text))
            if len(chunk) >= size:
                yield chunk
                chunk = []
    except UnicodeDecodeError as e:
        raise InvalidArgumentError(f"the input is not UTF-8 text: {e}") from None
    if chunk:
        yield chunk


def _by_size(records: list[tuple[int, lp.Record]]) -> Iterator[list[tuple[int, lp.Record]]]:
    """Split a batch so no request carries more than MAX_REQUEST_BYTES."""
    part: list[tuple[int, lp.Record]] = []
    size = 0
    for item in records:
        weight = item[1].ByteSize()
        if part and size + weight > MAX_REQUEST_BYTES:
            yield part
            part, size = [], 0
        part.append(item)
        size += weight
    if part:
        yield part


def _send(
    clients: Clients,
    args: argparse.Namespace,
    records: list[tuple[int, lp.Record]],
    report: Report,
) -> None:
    """One Produce request; appended and refused records go into the report."""
    lines = [number for number, _ in records]
    batch = ls.ProduceBatch(records=[r for _, r in records])
    if args.partition is not None:
        batch.partition = args.partition
    request = ls.ProduceRequest(topic=args.topic, batches=[batch], acks=ACKS[args.acks])
    try:
        response = clients.log.produce(request)
    except InvalidRecordError as e:
        refusals = _rejected(e)
        if refusals is None:
            raise
        refused = set()
        for item in refusals:
            index = int(item.get("index", -1))
            line = lines[index] if 0 <= index < len(lines) else 0
            refused.add(line)
            report.refused.append(
                {
                    "line": line,
                    "reason": item.get("reason", e.reason),
                    "message": item.get("message", ""),
                }
            )
        report.not_appended.extend(n for n in lines if n not in refused)
        return
    for result in response.results:
        for index, offset in zip(result.record_indexes, result.offsets, strict=False):
            report.appended.append(
                {"line": lines[index], "partition": result.partition, "offset": offset}
            )
        for error in result.errors:
            report.refused.append(
                {
                    "line": lines[error.index],
                    "reason": _reason(error.reason),
                    "message": error.message,
                    "subject": error.subject,
                    "version": error.version,
                    "field_path": error.field_path,
                    "rule": error.rule,
                    "dead_lettered": error.dead_lettered,
                }
            )


def _rejected(error: InvalidRecordError) -> list[dict[str, Any]] | None:
    """The per-record refusals of a request rejected as a whole (on.invalid=reject)."""
    raw = error.metadata.get("refusals")
    if not raw:
        return None
    try:
        found = json.loads(raw)
    except ValueError:
        return None
    return [i for i in found if isinstance(i, dict)] if isinstance(found, list) else None


def _reason(number: int) -> str:
    try:
        return errors_pb2.ErrorReason.Name(number).removeprefix("ERROR_REASON_")
    except ValueError:
        return str(number)


def _finish(out: Output, report: Report) -> int:
    code = INVALID if report.bad_lines else REFUSED if report.refused else OK
    if out.json:
        emit(json.dumps(report.json(), indent=2))
        return code
    for item in sorted(report.refused, key=lambda r: r["line"]):
        where = " (sent to the dead-letter topic)" if item.get("dead_lettered") else ""
        print(f"weir: line {item['line']}: refused{where}: {item['message']}", file=sys.stderr)
    if report.not_appended:
        print(
            f"weir: {len(report.not_appended)} valid record(s) were not appended because their "
            "batch was rejected as a whole (on.invalid=reject): lines "
            f"{_ranges(report.not_appended)}",
            file=sys.stderr,
        )
    for item in report.bad_lines:
        print(f"weir: line {item['line']}: {item['message']}", file=sys.stderr)
    if report.bad_lines:
        first = report.bad_lines[0]["line"]
        print(
            f"weir: stopped at malformed input; nothing from line {first}'s batch on was sent "
            f"({len(report.appended)} record(s) appended before it)",
            file=sys.stderr,
        )
    partitions = sorted({r["partition"] for r in report.appended})
    where = f" (partitions {', '.join(map(str, partitions))})" if partitions else ""
    refused = f", refused {len(report.refused)}" if report.refused else ""
    emit(f"produced {len(report.appended)} records to {report.topic}{where}{refused}")
    return code


def _ranges(numbers: list[int]) -> str:
    """1,2,3,5 -> '1-3, 5'."""
    spans: list[list[int]] = []
    for n in sorted(numbers):
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in spans)
