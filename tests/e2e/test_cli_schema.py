"""`weir schema ...` as a subprocess against a real server; `weir serve` restarts and signals."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import ServeProcess, Weir, clean_env
from weir.core import errors
from weir.sdk import SchemaReference, SchemaRegistryClient, SchemaType

Write = Callable[[str, str], Path]


def avro_record(name: str, fields: list[dict[str, object]]) -> str:
    return json.dumps({"type": "record", "name": name, "namespace": "acme", "fields": fields})


ORDER_V1 = avro_record("Order", [{"name": "id", "type": "string"}])
ORDER_V2 = avro_record(
    "Order", [{"name": "id", "type": "string"}, {"name": "qty", "type": "int", "default": 0}]
)
# Two new fields without defaults: two BACKWARD incompatibilities against ORDER_V1.
ORDER_BREAKING = avro_record(
    "Order",
    [
        {"name": "id", "type": "string"},
        {"name": "qty", "type": "int"},
        {"name": "sku", "type": "string"},
    ],
)
MONEY_PROTO = 'syntax = "proto3";\npackage acme;\nmessage Money { int64 cents = 1; }\n'
ORDER_PROTO = (
    'syntax = "proto3";\npackage acme;\nimport "money.proto";\n'
    "message Order { string id = 1; acme.Money total = 2; }\n"
)
ORDER_PROTO_RETYPED = (
    'syntax = "proto3";\npackage acme;\nimport "money.proto";\n'
    "message Order { string id = 1; string total = 2; }\n"
)
USER_JSON = json.dumps({"type": "object", "properties": {"name": {"type": "string"}}})
USER_JSON_CLOSED = json.dumps(
    {
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "additionalProperties": False,
    }
)

SCHEMA_COMMANDS = ("register", "get", "list", "delete", "config", "check", "compat")
SERVER_COMMANDS = [
    ["register", "orders-value", "order.avsc"],
    ["get", "orders-value"],
    ["get", "--id", "1"],
    ["list"],
    ["list", "orders-value"],
    ["delete", "orders-value"],
    ["config"],
    ["config", "orders-value", "--level", "FULL"],
    ["check", "orders-value", "order.avsc"],
]


@pytest.fixture
def files(write: Write) -> dict[str, Path]:
    return {
        "v1": write("order.avsc", ORDER_V1),
        "v2": write("order-v2.avsc", ORDER_V2),
        "breaking": write("order-breaking.avsc", ORDER_BREAKING),
        "money": write("money.proto", MONEY_PROTO),
        "order_proto": write("order.proto", ORDER_PROTO),
        "user": write("user.json", USER_JSON),
        "bad_avro": write("bad.avsc", '{"type": "record", "name": "Broken"}'),
        "text": write("order.txt", ORDER_V1),
    }


# ----- help and usage ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [[], ["schema"], *[["schema", c] for c in SCHEMA_COMMANDS]],
    ids=lambda c: " ".join(c) or "weir",
)
def test_help_exits_0_with_examples(weir: Weir, command: list[str]) -> None:
    done = weir(*command, "--help")
    assert done.code == 0, done.stderr
    assert "examples" in done.stdout
    assert f"weir {' '.join(command)}".strip() in done.stdout.split("examples", 1)[1]
    if command[1:]:
        assert "exit codes" in done.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["schema"],
        ["schema", "frobnicate"],
        ["schema", "register", "only-subject"],
        ["schema", "list", "--output", "xml"],
        ["schema", "compat"],
    ],
)
def test_usage_errors_exit_2(weir: Weir, args: list[str]) -> None:
    done = weir(*args)
    assert done.code == 2
    assert "usage:" in done.stderr


# ----- server commands --------------------------------------------------------------------


def test_register_get_list_text(weir: Weir, server, files) -> None:
    at = ("--server", server.address)
    done = weir("schema", "register", "orders-value", files["v1"], *at)
    assert (done.code, done.stderr) == (0, "")
    assert done.stdout.strip() == "orders-value: version 1, schema id 1"
    assert weir("schema", "register", "orders-value", files["v1"], *at).stdout == done.stdout
    done = weir("schema", "register", "orders-value", files["v2"], *at)
    assert done.stdout.strip() == "orders-value: version 2, schema id 2"

    assert weir("schema", "get", "orders-value", *at).stdout == ORDER_V2 + "\n"
    assert weir("schema", "get", "orders-value", "--version", "1", *at).stdout == ORDER_V1 + "\n"
    assert weir("schema", "get", "orders-value", "--version", "latest", *at).stdout.strip() == (
        ORDER_V2
    )
    assert weir("schema", "get", "--id", "1", *at).stdout == ORDER_V1 + "\n"
    assert weir("schema", "list", *at).stdout == "orders-value\n"
    assert weir("schema", "list", "orders-value", *at).stdout == "1\n2\n"


def test_json_output_of_every_command(weir: Weir, server, files) -> None:
    at = ("--server", server.address, "--output", "json")
    assert weir("schema", "register", "money.proto", files["money"], *at).json() == {
        "subject": "money.proto",
        "id": 1,
        "version": 1,
    }
    done = weir(
        "schema",
        "register",
        "orders-value",
        files["order_proto"],
        "--reference",
        "money.proto=money.proto:1",
        *at,
    )
    assert done.json() == {"subject": "orders-value", "id": 2, "version": 1}
    record = weir("schema", "get", "orders-value", *at).json()
    assert record == {
        "subject": "orders-value",
        "version": 1,
        "deleted": False,
        "id": 2,
        "schema_type": "PROTOBUF",
        "schema": ORDER_PROTO,
        "references": [{"name": "money.proto", "subject": "money.proto", "version": 1}],
    }
    by_id = weir("schema", "get", "--id", "2", *at).json()
    assert by_id == {k: v for k, v in record.items() if k not in ("subject", "version", "deleted")}
    assert weir("schema", "list", *at).json() == {"subjects": ["money.proto", "orders-value"]}
    assert weir("schema", "list", "orders-value", *at).json() == {
        "subject": "orders-value",
        "versions": [1],
    }
    assert weir("schema", "config", *at).json() == {"subject": None, "level": "BACKWARD"}
    assert weir("schema", "config", "orders-value", "--level", "full", *at).json() == {
        "subject": "orders-value",
        "level": "FULL",
    }
    ref = ("--reference", "money.proto=money.proto:1")
    assert weir("schema", "check", "orders-value", files["order_proto"], *ref, *at).json() == {
        "compatible": True,
        "messages": [],
    }
    assert weir("schema", "delete", "orders-value", *at).json() == {
        "subject": "orders-value",
        "versions": [1],
        "permanent": False,
    }


def test_type_is_inferred_from_the_extension_or_given(weir: Weir, server, files) -> None:
    at = ("--server", server.address, "--output", "json")
    cases = [
        ("a-value", files["v1"], (), "AVRO"),
        ("b-value", files["money"], (), "PROTOBUF"),
        ("c-value", files["user"], (), "JSON"),
        ("d-value", files["text"], ("--type", "avro"), "AVRO"),
    ]
    for subject, path, extra, expected in cases:
        done = weir("schema", "register", subject, path, *extra, *at)
        assert done.code == 0, done.stdout
        record = weir("schema", "get", subject, *at).json()
        assert record["schema_type"] == expected


def test_wrong_or_missing_type_is_exit_2(weir: Weir, server, files) -> None:
    at = ("--server", server.address)
    done = weir("schema", "register", "x-value", files["v1"], "--type", "XML", *at)
    assert done.code == 2
    assert "--type AVRO|PROTOBUF|JSON" in done.stderr
    assert done.stderr.startswith("weir: ")
    done = weir("schema", "register", "x-value", files["text"], *at)
    assert done.code == 2
    assert "order.txt" in done.stderr
    assert "--type AVRO|PROTOBUF|JSON" in done.stderr
    done = weir(
        "schema", "check", "x-value", files["text"], "--type", "yaml", *at, "--output", "json"
    )
    assert done.code == 2
    assert done.json()["error"]["reason"] == "INVALID_ARGUMENT"
    assert weir("schema", "list", *at).stdout == ""  # nothing was registered


def test_invalid_schema_file_and_missing_file_are_exit_2(weir: Weir, server, files) -> None:
    at = ("--server", server.address)
    done = weir("schema", "register", "x-value", files["bad_avro"], *at)
    assert done.code == 2
    assert done.stderr.startswith("weir: ")
    assert "bad.avsc" in done.stderr
    assert "fields" in done.stderr
    assert "Traceback" not in done.stderr
    done = weir("schema", "register", "x-value", files["bad_avro"], *at, "--output", "json")
    assert (done.code, done.stderr) == (2, "")
    assert done.json()["error"]["reason"] == "INVALID_SCHEMA"
    assert set(done.json()["error"]) >= {"reason", "message"}
    done = weir("schema", "check", "x-value", "no-such-file.avsc", *at)
    assert done.code == 2
    assert "no-such-file.avsc" in done.stderr
    assert "does not exist" in done.stderr
    done = weir("schema", "register", "x-value", files["v1"], "--reference", "oops", *at)
    assert done.code == 2
    assert "NAME=SUBJECT:VERSION" in done.stderr
    done = weir("schema", "register", "x-value", files["order_proto"], *at)  # no reference
    assert done.code == 2
    assert "order.proto" in done.stderr


def test_not_found_is_exit_2(weir: Weir, server, files) -> None:
    at = ("--server", server.address)
    weir("schema", "register", "orders-value", files["v1"], *at)
    for args, needle in [
        (["get", "nope-value"], "nope-value"),
        (["get", "orders-value", "--version", "9"], "version 9"),
        (["get", "--id", "42"], "42"),
        (["list", "nope-value"], "nope-value"),
        (["delete", "nope-value"], "nope-value"),
        (["get", "orders-value", "--version", "abc"], "positive integer"),
        (["get", "orders-value", "--id", "1"], "not both"),
        (["get"], "SUBJECT"),
    ]:
        done = weir("schema", *args, *at)
        assert done.code == 2, (args, done)
        assert needle in done.stderr, (args, done.stderr)
    done = weir("schema", "get", "--id", "42", *at, "--output", "json")
    assert done.json()["error"]["reason"] == "SCHEMA_NOT_FOUND"
    assert "42" in done.json()["error"]["message"]


def test_check_exit_codes_and_every_incompatibility(weir: Weir, server, files) -> None:
    at = ("--server", server.address)
    weir("schema", "register", "orders-value", files["v1"], *at)
    done = weir("schema", "check", "orders-value", files["v2"], *at)
    assert done.code == 0
    assert done.stdout.startswith("compatible with subject 'orders-value' at level BACKWARD")

    done = weir("schema", "check", "orders-value", files["breaking"], *at)
    assert done.code == 1
    assert "2 problems" in done.stdout
    assert "'qty'" in done.stdout
    assert "'sku'" in done.stdout
    assert "vs version 1" in done.stdout

    done = weir("schema", "check", "orders-value", files["breaking"], "--version", "1", *at,
                "--output", "json")  # fmt: skip
    assert done.code == 1
    body = done.json()
    assert set(body) == {"compatible", "messages"}
    assert body["compatible"] is False
    assert len(body["messages"]) == 2
    for message in body["messages"]:
        assert {"rule", "path", "message"} <= set(message)
        assert message["level"] == "BACKWARD"
        assert message["version"] == 1
    assert {m["path"] for m in body["messages"]} == {"/fields/1", "/fields/2"}

    # Registering it is refused with the same problems: exit 1, all of them printed.
    done = weir("schema", "register", "orders-value", files["breaking"], *at)
    assert done.code == 1
    assert "'qty'" in done.stderr
    assert "'sku'" in done.stderr
    assert "BACKWARD vs version 1" in done.stderr
    done = weir("schema", "register", "orders-value", files["breaking"], *at, "--output", "json")
    assert done.code == 1
    error = done.json()["error"]
    assert error["reason"] == "INCOMPATIBLE_SCHEMA"
    assert len(error["incompatibilities"]) == 2
    assert weir("schema", "list", "orders-value", *at).stdout == "1\n"


def test_delete_soft_and_permanent(weir: Weir, server, files) -> None:
    at = ("--server", server.address)
    weir("schema", "register", "orders-value", files["v1"], *at)
    weir("schema", "register", "orders-value", files["v2"], *at)
    done = weir("schema", "delete", "orders-value", "--version", "1", "--permanent", *at)
    assert done.code == 2
    assert "soft-deleted first" in done.stderr
    done = weir("schema", "delete", "orders-value", "--version", "1", *at)
    assert (done.code, done.stdout.strip()) == (0, "orders-value: soft-deleted version 1")
    assert weir("schema", "get", "orders-value", "--version", "1", *at).code == 2
    done = weir("schema", "get", "orders-value", "--version", "1", "--deleted", *at,
                "--output", "json")  # fmt: skip
    assert (done.code, done.json()["deleted"], done.json()["schema"]) == (0, True, ORDER_V1)
    assert weir("schema", "list", "orders-value", *at).stdout == "2\n"
    assert weir("schema", "list", "orders-value", "--deleted", *at).stdout == "1\n2\n"
    done = weir("schema", "delete", "orders-value", "--version", "1", "--permanent", *at)
    assert (done.code, done.stdout.strip()) == (0, "orders-value: permanently deleted version 1")
    assert weir("schema", "list", "orders-value", "--deleted", *at).stdout == "2\n"

    done = weir("schema", "delete", "orders-value", *at)
    assert (done.code, done.stdout.strip()) == (0, "orders-value: soft-deleted version 2")
    assert weir("schema", "list", *at).stdout == ""
    assert weir("schema", "list", "--deleted", *at).stdout == "orders-value\n"
    assert weir("schema", "delete", "orders-value", "--permanent", *at).code == 0
    assert weir("schema", "list", "--deleted", *at).stdout == ""


def test_config_get_and_set(weir: Weir, server, files) -> None:
    at = ("--server", server.address)
    assert weir("schema", "config", *at).stdout == "BACKWARD\n"
    assert weir("schema", "config", "orders-value", *at).stdout == "BACKWARD\n"
    assert weir("schema", "config", "orders-value", "--level", "none", *at).stdout == "NONE\n"
    assert weir("schema", "config", "orders-value", *at).stdout == "NONE\n"
    assert weir("schema", "config", *at).stdout == "BACKWARD\n"
    done = weir("schema", "config", "--level", "SIDEWAYS", *at)
    assert done.code == 2
    assert "FULL_TRANSITIVE" in done.stderr
    # NONE lets the breaking change in.
    weir("schema", "register", "orders-value", files["v1"], *at)
    assert weir("schema", "register", "orders-value", files["breaking"], *at).code == 0


def test_weir_server_env_is_the_default(weir: Weir, server, files) -> None:
    env = clean_env(WEIR_SERVER=server.address)
    assert weir("schema", "register", "orders-value", files["v1"], env=env).code == 0
    assert weir("schema", "list", env=env).stdout == "orders-value\n"
    # --server wins over the environment.
    done = weir("schema", "list", "--server", "127.0.0.1:1", env=env)
    assert done.code == 3


@pytest.mark.parametrize("args", SERVER_COMMANDS, ids=" ".join)
def test_unreachable_server_is_exit_3(weir: Weir, files, args: list[str]) -> None:
    done = weir("schema", *args, "--server", "127.0.0.1:1", "--timeout", "5")
    assert done.code == 3, done
    assert "127.0.0.1:1" in done.stderr
    assert "WEIR_SERVER" in done.stderr
    done = weir("schema", *args, "--server", "127.0.0.1:1", "--output", "json")
    assert done.code == 3
    assert done.json()["error"]["reason"] == "UNAVAILABLE"


# ----- offline compat ---------------------------------------------------------------------


def test_compat_offline(weir: Weir, files, write: Write) -> None:
    env = clean_env(WEIR_SERVER="127.0.0.1:1")  # proves no server is contacted
    done = weir("schema", "compat", "--type", "AVRO", "--level", "BACKWARD", files["v2"],
                files["v1"], env=env)  # fmt: skip
    assert done.code == 0, done
    assert "compatible" in done.stdout

    done = weir("schema", "compat", "--level", "BACKWARD", files["breaking"], files["v1"],
                "--output", "json", env=env)  # fmt: skip
    assert done.code == 1
    body = done.json()
    assert set(body) == {"compatible", "messages"}
    assert body["compatible"] is False
    assert len(body["messages"]) == 2
    assert all({"rule", "path", "message"} <= set(m) for m in body["messages"])
    assert {Path(m["file"]).name for m in body["messages"]} == {"order.avsc"}

    # Transitive levels check every previous file (oldest first); plain ones only the last.
    done = weir("schema", "compat", "--level", "FORWARD", files["v1"], files["breaking"],
                files["v2"], "--output", "json", env=env)  # fmt: skip
    assert (done.code, done.json()["compatible"]) == (0, True)
    done = weir("schema", "compat", "--level", "FORWARD_TRANSITIVE", files["v1"],
                files["breaking"], files["v2"], "--output", "json", env=env)  # fmt: skip
    assert done.code == 1
    assert {Path(m["file"]).name for m in done.json()["messages"]} == {"order-breaking.avsc"}

    # No previous versions: nothing to break.
    assert weir("schema", "compat", files["v1"], env=env).code == 0


def test_compat_offline_protobuf_and_json(weir: Weir, files, write: Write) -> None:
    old = write("order-v1.proto", 'syntax = "proto3";\nmessage Order { string id = 1; }\n')
    new = write("order-v2.proto", 'syntax = "proto3";\nmessage Order { int64 id = 1; }\n')
    done = weir("schema", "compat", "--level", "BACKWARD", new, old, "--output", "json")
    assert done.code == 1, done
    assert done.json()["messages"][0]["path"]
    assert weir("schema", "compat", old, old).code == 0

    closed = write("user-closed.json", USER_JSON_CLOSED)
    done = weir("schema", "compat", "--level", "FULL", closed, files["user"], "--output", "json")
    assert done.code == 1, done
    assert done.json()["compatible"] is False
    assert weir("schema", "compat", "--level", "NONE", closed, files["user"]).code == 0


def test_compat_offline_bad_input(weir: Weir, files) -> None:
    done = weir("schema", "compat", files["bad_avro"], files["v1"])
    assert done.code == 2
    assert "bad.avsc" in done.stderr
    done = weir("schema", "compat", files["v1"], files["bad_avro"], "--output", "json")
    assert done.code == 2
    assert done.json()["error"]["reason"] == "INVALID_SCHEMA"
    assert "bad.avsc" in done.json()["error"]["message"]
    done = weir("schema", "compat", files["v1"], "missing.avsc")
    assert done.code == 2
    assert "missing.avsc" in done.stderr
    done = weir("schema", "compat", "--type", "XML", files["v1"])
    assert done.code == 2
    assert "--type AVRO|PROTOBUF|JSON" in done.stderr
    done = weir("schema", "compat", "--level", "MOSTLY", files["v1"])
    assert done.code == 2
    assert "BACKWARD_TRANSITIVE" in done.stderr
    done = weir("schema", "compat", files["text"])
    assert done.code == 2
    assert "pass --type" in done.stderr


# ----- weir serve: durability across SIGKILL, clean SIGTERM ----------------------------------


def test_serve_survives_sigkill_and_stops_on_sigterm(
    weir: Weir, serve: Callable[[Path], ServeProcess], tmp_path: Path, files
) -> None:
    data = tmp_path / "data"
    first = serve(data)
    assert first.address.startswith("127.0.0.1:")
    at = ("--server", first.address)
    assert weir("schema", "register", "orders-value", files["v1"], *at).code == 0
    texts = {
        ("orders-value", 1): ORDER_V1,
        ("orders-value", 2): ORDER_V2,
        ("money.proto", 1): MONEY_PROTO,
        ("order-proto-value", 1): ORDER_PROTO,
        ("order-proto-value", 2): ORDER_PROTO_RETYPED,
        ("user-value", 1): USER_JSON,
    }
    with SchemaRegistryClient(first.address) as client:
        written = {
            ("orders-value", 2): client.register("orders-value", ORDER_V2, SchemaType.AVRO),
            ("money.proto", 1): client.register("money.proto", MONEY_PROTO, "PROTOBUF"),
            ("order-proto-value", 1): client.register(
                "order-proto-value",
                ORDER_PROTO,
                SchemaType.PROTOBUF,
                [SchemaReference("money.proto", "money.proto", 1)],
            ),
            ("user-value", 1): client.register("user-value", USER_JSON, SchemaType.JSON),
        }
        client.set_compatibility("NONE", "order-proto-value")
        written[("order-proto-value", 2)] = client.register(
            "order-proto-value",
            ORDER_PROTO_RETYPED,
            SchemaType.PROTOBUF,
            [SchemaReference("money.proto", "money.proto", 1)],
        )
        assert client.lookup("orders-value", ORDER_V1, SchemaType.AVRO).version == 1
        assert client.delete_version("orders-value", 1) == 1
        before = {key: client.get_version(*key, include_deleted=True) for key in texts}

    assert first.stop(signal.SIGKILL) == -signal.SIGKILL
    second = serve(data)
    with SchemaRegistryClient(second.address) as client:
        for key, sv in before.items():
            again = client.get_version(key[0], key[1], include_deleted=True)
            assert again == sv
            assert again.schema is not None
            assert again.schema.text == texts[key]
            assert client.get_schema(again.schema.id) == again.schema
        assert before[("orders-value", 1)].deleted
        with pytest.raises(errors.VersionNotFoundError):
            client.get_version("orders-value", 1)
        assert client.list_versions("orders-value") == [2]
        assert client.get_version("order-proto-value").schema.references == (  # type: ignore[union-attr]
            SchemaReference("money.proto", "money.proto", 1),
        )
        assert client.referenced_by("money.proto", 1) == sorted(
            {written[("order-proto-value", 1)].id, written[("order-proto-value", 2)].id}
        )
        assert client.get_compatibility("order-proto-value") == "NONE"
        # Ids keep counting after the restart; nothing is reused.
        fresh = client.register("fresh-value", ORDER_BREAKING, SchemaType.AVRO)
        assert fresh.id > max(sv.schema.id for sv in before.values() if sv.schema)
    done = weir("schema", "get", "orders-value", "--version", "1", "--deleted",
                "--server", second.address)  # fmt: skip
    assert (done.code, done.stdout) == (0, ORDER_V1 + "\n")

    assert second.stop(signal.SIGTERM) == 0
    assert any(line.startswith("weir: shutting down") for line in second.stdout)
    assert weir("schema", "list", "--server", second.address).code == 3
