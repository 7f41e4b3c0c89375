"""TopicService, long-poll fetch, ListOffsets, ProduceStream and the idempotent producer."""

from __future__ import annotations

import asyncio
import threading
import time

import grpc
import pytest

from tests.integration.broker_helpers import Broker, record
from weir.core.status import from_rpc_error
from weir.v1 import errors_pb2
from weir.v1 import log_pb2 as lp
from weir.v1 import log_service_pb2 as ls
from weir.v1 import topic_service_pb2 as ts


@pytest.fixture
def broker(channel: grpc.Channel) -> Broker:
    return Broker(channel)


def error_of(call, *args) -> dict[str, str]:
    with pytest.raises(grpc.RpcError) as caught:
        call(*args)
    error = from_rpc_error(caught.value)
    return {"reason": error.reason, "message": error.message, **error.metadata}


def test_topic_lifecycle(broker: Broker) -> None:
    created = broker.topics.CreateTopic(
        ts.CreateTopicRequest(name="orders", partition_count=3, config={"retention.ms": "1000"})
    ).topic
    assert created.partition_count == 3
    assert [p.log_end_offset for p in created.partitions] == [0, 0, 0]
    names = [t.name for t in broker.topics.ListTopics(ts.ListTopicsRequest()).topics]
    assert names == ["orders"]
    internal = broker.topics.ListTopics(ts.ListTopicsRequest(include_internal=True)).topics
    assert {"_schemas", "__consumer_offsets"} <= {t.name for t in internal if t.internal}
    updated = broker.topics.UpdateTopicConfig(
        ts.UpdateTopicConfigRequest(
            name="orders", set={"cleanup.policy": "compact,delete"}, remove=["retention.ms"]
        )
    ).topic
    assert dict(updated.config) == {"cleanup.policy": "compact,delete"}
    broker.topics.DeleteTopic(ts.DeleteTopicRequest(name="orders"))
    got = error_of(broker.topics.GetTopic, ts.GetTopicRequest(name="orders"))
    assert got["reason"] == "TOPIC_NOT_FOUND"


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"retention.mss": "1"}, "retention.mss"),
        ({"retention.ms": "soon"}, "soon"),
        ({"cleanup.policy": "forever"}, "forever"),
        ({"on.invalid": "ignore"}, "reject_record"),
        ({"segment.bytes": "10"}, ">= 1024"),
    ],
)
def test_bad_config_names_key_and_value(broker: Broker, config: dict[str, str], named: str) -> None:
    got = error_of(
        broker.topics.CreateTopic, ts.CreateTopicRequest(name="t", partition_count=1, config=config)
    )
    assert got["reason"] == "INVALID_CONFIG"
    assert named in got["message"]
    assert next(iter(config)) in got["message"]


def test_bad_topic_requests(broker: Broker) -> None:
    assert (
        error_of(broker.topics.CreateTopic, ts.CreateTopicRequest(name="a b", partition_count=1))[
            "reason"
        ]
        == "INVALID_ARGUMENT"
    )
    assert (
        error_of(broker.topics.CreateTopic, ts.CreateTopicRequest(name="t", partition_count=0))[
            "reason"
        ]
        == "INVALID_ARGUMENT"
    )
    broker.create_topic("t")
    assert (
        error_of(broker.topics.CreateTopic, ts.CreateTopicRequest(name="t", partition_count=1))[
            "reason"
        ]
        == "TOPIC_ALREADY_EXISTS"
    )
    assert (
        error_of(broker.topics.DeleteTopic, ts.DeleteTopicRequest(name="_schemas"))["reason"]
        == "INVALID_ARGUMENT"
    )


def test_long_poll_returns_as_soon_as_a_record_is_acknowledged(broker: Broker) -> None:
    broker.create_topic("t", 1, value_schema_validation="none")
    produced_at: list[float] = []

    def produce_later() -> None:
        time.sleep(0.3)
        broker.produce("t", [record(b"hello")], acks=lp.ACKS_ALL)
        produced_at.append(time.monotonic())

    producer = threading.Thread(target=produce_later)
    producer.start()
    start = time.monotonic()
    part = broker.fetch("t", 0, 0, max_wait_ms=5000, min_bytes=1)
    waited = time.monotonic() - start
    producer.join(timeout=10)
    assert produced_at
    assert [r.value for r in part.records] == [b"hello"]
    assert 0.2 < waited < 4.0


def test_long_poll_times_out_empty(broker: Broker) -> None:
    broker.create_topic("t", 1, value_schema_validation="none")
    start = time.monotonic()
    part = broker.fetch("t", 0, 0, max_wait_ms=300)
    assert not part.records
    assert time.monotonic() - start >= 0.25


def test_list_offsets_by_time(broker: Broker) -> None:
    broker.create_topic("t", 1, value_schema_validation="none")
    broker.produce("t", [record(f"{i}".encode(), timestamp_ms=1000 * (i + 1)) for i in range(5)])

    def at(**spec):
        return broker.log.ListOffsets(ls.ListOffsetsRequest(topic="t", partition=0, **spec))

    assert at(earliest=True).offset == 0
    assert at(latest=True).offset == 5
    found = at(timestamp_ms=2500)
    assert (found.offset, found.timestamp_ms) == (2, 3000)
    assert not at(timestamp_ms=10_000).HasField("offset")


