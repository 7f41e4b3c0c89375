"""`weir topic ...` as a subprocess against a real server: every command, text and JSON,
exit codes 0-3."""

from __future__ import annotations

import socket

import pytest

from tests.e2e.conftest import Weir, clean_env
from weir.sdk import Admin

TOPIC_COMMANDS = ("create", "list", "describe", "alter", "add-partitions", "delete")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def at(server) -> tuple[str, str]:
    return ("--server", server.address)


# ----- help and usage ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [["topic"], *[["topic", c] for c in TOPIC_COMMANDS], ["produce"], ["consume"]],
    ids=" ".join,
)
def test_help_exits_0_with_examples_and_exit_codes(weir: Weir, command: list[str]) -> None:
    done = weir(*command, "--help")
    assert done.code == 0, done.stderr
    examples = done.stdout.split("examples:", 1)[1]
    assert f"weir {' '.join(command)}" in examples
    assert "exit codes" in done.stdout


def test_root_help_lists_the_new_groups(weir: Weir) -> None:
    done = weir("--help")
    assert done.code == 0
    for group in ("topic", "produce", "consume"):
        assert group in done.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["topic"],
        ["topic", "frobnicate"],
        ["topic", "create", "orders"],  # --partitions is required
        ["topic", "create", "orders", "--partitions", "many"],
        ["topic", "list", "--output", "xml"],
        ["topic", "describe"],
        ["topic", "add-partitions", "orders"],
    ],
)
def test_usage_errors_exit_2(weir: Weir, args: list[str]) -> None:
    done = weir(*args)
    assert done.code == 2
    assert "usage:" in done.stderr


# ----- commands ---------------------------------------------------------------------------


def test_create_text_and_duplicate_is_refused_with_1(weir: Weir, server, at) -> None:
    done = weir("topic", "create", "orders", "--partitions", "3", *at)
    assert done.code == 0, done.stderr
    assert done.stdout.strip() == "created topic orders with 3 partitions"
    again = weir("topic", "create", "orders", "--partitions", "3", *at)
    assert again.code == 1
    assert "topic 'orders' already exists" in again.stderr
    as_json = weir("topic", "create", "orders", "--partitions", "1", "--output", "json", *at)
    assert as_json.code == 1
    assert as_json.json()["error"]["reason"] == "TOPIC_ALREADY_EXISTS"
    with Admin(server.address) as admin:
        assert admin.describe_topic("orders").partition_count == 3  # unchanged


def test_create_json_with_config(weir: Weir, at) -> None:
    done = weir(
        "topic",
        "create",
        "events",
        "--partitions",
        "2",
        "--config",
        "cleanup.policy=compact",
        "--config",
        "retention.ms=3600000",
        "--output",
        "json",
        *at,
    )
    assert done.code == 0, done.stderr
    assert done.json() == {
        "name": "events",
        "partition_count": 2,
        "config": {"cleanup.policy": "compact", "retention.ms": "3600000"},
        "internal": False,
        "partitions": [
            {"partition": 0, "log_start_offset": 0, "log_end_offset": 0},
            {"partition": 1, "log_start_offset": 0, "log_end_offset": 0},
        ],
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--config", "retention.mss=5"], "unknown topic config key 'retention.mss'"),
        (["--config", "retention.ms=soon"], "retention.ms='soon' is not valid"),
        (["--config", "retention.ms"], "is not KEY=VALUE"),
        (["--config", "a=1", "--config", "a=2"], "sets a twice"),
        (["--partitions", "0"], "partitions must be a positive integer"),
    ],
)
def test_create_bad_input_exits_2(weir: Weir, server, at, args, message: str) -> None:
    partitions = [] if "--partitions" in args else ["--partitions", "1"]
    done = weir("topic", "create", "orders", *partitions, *args, *at)
    assert done.code == 2
    assert message in done.stderr
    with Admin(server.address) as admin:
        assert admin.list_topics() == []


def test_bad_topic_name_exits_2(weir: Weir, at) -> None:
    done = weir("topic", "create", "no/slashes", "--partitions", "1", *at)
    assert done.code == 2
    assert "topic name 'no/slashes' is not valid" in done.stderr


def test_list_text_json_and_internal(weir: Weir, at) -> None:
    empty = weir("topic", "list", *at)
    assert (empty.code, empty.stdout) == (0, "")
    for name in ("orders", "audit"):
        assert weir("topic", "create", name, "--partitions", "1", *at).code == 0
    assert weir("topic", "list", *at).stdout.split() == ["audit", "orders"]
    listed = weir("topic", "list", "--output", "json", *at).json()["topics"]
    assert [t["name"] for t in listed] == ["audit", "orders"]
    assert listed[0] == {"name": "audit", "partition_count": 1, "config": {}, "internal": False}
    internal = weir("topic", "list", "--internal", *at).stdout.split()
    assert {"_schemas", "__consumer_offsets", "audit", "orders"} <= set(internal)


