"""Fuzzing recovery and reads over random corruption of real segment files.

A log of batches over several segments is written once (every batch fsynced, as with
acks=all). Each example copies it, flips bytes anywhere (any segment, its indexes) or tears
the active segment's tail, then reopens it. Whatever the damage:

* opening never raises;
* every batch whose bytes are intact reads back whole, at its own offsets;
* no offset ever reads as a record other than the one written there;
* a damaged batch reads as CorruptDataError naming the file and byte position (or, the tail
  of the active segment, was cut off as a torn write);
* the idempotent-producer state holds exactly the last intact batches of the producer, in
  order (a damaged batch is skipped, a cut one forgotten): a retry of the newest intact one
  is answered as a duplicate, and the sequence after it is accepted;
* the log accepts an append at its log end.
"""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from weir.broker.log.api import (
    Acks,
    NewRecord,
    PartitionId,
    ProducerState,
    Record,
    StorageConfig,
    TopicName,
    TopicPartition,
)
from weir.broker.log.engine import EmbeddedLogStore, partition_dir
from weir.broker.log.partition import Partition
from weir.broker.log.producers import WINDOW
from weir.core.errors import CorruptDataError, OffsetOutOfRangeError

TP = TopicPartition(TopicName("fz"), PartitionId(0))
CONFIG = StorageConfig(segment_bytes=1500, index_interval_bytes=300)
BATCHES = 40
EXAMPLES = 150
PID = 77
"""The idempotent producer that writes every batch (sequence = records written before)."""
OUTCOMES: Counter[str] = Counter()
"""What the examples ran into (printed by the last test, for the record)."""


@dataclass(frozen=True)
class Batch:
    file: str
    """The segment file name."""
    position: int
    """Where it starts in the file."""
    size: int
    """Its bytes."""
    records: tuple[Record, ...]
    """What was written."""
    first_seq: int
    """The producer sequence of its first record."""


def _write_template(root: Path) -> list[Batch]:
    store = EmbeddedLogStore(root)
    asyncio.run(store.create_partition(TP, CONFIG))
    p = store.partition(TP)
    batches: list[Batch] = []
    seq = 0
    for b in range(BATCHES):
        n = 1 + b % 4
        records = [
            NewRecord(
                value=f"value-{b}-{i}".encode() * (1 + (b * 7 + i) % 5),
                key=None if i % 3 == 2 else f"k{b}-{i}".encode(),
                headers=(("h", f"{b}".encode()),) if b % 2 else (),
                timestamp_ms=1_700_000_000_000 + b,
            )
            for i in range(n)
        ]
        before = p.segments()[-1]
        position = before.size
        result = p.append(records, Acks.ALL, ProducerState(PID, 0, seq))
        seg = p.segments()[-1]
        if seg is not before:
            position = 0
        read = p.read(result.base_offset, 1)
        batches.append(Batch(seg.path.name, position, seg.size - position, tuple(read[:n]), seq))
        seq += n
    asyncio.run(store.close())
    return batches


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Batch]]:
    root = tmp_path_factory.mktemp("fuzz-template")
    batches = _write_template(root)
    files = {b.file for b in batches}
    assert len(files) >= 4, "the template should span several segments"
    return root, batches


Flip = tuple[int, float, int]
"""(file choice, position as a fraction of the file, xor mask)."""

flips = st.lists(
    st.tuples(st.integers(0, 1000), st.floats(0, 1, exclude_max=True), st.integers(1, 255)),
    min_size=1,
    max_size=3,
)
damage = st.one_of(
    st.tuples(st.just("flip"), flips, st.just(0.0)),
    st.tuples(st.just("tear"), st.just([]), st.floats(0, 1, exclude_max=True)),
    st.tuples(st.just("flip+tear"), flips, st.floats(0, 1, exclude_max=True)),
)


def _apply(
    directory: Path, kind: str, chosen: list[Flip], tear: float
) -> tuple[dict[str, set[int]], int]:
    """Damage the copy; return the flipped byte positions per file and the tear position."""
    files = sorted(p for p in directory.iterdir() if p.suffix in (".log", ".index", ".timeindex"))
    flipped: dict[str, set[int]] = {}
    original = {path.name: path.read_bytes() for path in files}
    for pick, where, mask in chosen if "flip" in kind else []:
        path = files[pick % len(files)]
        data = bytearray(path.read_bytes())
        if not data:
            continue
        pos = int(where * len(data))
        data[pos] ^= mask
        path.write_bytes(bytes(data))
        flipped.setdefault(path.name, set()).add(pos)
    for name, positions in flipped.items():  # two flips of one byte may cancel out
        now = (directory / name).read_bytes()
        positions.intersection_update(i for i in positions if now[i] != original[name][i])
    cut = -1
    if "tear" in kind:
        active = max(directory.glob("*.log"))
        size = active.stat().st_size
        cut = int(tear * size)
        with active.open("r+b") as f:
            f.truncate(cut)
    return flipped, cut


def _names_the_damage(error: CorruptDataError, batch: Batch) -> None:
    assert error.metadata["file"].endswith(batch.file)
    assert int(error.metadata["position"]) >= 0
    assert batch.file in error.message
    assert "byte" in error.message


