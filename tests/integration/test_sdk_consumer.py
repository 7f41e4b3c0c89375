"""weir.sdk.Consumer against a real server: subscribe and read in order, commits and restart,
deserializers and schema ids, pause/resume, seek by offset and time, positions, out-of-range
resets, and standalone (no group) assignment. Test data goes in through the raw Produce RPC."""

from __future__ import annotations

import datetime as dt
import socket
import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from tests.integration.broker_helpers import ORDER_AVSC, Broker, avro_bytes, record
from tests.integration.consumer_helpers import FAST, fill
from weir.core import errors
from weir.sdk import Consumer, Message, MessageField, SerializationContext, TopicPartition
from weir.v1 import group_service_pb2_grpc as gs_grpc
from weir.v1 import log_pb2 as lp

TP = TopicPartition


@pytest.fixture
def broker(channel: grpc.Channel) -> Broker:
    return Broker(channel)


def drain(consumer: Consumer, count: int, timeout: float = 10) -> list[Message]:
    got: list[Message] = []
    deadline = time.monotonic() + timeout
    while len(got) < count:
        assert time.monotonic() < deadline, f"only {len(got)} of {count} records arrived"
        message = consumer.poll(0.5)
        if message is not None:
            got.append(message)
    return got


@pytest.fixture
def consumers(server: Any) -> Iterator[list[Consumer]]:
    made: list[Consumer] = []
    yield made
    for c in made:
        c.close()


def test_subscribe_reads_every_record_in_partition_order(server: Any, broker: Broker) -> None:
    fill(broker, "orders", 3, 20, keyed=True)
    with Consumer("g1", ["orders"], server=server.address, **FAST) as consumer:
        got = drain(consumer, 60)
        assert consumer.poll(0.2) is None
        assert consumer.assignment() == [TP("orders", p) for p in range(3)]
        assert consumer.position() == {TP("orders", p): 20 for p in range(3)}
    for p in range(3):
        mine = [m for m in got if m.partition == p]
        assert [m.offset for m in mine] == list(range(20))
        assert [m.value for m in mine] == [f"{p}:{i}".encode() for i in range(20)]
        assert [m.key for m in mine] == [f"k{i}".encode() for i in range(20)]
    assert all(m.topic == "orders" and m.headers == () and m.schema_id is None for m in got)


def test_iteration_yields_records_and_stops_when_closed(server: Any, broker: Broker) -> None:
    fill(broker, "t", 1, 5, keyed=True)
    consumer = Consumer("g", "t", server=server.address, **FAST)
    seen = []
    for message in consumer:
        seen.append(message.offset)
        if len(seen) == 5:
            consumer.close()
    assert seen == [0, 1, 2, 3, 4]
    with pytest.raises(errors.FailedPreconditionError, match="closed"):
        consumer.poll(0)


def test_commit_then_restart_continues_after_the_commit(server: Any, broker: Broker) -> None:
    fill(broker, "t", 2, 10, keyed=True)
    with Consumer("g", ["t"], server=server.address, **FAST) as first:
        got = drain(first, 20)
        on_p0 = [m for m in got if m.partition == 0]
        assert first.commit(on_p0[3]) == {TP("t", 0): 4}
        assert first.committed() == {TP("t", 0): 4, TP("t", 1): None}
        stored = first.commit(offsets=[(TP("t", 1), 7)])
        assert stored == {TP("t", 1): 7}
        future = first.commit(offsets={TP("t", 1): 8}, asynchronous=True)
        assert future.result(5) == {TP("t", 1): 8}
    with Consumer("g", ["t"], server=server.address, **FAST) as second:
        again = drain(second, 6 + 2)
        assert second.poll(0.2) is None
        assert sorted((m.partition, m.offset) for m in again) == [(0, o) for o in range(4, 10)] + [
            (1, 8),
            (1, 9),
        ]
        assert second.commit() == {TP("t", 0): 10, TP("t", 1): 10}
        assert second.committed([TP("t", 0)]) == {TP("t", 0): 10}


