"""`weir group` parsing and formatting, and the group member's requests, without a server."""

from __future__ import annotations

import datetime as dt

import pytest

from weir.core.errors import InvalidArgumentError
from weir.sdk import GroupDescription, GroupMemberInfo, OffsetReset, PartitionLag, ResetResult
from weir.sdk.cli.group import group_text, parse_datetime, parse_duration, reset_text, table


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT1H", dt.timedelta(hours=1)),
        ("pt30m", dt.timedelta(minutes=30)),
        ("P1D", dt.timedelta(days=1)),
        ("P1DT12H", dt.timedelta(days=1, hours=12)),
        ("P2W", dt.timedelta(weeks=2)),
        ("PT1.5S", dt.timedelta(seconds=1.5)),
        ("PT1H30M15S", dt.timedelta(hours=1, minutes=30, seconds=15)),
    ],
)
def test_parse_duration(text: str, expected: dt.timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "P", "PT", "P1DT", "1h", "PT-1H", "P1H", "PT0S"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(InvalidArgumentError, match="--by-duration"):
        parse_duration(text)


def test_parse_datetime_defaults_to_utc() -> None:
    assert parse_datetime("2024-06-01T12:00:00") == dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC)
    aware = parse_datetime("2024-06-01T14:00:00+02:00")
    assert aware.astimezone(dt.UTC) == dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC)
    with pytest.raises(InvalidArgumentError, match="not an ISO 8601 time"):
        parse_datetime("noon")


def test_table_aligns_columns_without_trailing_spaces() -> None:
    assert table([["A", "BB"], ["ccc", "d"], ["e", ""]]).splitlines() == [
        "A    BB",
        "ccc  d",
        "e",
    ]


def _lag(partition: int, committed: int | None, owner: str | None) -> PartitionLag:
    return PartitionLag("orders", partition, committed, "", 0, 10, 10 - (committed or 0), 2500,
                        owner, "host-1" if owner else None)  # fmt: skip


def test_group_text_has_a_row_per_partition() -> None:
    member = GroupMemberInfo(
        "m-1", "host-1", 3, ("orders",), "", (("orders", 0),), (("orders", 0),), "stable", 45000, 1
    )
    group = GroupDescription(
        "billing", "stable", 3, 3, "uniform", (member,),
        (_lag(0, 4, "m-1"), _lag(1, None, None)), 16, 2500,
    )  # fmt: skip
    lines = group_text(group).splitlines()
    assert lines[0].startswith("Group: billing  State: stable  Members: 1")
    assert lines[1] == "Lag: 16 records, oldest unconsumed 2.5 s"
    assert "m-1 instance host-1 epoch 3 stable: orders/0" in lines[2]
    assert lines[4].split() == ["orders", "0", "4", "10", "6", "2.5", "m-1", "(host-1)"]
    assert lines[5].split() == ["orders", "1", "-", "10", "10", "2.5", "-"]


def test_reset_text_says_whether_it_was_a_dry_run() -> None:
    resets = (OffsetReset("orders", 0, 10, 6, 4, 0, 4), OffsetReset("orders", 1, None, 0, 0, 0, 2))
    dry = reset_text("billing", ResetResult(resets, applied=False)).splitlines()
    assert dry[0] == (
        "dry run for group billing: nothing changed; 2 partitions, "
        "4 records re-delivered, 6 records to read"
    )
    assert dry[2].split() == ["orders", "0", "10", "6", "4", "0", "4"]
    assert dry[3].split() == ["orders", "1", "-", "0", "0", "0", "2"]
    applied = reset_text("billing", ResetResult(resets, applied=True))
    assert applied.startswith("reset group billing: 2 partitions")
