"""`weir group ...`: list, describe, reset and delete consumer groups.

Every command talks to a running server (``--server``, default $WEIR_SERVER or
localhost:50051) and prints text or, with ``--output json``, one JSON document. Exit codes:
0 success, 1 refused (the group still has active members: stop them, or reset with
``--force``), 2 invalid input, usage or unknown group, 3 server unreachable, 4 server fault.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
from typing import Any

from weir.core.errors import GroupNotEmptyError, InvalidArgumentError
from weir.sdk import Admin, GroupDescription, GroupSummary, ResetResult, ResetTarget
from weir.sdk.cli._broker import AdminCommand, admin_subcommands
from weir.sdk.cli._output import OK, Output

REFUSED = 1

EXIT_CODES = """\
exit codes:
  0 success   1 refused (the group has active members)   2 invalid input, usage, or
  unknown group   3 server unreachable   4 unexpected server error
"""

GROUP_EXAMPLES = f"""\
examples:
  weir group list
  weir group describe billing
  weir group reset billing --topic orders --by-duration PT1H --dry-run
  weir group delete billing

{EXIT_CODES}"""

EXAMPLES = {
    "list": """\
examples:
  weir group list
  weir group list --output json
""",
    "describe": """\
examples:
  weir group describe billing          # per partition: committed, end, lag, lag s, owner
  weir group describe billing --output json
""",
    "reset": """\
examples:
  weir group reset billing --to-earliest --dry-run      # preview: what would be re-read
  weir group reset billing --topic orders --to-datetime 2024-06-01T12:00:00Z
  weir group reset billing --topic orders --by-duration PT1H   # replay the last hour
  weir group reset billing --to-offset 1500 --topic orders --force   # even with members
""",
    "delete": """\
examples:
  weir group delete billing            # only a group without members