class FirstCommitUnreachable:
    """The consumer's GroupService stub, except that the first CommitOffsets goes to a port
    where nothing listens (a real UNAVAILABLE from the network)."""

    def __init__(self, stub: Any, dead: grpc.Channel) -> None:
        self.stub = stub
        self.dead = gs_grpc.GroupServiceStub(dead)  # type: ignore[no-untyped-call]
        self.commits = 0

    def CommitOffsets(self, request: Any, **kw: Any) -> Any:
        self.commits += 1
        send = self.dead.CommitOffsets if self.commits == 1 else self.stub.CommitOffsets
        return send(request, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stub, name)


def test_a_commit_that_meets_a_lost_connection_is_resent(server: Any, broker: Broker) -> None:
    fill(broker, "t", 1, 5, keyed=True)
    with (
        socket.socket() as s,
        Consumer("g", ["t"], server=server.address, **FAST) as consumer,
    ):
        s.bind(("127.0.0.1", 0))  # a port nobody listens on
        drain(consumer, 5)
        with grpc.insecure_channel(f"127.0.0.1:{s.getsockname()[1]}") as dead:
            flaky = FirstCommitUnreachable(consumer._stubs["groups"], dead)
            consumer._stubs["groups"] = flaky
            assert consumer.commit() == {TP("t", 0): 5}
        assert flaky.commits == 2
        assert consumer.committed() == {TP("t", 0): 5}


def test_consume_returns_batches_in_order(server: Any, broker: Broker) -> None:
    fill(broker, "t", 1, 50, keyed=True)
    with Consumer(None, server=server.address) as consumer:
        consumer.assign([TP("t", 0)])
        batch = consumer.consume(30, timeout=5)
        assert [m.offset for m in batch] == list(range(30))
        assert consumer.position(TP("t", 0)) == {TP("t", 0): 30}
        rest = consumer.consume(100, timeout=5)
        assert [m.offset for m in rest] == list(range(30, 50))
        assert consumer.consume(10, timeout=0.1) == []


def test_deserializers_headers_schema_ids_and_tombstones(server: Any, broker: Broker) -> None:
    broker.create_topic("orders", 1)
    schema_id = broker.register("orders-value", "AVRO", str(ORDER_AVSC).replace("'", '"'))
    value = avro_bytes(schema_id, {"id": "o1", "qty": 2})
    broker.produce("orders", [record(value, key=b"k1", headers=[lp.Header(key="h", value=b"v")])])
    contexts: list[SerializationContext] = []

    def key_of(data: bytes | None, ctx: SerializationContext) -> str | None:
        contexts.append(ctx)
        return None if data is None else data.decode()

    def value_of(data: bytes | None, ctx: SerializationContext) -> int | None:
        contexts.append(ctx)
        return None if data is None else len(data)

    with Consumer(
        None, server=server.address, key_deserializer=key_of, value_deserializer=value_of
    ) as consumer:
        consumer.assign([TP("orders", 0)])
        message = consumer.poll(5)
        assert message is not None
        assert (message.key, message.value) == ("k1", len(value))
        assert message.headers == (("h", b"v"),)
        assert message.schema_id == schema_id
        assert message.key_schema_id is None
    assert [c.field for c in contexts] == [MessageField.KEY, MessageField.VALUE]
    assert contexts[1].topic == "orders"
    assert contexts[1].headers == (("h", b"v"),)

    broker.create_topic("plain", 1, value_schema_validation="none")
    broker.produce("plain", [record(None), record(b"")])
    with Consumer(None, server=server.address) as consumer:
        consumer.assign([TP("plain", 0)])
        tombstone, empty = consumer.consume(2, timeout=5)
        assert (tombstone.key, tombstone.value) == (None, None)
        assert (empty.key, empty.value) == (None, b"")


