"""weir.sdk.AsyncProducer against a real server: the sync producer's main cases on asyncio."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import grpc
import pytest

from tests.integration.broker_helpers import ORDER_AVSC, Broker, avro_bytes
from tests.integration.test_sdk_producer import free_port, make_topic, read_log
from weir.broker.embedded import EmbeddedServer
from weir.core import errors
from weir.core.partitioner import partition_for_key
from weir.sdk import AsyncProducer, RecordMetadata, SerializationContext


def test_keyed_records_land_on_kafkas_partition_in_order(server: EmbeddedServer) -> None:
    make_topic(server.address, "orders", 4)

    async def main() -> list[RecordMetadata]:
        async with AsyncProducer(server.address, linger_ms=1, max_batch_records=9) as producer:
            futures = [
                await producer.produce("orders", f"{i}", key=f"k{i % 5}") for i in range(120)
            ]
            assert await producer.flush() == 0
            return [f.result() for f in futures]

    metadata = asyncio.run(main())
    for i, md in enumerate(metadata):
        assert md.partition == partition_for_key(f"k{i % 5}".encode(), 4)
    for p in range(4):
        log = read_log(server.address, "orders", p)
        values = [int(v) for _, _, v in log]
        assert values == sorted(values)
        mine = sorted((md.offset, i) for i, md in enumerate(metadata) if md.partition == p)
        assert [(o, str(i).encode()) for o, i in mine] == [(o, v) for o, _, v in log]


def test_produce_and_wait_and_per_record_errors(
    server: EmbeddedServer, channel: grpc.Channel
) -> None:
    broker = Broker(channel)
    broker.create_topic("orders", 1, on_invalid="reject_record")
    sid = broker.register("orders-value", "AVRO", json.dumps(ORDER_AVSC))
    calls: list[Any] = []

    async def main() -> None:
        async with AsyncProducer(server.address) as producer:
            md = await producer.produce_and_wait("orders", avro_bytes(sid, {"id": "a", "qty": 1}))
            assert (md.partition, md.offset) == (0, 0)
            with pytest.raises(errors.InvalidRecordError, match="magic byte"):
                await producer.produce_and_wait("orders", b"not avro")
            bad = await producer.produce(
                "orders", b"not avro", on_delivery=lambda e, m: calls.append(e)
            )
            with pytest.raises(errors.InvalidRecordError) as caught:
                await bad
            assert caught.value.metadata["rule"] == "magic-byte"
            assert calls == [caught.value]
            md = await producer.produce_and_wait("orders", avro_bytes(sid, {"id": "b", "qty": 2}))
            assert md.offset == 1

    asyncio.run(main())
    assert len(read_log(server.address, "orders", 0)) == 2


def test_async_serializer_is_awaited(server: EmbeddedServer) -> None:
    make_topic(server.address, "t", 1)

    class Upper:
        def __call__(self, obj: Any, ctx: SerializationContext) -> bytes:
            raise AssertionError("the async producer must use serialize_async")

        async def serialize_async(self, obj: Any, ctx: SerializationContext) -> bytes:
            await asyncio.sleep(0)
            return f"{ctx.topic}:{obj}".upper().encode()

    async def main() -> None:
        async with AsyncProducer(server.address, value_serializer=Upper()) as producer:
            await producer.produce_and_wait("t", "hi")
            with pytest.raises(errors.InvalidArgumentError, match="key_serializer"):
                await producer.produce("t", "x", key=3.5)

    asyncio.run(main())
    assert read_log(server.address, "t", 0)[0][2] == b"T:HI"


def test_flush_close_and_unknown_topic(server: EmbeddedServer) -> None:
    make_topic(server.address, "t", 1)

    async def main() -> None:
        producer = AsyncProducer(server.address, linger_ms=60_000)
        futures = [await producer.produce("t", f"r{i}") for i in range(3)]
        await asyncio.sleep(0.1)
        assert not any(f.done() for f in futures)
        assert len(producer) == 3
        assert await producer.flush(10) == 0
        assert [f.result().offset for f in futures] == [0, 1, 2]
        missing = await producer.produce("nope", b"x")
        with pytest.raises(errors.TopicNotFoundError, match="'nope'"):
            await missing
        last = await producer.produce("t", "last")
        await producer.close()
        assert last.result().offset == 3
        with pytest.raises(errors.FailedPreconditionError, match="closed"):
            await producer.produce("t", "after close")

    asyncio.run(main())


def test_unreachable_server_is_a_clear_error_within_the_delivery_timeout() -> None:
    address = f"127.0.0.1:{free_port()}"

    async def main() -> BaseException | None:
        async with AsyncProducer(address, delivery_timeout_ms=1500) as producer:
            future = await producer.produce("t", b"x")
            await asyncio.wait([future], timeout=10)
            return future.exception()

    started = time.monotonic()
    error = asyncio.run(main())
    assert isinstance(error, errors.UnavailableError)
    assert address in str(error)
    assert time.monotonic() - started < 6