""",
}


_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def add_parser(commands: Any) -> None:
    """Register `weir group` and its commands."""
    subcommand = admin_subcommands(
        commands,
        "group",
        help_text="list, describe (lag), reset (replay) and delete consumer groups",
        description="Manage the consumer groups of a running server.",
        epilog=GROUP_EXAMPLES,
        positional=("group", "GROUP", "the consumer group id"),
    )

    def add(name: str, help_text: str, run: AdminCommand) -> argparse.ArgumentParser:
        return subcommand(name, help_text, run, EXAMPLES[name] + "\n" + EXIT_CODES)

    add("list", "list consumer groups", _list)
    add("describe", "show a group's members and per-partition offsets and lag", _describe)

    p = add("reset", "move a group's committed offsets (replay or skip)", _reset)
    p.add_argument("--topic", metavar="T", help="reset this topic only (default: all topics)")
    to = p.add_mutually_exclusive_group(required=True)
    to.add_argument("--to-earliest", action="store_true", help="to each log start")
    to.add_argument("--to-latest", action="store_true", help="to each log end (skip all)")
    to.add_argument("--to-offset", type=int, metavar="N", help="to offset N, clamped")
    to.add_argument(
        "--to-datetime", metavar="ISO8601", help="to the first record at or after this time"
    )
    to.add_argument(
        "--by-duration",
        metavar="DURATION",
        help="to the first record at or after now minus an ISO 8601 duration (PT1H, P1D)",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="show the targets and counts; change nothing"
    )
    p.add_argument("--force", action="store_true", help="reset even while members are active")

    add("delete", "delete a group without members and its committed offsets", _delete)


# ----- parsing -----------------------------------------------------------------------------


def parse_duration(text: str) -> dt.timedelta:
    """An ISO 8601 duration such as PT1H, PT30M, P1D or P1DT12H as a timedelta."""
    found = _DURATION.match(text.strip().upper())
    if not found or text.strip().upper() in ("P", "PT") or text.strip().upper().endswith("T"):
        raise InvalidArgumentError(
            f"--by-duration {text!r} is not an ISO 8601 duration; for example PT1H "
            "(an hour), PT30M, P1D (a day) or P1DT12H"
        )
    parts = {k: float(v) for k, v in found.groupdict().items() if v is not None}
    duration = dt.timedelta(**parts)
    if duration <= dt.timedelta(0):
        raise InvalidArgumentError(f"--by-duration {text!r} is zero; give a positive duration")
    return duration


def parse_datetime(text: str) -> dt.datetime:
    """An ISO 8601 time; without a timezone it is UTC."""
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidArgumentError(
            f"--to-datetime {text!r} is not an ISO 8601 time; for example 2024-06-01T12:00:00Z"
        ) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def reset_target(args: argparse.Namespace) -> ResetTarget:
    """The reset target the mutually exclusive --to-*/--by-duration options name."""
    if args.to_earliest:
        return "earliest"
    if args.to_latest:
        return "latest"
    if args.to_offset is not None:
        if args.to_offset < 0:
            raise InvalidArgumentError(f"--to-offset must be >= 0, got {args.to_offset}")
        return int(args.to_offset)
    if args.to_datetime is not None:
        return parse_datetime(args.to_datetime)
    return parse_duration(args.by_duration)


# ----- formatting --------------------------------------------------------------------------


def summary_json(group: GroupSummary) -> dict[str, Any]:
    """A listed group as JSON."""
    return {
        "group_id": group.group_id,
        "state": group.state,
        "member_count": group.member_count,
        "assignor": group.assignor,
        "group_epoch": group.group_epoch,
    }


def list_text(groups: list[GroupSummary]) -> str:
    """Listed groups as an aligned table (nothing for no groups)."""
    if not groups:
        return ""
    rows = [["GROUP", "STATE", "MEMBERS"]]
    rows += [[g.group_id, g.state, str(g.member_count)] for g in groups]
    return table(rows)


def group_json(group: GroupDescription) -> dict[str, Any]:
    """A described group as JSON."""
    return {
        "group_id": group.group_id,
        "state": group.state,
        "group_epoch": group.group_epoch,
        "assignment_epoch": group.assignment_epoch,
        "assignor": group.assignor,
        "total_lag_records": group.total_lag_records,
        "max_lag_ms": group.max_lag_ms,
        "members": [
            {
                "member_id": m.member_id,
                "instance_id": m.instance_id,
                "member_epoch": m.member_epoch,
                "state": m.state,
                "subscribed_topics": list(m.subscribed_topics),
                "subscribed_topic_regex": m.subscribed_topic_regex,
                "assignment": [{"topic": t, "partition": p} for t, p in m.assignment],
                "target_assignment": [{"topic": t, "partition": p} for t, p in m.target_assignment],
            }
            for m in group.members
        ],
        "partitions": [
            {
                "topic": p.topic,
                "partition": p.partition,
                "committed_offset": p.committed_offset,
                "log_start_offset": p.log_start_offset,
                "log_end_offset": p.log_end_offset,
                "lag_records": p.lag_records,
                "lag_ms": p.lag_ms,
                "owner": p.owner_member_id,
                "owner_instance_id": p.owner_instance_id,
            }
            for p in group.partitions
        ],
    }


def group_text(group: GroupDescription) -> str:
    """A described group: a header line, its members, and a table row per partition."""
    lines = [
        f"Group: {group.group_id}  State: {group.state}  Members: {len(group.members)}  "
        f"Epoch: {group.group_epoch}  Assignor: {group.assignor}",
        f"Lag: {group.total_lag_records} record{'s' if group.total_lag_records != 1 else ''}, "
        f"oldest unconsumed {_seconds(group.max_lag_ms)} s",
    ]
    for m in group.members:
        owned = ", ".join(f"{t}/{p}" for t, p in m.assignment) or "(nothing)"
        static = f" instance {m.instance_id}" if m.instance_id else ""
        lines.append(f"  Member {m.member_id}{static} epoch {m.member_epoch} {m.state}: {owned}")
    if group.partitions:
        rows = [["TOPIC", "PARTITION", "COMMITTED", "END", "LAG", "LAG_S", "OWNER"]]
        for p in group.partitions:
            owner = p.owner_member_id or "-"
            if p.owner_instance_id:
                owner += f" ({p.owner_instance_id})"
            rows.append(
                [
                    p.topic,
                    str(p.partition),
                    "-" if p.committed_offset is None else str(p.committed_offset),
                    str(p.log_end_offset),
                    str(p.lag_records),
                    _seconds(p.lag_ms),
                    owner,
                ]
            )
        lines.append(table(rows))
    return "\n".join(lines)


def reset_json(result: ResetResult) -> dict[str, Any]:
    """A reset (or dry run) as JSON."""
    return {
        "applied": result.applied,
        "redelivered_records": result.redelivered_records,
        "records_to_read": result.records_to_read,
        "resets": [
            {
                "topic": r.topic,
                "partition": r.partition,
                "previous_offset": r.previous_offset,
                "new_offset": r.new_offset,
                "redelivered_records": r.redelivered_records,
                "skipped_records": r.skipped_records,
                "records_to_read": r.records_to_read,
            }
            for r in result.resets
        ],
    }


def reset_text(group: str, result: ResetResult) -> str:
    """A reset as a table per partition, with a line saying whether anything was stored."""
    n = len(result.resets)
    head = (
        f"reset group {group}: {n} partition{'s' if n != 1 else ''}"
        if result.applied
        else f"dry run for group {group}: nothing changed; {n} partition{'s' if n != 1 else ''}"
    )
    head += (
        f", {result.redelivered_records} records re-delivered, "
        f"{result.records_to_read} records to read"
    )
    rows = [["TOPIC", "PARTITION", "FROM", "TO", "REDELIVERED", "SKIPPED", "TO_READ"]]
    for r in result.resets:
        rows.append(
            [
                r.topic,
                str(r.partition),
                "-" if r.previous_offset is None else str(r.previous_offset),
                str(r.new_offset),
                str(r.redelivered_records),
                str(r.skipped_records),
                str(r.records_to_read),
            ]
        )
    return head + ("\n" + table(rows) if result.resets else "")


def table(rows: list[list[str]]) -> str:
    """Rows as left-aligned columns two spaces apart, without trailing spaces."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _seconds(ms: int) -> str:
    return f"{ms / 1000:.1f}"


# ----- commands ----------------------------------------------------------------------------


def _list(args: argparse.Namespace, out: Output, admin: Admin) -> int:
    groups = admin.list_groups()
    out.result({"groups": [summary_json(g) for g in groups]}, list_text(groups))
    return OK


def _describe(args: argparse.Namespace, out: Output, admin: Admin) -> int:
    group = admin.describe_group(args.group)
    out.result(group_json(group), group_text(group))
    return OK


def _reset(args: argparse.Namespace, out: Output, admin: Admin) -> int:
    target = reset_target(args)
    try:
        result = admin.reset_offsets(
            args.group, args.topic, to=target, dry_run=args.dry_run, force=args.force
        )
    except GroupNotEmptyError as e:
        out.error(e)
        return REFUSED
    out.result(reset_json(result), reset_text(args.group, result))
    return OK


def _delete(args: argparse.Namespace, out: Output, admin: Admin) -> int:
    try:
        deleted = admin.delete_group(args.group)
    except GroupNotEmptyError as e:
        out.error(e)
        return REFUSED
    n = deleted.deleted_offsets
    out.result(
        {"deleted": deleted.group_id, "deleted_offsets": n},
        f"deleted group {deleted.group_id} and {n} committed offset{'s' if n != 1 else ''}",
    )
    return OK