def test_a_failing_deserializer_names_the_record_and_the_next_poll_continues(
    server: Any, broker: Broker
) -> None:
    fill(broker, "t", 1, 3, keyed=True)

    def picky(data: bytes | None, ctx: SerializationContext) -> bytes | None:
        if data == b"0:1":
            raise ValueError("bad byte")
        return data

    with Consumer(None, server=server.address, value_deserializer=picky) as consumer:
        consumer.assign([TP("t", 0)])
        assert consumer.poll(5) is not None
        with pytest.raises(errors.InvalidRecordError, match=r"t-0@1.*ValueError: bad byte"):
            consumer.poll(5)
        last = consumer.poll(5)
        assert last is not None
        assert last.offset == 2
        consumer.seek(TP("t", 0), 0)
        with pytest.raises(errors.InvalidRecordError):
            consumer.consume(3, timeout=5)
        assert consumer.position() == {TP("t", 0): 2}  # the batch after the bad one comes again
        assert [m.offset for m in consumer.consume(3, timeout=5)] == [2]


def test_pause_and_resume(server: Any, broker: Broker) -> None:
    fill(broker, "t", 2, 5, keyed=True)
    with Consumer(None, server=server.address) as consumer:
        consumer.assign([TP("t", 0), TP("t", 1)])
        first = consumer.poll(5)
        assert first is not None
        paused = TP("t", first.partition)
        other = TP("t", 1 - first.partition)
        consumer.pause([paused])
        assert consumer.paused() == [paused]
        got = drain(consumer, 5)
        assert {m.partition for m in got} == {other.partition}
        assert consumer.poll(0.2) is None
        assert consumer.position(paused) == {paused: 1}  # prefetched records were dropped
        consumer.resume(paused)
        rest = drain(consumer, 4)
        assert [m.offset for m in rest] == [1, 2, 3, 4]
        assert {m.partition for m in rest} == {paused.partition}
        with pytest.raises(errors.FailedPreconditionError, match="not assigned"):
            consumer.pause(TP("t", 9))


def test_seek_offsets_for_times_and_seek_to_timestamp(server: Any, broker: Broker) -> None:
    broker.create_topic("t", 1, value_schema_validation="none")
    broker.produce("t", [record(b"x", timestamp_ms=1000 * (i + 1)) for i in range(10)])
    tp = TP("t", 0)
    with Consumer(None, server=server.address) as consumer:
        consumer.assign([tp])
        assert consumer.poll(5) is not None
        consumer.seek(tp, 7)
        message = consumer.poll(5)
        assert message is not None
        assert message.offset == 7
        assert consumer.offsets_for_times({tp: 4500}) == {tp: 4}
        assert consumer.offsets_for_times([(tp, 10_001)]) == {tp: None}
        at = dt.datetime.fromtimestamp(3, dt.UTC)
        assert consumer.seek_to_timestamp(at) == {tp: 2}
        message = consumer.poll(5)
        assert message is not None
        assert (message.offset, message.timestamp) == (2, 3000)
        assert consumer.seek_to_timestamp(99_000, [tp]) == {tp: 10}  # none that late: log end
        assert consumer.poll(0.2) is None
        with pytest.raises(errors.InvalidArgumentError, match="timezone"):
            consumer.seek_to_timestamp(dt.datetime(2024, 1, 1))
        with pytest.raises(errors.InvalidArgumentError, match="offset"):
            consumer.seek(tp, -1)


def test_out_of_range_position_resets_per_auto_offset_reset(server: Any, broker: Broker) -> None:
    fill(broker, "t", 1, 5, keyed=True)
    tp = TP("t", 0)
    with Consumer(None, server=server.address, auto_offset_reset="earliest") as consumer:
        consumer.assign([tp])
        consumer.seek(tp, 500)
        message = consumer.poll(5)
        assert message is not None
        assert message.offset == 0
    with Consumer(None, server=server.address, auto_offset_reset="latest") as consumer:
        consumer.assign([tp])
        assert consumer.position() == {tp: 5}
        consumer.seek(tp, 500)
        assert consumer.poll(0.3) is None
        assert consumer.position() == {tp: 5}
    with Consumer(None, server=server.address, auto_offset_reset="none") as consumer:
        consumer.assign([tp])
        assert consumer.position() == {}  # no group, no reset: seek first
        assert consumer.poll(0.1) is None
        consumer.seek(tp, 500)
        with pytest.raises(errors.OffsetOutOfRangeError, match=r"t-0.*\[0, 5\]"):
            consumer.poll(1)