def test_produce_stream_keeps_request_order(broker: Broker) -> None:
    broker.create_topic("t", 1, value_schema_validation="none")

    def requests():
        for i in range(20):
            batch = ls.ProduceBatch(partition=0, records=[lp.Record(value=f"{i}".encode())])
            topic = "nope" if i == 7 else "t"
            yield ls.ProduceStreamRequest(
                request_id=i,
                request=ls.ProduceRequest(topic=topic, acks=lp.ACKS_ALL, batches=[batch]),
            )

    replies = list(broker.log.ProduceStream(requests()))
    assert [r.request_id for r in replies] == list(range(20))
    assert errors_pb2.ErrorReason.Name(replies[7].error_reason) == "ERROR_REASON_TOPIC_NOT_FOUND"
    offsets = [r.response.results[0].offsets[0] for r in replies if r.request_id != 7]
    assert offsets == list(range(19))
    values = [r.value for r in broker.fetch("t").records]
    assert values == [f"{i}".encode() for i in range(20) if i != 7]


def test_idempotent_producer_dedupes_retries_and_fences(broker: Broker) -> None:
    broker.create_topic("t", 2, value_schema_validation="none")
    ident = broker.log.InitProducer(ls.InitProducerRequest())
    pid, epoch = ident.producer_id, ident.producer_epoch

    def send(seq: int, values: list[bytes], ep: int = epoch) -> ls.ProduceResponse:
        batch = ls.ProduceBatch(
            partition=1, base_sequence=seq, records=[lp.Record(value=v) for v in values]
        )
        return broker.log.Produce(
            ls.ProduceRequest(
                topic="t", acks=lp.ACKS_ALL, batches=[batch], producer_id=pid, producer_epoch=ep
            )
        )

    first = send(0, [b"a", b"b"]).results[0]
    retry = send(0, [b"a", b"b"]).results[0]
    assert list(retry.offsets) == list(first.offsets) == [0, 1]
    assert retry.duplicate
    assert list(send(2, [b"c"]).results[0].offsets) == [2]
    assert error_of(send, 9, [b"x"])["reason"] == "OUT_OF_ORDER_SEQUENCE"
    assert send(0, [b"d"], ep=epoch + 1).results[0].offsets[0] == 3
    assert error_of(send, 3, [b"late"], epoch)["reason"] == "PRODUCER_FENCED"
    assert [r.value for r in broker.fetch("t", 1).records] == [b"a", b"b", b"c", b"d"]
    unnamed = ls.ProduceBatch(records=[lp.Record(value=b"x")])
    got = error_of(
        broker.log.Produce,
        ls.ProduceRequest(topic="t", acks=lp.ACKS_ALL, batches=[unnamed], producer_id=pid),
    )
    assert "partition" in got["message"]


def test_idempotent_sequences_count_appended_records_only(broker: Broker) -> None:
    broker.create_topic("t", 1, max_message_bytes="10", on_invalid="reject_record")
    pid = broker.log.InitProducer(ls.InitProducerRequest()).producer_id

    def send(seq: int, values: list[bytes]) -> ls.BatchResult:
        batch = ls.ProduceBatch(
            partition=0, base_sequence=seq, records=[lp.Record(value=v) for v in values]
        )
        request = ls.ProduceRequest(topic="t", acks=lp.ACKS_ALL, batches=[batch], producer_id=pid)
        return broker.log.Produce(request).results[0]

    broker.topics.UpdateTopicConfig(
        ts.UpdateTopicConfigRequest(name="t", set={"value.schema.validation": "none"})
    )
    first = send(0, [b"ok", b"x" * 50, b"ok2"])
    assert list(first.record_indexes) == [0, 2]
    assert [e.index for e in first.errors] == [1]
    retry = send(0, [b"ok", b"x" * 50, b"ok2"])
    assert retry.duplicate
    assert list(retry.offsets) == list(first.offsets)
    assert list(send(2, [b"next"]).offsets) == [2]


def test_long_poll_over_several_partitions_leaves_no_waiters_behind(server, broker: Broker) -> None:
    broker.create_topic("t", 3, value_schema_validation="none")
    timer = threading.Timer(0.2, lambda: broker.produce("t", [record(b"x")], partition=1))
    timer.start()
    reply = broker.log.Fetch(
        ls.FetchRequest(
            max_wait_ms=5000,
            partitions=[ls.FetchPartition(topic="t", partition=p, offset=0) for p in range(3)],
        )
    )
    timer.join()
    assert [len(p.records) for p in reply.partitions] == [0, 1, 0]

    async def waiters() -> int:
        return sum(
            "wait_for_append" in repr(t.get_coro()) for t in asyncio.all_tasks() if not t.done()
        )

    assert server.call(waiters()) == 0
