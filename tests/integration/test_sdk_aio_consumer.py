"""weir.sdk.AsyncConsumer against a real server, in asyncio: read in order with commits and a
restart, a rebalance with a coroutine on_revoke that commits, leaving on close, standalone
assignment with seek/pause/time lookups, async deserializers, and async commits."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import grpc
import pytest

from tests.integration.broker_helpers import Broker
from tests.integration.consumer_helpers import fill
from weir.core import errors
from weir.sdk import AsyncConsumer, Message, SerializationContext, TopicPartition

TP = TopicPartition
FAST: dict[str, Any] = {"session_timeout_ms": 1500, "fetch_max_wait_ms": 50}


@pytest.fixture
def broker(channel: grpc.Channel) -> Broker:
    return Broker(channel)


async def drain(consumer: AsyncConsumer, count: int, within_s: float = 10) -> list[Message]:
    got: list[Message] = []
    deadline = time.monotonic() + within_s
    while len(got) < count:
        assert time.monotonic() < deadline, f"only {len(got)} of {count} records arrived"
        got += await consumer.consume(count - len(got), 0.5)
    return got


def test_read_in_order_commit_and_restart(server: Any, broker: Broker) -> None:
    fill(broker, "t", 2, 10, timed=True)

    async def main() -> None:
        async with AsyncConsumer("g", ["t"], server=server.address, **FAST) as first:
            got = []
            async for message in first:
                got.append(message)
                if len(got) == 20:
                    break
            for p in range(2):
                assert [m.offset for m in got if m.partition == p] == list(range(10))
            on_p1 = [m for m in got if m.partition == 1]
            assert await first.commit(on_p1[4]) == {TP("t", 1): 5}
            task = await first.commit(offsets={TP("t", 0): 8}, asynchronous=True)
            assert await task == {TP("t", 0): 8}
            assert await first.committed() == {TP("t", 0): 8, TP("t", 1): 5}
            assert first.position() == {TP("t", 0): 10, TP("t", 1): 10}
        async with AsyncConsumer("g", ["t"], server=server.address, **FAST) as second:
            again = await drain(second, 2 + 5)
            assert await second.poll(0.2) is None
            assert sorted((m.partition, m.offset) for m in again) == [(0, 8), (0, 9)] + [
                (1, o) for o in range(5, 10)
            ]

    asyncio.run(main())


def test_rebalance_with_a_coroutine_on_revoke_that_commits(server: Any, broker: Broker) -> None:
    fill(broker, "t", 4, 40, timed=True)

    async def main() -> None:
        revoked: list[TP] = []
        commits: dict[TP, int] = {}

        async def on_revoke(consumer: AsyncConsumer, partitions: list[TP]) -> None:
            revoked.extend(partitions)
            commits.update(await consumer.commit())

        delivered: list[tuple[str, Message]] = []
        a = AsyncConsumer("g", ["t"], server=server.address, on_revoke=on_revoke, **FAST)
        b: AsyncConsumer | None = None
        try:
            while len(delivered) < 30:  # a alone reads the first 30
                m = await a.poll(0.5)
                if m is not None:
                    delivered.append(("a", m))
            assert len(a.assignment()) == 4
            b = AsyncConsumer("g", ["t"], server=server.address, **FAST)  # joins mid-stream
            deadline = time.monotonic() + 20
            while len(delivered) < 160 or len(a.assignment()) != 2 or len(b.assignment()) != 2:
                assert time.monotonic() < deadline, f"{len(delivered)} delivered"
                m = await a.poll(0.01)
                if m is not None:
                    delivered.append(("a", m))
                await asyncio.sleep(0.005)
                delivered += [("b", m) for m in await b.consume(100, 0.01)]
            seen = Counter((m.partition, m.offset) for _, m in delivered)
            assert sorted(seen) == [(p, o) for p in range(4) for o in range(40)]
            assert max(seen.values()) == 1
            assert sorted(revoked) == b.assignment()
            for tp in revoked:
                b_part = [
                    m.offset for w, m in delivered if w == "b" and m.partition == tp.partition
                ]
                assert (b_part[0] if b_part else 40) == commits[tp]
            with pytest.raises(errors.PartitionNotAssignedError, match="revoked"):
                await a.commit(offsets={revoked[0]: 1})
        finally:
            await a.close()
            if b is not None:
                await b.close()

    asyncio.run(main())


def test_close_leaves_the_group(server: Any, broker: Broker) -> None:
    fill(broker, "t", 2, 1, timed=True)

    async def main() -> None:
        kw: dict[str, Any] = {"server": server.address, "session_timeout_ms": 4500}
        a, b = AsyncConsumer("g", ["t"], **kw), AsyncConsumer("g", ["t"], **kw)
        deadline = time.monotonic() + 15
        while len(a.assignment()) != 1 or len(b.assignment()) != 1:
            assert time.monotonic() < deadline
            await a.poll(0.05)
            await b.poll(0.05)
        await a.close()
        started = time.monotonic()
        while len(b.assignment()) != 2:
            assert time.monotonic() - started < 2.5  # b's next heartbeat, not a's timeout
            await b.poll(0.05)
        await b.close()
        with pytest.raises(errors.FailedPreconditionError, match="closed"):
            await b.poll(0)

    asyncio.run(main())


def test_standalone_assign_seek_pause_and_time_lookups(server: Any, broker: Broker) -> None:
    fill(broker, "t", 2, 10, timed=True)

    async def main() -> None:
        async with AsyncConsumer(None, server=server.address) as c:
            await c.assign([TP("t", 0), TP("t", 1)])
            c.pause([TP("t", 1)])
            got = await drain(c, 10)
            assert [(m.partition, m.offset) for m in got] == [(0, o) for o in range(10)]
            assert await c.poll(0.1) is None
            c.resume([TP("t", 1)])
            c.seek(TP("t", 1), 8)
            assert [m.offset for m in await drain(c, 2)] == [8, 9]
            assert await c.offsets_for_times({TP("t", 0): 4500}) == {TP("t", 0): 4}
            assert await c.seek_to_timestamp(3000, [TP("t", 1)]) == {TP("t", 1): 2}
            message = await c.poll(5)
            assert message is not None
            assert (message.partition, message.offset) == (1, 2)
            with pytest.raises(errors.FailedPreconditionError, match="group_id=None"):
                await c.commit()

    asyncio.run(main())


def test_async_deserializers_are_awaited_and_plain_ones_called(server: Any, broker: Broker) -> None:
    fill(broker, "t", 1, 2, timed=True)

    class Upper:
        def __call__(self, data: bytes | None, ctx: SerializationContext) -> str:
            raise AssertionError("the async form must be used")

        async def deserialize_async(self, data: bytes | None, ctx: SerializationContext) -> str:
            await asyncio.sleep(0)
            return (data or b"").decode().upper() + f"@{ctx.topic}"

    def key_of(data: bytes | None, ctx: SerializationContext) -> str:
        return "no key" if data is None else data.decode()

    async def main() -> None:
        async with AsyncConsumer(
            None, server=server.address, value_deserializer=Upper(), key_deserializer=key_of
        ) as c:
            await c.assign([TP("t", 0)])
            got = await drain(c, 2)
            assert [(m.key, m.value) for m in got] == [("no key", "0:0@t"), ("no key", "0:1@t")]

    asyncio.run(main())
