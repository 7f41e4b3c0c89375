"""`weir group ...` and `weir consume --group` as subprocesses against a real server: help,
lag before and after consuming, continuing where the last run stopped, resets with dry-run
counts, refusals with exit codes, leaving on exit, and revocation between two consumers."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from tests.e2e.conftest import WEIR, Weir, clean_env
from weir.sdk import Admin
from weir.v1 import group_pb2 as gp
from weir.v1 import group_service_pb2 as gs
from weir.v1 import group_service_pb2_grpc as gs_grpc
from weir.v1 import log_pb2 as lp
from weir.v1 import log_service_pb2 as ls
from weir.v1 import log_service_pb2_grpc as ls_grpc

GROUP_COMMANDS = ("list", "describe", "reset", "delete")
MINUTE_MS = 60_000
FOREVER = ("--timeout-ms", "120000")
"""Keep a background consumer running until the test signals it (the default idle stop is 2 s)."""


@pytest.fixture
def at(server) -> tuple[str, str]:
    return ("--server", server.address)


@pytest.fixture
def admin(server) -> Iterator[Admin]:
    with Admin(server.address) as client:
        yield client


@pytest.fixture
def channel(server) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server.address) as ch:
        yield ch


def produce(channel: grpc.Channel, partition: int, timestamps: list[int]) -> None:
    """Raw JSON records into a partition of 'orders', one per timestamp."""
    records = [
        lp.Record(value=json.dumps({"n": i}).encode(), timestamp_ms=ts)
        for i, ts in enumerate(timestamps)
    ]
    ls_grpc.LogServiceStub(channel).Produce(
        ls.ProduceRequest(
            topic="orders",
            batches=[ls.ProduceBatch(partition=partition, records=records)],
            acks=lp.ACKS_ALL,
        )
    )


@pytest.fixture
def orders(admin: Admin, channel: grpc.Channel) -> int:
    """'orders' with 3 partitions and 4 records each, a minute apart from t0 (an hour ago)."""
    admin.create_topic("orders", 3, {"value.schema.validation": "none"})
    t0 = int(time.time() * 1000) - 60 * MINUTE_MS
    for p in range(3):
        produce(channel, p, [t0 + i * MINUTE_MS for i in range(4)])
    return t0


def positions(stdout: str) -> list[tuple[int, int]]:
    """(partition, offset) of every printed record."""
    return [(d["partition"], d["offset"]) for d in map(json.loads, stdout.splitlines())]


def consume(weir: Weir, at: tuple[str, str], *extra: str) -> list[tuple[int, int]]:
    done = weir("consume", "orders", "--group", "billing", "--reset", "earliest", *extra, *at)
    assert done.code == 0, done.stderr
    return positions(done.stdout)


def join(channel: grpc.Channel, group: str = "billing") -> gs.HeartbeatResponse:
    """A live member subscribed to 'orders' (its session outlives the test)."""
    return gs_grpc.GroupServiceStub(channel).Heartbeat(
        gs.HeartbeatRequest(group_id=group, topics=gp.TopicNames(names=["orders"]))
    )


def describe(weir: Weir, at: tuple[str, str], group: str = "billing") -> dict[str, Any]:
    done = weir("group", "describe", group, "--output", "json", *at)
    assert done.code == 0, done.stderr
    doc: dict[str, Any] = done.json()
    return doc


# ----- help and usage ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "command", [["group"], *[["group", c] for c in GROUP_COMMANDS]], ids=" ".join
)
def test_help_exits_0_with_examples_and_exit_codes(weir: Weir, command: list[str]) -> None:
    done = weir(*command, "--help")
    assert done.code == 0, done.stderr
    examples = done.stdout.split("examples:", 1)[1]
    assert f"weir {' '.join(command)}" in examples
    assert "exit codes" in done.stdout
    assert "1 refused" in done.stdout


def test_root_and_consume_help_mention_groups(weir: Weir) -> None:
    assert "group" in weir("--help").stdout
    consume_help = weir("consume", "--help").stdout
    assert "--group GROUP" in consume_help
    assert "--reset {earliest,latest}" in consume_help


@pytest.mark.parametrize(
    "args",
    [
        ["group"],
        ["group", "describe"],
        ["group", "reset", "billing"],  # a target is required
        ["group", "reset", "billing", "--to-earliest", "--to-latest"],
        ["group", "reset", "billing", "--to-offset", "many"],
        ["group", "list", "--output", "xml"],
        ["consume", "orders", "--group", "g", "--reset", "none"],
    ],
)
def test_usage_errors_exit_2(weir: Weir, args: list[str]) -> None:
    done = weir(*args)
    assert done.code == 2
    assert "usage:" in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["group", "reset", "g", "--by-duration", "1h"], "not an ISO 8601 duration"),
        (["group", "reset", "g", "--by-duration", "PT0S"], "is zero"),
        (["group", "reset", "g", "--to-datetime", "yesterday"], "not an ISO 8601 time"),
        (["group", "reset", "g", "--to-offset", "-3"], "--to-offset must be >= 0"),
        (["consume", "orders", "--group", "g", "--partition", "1"], "cannot be used with --group"),
        (["consume", "orders", "--group", "g", "--since", "2024-01-01"], "cannot be used with"),
        (["consume", "orders", "--reset", "earliest"], "--reset applies to --group only"),
        (
            ["consume", "orders", "--group", "g", "--from-beginning", "--reset", "latest"],
            "contradicts --reset latest",
        ),
        (["group", "describe", "ghost"], "consumer group 'ghost' does not exist"),
        (["consume", "nope", "--group", "g", "--max", "1"], "'nope'"),
    ],
)
def test_bad_input_exits_2(weir: Weir, orders: int, at, args: list[str], message: str) -> None:
    done = weir(*args, *at)
    assert done.code == 2, done.stderr
    assert message in done.stderr


def test_unreachable_server_exits_3(weir: Weir) -> None:
    done = weir("group", "list", "--server", "127.0.0.1:1", "--timeout", "2")
    assert done.code == 3
    assert "cannot reach the Weir server at" in done.stderr


# ----- consuming in a group ---------------------------------------------------------------


def test_second_run_continues_and_describe_shows_lag(weir: Weir, orders: int, at) -> None:
    assert weir("group", "describe", "billing", *at).code == 2  # no group before consuming

    first = consume(weir, at, "--max", "5")
    assert len(first) == 5
    before = describe(weir, at)
    assert before["state"] == "empty"  # --max reached: the member left
    assert before["members"] == []
    assert before["total_lag_records"] == 12 - 5
    lag = {p["partition"]: p["lag_records"] for p in before["partitions"]}
    read = {p: sum(1 for q, _ in first if q == p) for p in range(3)}
    assert lag == {p: 4 - read[p] for p in range(3)}
    assert before["max_lag_ms"] > 50 * MINUTE_MS  # the oldest unconsumed record is ~an hour old

    text = weir("group", "describe", "billing", *at).stdout
    header = text.splitlines()[2].split()
    assert header == ["TOPIC", "PARTITION", "COMMITTED", "END", "LAG", "LAG_S", "OWNER"]
    assert "Lag: 7 records" in text

    second = consume(weir, at, "--timeout-ms", "1500")
    assert len(second) == 7
    assert sorted(first + second) == [(p, o) for p in range(3) for o in range(4)]
    after = describe(weir, at)
    assert after["total_lag_records"] == 0
    assert after["max_lag_ms"] == 0
    assert [p["committed_offset"] for p in after["partitions"]] == [4, 4, 4]

    assert consume(weir, at, "--timeout-ms", "500") == []  # nothing left for this group
    assert len(consume(weir, at, "--timeout-ms", "1500", "--group", "audit")) == 12


def test_reset_latest_skips_what_was_there(weir: Weir, orders: int, at) -> None:
    done = weir(
        "consume", "orders", "--group", "late", "--reset", "latest", "--timeout-ms", "800", *at
    )
    assert done.code == 0, done.stderr
    assert done.stdout == ""
    assert [p["committed_offset"] for p in describe(weir, at, "late")["partitions"]] == [
        None,
        None,
        None,
    ]


@pytest.mark.usefixtures("server", "orders")
@pytest.mark.parametrize("stop", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_leaves_the_group(
    at, tmp_path: Path, admin: Admin, stop: tuple[signal.Signals, int]
) -> None:
    """Ctrl-C (or SIGTERM) stops between polls: the member leaves at once, exit 130 (143)."""
    sig, code = stop
    process = subprocess.Popen(
        [
            str(WEIR),
            "consume",
            "orders",
            "--group",
            "billing",
            "--reset",
            "earliest",
            *FOREVER,
            *at,
        ],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: _committed_total(admin, "billing") == 12)
        assert len(admin.describe_group("billing").members) == 1
        process.send_signal(sig)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == code, err
    assert len(positions(out)) == 12
    group = admin.describe_group("billing")  # gone at once, long before the session timeout
    assert group.members == ()
    assert group.state == "empty"


def test_a_closed_stdout_leaves_the_group(
    server, orders: int, at, tmp_path: Path, admin: Admin
) -> None:
    """`weir consume --group ... | head -1`: exit quietly, leave, and keep the commits."""
    process = subprocess.Popen(
        [
            str(WEIR),
            "consume",
            "orders",
            "--group",
            "billing",
            "--reset",
            "earliest",
            *FOREVER,
            *at,
        ],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    try:
        assert process.stdout is not None
        first = json.loads(process.stdout.readline())
        process.stdout.close()  # the reader goes away, as `head -1` does
        _, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "Traceback" not in err
    group = admin.describe_group("billing")
    assert group.members == ()  # left at once, long before the session timeout
    committed = {c.partition: c.offset for c in admin.committed_offsets("billing")}
    assert committed[first["partition"]] >= first["offset"] + 1


def test_two_consumers_split_the_partitions(  # noqa: PLR0917 - fixtures are parameters
    server, orders: int, at, tmp_path: Path, admin: Admin, channel: grpc.Channel
) -> None:
    def start() -> subprocess.Popen[str]:
        return subprocess.Popen(
            [
                str(WEIR),
                "consume",
                "orders",
                "--group",
                "billing",
                "--reset",
                "earliest",
                *FOREVER,
                *at,
            ],
            cwd=tmp_path,
            env=clean_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    first = start()
    second = None
    try:
        wait_until(lambda: _committed_total(admin, "billing") == 12)
        second = start()

        def split() -> bool:
            group = admin.describe_group("billing")
            owned = [set(m.assignment) for m in group.members]
            return group.state == "stable" and len(owned) == 2 and all(owned)

        wait_until(split, timeout_s=30)  # the first member released what the second got
        group = admin.describe_group("billing")
        a, b = (set(m.assignment) for m in group.members)
        assert not a & b
        assert a | b == {("orders", p) for p in range(3)}
        later = int(time.time() * 1000)
        for p in range(3):
            produce(channel, p, [later, later])
        wait_until(lambda: _committed_total(admin, "billing") == 18)
        for process in (first, second):
            process.send_signal(signal.SIGINT)
        outputs = [process.communicate(timeout=20)[0] for process in (first, second)]
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
    one, two = (positions(out) for out in outputs)
    assert sorted(x for x in one if x[1] < 4) == [(p, o) for p in range(3) for o in range(4)]
    new_one = {(p, o) for p, o in one if o >= 4}
    new_two = {(p, o) for p, o in two if o >= 4}
    assert not new_one & new_two  # each new record was read by its partition's one owner
    assert new_one | new_two == {(p, o) for p in range(3) for o in (4, 5)}
    assert all(o >= 4 for _, o in two)  # the second started from the first's commits
    assert admin.describe_group("billing").members == ()


def _committed_total(admin: Admin, group: str) -> int:
    try:
        return sum(c.offset or 0 for c in admin.committed_offsets(group))
    except Exception:
        return -1


def wait_until(check: Any, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)


# ----- reset, delete, list ----------------------------------------------------------------


def test_reset_dry_run_counts_match_what_is_reread(weir: Weir, orders: int, at) -> None:
    assert len(consume(weir, at, "--timeout-ms", "1500")) == 12
    since = dt.datetime.fromtimestamp((orders + 2 * MINUTE_MS) / 1000, tz=dt.UTC).isoformat()

    dry = weir(
        "group", "reset", "billing", "--topic", "orders", "--to-datetime", since, "--dry-run", *at
    )
    assert dry.code == 0, dry.stderr
    assert dry.stdout.startswith("dry run for group billing: nothing changed; 3 partitions")
    assert "6 records re-delivered" in dry.stdout
    dry_json = weir(
        "group", "reset", "billing", "--to-datetime", since, "--dry-run", "--output", "json", *at
    ).json()
    assert dry_json["applied"] is False
    assert dry_json["records_to_read"] == 6
    assert [(r["previous_offset"], r["new_offset"]) for r in dry_json["resets"]] == [(4, 2)] * 3
    assert [p["committed_offset"] for p in describe(weir, at)["partitions"]] == [4, 4, 4]

    done = weir("group", "reset", "billing", "--to-datetime", since, "--output", "json", *at)
    assert done.code == 0, done.stderr
    assert done.json()["applied"] is True
    reread = consume(weir, at, "--timeout-ms", "1500")
    assert len(reread) == dry_json["records_to_read"]
    assert sorted(reread) == [(p, o) for p in range(3) for o in (2, 3)]


def test_reset_by_duration_and_to_offset(weir: Weir, orders: int, at) -> None:
    consume(weir, at, "--timeout-ms", "1500")
    # records are 60, 59, 58 and 57 minutes old: the last 58.5 minutes hold offsets 2 and 3
    done = weir("group", "reset", "billing", "--by-duration", "PT58M30S", "--output", "json", *at)
    assert done.code == 0, done.stderr
    assert [r["new_offset"] for r in done.json()["resets"]] == [2, 2, 2]
    done = weir("group", "reset", "billing", "--to-offset", "3", "--topic", "orders", *at)
    assert done.code == 0, done.stderr
    assert sorted(consume(weir, at, "--timeout-ms", "1500")) == [(p, 3) for p in range(3)]


def test_active_members_refuse_reset_and_delete_with_1(
    weir: Weir, orders: int, at, channel: grpc.Channel
) -> None:
    join(channel)
    refused = weir("group", "reset", "billing", "--to-earliest", *at)
    assert refused.code == 1
    assert "active member" in refused.stderr
    as_json = weir("group", "delete", "billing", "--output", "json", *at)
    assert as_json.code == 1
    assert as_json.json()["error"]["reason"] == "GROUP_NOT_EMPTY"
    forced = weir("group", "reset", "billing", "--to-latest", "--force", "--output", "json", *at)
    assert forced.code == 0, forced.stderr
    assert [r["new_offset"] for r in forced.json()["resets"]] == [4, 4, 4]


def test_list_and_delete(weir: Weir, orders: int, at) -> None:
    assert weir("group", "list", *at).stdout == ""
    consume(weir, at, "--max", "2")
    consume(weir, at, "--max", "1", "--group", "audit")
    listed = weir("group", "list", "--output", "json", *at).json()["groups"]
    assert [(g["group_id"], g["state"], g["member_count"]) for g in listed] == [
        ("audit", "empty", 0),
        ("billing", "empty", 0),
    ]
    text = weir("group", "list", *at).stdout.splitlines()
    assert text[0].split() == ["GROUP", "STATE", "MEMBERS"]
    assert [line.split()[0] for line in text[1:]] == ["audit", "billing"]

    deleted = weir("group", "delete", "billing", *at)
    assert deleted.code == 0, deleted.stderr
    assert deleted.stdout.startswith("deleted group billing and ")
    again = weir("group", "delete", "billing", "--output", "json", *at)
    assert again.code == 2
    assert again.json()["error"]["reason"] == "GROUP_NOT_FOUND"
    assert [
        g["group_id"] for g in weir("group", "list", "--output", "json", *at).json()["groups"]
    ] == ["audit"]
