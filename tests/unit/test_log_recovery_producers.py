"""Idempotent-producer state rebuilt on open when the log holds damage or a torn tail.

Recovery keeps a damaged batch in the middle of a segment (reads of it fail with
CORRUPT_DATA) and serves the batches after it. The producer state must cover every intact
batch, in order, skipping only the damaged one; a torn tail that recovery cuts must not be
remembered, so the producer's retry of it is appended again.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from weir.broker.log.api import (
    AppendResult,
    NewRecord,
    PartitionId,
    ProducerState,
    StorageConfig,
    TopicName,
    TopicPartition,
)
from weir.broker.log.engine import EmbeddedLogStore, partition_dir
from weir.broker.log.partition import Partition
from weir.core.errors import CorruptDataError, OutOfOrderSequenceError, ProducerFencedError

TP = TopicPartition(TopicName("rp"), PartitionId(0))
PID = 42


def batch(n: int, tag: str) -> list[NewRecord]:
    return [NewRecord(f"{tag}-{i}".encode(), f"k{i}".encode()) for i in range(n)]


def prod(seq: int, epoch: int = 0, pid: int = PID) -> ProducerState:
    return ProducerState(producer_id=pid, epoch=epoch, base_sequence=seq)


class Written:
    """One batch as appended: where it went, its producer fields and its file position."""

    def __init__(self, result: AppendResult, producer: ProducerState, file: Path, pos: int):
        self.result = result
        self.producer = producer
        self.file = file
        self.pos = pos


def write(
    root: Path,
    producers: list[ProducerState],
    cfg: StorageConfig | None = None,
    roll_at_end: bool = False,
) -> list[Written]:
    """Append one 2-record batch per producer state (acks=all); return where each went."""
    store = EmbeddedLogStore(root)
    asyncio.run(store.create_partition(TP, cfg or StorageConfig()))
    p = store.partition(TP)
    out = []
    for n, producer in enumerate(producers):
        before = p.segments()[-1]
        pos = before.size
        result = p.append(batch(2, f"b{n}"), producer=producer)
        seg = p.segments()[-1]
        out.append(Written(result, producer, seg.path, pos if seg is before else 0))
    if roll_at_end:
        p.roll()
    asyncio.run(store.close())
    return out


def flip(w: Written, at: int = 30) -> None:
    """Flip one byte ``at`` bytes into the batch (inside its header: CRC mismatch)."""
    data = bytearray(w.file.read_bytes())
    data[w.pos + at] ^= 0x5A
    w.file.write_bytes(bytes(data))


def retry(p: Partition, w: Written) -> AppendResult:
    return p.append(batch(2, "retry"), producer=w.producer)


def test_damage_mid_segment_keeps_later_batches_in_producer_state(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # pid 42 writes 6 batches; pid 7 writes only after the damaged one
    seqs = [prod(2 * n) for n in range(3)] + [prod(0, pid=7)] + [prod(2 * n) for n in range(3, 6)]
    written = write(tmp_path, seqs)
    assert len({w.file for w in written}) == 1
    flip(written[1])
    with caplog.at_level(logging.WARNING, logger="weir.broker.log"):
        store = EmbeddedLogStore(tmp_path)
    p = store.partition(TP)
    # recovery found the damage; the producer walk stepped over it (nothing skipped after)
    assert any(f"corrupt batch at byte {written[1].pos}" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if "skipped the rest" in r.getMessage()]
    end = p.offsets().log_end
    assert end == written[-1].result.last_offset + 1
    # (a) a retry of the last acknowledged batch is a duplicate with its original offsets
    last = written[-1]
    dup = retry(p, last)
    assert dup.duplicate
    assert (dup.base_offset, dup.last_offset) == (last.result.base_offset, last.result.last_offset)
    assert dup.log_append_time_ms == last.result.log_append_time_ms
    # so is every other intact batch of the window, and pid 7's only batch (after the damage)
    for w in (written[0], written[2], written[3], written[4], written[5]):
        again = retry(p, w)
        assert again.duplicate, w.producer
        assert again.base_offset == w.result.base_offset
    assert p.offsets().log_end == end
    # (c) an out-of-order sequence is refused, naming the expected one
    with pytest.raises(OutOfOrderSequenceError) as gap:
        p.append(batch(1, "gap"), producer=prod(13))
    assert gap.value.metadata["expected_sequence"] == "12"
    # (b) the next sequence is accepted at the log end
    ok = p.append(batch(1, "next"), producer=prod(12))
    assert not ok.duplicate
    assert ok.base_offset == end
    # the damaged batch itself still reads as CORRUPT_DATA naming file and byte
    with pytest.raises(CorruptDataError) as bad:
        p.read(written[1].result.base_offset, 1 << 20)
    assert bad.value.metadata["position"] == str(written[1].pos)
    asyncio.run(store.close())


def test_damage_in_a_closed_indexed_segment_is_skipped_not_the_rest(tmp_path: Path) -> None:
    """A closed segment with a saved index is not scanned at open; only the producer walk
    meets its damage, and it must step over it to the batches after it."""
    written = write(tmp_path, [prod(2 * n) for n in range(6)], roll_at_end=True)
    d = partition_dir(tmp_path, TP)
    assert written[0].file.with_suffix(".index").exists()
    assert len(list(d.glob("*.log"))) == 2  # the written one (closed) and an empty active
    flip(written[2])
    store = EmbeddedLogStore(tmp_path)
    p = store.partition(TP)
    for w in written[:2] + written[3:]:  # the window of 5: every intact batch
        again = retry(p, w)
        assert again.duplicate
        assert (again.base_offset, again.last_offset) == (
            w.result.base_offset,
            w.result.last_offset,
        )
    # the damaged batch's header is unknown: its retry is refused, never appended twice
    with pytest.raises(OutOfOrderSequenceError):
        retry(p, written[2])
    assert p.append(batch(2, "next"), producer=prod(12)).base_offset == 12
    asyncio.run(store.close())


def test_producer_state_spans_later_segments_after_damage(tmp_path: Path) -> None:
    cfg = StorageConfig(segment_bytes=400)
    written = write(tmp_path, [prod(2 * n, epoch=1) for n in range(12)], cfg)
    files = [w.file for w in written]
    assert len(set(files)) >= 3
    active = files[-1]
    in_active = [w for w in written if w.file == active]
    earlier = [w for w in written if w.file != active]
    first_file = [w for w in earlier if w.file == earlier[0].file]
    assert len(first_file) >= 2
    flip(first_file[0])  # the first batch of the oldest segment
    if len(in_active) >= 2:
        flip(in_active[0])  # and one in the active segment, if a later batch follows it
    store = EmbeddedLogStore(tmp_path)
    p = store.partition(TP)
    assert p.offsets().log_end == written[-1].result.last_offset + 1
    for w in written[-5:]:
        if w is (in_active[0] if len(in_active) >= 2 else None):
            continue
        again = retry(p, w)
        assert again.duplicate
        assert again.base_offset == w.result.base_offset
    with pytest.raises(ProducerFencedError):
        p.append(batch(2, "old"), producer=prod(24, epoch=0))
    assert p.append(batch(2, "next"), producer=prod(24, epoch=1)).base_offset == 24
    asyncio.run(store.close())


def test_damaged_epoch_bump_still_fences_the_old_epoch(tmp_path: Path) -> None:
    producers = [prod(0), prod(2), prod(0, epoch=1), prod(2, epoch=1), prod(4, epoch=1)]
    written = write(tmp_path, producers)
    flip(written[2])  # the first batch of epoch 1
    store = EmbeddedLogStore(tmp_path)
    p = store.partition(TP)
    with pytest.raises(ProducerFencedError):
        p.append(batch(2, "zombie"), producer=prod(4, epoch=0))
    assert retry(p, written[4]).duplicate
    assert p.append(batch(1, "n"), producer=prod(6, epoch=1)).base_offset == 10
    asyncio.run(store.close())


@pytest.mark.parametrize("damage", ["torn", "flipped"])
def test_cut_tail_batch_is_forgotten_and_its_retry_appended(tmp_path: Path, damage: str) -> None:
    written = write(tmp_path, [prod(2 * n) for n in range(4)])
    last = written[-1]
    if damage == "torn":
        size = last.file.stat().st_size
        with last.file.open("r+b") as f:
            f.truncate(size - 5)  # a crash in the middle of writing the last batch
    else:
        flip(last)  # whole but corrupt, with nothing after it: cut as a torn write
    store = EmbeddedLogStore(tmp_path)
    p = store.partition(TP)
    assert p.offsets().log_end == last.result.base_offset
    assert p.producers.last_batches(PID) is not None
    _, remembered = p.producers.last_batches(PID) or (0, [])
    assert [b.first_seq for b in remembered] == [0, 2, 4]
    again = retry(p, last)  # the producer never got an ack (or the data is gone): resend
    assert not again.duplicate
    assert again.base_offset == last.result.base_offset
    assert [r.value for r in p.read(again.base_offset, 1 << 20)] == [b"retry-0", b"retry-1"]
    assert retry(p, last).duplicate  # now it is remembered
    with pytest.raises(OutOfOrderSequenceError):
        p.append(batch(1, "gap"), producer=prod(9))
    asyncio.run(store.close())


def test_damaged_last_batch_of_a_closed_segment_keeps_end_offsets(tmp_path: Path) -> None:
    cfg = StorageConfig(segment_bytes=400)
    written = write(tmp_path, [prod(2 * n) for n in range(10)], cfg)
    files = sorted({w.file for w in written})
    assert len(files) >= 3
    closed = [w for w in written if w.file == files[0]]
    closed[0].file.with_suffix(".index").unlink()  # scanned at open
    flip(closed[-1])  # its last batch: whole, damaged, and the next segment follows
    store = EmbeddedLogStore(tmp_path)
    p = store.partition(TP)
    segs = p.segments()
    assert segs[0].next_offset == segs[1].base == closed[-1].result.last_offset + 1
    with pytest.raises(CorruptDataError):
        p.read(closed[-1].result.base_offset, 1 << 20)
    later = written[written.index(closed[-1]) + 1]
    assert p.read(later.result.base_offset, 1)[0].offset == later.result.base_offset
    assert retry(p, written[-1]).duplicate
    asyncio.run(store.close())