def test_describe_shows_partition_offsets(weir: Weir, write, at) -> None:
    weir("topic", "create", "orders", "--partitions", "2", *at)
    weir("topic", "alter", "orders", "--config", "value.schema.validation=none", *at)
    lines = write("in.jsonl", '{"n": 1}\n{"n": 2}\n')
    assert weir("produce", "orders", "--file", lines, "--partition", "1", *at).code == 0
    text = weir("topic", "describe", "orders", *at)
    assert text.code == 0
    assert text.stdout.splitlines() == [
        "Topic: orders  Partitions: 2",
        "Config: value.schema.validation=none",
        "  Partition 0: log start 0, log end 0 (0 records)",
        "  Partition 1: log start 0, log end 2 (2 records)",
    ]
    doc = weir("topic", "describe", "orders", "--output", "json", *at).json()
    assert doc["partitions"][1] == {"partition": 1, "log_start_offset": 0, "log_end_offset": 2}


def test_describe_unknown_topic_exits_2(weir: Weir, at) -> None:
    done = weir("topic", "describe", "nope", *at)
    assert done.code == 2
    assert "topic 'nope' does not exist" in done.stderr
    as_json = weir("topic", "describe", "nope", "--output", "json", *at)
    assert as_json.code == 2
    assert as_json.json()["error"]["reason"] == "TOPIC_NOT_FOUND"


def test_alter_sets_and_removes(weir: Weir, at) -> None:
    weir("topic", "create", "orders", "--partitions", "1", "--config", "retention.ms=1000", *at)
    done = weir(
        "topic",
        "alter",
        "orders",
        "--config",
        "on.invalid=dead_letter",
        "--remove",
        "retention.ms",
        "--output",
        "json",
        *at,
    )
    assert done.code == 0, done.stderr
    assert done.json()["config"] == {"on.invalid": "dead_letter"}
    text = weir("topic", "alter", "orders", "--config", "segment.ms=60000", *at)
    assert text.stdout.strip() == (
        "updated orders; config: on.invalid=dead_letter, segment.ms=60000"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "nothing to change"),
        (["--remove", "retention.ms"], "no override for retention.ms"),
        (["--config", "on.invalid=maybe"], "on.invalid='maybe' is not valid"),
        (["--config", "x=1", "--remove", "x"], "cannot both set and remove x"),
    ],
)
def test_alter_bad_input_exits_2(weir: Weir, at, args, message: str) -> None:
    weir("topic", "create", "orders", "--partitions", "1", *at)
    done = weir("topic", "alter", "orders", *args, *at)
    assert done.code == 2
    assert message in done.stderr


def test_add_partitions_grows_and_never_shrinks(weir: Weir, at) -> None:
    weir("topic", "create", "orders", "--partitions", "2", *at)
    done = weir("topic", "add-partitions", "orders", "--count", "4", *at)
    assert done.code == 0, done.stderr
    assert done.stdout.strip() == "orders now has 4 partitions"
    doc = weir("topic", "add-partitions", "orders", "--count", "5", "--output", "json", *at)
    assert len(doc.json()["partitions"]) == 5
    shrink = weir("topic", "add-partitions", "orders", "--count", "3", *at)
    assert shrink.code == 2
    assert "the new count must be larger" in shrink.stderr


def test_delete(weir: Weir, at) -> None:
    weir("topic", "create", "orders", "--partitions", "1", *at)
    done = weir("topic", "delete", "orders", *at)
    assert (done.code, done.stdout.strip()) == (0, "deleted topic orders")
    assert weir("topic", "describe", "orders", *at).code == 2
    again = weir("topic", "delete", "orders", "--output", "json", *at)
    assert again.code == 2
    assert again.json()["error"]["reason"] == "TOPIC_NOT_FOUND"
    internal = weir("topic", "delete", "_schemas", *at)
    assert internal.code == 2
    assert "internal topic" in internal.stderr


def test_server_from_environment(weir: Weir, server) -> None:
    done = weir(
        "topic", "create", "orders", "--partitions", "1", env=clean_env(WEIR_SERVER=server.address)
    )
    assert done.code == 0, done.stderr
    assert weir("topic", "list", env=clean_env(WEIR_SERVER=server.address)).stdout == "orders\n"


@pytest.mark.parametrize(
    "args",
    [
        ["create", "orders", "--partitions", "1"],
        ["list"],
        ["describe", "orders"],
        ["alter", "orders", "--config", "retention.ms=1"],
        ["add-partitions", "orders", "--count", "2"],
        ["delete", "orders"],
    ],
    ids=lambda a: a[0],
)
def test_unreachable_server_exits_3(weir: Weir, args: list[str]) -> None:
    done = weir("topic", *args, "--server", f"127.0.0.1:{free_port()}", "--timeout", "2")
    assert done.code == 3
    assert "cannot reach the Weir server at" in done.stderr
    assert "Traceback" not in done.stderr