def test_group_start_positions_latest_and_none(server: Any, broker: Broker) -> None:
    fill(broker, "t", 1, 5, keyed=True)
    with Consumer(
        "late", ["t"], server=server.address, auto_offset_reset="latest", **FAST
    ) as consumer:
        assert consumer.poll(1) is None
        assert consumer.position() == {TP("t", 0): 5}
        broker.produce("t", [record(b"new")])
        message = consumer.poll(5)
        assert message is not None
        assert (message.offset, message.value) == (5, b"new")
    with Consumer("strict", ["t"], server=server.address, auto_offset_reset="none", **FAST) as c:
        errors_seen = []
        deadline = time.monotonic() + 5
        while not errors_seen and time.monotonic() < deadline:
            try:
                c.poll(0.2)
            except errors.NoCommittedOffsetError as error:
                errors_seen.append(error)
        assert "t-0" in str(errors_seen[0])
        assert c.assignment() == []  # it never started reading


def test_no_group_assign_mode_reads_directly_and_refuses_commits(
    server: Any, broker: Broker
) -> None:
    fill(broker, "t", 2, 4, keyed=True)
    with Consumer(None, server=server.address) as consumer:
        consumer.assign([TP("t", 1)])
        assert consumer.assignment() == [TP("t", 1)]
        got = drain(consumer, 4)
        assert [(m.partition, m.offset) for m in got] == [(1, o) for o in range(4)]
        with pytest.raises(errors.FailedPreconditionError, match="group_id=None"):
            consumer.commit()
        with pytest.raises(errors.FailedPreconditionError, match="group_id=None"):
            consumer.committed()
        consumer.unassign()
        assert consumer.assignment() == []
    with pytest.raises(errors.InvalidArgumentError, match="needs a group_id"):
        Consumer(None, ["t"], server=server.address)
    with (
        Consumer("g", ["t"], server=server.address, **FAST) as member,
        pytest.raises(errors.FailedPreconditionError, match="assign"),
    ):
        member.assign([TP("t", 0)])


def test_assign_with_a_group_starts_at_and_stores_standalone_commits(
    server: Any, broker: Broker
) -> None:
    fill(broker, "t", 1, 6, keyed=True)
    tp = TP("t", 0)
    with Consumer("manual", server=server.address) as consumer:
        consumer.assign([tp])
        drain(consumer, 3)
        assert consumer.commit() == {tp: 3}
    with Consumer("manual", server=server.address) as consumer:
        consumer.assign([tp])
        assert consumer.position() == {tp: 3}
        assert consumer.committed() == {tp: 3}
        assert [m.offset for m in drain(consumer, 3)] == [3, 4, 5]


def test_bad_arguments_are_refused_before_anything_is_sent(server: Any) -> None:
    with pytest.raises(errors.InvalidArgumentError, match="auto_offset_reset"):
        Consumer("g", ["t"], server=server.address, auto_offset_reset="smallest")  # type: ignore[arg-type]
    with pytest.raises(errors.InvalidArgumentError, match="not a valid regex"):
        Consumer("g", "^(", server=server.address)
    with pytest.raises(errors.InvalidArgumentError, match="topics"):
        Consumer("g", [], server=server.address)
    with Consumer("g", server=server.address) as consumer:
        with pytest.raises(errors.InvalidArgumentError, match="num_messages"):
            consumer.consume(0)
        message = Message("t", 0, 0, 0, None, None, (), None)
        with pytest.raises(errors.InvalidArgumentError, match="not both"):
            consumer.commit(message, offsets={TP("t", 0): 1})
