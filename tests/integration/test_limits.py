"""Every configurable limit refuses with a clear error whose metadata names the limit.

One server with small limits answers the data-plane checks; transport limits (connections,
concurrent calls) get servers of their own so their tight settings disturb nothing else.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from tests.integration.broker_helpers import Broker, json_bytes, record
from weir.broker.embedded import EmbeddedServer
from weir.core.config import load_config
from weir.core.errors import InvalidArgumentError, WeirError
from weir.core.framing import frame
from weir.core.status import from_rpc_error
from weir.v1 import log_pb2 as lp
from weir.v1 import log_service_pb2 as ls
from weir.v1 import topic_service_pb2 as ts

LIMITS = {
    "max_records_per_request": 10,
    "max_request_bytes": 20_000,
    "max_headers_per_record": 4,
    "max_schema_bytes": 4096,
    "max_schema_depth": 12,
    "max_payload_depth": 10,
    "max_topics": 6,
    "max_partitions": 12,
}


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    server = EmbeddedServer(tmp_path_factory.mktemp("limits") / "data", **LIMITS)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def broker(limited: EmbeddedServer) -> Iterator[Broker]:
    with grpc.insecure_channel(limited.address) as channel:
        b = Broker(channel)
        b.create_topic("lim", 1, value_schema_validation="none", max_message_bytes="3000")
        yield b


def refusal(call: Any) -> WeirError:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return from_rpc_error(caught.value)


def test_records_per_request(broker: Broker) -> None:
    assert broker.produce("lim", [record(b"x")] * 10).results[0].offsets
    error = refusal(lambda: broker.produce("lim", [record(b"x")] * 11))
    assert error.reason == "INVALID_REQUEST_SIZE"
    assert error.metadata["limit"] == "max_records_per_request"
    assert "11 records, over the limit of 10" in error.message


def test_request_bytes_count_headers_too(broker: Broker) -> None:
    big = [record(b"v" * 2500) for _ in range(8)]  # 20_000 bytes: at the limit
    assert len(broker.produce("lim", big).results[0].offsets) == 8
    headers = [lp.Header(key="h", value=b"1")]
    over = [record(b"v" * 2500, headers=headers) for _ in range(8)]
    error = refusal(lambda: broker.produce("lim", over))
    assert error.reason == "INVALID_REQUEST_SIZE"
    assert error.metadata["limit"] == "max_request_bytes"
    assert "20016 bytes" in error.message


def test_max_message_bytes_per_topic(broker: Broker) -> None:
    error = refusal(lambda: broker.produce("lim", [record(b"v" * 3001)]))
    assert error.reason == "RECORD_TOO_LARGE"
    assert error.metadata["limit"] == "max.message.bytes"
    assert "max.message.bytes=3000" in error.message


def test_headers_per_record(broker: Broker) -> None:
    four = [lp.Header(key=f"h{i}", value=b"v") for i in range(4)]
    assert broker.produce("lim", [record(b"x", headers=four)]).results[0].offsets
    five = [*four, lp.Header(key="h4", value=b"v")]
    error = refusal(lambda: broker.produce("lim", [record(b"x"), record(b"x", headers=five)]))
    assert error.metadata["limit"] == "max_headers_per_record"
    assert "record 1 has 5 headers" in error.message


def test_schema_size_over_grpc_and_rest(broker: Broker, limited: EmbeddedServer) -> None:
    fields = ",".join(f'{{"name":"f{i}","type":"string"}}' for i in range(150))
    text = f'{{"type":"record","name":"Big","fields":[{fields}]}}'
    assert len(text) > 4096
    error = refusal(lambda: broker.register("big-value", "AVRO", text))
    assert error.reason == "INVALID_SCHEMA"
    assert error.metadata["limit"] == "max_schema_bytes"
    body = json.dumps({"schema": text}).encode()
    request = urllib.request.Request(
        f"{limited.http_url}/subjects/big-value/versions",
        data=body,
        method="POST",
        headers={"Content-Type": "application/vnd.schemaregistry.v1+json"},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    answer = json.loads(caught.value.read())
    assert caught.value.code == 422
    assert answer["error_code"] == 42201
    assert "max_schema_bytes=4096" in answer["message"]


def _nested_avro(levels: int) -> str:
    text = '"int"'
    for i in range(levels):
        text = f'{{"type":"record","name":"R{i}","fields":[{{"name":"f","type":{text}}}]}}'
    return text


def _nested_json(levels: int) -> str:
    text = '{"type":"string"}'
    for _ in range(levels):
        text = f'{{"type":"object","properties":{{"a":{text}}}}}'
    return text


def _nested_proto(levels: int) -> str:
    body = "int32 x = 1;"
    for i in range(levels):
        body = f"message M{i} {{ {body} }}"
    return 'syntax = "proto3";\n' + body


@pytest.mark.parametrize(
    ("kind", "make", "ok", "deep"),
    [
        ("AVRO", _nested_avro, 3, 8),  # 3 JSON levels per record (object, fields, field)
        ("JSON", _nested_json, 5, 7),  # 2 per object (the object, properties)
        ("PROTOBUF", _nested_proto, 12, 13),  # 1 per message
    ],
)
def test_schema_depth(broker: Broker, kind: str, make: Any, ok: int, deep: int) -> None:
    assert broker.register(f"depth-ok-{kind}", kind, make(ok)) > 0
    error = refusal(lambda: broker.register(f"depth-{kind}", kind, make(deep)))
    assert error.reason == "INVALID_SCHEMA"
    assert error.metadata["limit"] == "max_schema_depth"
    assert "max_schema_depth=12" in error.message


def _proto_nest(levels: int) -> bytes:
    data = b""
    for _ in range(levels - 1):
        data = b"\x0a" + _varint(len(data)) + data
    return data


def _varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _avro_list(levels: int) -> bytes:
    return b"\x02" * (levels - 1) + b"\x00"  # each level: union branch 1 (another L)


@pytest.mark.parametrize("kind", ["JSON", "AVRO", "PROTOBUF"])
def test_payload_depth(broker: Broker, kind: str) -> None:
    topic = f"deep-{kind.lower()}"
    broker.create_topic(topic, 1)
    if kind == "JSON":
        sid = broker.register(f"{topic}-value", "JSON", "{}")
        ok, deep = json_bytes(sid, [[[[[1]]]]]), frame(sid, b"[" * 11 + b"]" * 11)
    elif kind == "AVRO":
        linked = '{"type":"record","name":"L","fields":[{"name":"n","type":["null","L"]}]}'
        sid = broker.register(f"{topic}-value", "AVRO", linked)
        ok, deep = frame(sid, _avro_list(10)), frame(sid, _avro_list(11))
    else:
        text = 'syntax = "proto3";\nmessage L { L n = 1; }'
        sid = broker.register(f"{topic}-value", "PROTOBUF", text)
        ok, deep = frame(sid, _proto_nest(10), ()), frame(sid, _proto_nest(11), ())
    assert broker.produce(topic, [record(ok)]).results[0].offsets
    error = refusal(lambda: broker.produce(topic, [record(deep)]))
    assert error.reason == "INVALID_RECORD"
    assert error.metadata["limit"] == "max_payload_depth"
    assert "max_payload_depth=10" in error.message


def test_topics_and_partitions(tmp_path: Path) -> None:
    with (
        EmbeddedServer(tmp_path / "data", max_topics=4, max_partitions=6) as server,
        grpc.insecure_channel(server.address) as channel,
    ):
        broker = Broker(channel)  # _schemas and __consumer_offsets: 2 topics, 2 partitions
        broker.create_topic("a", 1)
        error = refusal(lambda: broker.create_topic("b", 4))  # 3 + 4 > 6
        assert error.reason == "FAILED_PRECONDITION"
        assert error.metadata["limit"] == "max_partitions"
        assert "max_partitions=6" in error.message
        broker.create_topic("b", 3)
        error = refusal(lambda: broker.create_topic("c", 1))
        assert error.metadata["limit"] == "max_topics"
        assert "max_topics=4" in error.message
        grow = ts.CreatePartitionsRequest(name="a", partition_count=2)
        assert refusal(lambda: broker.topics.CreatePartitions(grow)).metadata["limit"] == (
            "max_partitions"
        )
        broker.topics.DeleteTopic(ts.DeleteTopicRequest(name="b"))
        broker.create_topic("c", 1)
        broker.topics.CreatePartitions(grow)


def test_limits_must_be_positive() -> None:
    with pytest.raises(InvalidArgumentError, match="max_topics: 0 is not positive"):
        load_config(env={"WEIR_MAX_TOPICS": "0"})
    assert load_config(env={"WEIR_MAX_CONCURRENT_RPCS": "7"}).max_concurrent_rpcs == 7


def _own_channel(address: str) -> grpc.Channel:
    """A channel with its own connection (not shared through the global subchannel pool)."""
    return grpc.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)])


def test_concurrent_rpcs_beyond_the_limit_are_refused_at_once(tmp_path: Path) -> None:
    with EmbeddedServer(tmp_path / "data", max_concurrent_rpcs=3) as server:
        channel = _own_channel(server.address)
        broker = Broker(channel)
        broker.create_topic("t", 1, value_schema_validation="none")
        poll = ls.FetchRequest(
            partitions=[ls.FetchPartition(topic="t", partition=0, offset=0)], max_wait_ms=1500
        )
        polls = [broker.log.Fetch.future(poll, timeout=10) for _ in range(3)]
        time.sleep(0.5)  # all three are parked in their long-poll
        started = time.monotonic()
        with pytest.raises(grpc.RpcError) as caught:
            broker.log.ListOffsets(ls.ListOffsetsRequest(topic="t", partition=0, latest=True))
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert time.monotonic() - started < 1.0
        for p in polls:
            assert p.result().partitions[0].records == []
        assert broker.end_offset("t") == 0  # served again once the polls ended
        channel.close()


def test_streams_beyond_the_limit_wait_for_a_free_one(tmp_path: Path) -> None:
    """max_concurrent_streams is HTTP/2 flow control: the extra call waits, it is not refused."""
    with EmbeddedServer(tmp_path / "data", max_concurrent_streams=2) as server:
        channel = _own_channel(server.address)
        broker = Broker(channel)
        broker.create_topic("t", 1, value_schema_validation="none")
        poll = ls.FetchRequest(
            partitions=[ls.FetchPartition(topic="t", partition=0, offset=0)], max_wait_ms=1500
        )
        polls = [broker.log.Fetch.future(poll, timeout=10) for _ in range(2)]
        time.sleep(0.3)
        started = time.monotonic()
        assert broker.end_offset("t") == 0  # a third stream: queued until a poll ends
        waited = time.monotonic() - started
        assert waited > 0.8, f"the third call did not wait for a stream ({waited:.2f} s)"
        for p in polls:
            p.result()
        other = _own_channel(server.address)  # another connection has its own streams
        polls = [broker.log.Fetch.future(poll, timeout=10) for _ in range(2)]
        time.sleep(0.3)
        started = time.monotonic()
        assert Broker(other).end_offset("t") == 0
        assert time.monotonic() - started < 0.5
        for p in polls:
            p.result()
        other.close()
        channel.close()


def test_connections_beyond_the_limit_are_not_accepted(tmp_path: Path) -> None:
    with EmbeddedServer(tmp_path / "data", max_connections=2) as server:
        first, second = _own_channel(server.address), _own_channel(server.address)
        grpc.channel_ready_future(first).result(timeout=5)
        grpc.channel_ready_future(second).result(timeout=5)
        third = _own_channel(server.address)
        with pytest.raises(grpc.FutureTimeoutError):
            grpc.channel_ready_future(third).result(timeout=1.5)
        first.close()
        grpc.channel_ready_future(third).result(timeout=10)  # a slot freed: it connects
        Broker(third).create_topic("after", 1)
        second.close()
        third.close()


def test_a_limited_server_still_serves_everyone_else(limited: EmbeddedServer) -> None:
    """After every refusal above, ordinary traffic works (nothing was left half done)."""
    errors: list[Exception] = []

    def work() -> None:
        try:
            with grpc.insecure_channel(limited.address) as channel:
                Broker(channel).produce("lim", [record(b"ok")])
        except Exception as e:  # collected for the assert
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
