"""Recovery on open: torn and corrupt tails, lost indexes, corruption found at read time."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import pytest

from weir.broker.log.api import NewRecord, PartitionId, StorageConfig, TopicName, TopicPartition
from weir.broker.log.engine import EmbeddedLogStore
from weir.core.errors import CorruptDataError

TP = TopicPartition(TopicName("t"), PartitionId(0))


def pdir(root: Path) -> Path:
    return root / "t-0"


def build(root: Path, batches: int, cfg: StorageConfig | None = None) -> list[int]:
    """Write ``batches`` batches of 3 records; return the file size after each batch."""

    async def main() -> list[int]:
        store = EmbeddedLogStore(root)
        await store.create_partition(TP, cfg or StorageConfig())
        ends = []
        for b in range(batches):
            await store.append(TP, [NewRecord(b"v%d-%d" % (b, i), b"k%d" % i) for i in range(3)])
            ends.append(store.partition(TP).segments()[-1].size)
        await store.close()
        return ends

    return asyncio.run(main())


def reopen_and_read(root: Path) -> tuple[int, list[bytes | None]]:
    async def main() -> tuple[int, list[bytes | None]]:
        store = EmbeddedLogStore(root)
        end = store.offsets(TP).log_end
        values = [r.value for r in await store.read(TP, 0, 1 << 20)]
        # the log is writable right after recovery, at the next dense offset
        result = await store.append(TP, [NewRecord(b"after")])
        assert result.base_offset == end
        await store.close()
        return end, values

    return asyncio.run(main())


def test_torn_tail_is_truncated_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ends = build(tmp_path, 4)
    log_file = pdir(tmp_path) / f"{0:020d}.log"
    with log_file.open("r+b") as f:
        f.truncate(ends[3] - 5)  # the last batch lost its last 5 bytes
    with caplog.at_level(logging.WARNING, logger="weir.broker.log"):
        end, values = reopen_and_read(tmp_path)
    assert end == 9
    assert values == [b"v%d-%d" % (b, i) for b in range(3) for i in range(3)]
    [warning] = [r for r in caplog.records if "truncated" in r.getMessage()]
    text = warning.getMessage()
    assert str(log_file) in text
    assert f"at byte {ends[2]}" in text
    assert f"dropped {ends[3] - 5 - ends[2]} bytes" in text


def test_garbage_after_last_batch_is_dropped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ends = build(tmp_path, 2)
    log_file = pdir(tmp_path) / f"{0:020d}.log"
    with log_file.open("ab") as f:
        f.write(b"\x00" * 7)
    with caplog.at_level(logging.WARNING, logger="weir.broker.log"):
        end, _ = reopen_and_read(tmp_path)
    assert end == 6
    assert any(f"at byte {ends[1]}, dropped 7 bytes" in r.getMessage() for r in caplog.records)


def test_corrupt_byte_in_last_batch(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ends = build(tmp_path, 3)
    log_file = pdir(tmp_path) / f"{0:020d}.log"
    with log_file.open("r+b") as f:
        f.seek(ends[2] - 2)
        byte = f.read(1)
        f.seek(ends[2] - 2)
        f.write(bytes([byte[0] ^ 0xFF]))
    with caplog.at_level(logging.WARNING, logger="weir.broker.log"):
        end, values = reopen_and_read(tmp_path)
    assert end == 6
    assert len(values) == 6
    assert any(
        f"at byte {ends[1]}, dropped {ends[2] - ends[1]} bytes (CRC-32C mismatch)" in r.getMessage()
        for r in caplog.records
    )


def test_corrupt_closed_segment_raises_at_read_time(tmp_path: Path) -> None:
    build(tmp_path, 6, StorageConfig(segment_bytes=250))
    first = pdir(tmp_path) / f"{0:020d}.log"
    with first.open("r+b") as f:
        f.seek(80)
        f.write(b"\xff\xfe")

    async def main() -> None:
        store = EmbeddedLogStore(tmp_path)  # closed segments keep their index: no scan
        with pytest.raises(CorruptDataError) as info:
            await store.read(TP, 0, 1 << 20)
        assert info.value.metadata["file"] == str(first)
        assert info.value.metadata["position"] == "0"
        assert str(first) in str(info.value)
        later = await store.read(TP, 3, 1 << 20)  # other segments still serve
        assert later[0].offset == 3
        await store.close()

    asyncio.run(main())


def test_missing_index_is_rebuilt_and_strays_removed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    build(tmp_path, 8, StorageConfig(segment_bytes=250, index_interval_bytes=0))
    d = pdir(tmp_path)
    closed = sorted(d.glob("*.index"))
    assert closed
    closed[0].unlink()
    closed[1].write_bytes(b"garbage")
    (d / f"{0:020d}.log.cleaned").write_bytes(b"half a compaction")
    (d / f"{99:020d}.index").write_bytes(b"orphan")
    with caplog.at_level(logging.WARNING):
        end, values = reopen_and_read(tmp_path)
    assert end == 24
    assert values == [b"v%d-%d" % (b, i) for b in range(8) for i in range(3)]
    assert not (d / f"{0:020d}.log.cleaned").exists()
    assert not (d / f"{99:020d}.index").exists()
    assert closed[0].exists()
    assert not [r for r in caplog.records if "truncated" in r.getMessage()]


def test_torn_unindexed_closed_segment_keeps_later_segments(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    build(tmp_path, 8, StorageConfig(segment_bytes=250))
    d = pdir(tmp_path)
    logs = sorted(d.glob("*.log"))
    assert len(logs) >= 3
    # a crash before the second segment was fsynced: no index, torn content
    logs[1].with_suffix(".index").unlink()
    size = logs[1].stat().st_size
    os.truncate(logs[1], size - 3)
    with caplog.at_level(logging.WARNING):
        end, values = reopen_and_read(tmp_path)
    second_base, third_base = int(logs[1].stem), int(logs[2].stem)
    assert end == 24  # the later segments stay, so the log end does not move
    torn = range(second_base, third_base)  # its one batch was torn
    assert values == [b"v%d-%d" % divmod(o, 3) for o in range(24) if o not in torn]
    assert all(f.exists() for f in logs)
    assert any("every later segment" in r.getMessage() for r in caplog.records)
