"""Opening a damaged partition directory: a torn closed segment, a wrong log-start-offset
file, stray files named like segments, index files replaced by directories.

Every case here lost or refused data before the fix: open must cut only damaged bytes,
treat log-start-offset as a hint, and never delete a file it does not own.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import pytest

from weir.broker.log.api import NewRecord, PartitionId, StorageConfig, TopicName, TopicPartition
from weir.broker.log.cleanup import run_cleanup
from weir.broker.log.engine import EmbeddedLogStore
from weir.broker.log.index import remove_index
from weir.broker.log.segment import Segment
from weir.core.errors import InternalError, OffsetOutOfRangeError

TP = TopicPartition(TopicName("t"), PartitionId(0))
SMALL = StorageConfig(segment_bytes=450)  # two batches a segment


def pdir(root: Path) -> Path:
    return root / "t-0"


def build(root: Path, batches: int, cfg: StorageConfig = SMALL) -> None:
    """``batches`` batches of 3 records (values v<batch>-<i>), several segments."""

    async def main() -> None:
        store = EmbeddedLogStore(root)
        await store.create_partition(TP, cfg)
        for b in range(batches):
            await store.append(TP, [NewRecord(b"v%d-%d" % (b, i), b"k%d" % i) for i in range(3)])
        await store.close()

    asyncio.run(main())


def value(offset: int) -> bytes:
    return b"v%d-%d" % divmod(offset, 3)


def read_from(root: Path, offset: int) -> tuple[int, int, list[tuple[int, bytes | None]]]:
    """Reopen; (log start, log end, every (offset, value) from ``offset``)."""

    async def main() -> tuple[int, int, list[tuple[int, bytes | None]]]:
        store = EmbeddedLogStore(root)
        bounds = store.offsets(TP)
        got = [(r.offset, r.value) for r in await store.read(TP, offset, 1 << 20)]
        await store.close()
        return bounds.log_start, bounds.log_end, got

    return asyncio.run(main())


def logs(root: Path) -> list[Path]:
    return sorted(pdir(root).glob("*.log"))


# -- 1. a torn tail in a closed segment ----------------------------------------------------


@pytest.mark.parametrize("index", ["kept", "lost"])
def test_torn_closed_segment_loses_only_its_torn_batch(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, index: str
) -> None:
    build(tmp_path, 12)
    files = logs(tmp_path)
    assert len(files) >= 4
    victim = files[1]
    if index == "lost":  # a crash before its index was saved
        victim.with_suffix(".index").unlink()
    size = victim.stat().st_size
    os.truncate(victim, size - 7)
    with caplog.at_level(logging.WARNING, logger="weir.broker.log"):
        start, end, got = read_from(tmp_path, 0)
    assert (start, end) == (0, 36)
    next_base = int(files[2].stem)
    torn = set(range(next_base - 3, next_base))  # the last batch of the victim
    assert got == [(o, value(o)) for o in range(36) if o not in torn]
    assert all(f.exists() for f in files), "a later segment was deleted"
    text = "\n".join(r.getMessage() for r in caplog.records)
    cut = victim.stat().st_size  # the torn batch started where the file now ends
    assert f"{victim}: truncated a torn or corrupt tail at byte {cut}," in text
    assert "every later segment" in text
    assert f"offsets {next_base - 3} to {next_base - 1} are a gap" in text
    assert 0 < cut < size - 7  # only whole batches remain


def test_reads_and_offsets_across_the_gap(tmp_path: Path) -> None:
    build(tmp_path, 12)
    files = logs(tmp_path)
    victim, after = files[1], files[2]
    os.truncate(victim, victim.stat().st_size - 7)
    next_base = int(after.stem)
    # a read starting inside the gap serves the next segment's first record
    _, _, got = read_from(tmp_path, next_base - 2)
    assert got[0] == (next_base, value(next_base))

    async def main() -> None:
        store = EmbeddedLogStore(tmp_path)
        segs = store.partition(TP).segments()
        assert segs[1].next_offset == next_base  # the gap belongs to the cut segment
        assert await store.offset_for_time(TP, 0) == 0
        assert (await store.append(TP, [NewRecord(b"after")])).base_offset == 36
        await store.close()

    asyncio.run(main())
    # a second open finds nothing to repair: the cut segment's index was saved
    _, end, got = read_from(tmp_path, 0)
    assert end == 37
    assert got[-1] == (36, b"after")
    assert not any(o in got for o in range(next_base - 3, next_base))


def test_torn_active_segment_is_still_cut(tmp_path: Path) -> None:
    build(tmp_path, 12)
    files = logs(tmp_path)
    os.truncate(files[-1], files[-1].stat().st_size - 7)
    _start, end, got = read_from(tmp_path, 0)
    assert end == 33  # the active segment's torn last batch is gone, offsets continue there
    assert got == [(o, value(o)) for o in range(33)]
    assert all(f.exists() for f in files)


# -- 2. the log-start-offset file is a hint ------------------------------------------------


def write_start(root: Path, text: str) -> None:
    (pdir(root) / "log-start-offset").write_text(text)


@pytest.mark.parametrize("text", ["99\n", "36000000000000000000000\n", "abc\n", "-4\n", "1e3"])
def test_log_start_past_the_end_or_garbage_is_refused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    build(tmp_path, 12)
    files = logs(tmp_path)
    write_start(tmp_path, text)
    with caplog.at_level(logging.WARNING, logger="weir.broker.log"):
        start, end, got = read_from(tmp_path, 0)
    assert (start, end) == (0, 36)
    assert got == [(o, value(o)) for o in range(36)]
    assert all(f.exists() for f in files)
    [warning] = [r.getMessage() for r in caplog.records if "log-start-offset" in r.getMessage()]
    assert str(pdir(tmp_path) / "log-start-offset") in warning
    assert text.strip()[:20] in warning


def test_log_start_inside_the_log_hides_but_open_deletes_nothing(tmp_path: Path) -> None:
    build(tmp_path, 12)
    files = logs(tmp_path)
    inside = int(files[2].stem) + 1
    write_start(tmp_path, f"{inside}\n")
    start, end, got = read_from(tmp_path, inside)
    assert (start, end) == (inside, 36)
    assert got == [(o, value(o)) for o in range(inside, 36)]
    assert all(f.exists() for f in files), "open deleted segments because of the file"

    async def main() -> None:
        store = EmbeddedLogStore(tmp_path)
        with pytest.raises(OffsetOutOfRangeError):
            await store.read(TP, inside - 1, 100)
        # cleanup (compact-only here: it still applies) deletes what lies wholly below
        store.set_config(TP, StorageConfig(cleanup_delete=False, cleanup_compact=True))
        await store.run_cleanup()
        assert next(s.base for s in store.partition(TP).segments()) == int(files[2].stem)
        assert store.offsets(TP).log_start == inside
        await store.close()

    asyncio.run(main())
    assert not files[0].exists()
    assert not files[1].exists()
    assert files[2].exists()


def test_delete_records_then_a_crash_still_hides_the_records(tmp_path: Path) -> None:
    build(tmp_path, 12)
    files = logs(tmp_path)
    # DeleteRecords writes the file first; a crash before the segments went leaves them
    write_start(tmp_path, "20\n")
    with pytest.raises(OffsetOutOfRangeError):
        read_from(tmp_path, 19)
    start, _, got = read_from(tmp_path, 20)
    assert start == 20
    assert got[0] == (20, value(20))
    assert all(f.exists() for f in files)


def test_empty_directory_continues_at_the_hint(tmp_path: Path) -> None:
    pdir(tmp_path).mkdir(parents=True)
    write_start(tmp_path, "50\n")
    assert read_from(tmp_path, 50) == (50, 50, [])


def test_empty_directory_refuses_an_impossible_hint(tmp_path: Path) -> None:
    pdir(tmp_path).mkdir(parents=True)
    write_start(tmp_path, f"{1 << 63}\n")
    assert read_from(tmp_path, 0) == (0, 0, [])


def test_log_start_replaced_by_a_directory(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    build(tmp_path, 12)
    (pdir(tmp_path) / "log-start-offset").mkdir()

    async def main() -> None:
        store = EmbeddedLogStore(tmp_path)
        assert store.offsets(TP).log_start == 0
        assert await store.delete_records(TP, 10) == 10  # writes the file where the dir was
        await store.close()

    with caplog.at_level(logging.WARNING, logger="weir.broker.log"):
        asyncio.run(main())
    assert "cannot read" in caplog.text
    assert "log-start-offset" in caplog.text
    assert (pdir(tmp_path) / "log-start-offset").read_text() == "10\n"


# -- 3. files that only look like segments -------------------------------------------------


@pytest.mark.parametrize("name", ["notanumber.log", "1.log", f"{'9' * 21}.log", "x y.log"])
def test_stray_log_file_is_ignored_and_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    build(tmp_path, 6)
    stray = pdir(tmp_path) / name
    stray.write_bytes(b"stray bytes\n")
    others = [pdir(tmp_path) / "foo.tmp", pdir(tmp_path) / "a.index"]
    for p in others:
        p.write_bytes(b"someone else's")
    with caplog.at_level(logging.WARNING, logger="weir.broker.log"):
        _, end, got = read_from(tmp_path, 0)
    assert end == 18
    assert len(got) == 18
    assert stray.read_bytes() == b"stray bytes\n"
    assert all(p.exists() for p in others)
    assert f"ignoring {stray}: not a segment file" in caplog.text


def test_directory_named_like_a_segment_is_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    build(tmp_path, 6)
    odd = pdir(tmp_path) / f"{99:020d}.log"
    odd.mkdir()
    with caplog.at_level(logging.WARNING, logger="weir.broker.log"):
        _, end, _ = read_from(tmp_path, 0)
    assert end == 18
    assert odd.is_dir()
    assert f"ignoring {odd}" in caplog.text


def test_segment_open_names_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "notanumber.log"
    bad.write_bytes(b"")
    with pytest.raises(InternalError, match=r"notanumber\.log is not a segment"):
        Segment.open(bad, 4096, check=True)


# -- 5. index files replaced by directories ------------------------------------------------


@pytest.mark.parametrize("suffix", [".index", ".timeindex"])
def test_index_replaced_by_a_directory_is_rebuilt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, suffix: str
) -> None:
    build(tmp_path, 12)
    target = logs(tmp_path)[1].with_suffix(suffix)
    target.unlink()
    target.mkdir()
    (target / "inside").write_bytes(b"x")
    with caplog.at_level(logging.WARNING, logger="weir.broker.log"):
        _, end, got = read_from(tmp_path, 0)  # close saves the rebuilt index in its place
    assert end == 36
    assert got == [(o, value(o)) for o in range(36)]
    assert target.is_file()
    assert "rebuilding it" in caplog.text
    assert str(logs(tmp_path)[1]) in caplog.text
    assert f"removing {target}" in caplog.text


def test_remove_index_removes_a_directory(tmp_path: Path) -> None:
    seg = tmp_path / f"{0:020d}.log"
    seg.write_bytes(b"")
    seg.with_suffix(".index").mkdir()
    (seg.with_suffix(".index") / "inside").write_bytes(b"x")
    seg.with_suffix(".timeindex").write_bytes(b"x")
    remove_index(seg)
    assert not seg.with_suffix(".index").exists()
    assert not seg.with_suffix(".timeindex").exists()


def test_retention_deletes_a_segment_whose_index_is_a_directory(tmp_path: Path) -> None:
    build(tmp_path, 12)
    first = logs(tmp_path)[0]

    async def main() -> None:
        store = EmbeddedLogStore(tmp_path)
        p = store.partition(TP)
        store.set_config(TP, StorageConfig(retention_bytes=0))
        first.with_suffix(".index").unlink()
        first.with_suffix(".index").mkdir()  # damage while running
        run_cleanup(p, store.now_ms())
        assert store.offsets(TP).log_start > 0
        await store.close()

    asyncio.run(main())
    assert not first.exists()
    assert not first.with_suffix(".index").exists()
