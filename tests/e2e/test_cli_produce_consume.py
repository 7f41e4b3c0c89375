"""`weir produce` and `weir consume` as subprocesses against a real server: round trips in
every format, keys, headers, tombstones, refusals (exit 1), malformed input (exit 2), unknown
topics and unreachable servers (exit 3)."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from typing import Any

import pytest

from tests.e2e.conftest import WEIR, Run, Weir, clean_env
from tests.integration.broker_helpers import Broker, record
from weir.core.partitioner import partition_for_key
from weir.sdk import Admin, SchemaReference, SchemaRegistryClient

ORDER_AVSC = json.dumps(
    {
        "type": "record",
        "name": "Order",
        "namespace": "shop",
        "fields": [
            {"name": "id", "type": "string"},
            {"name": "qty", "type": "int"},
            {"name": "note", "type": ["null", "string"], "default": None},
            {"name": "tag", "type": ["null", "bytes"], "default": None},
            {"name": "lines", "type": {"type": "array", "items": "long"}, "default": []},
        ],
    }
)
MONEY_PROTO = 'syntax = "proto3";\npackage shop;\nmessage Money { int64 cents = 1; }\n'
ORDER_PROTO = (
    'syntax = "proto3";\npackage shop;\nimport "money.proto";\n'
    "message Order { string id = 1; int32 qty = 2; Money total = 3; repeated string tags = 4; }\n"
)
ORDER_JSON = json.dumps(
    {
        "type": "object",
        "properties": {"id": {"type": "string"}, "qty": {"type": "integer"}},
        "required": ["id", "qty"],
    }
)
# One natural JSON value per format, and what consume prints for it (protobuf's JSON
# mapping writes int64 as a string and leaves out default values).
VALUES: dict[str, list[tuple[Any, Any]]] = {
    "AVRO": [
        (
            {"id": "a", "qty": 1, "note": "hi", "tag": "\u00ff\u0001", "lines": [1, 2]},
            {"id": "a", "qty": 1, "note": "hi", "tag": "\u00ff\u0001", "lines": [1, 2]},
        ),
        ({"id": "b", "qty": 2}, {"id": "b", "qty": 2, "note": None, "tag": None, "lines": []}),
    ],
    "PROTOBUF": [
        (
            {"id": "a", "qty": 1, "total": {"cents": 1999}, "tags": ["x", "y"]},
            {"id": "a", "qty": 1, "total": {"cents": "1999"}, "tags": ["x", "y"]},
        ),
        ({"id": "b", "qty": 0}, {"id": "b"}),
    ],
    "JSON": [
        (
            {"id": "a", "qty": 1, "extra": [True, None]},
            {"id": "a", "qty": 1, "extra": [True, None]},
        ),
        ({"id": "b", "qty": 2}, {"id": "b", "qty": 2}),
    ],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def jsonl(*docs: Any) -> str:
    return "".join(json.dumps(d) + "\n" for d in docs)


def records(done: Run) -> list[dict[str, Any]]:
    assert done.code == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.fixture
def at(server) -> tuple[str, str]:
    return ("--server", server.address)


@pytest.fixture
def admin(server):
    with Admin(server.address) as client:
        yield client


@pytest.fixture
def registry(server):
    with SchemaRegistryClient(server.address) as client:
        yield client


def register(registry: SchemaRegistryClient, subject: str, kind: str) -> int:
    if kind == "AVRO":
        return int(registry.register(subject, ORDER_AVSC, "AVRO").id)
    if kind == "JSON":
        return int(registry.register(subject, ORDER_JSON, "JSON").id)
    registry.register("money", MONEY_PROTO, "PROTOBUF")
    ref = SchemaReference("money.proto", "money", 1)
    return int(registry.register(subject, ORDER_PROTO, "PROTOBUF", [ref]).id)


# ----- round trips ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["AVRO", "PROTOBUF", "JSON"])
def test_round_trip_with_keys_headers_and_tombstones(  # noqa: PLR0917 - fixtures are parameters
    weir: Weir, write, admin, registry, at, kind: str
) -> None:
    admin.create_topic("orders", 3)
    schema_id = register(registry, "orders-value", kind)
    (v1, out1), (v2, out2) = VALUES[kind]
    lines = write(
        "in.jsonl",
        jsonl(
            {"key": "c-1", "value": v1, "headers": {"source": "cli", "multi": ["a", "b"]}},
            {"key": "c-2", "value": v2, "timestamp": 1_700_000_000_000},
            {"key": "c-1", "value": None},
        ),
    )
    done = weir("produce", "orders", "--file", lines, "--with-keys", "--output", "json", *at)
    assert done.code == 0, done.stderr
    report = done.json()
    assert report["produced"] == 3
    assert report["refused"] == []
    assert report["bad_lines"] == []
    assert [r["line"] for r in report["records"]] == [1, 2, 3]
    # keys land where Kafka's partitioner puts them
    for r, key in zip(report["records"], ["c-1", "c-2", "c-1"], strict=True):
        assert r["partition"] == partition_for_key(key.encode(), 3)

    got = records(weir("consume", "orders", "--from-beginning", "--max", "3", *at))
    by_key = sorted(got, key=lambda r: (r["key"], r["offset"]))
    first, tombstone, second = by_key
    assert first["value"] == out1
    assert first["headers"] == {"source": "cli", "multi": ["a", "b"]}
    assert first["schema_id"] == schema_id
    assert first["topic"] == "orders"
    assert first["partition"] == partition_for_key(b"c-1", 3)
    assert second["value"] == out2
    assert second["timestamp"] == 1_700_000_000_000
    assert second["headers"] == {}
    assert tombstone["value"] is None
    assert tombstone["schema_id"] == 0
    assert tombstone["offset"] == first["offset"] + 1
    assert {r["key_schema_id"] for r in got} == {0}


def test_keys_use_the_key_subject_schema(weir: Weir, write, admin, registry, at) -> None:
    admin.create_topic("orders", 2, {"key.schema.validation": "strict"})
    key_id = int(registry.register("orders-key", '"long"', "AVRO").id)
    value_id = register(registry, "orders-value", "JSON")
    lines = write("in.jsonl", jsonl({"key": 42, "value": {"id": "a", "qty": 1}}))
    assert weir("produce", "orders", "--file", lines, "--with-keys", *at).code == 0
    (got,) = records(weir("consume", "orders", "--from-beginning", "--max", "1", *at))
    assert (got["key"], got["key_schema_id"]) == (42, key_id)
    assert (got["value"], got["schema_id"]) == ({"id": "a", "qty": 1}, value_id)
    bad = write("bad.jsonl", jsonl({"key": "not-a-long", "value": {"id": "b", "qty": 1}}))
    done = weir("produce", "orders", "--file", bad, "--with-keys", *at)
    assert done.code == 2
    assert "line 1: key does not fit subject 'orders-key' version 1" in done.stderr


def test_raw_json_without_schema_when_validation_is_none(weir: Weir, write, admin, at) -> None:
    admin.create_topic("logs", 1, {"value.schema.validation": "none"})
    lines = write("in.jsonl", '{"msg": "hello",  "n": 1}\n\n"just text"\n[1, 2]\n')
    done = weir("produce", "logs", "--file", lines, "--output", "json", *at)
    assert done.code == 0, done.stderr
    assert [r["line"] for r in done.json()["records"]] == [1, 3, 4]  # blank line skipped
    got = records(weir("consume", "logs", "--from-beginning", "--max", "3", *at))
    assert [r["value"] for r in got] == [{"msg": "hello", "n": 1}, "just text", [1, 2]]
    assert [r["offset"] for r in got] == [0, 1, 2]
    assert all(r["schema_id"] == 0 for r in got)
    assert all(r["key"] is None for r in got)


def test_produce_from_stdin_with_partition_and_acks(server, admin, registry, at) -> None:
    admin.create_topic("orders", 3)
    register(registry, "orders-value", "JSON")
    for acks in ("0", "1", "all"):
        done = subprocess.run(
            [str(WEIR), "produce", "orders", "--partition", "2", "--acks", acks, *at],
            input=jsonl({"id": acks, "qty": 1}),
            capture_output=True,
            text=True,
            env=clean_env(),
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "produced 1 records to orders (partitions 2)"
    deadline = time.monotonic() + 10
    while admin.describe_topic("orders").partitions[2].log_end_offset < 3:
        assert time.monotonic() < deadline, "acks=0 record never arrived"
        time.sleep(0.05)
    assert [p.log_end_offset for p in admin.describe_topic("orders").partitions] == [0, 0, 3]


def test_batches_split_requests(weir: Weir, write, admin, at) -> None:
    admin.create_topic("logs", 1, {"value.schema.validation": "none"})
    lines = write("in.jsonl", jsonl(*range(7)))
    done = weir("produce", "logs", "--file", lines, "--batch-size", "3", *at)
    assert done.code == 0, done.stderr
    got = records(weir("consume", "logs", "--from-beginning", "--timeout-ms", "500", *at))
    assert [r["value"] for r in got] == list(range(7))


# ----- refusals (exit 1) ------------------------------------------------------------------


def test_reject_record_policy_appends_good_lines_and_names_bad_ones(
    weir: Weir, write, admin, registry, at
) -> None:
    admin.create_topic("orders", 1, {"on.invalid": "reject_record"})
    register(registry, "orders-value", "JSON")
    lines = write(
        "in.jsonl",
        jsonl({"id": "a", "qty": 1}, {"id": "b", "qty": "two"}, {"id": "c", "qty": 3}, {"qty": 4}),
    )
    done = weir("produce", "orders", "--file", lines, *at)
    assert done.code == 1
    assert "line 2: refused" in done.stderr
    assert "line 4: refused" in done.stderr
    assert "orders-value" in done.stderr
    assert "line 1" not in done.stderr
    assert "line 3" not in done.stderr
    assert "produced 2 records to orders" in done.stdout
    as_json = weir("produce", "orders", "--file", lines, "--output", "json", *at)
    assert as_json.code == 1
    report = as_json.json()
    assert [r["line"] for r in report["refused"]] == [2, 4]
    assert {r["reason"] for r in report["refused"]} == {"INVALID_RECORD"}
    assert all(r["subject"] == "orders-value" for r in report["refused"])
    assert [r["line"] for r in report["records"]] == [1, 3]
    got = records(weir("consume", "orders", "--from-beginning", "--timeout-ms", "500", *at))
    assert [r["value"]["id"] for r in got] == ["a", "c", "a", "c"]


def test_reject_policy_appends_nothing_from_the_batch(
    weir: Weir, write, admin, registry, at
) -> None:
    admin.create_topic("orders", 1)  # on.invalid=reject is the default
    register(registry, "orders-value", "JSON")
    lines = write("in.jsonl", jsonl({"id": "a", "qty": 1}, {"id": "b", "qty": "two"}))
    done = weir("produce", "orders", "--file", lines, *at)
    assert done.code == 1
    assert "line 2: refused" in done.stderr
    assert "were not appended" in done.stderr
    assert "lines 1" in done.stderr
    report = weir("produce", "orders", "--file", lines, "--output", "json", *at).json()
    assert [r["line"] for r in report["refused"]] == [2]
    assert report["not_appended"] == [1]
    assert report["produced"] == 0
    assert admin.describe_topic("orders").partitions[0].log_end_offset == 0


def test_dead_letter_policy_says_where_refusals_went(
    weir: Weir, write, admin, registry, at
) -> None:
    admin.create_topic("orders", 1, {"on.invalid": "dead_letter"})
    register(registry, "orders-value", "JSON")
    lines = write("in.jsonl", jsonl({"id": "a", "qty": "x"}, {"id": "b", "qty": 2}))
    done = weir("produce", "orders", "--file", lines, *at)
    assert done.code == 1
    assert "line 1: refused (sent to the dead-letter topic)" in done.stderr
    dlq = records(weir("consume", "orders.dlq", "--from-beginning", "--max", "1", *at))
    assert dlq[0]["value"] == {"id": "a", "qty": "x"}  # the original framed bytes, decoded
    assert dlq[0]["headers"]["weir.dlq.topic"] == "orders"


def test_oversized_record_is_refused(weir: Weir, write, admin, at) -> None:
    admin.create_topic(
        "logs",
        1,
        {
            "value.schema.validation": "none",
            "max.message.bytes": "100",
            "on.invalid": "reject_record",
        },
    )
    lines = write("in.jsonl", jsonl("small", "x" * 200))
    done = weir("produce", "logs", "--file", lines, "--output", "json", *at)
    assert done.code == 1
    (refusal,) = done.json()["refused"]
    assert refusal["line"] == 2
    assert refusal["reason"] == "RECORD_TOO_LARGE"
    assert "max.message.bytes=100" in refusal["message"]


# ----- malformed input (exit 2) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "with_keys", "message"),
    [
        ('{"id": "a", "qty": 1}\n{"id": \n', False, "line 2: not valid JSON at column"),
        ('{"id": "a", "qty": 1}\n\n{"qty": 1}\n', False, "line 3: value does not fit subject"),
        ('{"id": "a", "qty": "one"}\n', False, "shop.Order.qty"),
        ('{"value": {"id": "a", "qty": 1}}\n{"key": "k"}\n', True, '"value" is required'),
        ('{"value": null, "partition": 1}\n', True, "line 1: unknown field(s) partition"),
        ('{"value": null, "headers": {"h": 1}}\n', True, "header 'h' must be a string"),
        ('{"value": null, "headers": ["h"]}\n', True, "headers must be an object"),
        ('{"value": null, "timestamp": "now"}\n', True, "timestamp must be milliseconds"),
        ('{"value": {"id": "a", "qty": 1, "tag": "\\u0100"}}\n', True, "code points 0-255"),
    ],
)
def test_malformed_lines_exit_2_and_send_nothing(  # noqa: PLR0917 - fixtures are parameters
    weir: Weir, write, admin, registry, at, text: str, with_keys: bool, message: str
) -> None:
    admin.create_topic("orders", 1)
    register(registry, "orders-value", "AVRO")
    lines = write("in.jsonl", text)
    done = weir("produce", "orders", "--file", lines, *(["--with-keys"] if with_keys else []), *at)
    assert done.code == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert admin.describe_topic("orders").partitions[0].log_end_offset == 0


def test_malformed_line_stops_after_earlier_batches(weir: Weir, write, admin, at) -> None:
    admin.create_topic("logs", 1, {"value.schema.validation": "none"})
    lines = write("in.jsonl", "1\n2\n3\n{oops\n5\n")
    done = weir("produce", "logs", "--file", lines, "--batch-size", "2", "--output", "json", *at)
    assert done.code == 2
    report = done.json()
    assert report["bad_lines"][0]["line"] == 4
    assert [r["line"] for r in report["records"]] == [1, 2]  # line 3 shared line 4's batch
    assert admin.describe_topic("logs").partitions[0].log_end_offset == 2


def test_protobuf_unknown_field_exits_2(weir: Weir, write, admin, registry, at) -> None:
    admin.create_topic("orders", 1)
    register(registry, "orders-value", "PROTOBUF")
    lines = write("in.jsonl", jsonl({"id": "a", "colour": "red"}))
    done = weir("produce", "orders", "--file", lines, *at)
    assert done.code == 2
    assert "line 1" in done.stderr
    assert "colour" in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--file", "missing.jsonl"], "cannot read missing.jsonl"),
        (["--batch-size", "0"], "--batch-size must be at least 1"),
        (["--partition", "-1"], "--partition must be >= 0"),
    ],
)
def test_bad_produce_options_exit_2(weir: Weir, admin, at, args, message: str) -> None:
    admin.create_topic("logs", 1, {"value.schema.validation": "none"})
    done = weir("produce", "logs", *args, *at)
    assert done.code == 2
    assert message in done.stderr


def test_topic_checking_values_without_a_schema_exits_2(weir: Weir, write, admin, at) -> None:
    admin.create_topic("orders", 1)
    done = weir("produce", "orders", "--file", write("in.jsonl", "{}\n"), *at)
    assert done.code == 2
    assert "subject 'orders-value' has no schema" in done.stderr
    assert "value.schema.validation=none" in done.stderr


def test_unknown_topic_exits_2(weir: Weir, write, at) -> None:
    produce = weir("produce", "nope", "--file", write("in.jsonl", "{}\n"), *at)
    assert produce.code == 2
    assert "topic 'nope' does not exist" in produce.stderr
    consume = weir("consume", "nope", "--timeout-ms", "100", *at)
    assert consume.code == 2
    assert "topic 'nope' does not exist" in consume.stderr


@pytest.mark.parametrize("command", [["produce", "orders"], ["consume", "orders"]], ids=str)
def test_unreachable_server_exits_3(weir: Weir, write, command: list[str]) -> None:
    lines = write("in.jsonl", "{}\n")
    extra = ["--file", lines] if command[0] == "produce" else []
    done = weir(*command, *extra, "--server", f"127.0.0.1:{free_port()}", "--timeout", "2")
    assert done.code == 3
    assert "cannot reach the Weir server at" in done.stderr
    assert "Traceback" not in done.stderr


# ----- consume positions ------------------------------------------------------------------


@pytest.fixture
def logs(weir: Weir, write, admin, at) -> None:
    """Topic 'logs' (2 partitions, no schema) with values 0..4 in partition 0, 10 in 1."""
    admin.create_topic("logs", 2, {"value.schema.validation": "none"})
    lines = write(
        "p0.jsonl", "".join(f'{{"value": {i}, "timestamp": {1000 * (i + 1)}}}\n' for i in range(5))
    )
    assert (
        weir("produce", "logs", "--file", lines, "--with-keys", "--partition", "0", *at).code == 0
    )
    one = write("p1.jsonl", "10\n")
    assert weir("produce", "logs", "--file", one, "--partition", "1", *at).code == 0


@pytest.mark.usefixtures("logs")
def test_consume_default_starts_at_the_end(weir: Weir, at) -> None:
    done = weir("consume", "logs", "--timeout-ms", "300", *at)
    assert records(done) == []
    assert "consumed 0 records" in done.stderr


@pytest.mark.usefixtures("logs")
def test_consume_from_beginning_offset_since_partition_max(weir: Weir, at) -> None:
    everything = records(weir("consume", "logs", "--from-beginning", "--timeout-ms", "500", *at))
    assert sorted(r["value"] for r in everything) == [0, 1, 2, 3, 4, 10]
    part0 = records(
        weir("consume", "logs", "--from-beginning", "--partition", "0", "--max", "2", *at)
    )
    assert [(r["offset"], r["value"]) for r in part0] == [(0, 0), (1, 1)]
    at_offset = records(
        weir("consume", "logs", "--partition", "0", "--offset", "3", "--timeout-ms", "300", *at)
    )
    assert [r["value"] for r in at_offset] == [3, 4]
    since = records(
        weir(
            "consume",
            "logs",
            "--partition",
            "0",
            "--since",
            "1970-01-01T00:00:02.5Z",
            "--timeout-ms",
            "300",
            *at,
        )
    )
    assert [r["value"] for r in since] == [2, 3, 4]  # timestamps 3000, 4000, 5000
    future = records(
        weir("consume", "logs", "--since", "2999-01-01T00:00:00", "--timeout-ms", "200", *at)
    )
    assert future == []


@pytest.mark.usefixtures("logs")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--partition", "5"], "has partitions 0..1, not 5"),
        (["--partition", "0", "--offset", "9"], "offset 9 is out of range for partition 0"),
        (["--offset", "1"], "--offset needs --partition"),
        (["--since", "yesterday"], "is not an ISO 8601 time"),
        (["--max", "0"], "--max must be at least 1"),
    ],
)
def test_consume_bad_positions_exit_2(weir: Weir, at, args, message: str) -> None:
    done = weir("consume", "logs", *args, "--timeout-ms", "100", *at)
    assert done.code == 2
    assert message in done.stderr


def test_consume_usage_errors_exit_2(weir: Weir) -> None:
    done = weir("consume", "logs", "--from-beginning", "--offset", "1")
    assert done.code == 2
    assert "not allowed with argument" in done.stderr


def test_consume_long_polls_for_new_records(  # noqa: PLR0917 - fixtures are parameters
    server, admin, registry, write, weir: Weir, at
) -> None:
    admin.create_topic("orders", 2)
    register(registry, "orders-value", "AVRO")
    consumer = subprocess.Popen(
        [str(WEIR), "consume", "orders", "--max", "2", "--timeout-ms", "20000", *at],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    try:
        time.sleep(2.0)  # the consumer starts at the end, then waits
        lines = write("in.jsonl", jsonl({"key": "k", "value": {"id": "new", "qty": 7}}))
        started = time.monotonic()
        for _ in range(2):
            assert weir("produce", "orders", "--file", lines, "--with-keys", *at).code == 0
        out, err = consumer.communicate(timeout=30)
        waited = time.monotonic() - started
    finally:
        consumer.kill()
    assert consumer.returncode == 0, err
    got = [json.loads(line) for line in out.splitlines()]
    assert [r["value"]["id"] for r in got] == ["new", "new"]
    assert [r["offset"] for r in got] == [0, 1]
    assert waited < 15  # --max ended it, not the 20 s timeout


def test_consume_shows_unframed_binary_as_base64(weir: Weir, admin, at, channel) -> None:
    admin.create_topic("raw", 1, {"value.schema.validation": "none"})
    Broker(channel).produce("raw", [record(b"\xff\x00\x01", key=b"\xfe")])
    (got,) = records(weir("consume", "raw", "--from-beginning", "--max", "1", *at))
    assert got["value"] == "/wAB"
    assert got["value_base64"] is True
    assert got["key"] == "/g=="
    assert got["key_base64"] is True
