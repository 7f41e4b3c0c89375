"""Pathological schemas get a clear error in bounded time, and the server keeps serving.

Each case registers (or tries to register) a hostile schema, produces against it, and checks
the refusal, how long it took, and that another client's call was answered meanwhile.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest

from tests.integration.broker_helpers import Broker, avro_bytes, json_bytes, record
from weir.broker.embedded import EmbeddedServer
from weir.core.errors import WeirError
from weir.core.framing import frame
from weir.core.status import from_rpc_error

VALIDATION_TIMEOUT_MS = 500
BOUND_S = 2.0
"""The longest any refusal below may take (the budget is 0.5 s; the rest is slack for CI)."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    running = EmbeddedServer(
        tmp_path_factory.mktemp("patho") / "data", validation_timeout_ms=VALIDATION_TIMEOUT_MS
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def broker(server: EmbeddedServer) -> Iterator[Broker]:
    with grpc.insecure_channel(server.address) as channel:
        b = Broker(channel)
        b.create_topic("plain", 1, value_schema_validation="none")
        yield b


def timed_refusal(call: Callable[[], Any]) -> tuple[WeirError, float]:
    """Run ``call``, expecting a refusal; return it and the seconds it took."""
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return from_rpc_error(caught.value), time.monotonic() - started


def still_serving(broker: Broker, server: EmbeddedServer) -> None:
    """An ordinary produce, fetch and REST read all answer quickly."""
    started = time.monotonic()
    offset = broker.produce("plain", [record(b"ok")]).results[0].offsets[0]
    assert broker.fetch("plain", 0, offset).records[0].value == b"ok"
    with urllib.request.urlopen(f"{server.http_url}/subjects", timeout=5) as answer:
        assert answer.status == 200
    assert time.monotonic() - started < 1.0


