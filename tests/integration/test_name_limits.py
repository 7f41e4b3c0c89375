"""Server-side limits on names and waits, against a real server on port 0.

Subject names, group ids and instance ids are at most ``max_name_bytes`` UTF-8 bytes on
every RPC and REST route that takes one; names a call would create or change may not hold
control characters (as Confluent Schema Registry, 42208). A refused name writes nothing to
``_schemas`` or ``__consumer_offsets``. A fetch's ``max_wait_ms`` is clamped to
``max_fetch_wait_ms``.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from tests.integration.broker_helpers import Broker, record
from tests.integration.hostile_cases import (
    HUGE,
    Method,
    all_methods,
    error_info,
    prepare,
    string_fields,
    unhelpful,
)
from tests.integration.rest_helpers import Rest
from weir.broker.embedded import EmbeddedServer
from weir.core.config import load_config
from weir.core.errors import InvalidArgumentError
from weir.v1 import group_pb2 as gp
from weir.v1 import group_service_pb2 as gs
from weir.v1 import group_service_pb2_grpc as gs_grpc
from weir.v1 import log_service_pb2 as ls
from weir.v1 import registry_pb2 as rp
from weir.v1 import registry_service_pb2 as rs

STRING = '{"type": "string"}'
NAME_FIELDS = ("subject", "group_id", "instance_id")
INTERNAL_TOPICS = ("_schemas", "__consumer_offsets")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    running = EmbeddedServer(tmp_path_factory.mktemp("names") / "data")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def channel(server: EmbeddedServer) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server.address) as ch:
        prepare(ch)
        yield ch


@pytest.fixture(scope="module")
def broker(channel: grpc.Channel) -> Broker:
    return Broker(channel)


@pytest.fixture(scope="module")
def rest(server: EmbeddedServer) -> Rest:
    return Rest(server.http_url)


def _ends(broker: Broker) -> dict[str, int]:
    return {t: broker.end_offset(t) for t in INTERNAL_TOPICS}


def _refusal(call: Any) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    error = caught.value
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error
    assert unhelpful(error) is None, unhelpful(error)
    return error


def _register(broker: Broker, subject: str) -> Any:
    return broker.registry.RegisterSchema(
        rs.RegisterSchemaRequest(
            subject=subject, schema=rs.SchemaInput(schema_type=rp.SCHEMA_TYPE_AVRO, schema=STRING)
        )
    )


def _named_methods() -> list[tuple[Method, str]]:
    """(method, field) for every RPC whose request has a top-level subject/group/instance id."""
    return [
        (m, f.name)
        for m in all_methods()
        for f in m.request.DESCRIPTOR.fields
        if f.name in NAME_FIELDS and not m.streaming
    ]


# ----- gRPC: every method that takes a name --------------------------------------------------


@pytest.mark.parametrize(
    ("method", "field"), _named_methods(), ids=lambda x: getattr(x, "path", x).rsplit(".", 1)[-1]
)
def test_every_rpc_refuses_a_mebibyte_name_naming_the_limit(
    channel: grpc.Channel, broker: Broker, method: Method, field: str
) -> None:
    before = _ends(broker)
    request = dict(string_fields(method.request))[field]
    stub = channel.unary_unary(
        method.path,
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=lambda b: b,
    )
    error = _refusal(lambda: stub(request, timeout=10))
    assert f"{field} name is {len(HUGE)} bytes (UTF-8), over the limit of 1000" in (
        error.details() or ""
    ), error.details()
    assert len(error.details() or "") < 500, "the refusal must not echo the whole name"
    info = error_info(error)
    assert info is not None
    assert info.metadata["limit"] == "max_name_bytes"
    assert info.metadata["size"] == str(len(HUGE))
    assert _ends(broker) == before, "a refused name reached the log"


def test_the_limit_counts_utf8_bytes_at_the_boundary(broker: Broker) -> None:
    assert _register(broker, "n" * 1000).version == 1
    assert _register(broker, "é" * 500).version == 1  # 1000 bytes
    for subject, size in (("n" * 1001, 1001), ("é" * 501, 1002), ("🙂" * 251, 1004)):
        before = _ends(broker)
        error = _refusal(lambda s=subject: _register(broker, s))
        assert f"subject name is {size} bytes (UTF-8), over the limit of 1000" in (
            error.details() or ""
        )
        assert _ends(broker) == before


@pytest.mark.parametrize("subject", ["a\x00b", "line\nbreak", "tab\t", "del\x7f", "nel\x85"])
def test_control_characters_are_refused_when_a_subject_is_written(
    broker: Broker, subject: str
) -> None:
    before = _ends(broker)
    code = next(f"U+{ord(c):04X}" for c in subject if ord(c) < 32 or 0x7F <= ord(c) <= 0x9F)
    for call in (
        lambda: _register(broker, subject),
        lambda: broker.registry.SetCompatibility(
            rs.SetCompatibilityRequest(subject=subject, level=rp.COMPATIBILITY_LEVEL_FULL)
        ),
        lambda: broker.registry.SetMode(rs.SetModeRequest(subject=subject, mode=rp.MODE_READONLY)),
    ):
        error = _refusal(call)
        assert f"has the control character {code}" in (error.details() or "")
    assert _ends(broker) == before
    with pytest.raises(grpc.RpcError) as caught:  # reads only check the length: not found
        broker.registry.ListVersions(rs.ListVersionsRequest(subject=subject))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def test_other_unicode_in_subjects_is_accepted(broker: Broker) -> None:
    for subject in ("ü名🙂", "with space", "a/b", "%2F", "a\u200bb"):  # U+200B is not Cc
        assert _register(broker, subject).version == 1


def test_group_ids_and_instance_ids(channel: grpc.Channel, broker: Broker) -> None:
    groups = gs_grpc.GroupServiceStub(channel)
    before = _ends(broker)
    commit = gs.OffsetCommit(topic="sweep", partition=0, offset=0)
    for group_id, expected in (
        ("g" * 1001, "group_id name is 1001 bytes (UTF-8), over the limit of 1000"),
        ("g\x00", "group_id name 'g\\x00' has the control character U+0000"),
    ):
        error = _refusal(
            lambda g=group_id: groups.CommitOffsets(
                gs.CommitOffsetsRequest(group_id=g, standalone=True, offsets=[commit])
            )
        )
        assert expected in (error.details() or "")
        _refusal(
            lambda g=group_id: groups.Heartbeat(
                gs.HeartbeatRequest(
                    group_id=g, member_epoch=0, topics=gp.TopicNames(names=["sweep"])
                )
            )
        )
    error = _refusal(
        lambda: groups.Heartbeat(
            gs.HeartbeatRequest(
                group_id="ok-group",
                member_epoch=0,
                instance_id="i\n",
                topics=gp.TopicNames(names=["sweep"]),
            )
        )
    )
    assert "instance_id name 'i\\n' has the control character U+000A" in (error.details() or "")
    assert _ends(broker) == before
    with pytest.raises(grpc.RpcError) as caught:  # describing only checks the length
        groups.DescribeGroup(gs.DescribeGroupRequest(group_id="g\x00"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    ok = groups.CommitOffsets(
        gs.CommitOffsetsRequest(group_id="g" * 1000, standalone=True, offsets=[commit])
    )
    assert [c.offset for c in ok.offsets] == [0]


# ----- REST ------------------------------------------------------------------------------------


def test_rest_routes_refuse_long_subjects_with_42208(rest: Rest, server: EmbeddedServer) -> None:
    long = "n" * 1001
    body = {"schema": STRING}
    for method, path, payload in (
        ("POST", f"/subjects/{long}/versions", body),
        ("POST", f"/subjects/{long}", body),
        ("GET", f"/subjects/{long}/versions", None),
        ("GET", f"/subjects/{long}/versions/latest", None),
        ("DELETE", f"/subjects/{long}", None),
        ("PUT", f"/config/{long}", {"compatibility": "FULL"}),
        ("GET", f"/config/{long}", None),
        ("DELETE", f"/config/{long}", None),
        ("PUT", f"/mode/{long}", {"mode": "READONLY"}),
        ("GET", f"/mode/{long}", None),
        ("POST", f"/compatibility/subjects/{long}/versions", body),
    ):
        reply = rest.call(method, path, payload)
        assert (reply.status, reply.error_code) == (422, 42208), (method, path, reply)
        assert (
            "subject name is 1001 bytes (UTF-8), over the limit of 1000"
            in (reply.json()["message"])
        )


def test_rest_refuses_control_characters_on_writes_only(rest: Rest) -> None:
    quoted = urllib.parse.quote("a\x00b")
    for method, path, payload in (
        ("POST", f"/subjects/{quoted}/versions", {"schema": STRING}),
        ("PUT", f"/config/{quoted}", {"compatibility": "FULL"}),
        ("PUT", f"/mode/{quoted}", {"mode": "READONLY"}),
    ):
        reply = rest.call(method, path, payload)
        assert (reply.status, reply.error_code) == (422, 42208), (method, path, reply)
        assert "U+0000" in reply.json()["message"]
    assert rest.get(f"/subjects/{quoted}/versions").error_code == 40401


# ----- configured limits -----------------------------------------------------------------------


def test_a_configured_name_limit(tmp_path: Path) -> None:
    with EmbeddedServer(tmp_path / "data", max_name_bytes=16) as running:
        with grpc.insecure_channel(running.address) as ch:
            broker = Broker(ch)
            assert _register(broker, "s" * 16).version == 1
            error = _refusal(lambda: _register(broker, "s" * 17))
            assert "over the limit of 16 (max_name_bytes)" in (error.details() or "")
            groups = gs_grpc.GroupServiceStub(ch)
            error = _refusal(
                lambda: groups.DescribeGroup(gs.DescribeGroupRequest(group_id="g" * 17))
            )
            assert "group_id name is 17 bytes" in (error.details() or "")
        reply = Rest(running.http_url).put("/config/" + "s" * 17, {"compatibility": "NONE"})
        assert reply.error_code == 42208


def test_name_and_wait_limits_are_config_keys() -> None:
    config = load_config(
        env={"WEIR_MAX_NAME_BYTES": "64", "WEIR_MAX_FETCH_WAIT_MS": "750"}, overrides={}
    )
    assert (config.max_name_bytes, config.max_fetch_wait_ms) == (64, 750)
    for key in ("max_name_bytes", "max_fetch_wait_ms"):
        with pytest.raises(InvalidArgumentError, match=f"config key {key}: 0 is not positive"):
            load_config(env={}, overrides={key: 0})


# ----- fetch waits -----------------------------------------------------------------------------


def test_a_huge_fetch_wait_without_deadline_is_clamped(tmp_path: Path) -> None:
    running = EmbeddedServer(tmp_path / "data", max_fetch_wait_ms=500)
    with running, grpc.insecure_channel(running.address) as ch:
        broker = Broker(ch)
        broker.create_topic("quiet", 1, value_schema_validation="none")
        request = ls.FetchRequest(
            partitions=[ls.FetchPartition(topic="quiet", partition=0, offset=0)],
            max_wait_ms=2**31 - 1,
        )
        started = time.monotonic()
        reply = broker.log.Fetch(request)  # no deadline at all
        took = time.monotonic() - started
        assert not reply.partitions[0].records
        assert 0.4 <= took < 1.5, took
        started = time.monotonic()  # a wait under the cap is kept as asked
        broker.log.Fetch(ls.FetchRequest(partitions=request.partitions, max_wait_ms=200), timeout=5)
        assert 0.15 <= time.monotonic() - started < 0.45


def test_a_clamped_fetch_still_wakes_for_records(tmp_path: Path) -> None:
    running = EmbeddedServer(tmp_path / "data", max_fetch_wait_ms=5000)
    with running, grpc.insecure_channel(running.address) as ch:
        broker = Broker(ch)
        broker.create_topic("wake", 1, value_schema_validation="none")
        request = ls.FetchRequest(
            partitions=[ls.FetchPartition(topic="wake", partition=0, offset=0)],
            max_wait_ms=2**31 - 1,
        )
        future = broker.log.Fetch.future(request)
        time.sleep(0.2)
        started = time.monotonic()
        broker.produce("wake", [record(b"hello")])
        reply = future.result(timeout=5)
        assert [r.value for r in reply.partitions[0].records] == [b"hello"]
        assert time.monotonic() - started < 1
