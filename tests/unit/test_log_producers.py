"""Idempotent producers: retries, gaps, fencing, epochs, and state rebuilt on reopen."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from weir.broker.log.api import (
    NewRecord,
    PartitionId,
    ProducerState,
    StorageConfig,
    TopicName,
    TopicPartition,
)
from weir.broker.log.engine import EmbeddedLogStore
from weir.core.errors import InvalidArgumentError, OutOfOrderSequenceError, ProducerFencedError

TP = TopicPartition(TopicName("idem"), PartitionId(0))


def batch(n: int, tag: str = "x") -> list[NewRecord]:
    return [NewRecord(f"{tag}{i}".encode()) for i in range(n)]


def p(seq: int, epoch: int = 0, pid: int = 42) -> ProducerState:
    return ProducerState(producer_id=pid, epoch=epoch, base_sequence=seq)


def test_retry_of_any_of_the_last_five_batches_is_a_duplicate(tmp_path: Path) -> None:
    async def main() -> None:
        store = EmbeddedLogStore(tmp_path)
        await store.create_partition(TP, StorageConfig())
        results = []
        seq = 0
        for _ in range(6):
            results.append(await store.append(TP, batch(2), producer=p(seq)))
            seq += 2
        end = store.offsets(TP).log_end
        for k in range(1, 6):
            again = await store.append(TP, batch(2), producer=p(results[k].base_offset))
            assert again.duplicate
            assert (again.base_offset, again.last_offset) == (
                results[k].base_offset,
                results[k].last_offset,
            )
            assert again.log_append_time_ms == results[k].log_append_time_ms
        assert store.offsets(TP).log_end == end
        # the oldest batch fell out of the window: no longer recognised, and out of order
        with pytest.raises(OutOfOrderSequenceError):
            await store.append(TP, batch(2), producer=p(0))
        # a retry with a different record count is not the same batch
        with pytest.raises(OutOfOrderSequenceError):
            await store.append(TP, batch(3), producer=p(10))
        await store.close()

    asyncio.run(main())


def test_gap_fencing_and_new_epochs(tmp_path: Path) -> None:
    async def main() -> None:
        store = EmbeddedLogStore(tmp_path)
        await store.create_partition(TP, StorageConfig())
        await store.append(TP, batch(3), producer=p(0))
        with pytest.raises(OutOfOrderSequenceError) as gap:
            await store.append(TP, batch(1), producer=p(4))
        assert gap.value.metadata["expected_sequence"] == "3"
        assert gap.value.metadata["received_sequence"] == "4"
        with pytest.raises(OutOfOrderSequenceError, match="must start at sequence 0"):
            await store.append(TP, batch(1), producer=p(3, epoch=1))
        ok = await store.append(TP, batch(1), producer=p(0, epoch=1))
        assert not ok.duplicate
        assert ok.base_offset == 3
        with pytest.raises(ProducerFencedError) as fenced:
            await store.append(TP, batch(1), producer=p(3, epoch=0))
        assert fenced.value.metadata["current_epoch"] == "1"
        # other producers and non-idempotent appends are independent
        assert (await store.append(TP, batch(1), producer=p(0, pid=7))).base_offset == 4
        assert (await store.append(TP, batch(1))).base_offset == 5
        assert (await store.append(TP, batch(1))).base_offset == 6
        with pytest.raises(InvalidArgumentError):
            await store.append(TP, batch(1), producer=p(-1))
        assert store.offsets(TP).log_end == 7
        await store.close()

    asyncio.run(main())


def test_sequence_wraps_like_kafka(tmp_path: Path) -> None:
    async def main() -> None:
        store = EmbeddedLogStore(tmp_path)
        await store.create_partition(TP, StorageConfig())
        top = 2**31 - 2
        await store.append(TP, batch(2), producer=p(top))  # new producer: any start
        assert not (await store.append(TP, batch(1), producer=p(0))).duplicate
        assert (await store.append(TP, batch(2), producer=p(top))).duplicate
        await store.close()

    asyncio.run(main())


def test_producer_state_survives_reopen(tmp_path: Path) -> None:
    async def main() -> None:
        store = EmbeddedLogStore(tmp_path)
        await store.create_partition(TP, StorageConfig(segment_bytes=300))
        first = await store.append(TP, batch(2), producer=p(0, epoch=3))
        for seq in range(2, 20, 2):
            await store.append(TP, batch(2), producer=p(seq, epoch=3))
        await store.append(TP, batch(1), producer=p(0, epoch=0, pid=9))
        await store.close()
        assert len(list((tmp_path / "idem-0").glob("*.log"))) > 2

        store = EmbeddedLogStore(tmp_path)
        end = store.offsets(TP).log_end
        dup = await store.append(TP, batch(2), producer=p(18, epoch=3))
        assert dup.duplicate
        assert (dup.base_offset, dup.last_offset) == (18, 19)
        assert store.offsets(TP).log_end == end
        with pytest.raises(OutOfOrderSequenceError):
            await store.append(TP, batch(2), producer=p(22, epoch=3))
        with pytest.raises(ProducerFencedError):
            await store.append(TP, batch(2), producer=p(20, epoch=2))
        assert (await store.append(TP, batch(2), producer=p(20, epoch=3))).base_offset == end
        assert (await store.append(TP, batch(1), producer=p(1, pid=9))).base_offset == end + 2
        assert first.base_offset == 0
        await store.close()

    asyncio.run(main())