class Pinger:
    """Times another client's calls while a hostile request runs: the loop must not stall."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.worst = 0.0
        self.calls = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with grpc.insecure_channel(self.address) as channel:
            b = Broker(channel)
            while not self._stop.is_set():
                started = time.monotonic()
                b.end_offset("plain")
                self.worst = max(self.worst, time.monotonic() - started)
                self.calls += 1
                time.sleep(0.01)

    def __enter__(self) -> Pinger:
        self._thread.start()
        time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def _topic(broker: Broker, name: str, kind: str, schema: str) -> int:
    broker.create_topic(name, 1)
    return broker.register(f"{name}-value", kind, schema)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "pattern": "^(a|aa)+$"},
        {"type": "object", "propertyNames": {"pattern": "^(a|aa)+$"}},
        {
            "type": "object",
            "patternProperties": {"^(a|aa)+$": {}},
            "additionalProperties": False,
        },
    ],
    ids=["pattern", "propertyNames", "patternProperties"],
)
def test_catastrophic_pattern_is_cut_off(
    broker: Broker, server: EmbeddedServer, schema: dict[str, Any]
) -> None:
    name = f"redos-{len(json.dumps(schema))}"
    sid = _topic(broker, name, "JSON", json.dumps(schema))
    evil = "a" * 40 + "!"  # Python's re would backtrack for hours
    doc: Any = evil if schema["type"] == "string" else {evil: 1}
    with Pinger(server.address) as pinger:
        error, took = timed_refusal(lambda: broker.produce(name, [record(json_bytes(sid, doc))]))
    assert error.reason == "INVALID_RECORD"
    assert error.metadata["limit"] == "validation_timeout_ms"
    assert "^(a|aa)+$" in error.message
    assert took < BOUND_S
    assert pinger.calls > 0
    assert pinger.worst < 1.0
    good: Any = "aaaa" if schema["type"] == "string" else {"aaaa": 1}
    assert broker.produce(name, [record(json_bytes(sid, good))]).results[0].offsets == [0]
    still_serving(broker, server)


def test_classic_redos_pattern_is_answered_normally(broker: Broker, server: EmbeddedServer) -> None:
    sid = _topic(broker, "redos-classic", "JSON", '{"type":"string","pattern":"^(a+)+$"}')
    doc = "a" * 40 + "!"
    error, took = timed_refusal(
        lambda: broker.produce("redos-classic", [record(json_bytes(sid, doc))])
    )
    assert error.metadata["rule"] == "pattern"
    assert took < BOUND_S
    still_serving(broker, server)


def test_exponential_ref_unfolding_hits_the_time_budget(
    broker: Broker, server: EmbeddedServer
) -> None:
    """Forty definitions, each allOf two refs to the next: 2**40 evaluations of one string."""
    defs: dict[str, Any] = {
        f"d{i}": {"allOf": [{"$ref": f"#/$defs/d{i + 1}"}] * 2} for i in range(40)
    }
    defs["d40"] = {"type": "string"}
    schema = json.dumps({"$defs": defs, "$ref": "#/$defs/d0"})
    started = time.monotonic()
    sid = _topic(broker, "ref-bomb", "JSON", schema)
    assert time.monotonic() - started < BOUND_S
    for doc in ("valid string", 1):  # both the fast accept and the error search are bounded
        with Pinger(server.address) as pinger:
            error, took = timed_refusal(
                lambda d=doc: broker.produce("ref-bomb", [record(json_bytes(sid, d))])
            )
        assert error.metadata["limit"] == "validation_timeout_ms"
        assert f"validation_timeout_ms={VALIDATION_TIMEOUT_MS}" in error.message
        assert VALIDATION_TIMEOUT_MS / 1000 <= took < BOUND_S
        assert pinger.calls > 0
    still_serving(broker, server)


@pytest.mark.parametrize(
    "schema",
    [
        {"$defs": {"n": {"allOf": [{"$ref": "#/$defs/n"}]}}, "$ref": "#/$defs/n"},
        {"$ref": "#"},
        {
            "$defs": {f"d{i}": {"$ref": f"#/$defs/d{i + 1}"} for i in range(3000)}
            | {"d3000": {"type": "string"}},
            "$ref": "#/$defs/d0",
        },
    ],
    ids=["allOf-cycle", "self", "chain-3000"],
)
def test_recursive_refs(broker: Broker, server: EmbeddedServer, schema: dict[str, Any]) -> None:
    name = f"rec-ref-{len(json.dumps(schema))}"
    started = time.monotonic()
    try:
        sid = _topic(broker, name, "JSON", json.dumps(schema))
    except grpc.RpcError as e:  # refusing the schema outright is as good, if it says why
        error = from_rpc_error(e)
        assert error.reason in ("INVALID_SCHEMA", "INVALID_REFERENCE")
        assert time.monotonic() - started < BOUND_S
        still_serving(broker, server)
        return
    for doc in (1, "x"):
        started = time.monotonic()
        try:
            broker.produce(name, [record(json_bytes(sid, doc))])
        except grpc.RpcError as e:
            error = from_rpc_error(e)
            assert error.reason == "INVALID_RECORD"
            assert "$ref" in error.message or "validation_timeout_ms" in error.message
        assert time.monotonic() - started < BOUND_S
    still_serving(broker, server)


def test_protobuf_importing_itself(broker: Broker, server: EmbeddedServer) -> None:
    text = 'syntax = "proto3";\nimport "schema.proto";\nmessage A { int32 x = 1; }'
    error, took = timed_refusal(lambda: broker.register("self-import", "PROTOBUF", text))
    assert error.reason == "INVALID_SCHEMA"
    assert "recursively imports itself" in error.message
    assert took < BOUND_S
    still_serving(broker, server)


def _nested_avro(levels: int) -> str:
    text = '"int"'
    for i in range(levels):
        text = f'{{"type":"record","name":"R{i}","fields":[{{"name":"f","type":{text}}}]}}'
    return text


def test_avro_with_thousands_of_nested_records(broker: Broker, server: EmbeddedServer) -> None:
    error, took = timed_refusal(lambda: broker.register("nested", "AVRO", _nested_avro(3000)))
    assert error.reason == "INVALID_SCHEMA"
    assert error.metadata["limit"] == "max_schema_depth"
    assert took < BOUND_S
    still_serving(broker, server)


def test_avro_with_thousands_of_record_types_side_by_side(
    broker: Broker, server: EmbeddedServer
) -> None:
    fields = [
        {
            "name": f"f{i}",
            "type": {"type": "record", "name": f"N{i}", "fields": [{"name": "x", "type": "int"}]},
        }
        for i in range(3000)
    ]
    schema = {"type": "record", "name": "Wide", "fields": fields}
    started = time.monotonic()
    sid = _topic(broker, "wide", "AVRO", json.dumps(schema))
    assert time.monotonic() - started < 5.0
    value = {f"f{i}": {"x": i} for i in range(3000)}
    assert broker.produce("wide", [record(avro_bytes(sid, value, schema))]).results[0].offsets
    still_serving(broker, server)


def test_avro_recursive_payload_cannot_crash_the_server(
    broker: Broker, server: EmbeddedServer
) -> None:
    """A 200 000-deep linked list: fastavro's C reader overflowed the stack on this."""
    linked = '{"type":"record","name":"L","fields":[{"name":"n","type":["null","L"]}]}'
    sid = _topic(broker, "linked", "AVRO", linked)
    deep = frame(sid, b"\x02" * 200_000 + b"\x00")
    error, took = timed_refusal(lambda: broker.produce("linked", [record(deep)]))
    assert error.metadata["limit"] == "max_payload_depth"
    assert took < BOUND_S
    still_serving(broker, server)
