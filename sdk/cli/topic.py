"""`weir topic ...`: create, list, describe, alter, grow and delete topics.

Every command talks to a running server (``--server``, default $WEIR_SERVER or
localhost:50051) and prints text or, with ``--output json``, one JSON document. Exit codes:
0 success, 1 refused (the topic already exists), 2 invalid input or usage (including unknown
topics and bad config), 3 server unreachable, 4 server fault.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from weir.core.errors import InvalidArgumentError, TopicAlreadyExistsError
from weir.sdk import Admin, TopicInfo
from weir.sdk.cli._broker import AdminCommand, admin_subcommands
from weir.sdk.cli._output import OK, Output

REFUSED = 1

EXIT_CODES = """\
exit codes:
  0 success   1 refused (topic already exists)   2 invalid input, usage, or not found
  3 server unreachable   4 unexpected server error
"""

GROUP_EXAMPLES = f"""\
examples:
  weir topic create orders --partitions 3 --config retention.ms=86400000
  weir topic list
  weir topic describe orders --output json
  weir topic alter orders --config on.invalid=reject_record --remove retention.ms
  weir topic add-partitions orders --count 6
  weir topic delete orders

{EXIT_CODES}"""

EXAMPLES = {
    "create": """\
examples:
  weir topic create orders --partitions 3
  weir topic create events --partitions 1 --config cleanup.policy=compact \\
      --config value.schema.validation=id
""",
    "list": """\
examples:
  weir topic list
  weir topic list --internal --output json
""",
    "describe": """\
examples:
  weir topic describe orders                   # partitions with log start/end offsets
  weir topic describe orders --output json
""",
    "alter": """\
examples:
  weir topic alter orders --config retention.ms=3600000
  weir topic alter orders --config on.invalid=dead_letter --remove segment.bytes
""",
    "add-partitions": """\
examples:
  weir topic add-partitions orders --count 6   # the new total; never shrinks
""",
    "delete": """\
examples:
  weir topic delete orders
""",
}


def add_parser(commands: Any) -> None:
    """Register `weir topic` and its commands."""
    subcommand = admin_subcommands(
        commands,
        "topic",
        help_text="create, list, describe, configure, grow and delete topics",
        description="Manage the topics of a running server.",
        epilog=GROUP_EXAMPLES,
        positional=("name", "NAME", "the topic name"),
    )

    def add(name: str, help_text: str, run: AdminCommand) -> argparse.ArgumentParser:
        return subcommand(name, help_text, run, EXAMPLES[name] + "\n" + EXIT_CODES)

    p = add("create", "create a topic", _create)
    p.add_argument("--partitions", type=int, required=True, metavar="N", help="at least 1")
    _config_arg(p, "a config override (Kafka key name); repeat for each")

    p = add("list", "list topics", _list)
    p.add_argument("--internal", action="store_true", help="also list internal topics")

    add("describe", "show a topic's config and partitions with their offsets", _describe)

    p = add("alter", "set or remove a topic's config overrides", _alter)
    _config_arg(p, "set this override; repeat for each")
    p.add_argument(
        "--remove",
        action="append",
        default=[],
        metavar="KEY",
        help="remove this override so its default applies; repeat for each",
    )

    p = add("add-partitions", "grow a topic to a larger partition count", _add_partitions)
    p.add_argument("--count", type=int, required=True, metavar="N", help="the new total count")

    add("delete", "delete a topic and all its data", _delete)


def _config_arg(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument(
        "--config", action="append", default=[], metavar="KEY=VALUE", help=help_text
    )


def parse_config(pairs: Sequence[str]) -> dict[str, str]:
    """``KEY=VALUE`` arguments as a dict; a malformed or repeated one is bad input."""
    config: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InvalidArgumentError(
                f"--config {pair!r} is not KEY=VALUE; for example --config retention.ms=3600000"
            )
        if key in config:
            raise InvalidArgumentError(f"--config sets {key} twice; give each key once")
        config[key] = value
    return config


def topic_json(topic: TopicInfo, partitions: bool = True) -> dict[str, Any]:
    """A topic as JSON."""
    doc: dict[str, Any] = {
        "name": topic.name,
        "partition_count": topic.partition_count,
        "config": dict(topic.config),
        "internal": topic.internal,
    }
    if partitions:
        doc["partitions"] = [
            {
                "partition": p.partition,
                "log_start_offset": p.log_start_offset,
                "log_end_offset": p.log_end_offset,
            }
            for p in topic.partitions
        ]
    return doc


def topic_text(topic: TopicInfo) -> str:
    """A topic as a few lines of text."""
    lines = [
        f"Topic: {topic.name}  Partitions: {topic.partition_count}"
        + ("  (internal)" if topic.internal else "")
    ]
    config = ", ".join(f"{k}={v}" for k, v in topic.config.items())
    lines.append(f"Config: {config or '(defaults)'}")
    for p in topic.partitions:
        records = p.log_end_offset - p.log_start_offset
        lines.append(
            f"  Partition {p.partition}: log start {p.log_start_offset}, "
            f"log end {p.log_end_offset} ({records} record{'s' if records != 1 else ''})"
        )
    return "\n".join(lines)


def _create(args: argparse.Namespace, out: Output, admin: Admin) -> int:
    try:
        topic = admin.create_topic(args.name, args.partitions, parse_config(args.config))
    except TopicAlreadyExistsError as e:
        out.error(e)
        return REFUSED
    out.result(
        topic_json(topic),
        f"created topic {topic.name} with {topic.partition_count} partition"
        f"{'s' if topic.partition_count != 1 else ''}",
    )
    return OK


def _list(args: argparse.Namespace, out: Output, admin: Admin) -> int:
    topics = admin.list_topics(include_internal=args.internal)
    out.result(
        {"topics": [topic_json(t, partitions=False) for t in topics]},
        "\n".join(t.name for t in topics),
    )
    return OK


def _describe(args: argparse.Namespace, out: Output, admin: Admin) -> int:
    topic = admin.describe_topic(args.name)
    out.result(topic_json(topic), topic_text(topic))
    return OK


def _alter(args: argparse.Namespace, out: Output, admin: Admin) -> int:
    if not args.config and not args.remove:
        raise InvalidArgumentError("nothing to change: pass --config KEY=VALUE or --remove KEY")
    topic = admin.alter_config(args.name, parse_config(args.config), args.remove)
    config = ", ".join(f"{k}={v}" for k, v in topic.config.items())
    out.result(topic_json(topic), f"updated {topic.name}; config: {config or '(defaults)'}")
    return OK


def _add_partitions(args: argparse.Namespace, out: Output, admin: Admin) -> int:
    topic = admin.add_partitions(args.name, args.count)
    out.result(topic_json(topic), f"{topic.name} now has {topic.partition_count} partitions")
    return OK


def _delete(args: argparse.Namespace, out: Output, admin: Admin) -> int:
    admin.delete_topic(args.name)
    out.result({"deleted": args.name}, f"deleted topic {args.name}")
    return OK
