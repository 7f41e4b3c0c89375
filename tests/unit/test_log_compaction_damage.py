"""Compaction over a closed segment that holds a damaged batch.

The damaged batch is kept byte for byte (reads of it still fail with CORRUPT_DATA naming the
file and byte), the intact batches around it are compacted as usual, cleanup carries on, and
idempotent-producer state rebuilt from the compacted log still answers retries.
"""

from __future__ import annotations

import asyncio
import logging
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
from weir.broker.log.cleanup import run_cleanup
from weir.broker.log.engine import EmbeddedLogStore
from weir.broker.log.partition import Partition
from weir.core.errors import CorruptDataError, OutOfOrderSequenceError

TP = TopicPartition(TopicName("cd"), PartitionId(0))
CFG = StorageConfig(cleanup_compact=True, cleanup_delete=False, index_interval_bytes=0)
NOW = 1_700_000_000_000
BATCHES = 30
PID = 5


def key(i: int) -> bytes:
    return b"k%d" % (i % 3)


def producer(i: int) -> ProducerState:
    return ProducerState(producer_id=PID, epoch=0, base_sequence=i)


def scan(p: Partition, end: int) -> tuple[dict[int, bytes | None], list[int]]:
    """Every readable record below ``end`` (stepping over damage), and where reads failed."""
    got: dict[int, bytes | None] = {}
    failed: list[int] = []
    offset = 0
    while offset < end:
        try:
            records = p.read(offset, 1 << 20)
        except CorruptDataError:
            failed.append(offset)
            offset += 1
            continue
        for r in records:
            if r.offset < end:
                got[r.offset] = r.value
        offset = records[-1].offset + 1 if records else end
    return got, failed


@pytest.mark.parametrize("victim", [0, 10, BATCHES - 1])
def test_compaction_keeps_a_damaged_batch_and_compacts_around_it(
    tmp_path: Path, victim: int, caplog: pytest.LogCaptureFixture
) -> None:
    store = EmbeddedLogStore(tmp_path, now_ms=lambda: NOW)
    asyncio.run(store.create_partition(TP, CFG))
    p = store.partition(TP)
    positions = []
    for i in range(BATCHES):
        positions.append(p.segments()[-1].size)
        p.append([NewRecord(b"v%d" % i, key(i), timestamp_ms=NOW)], producer=producer(i))
    p.roll()
    p.append([NewRecord(b"active", b"k0", timestamp_ms=NOW)])
    path = p.segments()[0].path
    asyncio.run(store.close())
    data = bytearray(path.read_bytes())
    data[positions[victim] + 40] ^= 0x21  # inside the header: CRC mismatch
    path.write_bytes(bytes(data))
    size_before = len(data)

    store = EmbeddedLogStore(tmp_path, now_ms=lambda: NOW)
    asyncio.run(store.create_partition(TP, CFG))
    p = store.partition(TP)
    with caplog.at_level(logging.WARNING, logger="weir.broker.log"):
        run_cleanup(p, NOW + 1)  # must not raise
    assert any("kept the damaged batch" in r.getMessage() for r in caplog.records)
    assert p.segments()[0].size < size_before  # something was removed
    newest = {key(i): i for i in range(BATCHES) if i != victim}
    expected = {i: b"v%d" % i for i in newest.values()}

    def check(p: Partition) -> None:
        got, failed = scan(p, BATCHES)
        assert got == expected
        assert victim in failed
        with pytest.raises(CorruptDataError) as bad:
            p.read(victim, 1)
        assert bad.value.metadata["file"] == str(path)
        assert p.offsets().log_end == BATCHES + 1
        assert p.segments()[0].next_offset == BATCHES
        assert p.read(BATCHES, 1)[0].value == b"active"

    check(p)
    asyncio.run(store.close())
    store = EmbeddedLogStore(tmp_path, now_ms=lambda: NOW)
    p = store.partition(TP)
    check(p)
    # producer state from the compacted log (empty idempotent batches keep their headers)
    for i in range(BATCHES - 5, BATCHES):
        if i == victim:
            continue
        again = p.append([NewRecord(b"retry", key(i))], producer=producer(i))
        assert again.duplicate
        assert again.base_offset == i
    if victim == BATCHES - 1:
        # the producer's last batch is the damaged one: its sequence is unknown, so the next
        # one is refused (the producer restarts its session) rather than guessed
        with pytest.raises(OutOfOrderSequenceError) as gap:
            p.append([NewRecord(b"n")], producer=producer(BATCHES))
        assert gap.value.metadata["expected_sequence"] == str(BATCHES - 1)
    else:
        next_batch = p.append([NewRecord(b"n")], producer=producer(BATCHES))
        assert next_batch.base_offset == BATCHES + 1
    # a second compaction keeps the damage as it is and changes nothing else
    run_cleanup(p, NOW + 2)
    got, _ = scan(p, BATCHES)
    assert got == expected
    asyncio.run(store.close())