def _check_producer_state(p: Partition, intact: list[Batch]) -> None:
    """The producer state is the last intact batches; retries and the next sequence work."""
    state = p.producers.last_batches(PID)
    if not intact:
        assert state is None
        OUTCOMES["no producer state"] += 1
        return
    assert state is not None
    epoch, remembered = state
    assert epoch == 0
    want = [
        (b.first_seq, b.first_seq + len(b.records) - 1, b.records[0].offset, b.records[-1].offset)
        for b in intact[-WINDOW:]
    ]
    got = [(m.first_seq, m.last_seq, m.base_offset, m.last_offset) for m in remembered]
    assert got == want, "producer state is not the last intact batches"
    end = p.offsets().log_end
    newest = intact[-1]
    retry = [NewRecord(b"retry")] * len(newest.records)
    dup = p.append(retry, Acks.ALL, ProducerState(PID, 0, newest.first_seq))
    assert dup.duplicate
    assert dup.base_offset == newest.records[0].offset
    assert p.offsets().log_end == end
    following = newest.first_seq + len(newest.records)
    ok = p.append([NewRecord(b"next-seq")], Acks.ALL, ProducerState(PID, 0, following))
    assert not ok.duplicate
    assert ok.base_offset == end
    OUTCOMES["producer state checked"] += 1


def _intact(batch: Batch, flipped: dict[str, set[int]], active: str, cut: int) -> bool:
    end = batch.position + batch.size
    if any(batch.position <= p < end for p in flipped.get(batch.file, ())):
        return False
    return not (batch.file == active and cut >= 0 and end > cut)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(damage=damage)
def test_recovery_and_reads_survive_random_corruption(
    template: tuple[Path, list[Batch]],
    tmp_path_factory: pytest.TempPathFactory,
    damage: tuple[str, list[Flip], float],
) -> None:
    source, batches = template
    root = tmp_path_factory.mktemp("fuzz-copy")
    shutil.rmtree(root)
    shutil.copytree(source, root)
    directory = partition_dir(root, TP)
    active = max(directory.glob("*.log")).name
    flipped, cut = _apply(directory, *damage)
    written = {r.offset: r for b in batches for r in b.records}

    store = EmbeddedLogStore(root)  # must not raise, whatever the damage
    asyncio.run(store.create_partition(TP, CONFIG))
    p = store.partition(TP)
    bounds = p.offsets()
    intact = [b for b in batches if _intact(b, flipped, active, cut)]
    OUTCOMES["intact batches checked"] += len(intact)
    OUTCOMES["examples"] += 1
    for batch in intact:
        first = batch.records[0].offset
        got = p.read(first, 1)
        assert tuple(got[: len(batch.records)]) == batch.records, f"intact batch at {first} lost"
    if intact:
        assert bounds.log_end >= intact[-1].records[-1].offset + 1
    for batch in batches:
        if batch in intact:
            continue
        first = batch.records[0].offset
        try:
            got = p.read(first, 1)
        except CorruptDataError as e:
            _names_the_damage(e, batch)
            OUTCOMES["corrupt read"] += 1
            continue
        except OffsetOutOfRangeError:
            assert batch.file == active, "only the active segment's tail may be cut"
            OUTCOMES["cut tail"] += 1
            continue
        for r in got:  # whatever is served is what was written at that offset
            assert written[r.offset] == r
    offset = bounds.log_start
    while offset < bounds.log_end:  # a full scan, skipping damage, never sees a wrong record
        try:
            got = p.read(offset, 4096)
        except CorruptDataError:
            offset += 1
            continue
        for r in got:
            assert written[r.offset] == r
        offset = got[-1].offset + 1 if got else offset + 1
    _check_producer_state(p, intact)
    result = p.append([NewRecord(b"after-recovery")], Acks.ALL)
    assert result.base_offset == p.offsets().log_end - 1
    assert p.read(result.base_offset, 1)[0].value == b"after-recovery"
    asyncio.run(store.close())
    shutil.rmtree(root)


def test_damage_in_the_middle_of_a_scanned_segment_keeps_later_batches(
    template: tuple[Path, list[Batch]], tmp_path: Path
) -> None:
    """A flipped byte in one batch used to truncate the log there, losing every later batch."""
    source, batches = template
    root = tmp_path / "copy"
    shutil.copytree(source, root)
    directory = partition_dir(root, TP)
    by_file = Counter(b.file for b in batches)
    active = max(by_file, key=lambda f: (by_file[f], f))  # scanned at open: no saved index
    for suffix in (".index", ".timeindex"):
        (directory / active).with_suffix(suffix).unlink(missing_ok=True)
    in_active = [b for b in batches if b.file == active]
    assert len(in_active) >= 3
    victim = in_active[len(in_active) // 2]
    path = directory / active
    data = bytearray(path.read_bytes())
    data[victim.position + victim.size // 2] ^= 0x40
    path.write_bytes(bytes(data))
    store = EmbeddedLogStore(root)
    asyncio.run(store.create_partition(TP, CONFIG))
    p = store.partition(TP)
    assert p.offsets().log_end == batches[-1].records[-1].offset + 1
    with pytest.raises(CorruptDataError) as caught:
        p.read(victim.records[0].offset, 1)
    assert caught.value.metadata["position"] == str(victim.position)
    after = in_active[in_active.index(victim) + 1]
    assert tuple(p.read(after.records[0].offset, 1)[: len(after.records)]) == after.records
    before = p.read(in_active[0].records[0].offset, 1 << 20)  # stops short of the damage
    assert before[-1].offset == victim.records[0].offset - 1
    asyncio.run(store.close())
    print("segment fuzz outcomes so far:", dict(OUTCOMES))
