"""Storage faults (issue 9): every kind of file `weir serve` keeps in its data dir, damaged
every way a disk or an operator can damage it, with the server stopped; then a restart.

Each case copies one pristine data dir (topics with several segments, a compacted topic, a
topic whose retention moved its log start, idempotent producers' batches, schemas, committed
offsets, ACLs), damages one file, restarts the server and asserts that either

* it serves every record of every batch the damage did not touch, at its offset, and nothing
  it never held; schemas, committed offsets and ACLs survive unless the damage hit their own
  batches; the offset and time indexes are caches, so damaging them loses nothing; whatever
  was lost is named in the server's log (the file); and it then shuts down cleanly, or
* it refuses to start: a non-zero exit, no traceback, and a one-line error naming the file.

Never a hang (each start is bounded) and never a traceback. chmod 000 does not stop root from
reading, so as root that damage only checks that nothing is lost. The default run takes 6 file
kinds x 4 damages and 4 stray entries; ``make test-long`` (WEIR_TEST_LONG=1) runs all of them.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import SERVING, WEIR, clean_env
from tests.e2e.fault_helpers import LONG, free_port, read_partition
from tests.e2e.storage_helpers import (
    DAMAGES,
    SECURE_ENV,
    Dataset,
    batches,
    build_dataset,
    hit_offsets,
    snapshot,
)
from weir.sdk import Admin, Producer, RetryPolicy

ROOT = os.geteuid() == 0
"""Root ignores file modes, so chmod 000 cannot make a file unreadable."""


@dataclass(frozen=True)
class Kind:
    """One kind of file in the data dir."""

    path: str
    """Where the dataset keeps one of them, relative to the data dir."""
    holds: str
    """records, cache, log_start, topics, schemas, offsets, acls, audit, lock or partition."""
    partition: tuple[str, int] | None = None
    """The partition whose records a ``records`` file holds."""


KINDS = {
    "log_active": Kind("log/plain-0/00000000000000000032.log", "records", ("plain", 0)),
    "log_closed": Kind("log/plain-0/00000000000000000008.log", "records", ("plain", 0)),
    "log_compacted": Kind("log/comp-0/00000000000000000016.log", "records", ("comp", 0)),
    "index": Kind("log/plain-1/00000000000000000016.index", "cache"),
    "timeindex": Kind("log/plain-1/00000000000000000016.timeindex", "cache"),
    "log_start_offset": Kind("log/ret-0/log-start-offset", "log_start"),
    "topics_json": Kind("topics.json", "topics"),
    "schemas_log": Kind("log/_schemas-0/00000000000000000000.log", "schemas"),
    "offsets_log": Kind("log/__consumer_offsets-0/00000000000000000000.log", "offsets"),
    "acls_log": Kind("log/__acls-0/00000000000000000000.log", "acls"),
    "audit_log": Kind("audit.log", "audit"),
    "lock": Kind("weir.lock", "lock"),
}
"""Every kind of file, by case name."""

DEFAULT_KINDS = {"log_active", "log_closed", "index", "topics_json", "schemas_log", "offsets_log"}
DEFAULT_DAMAGES = {"torn_tail", "flip", "garbage", "delete"}
"""Default kinds x default damages run by default; every other pair only in long mode
(``make test-long``)."""


START_S = 30
"""A start that neither serves nor exits within this is a hang."""


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return build_dataset(tmp_path_factory.mktemp("storage-faults"))


@dataclass
class Started:
    """A server that served after the damage, or the refusal it printed."""

    process: subprocess.Popen[str]
    address: str
    served: bool
    code: int | None
    stderr: Path

    def log(self) -> str:
        return self.stderr.read_text(errors="replace")


def start(data: Path, log: Path, env: dict[str, str] | None = None) -> Started:
    """Start `weir serve` on ``data``; return once it serves or exits (a hang fails)."""
    address = f"127.0.0.1:{free_port()}"
    with log.open("a") as stderr:
        process = subprocess.Popen(
            [
                str(WEIR),
                "serve",
                "--data-dir",
                str(data),
                "--grpc",
                address,
                "--http",
                "127.0.0.1:0",
            ],
            env=clean_env(**(SECURE_ENV if env is None else env)),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    line: list[str] = []
    assert process.stdout is not None
    out = process.stdout
    reader = threading.Thread(target=lambda: line.append(out.readline()), daemon=True)
    reader.start()
    reader.join(START_S)
    if line and line[0].startswith(SERVING):
        threading.Thread(target=lambda: [None for _ in out], daemon=True).start()
        return Started(process, address, True, None, log)
    try:
        code = process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError(f"weir serve hung: neither served nor exited in {START_S} s") from None
    return Started(process, address, False, code, log)


def stop(started: Started) -> None:
    """SIGTERM: the server must shut down cleanly (exit 0) within the grace period."""
    started.process.send_signal(signal.SIGTERM)
    code = started.process.wait(timeout=30)
    assert code == 0, f"shutdown after the damage exited {code}:\n{started.log()[-3000:]}"
    assert "Traceback" not in started.log(), started.log()[-3000:]


def assert_refusal(started: Started, names: str) -> None:
    """A non-zero exit, no traceback, and a one-line `weir serve:` error naming ``names``."""
    text = started.log()
    assert started.code not in (0, None), f"exited {started.code}"
    assert "Traceback" not in text, text[-3000:]
    lines = [ln for ln in text.splitlines() if ln.startswith("weir serve:")]
    assert len(lines) == 1, f"expected one 'weir serve:' error line:\n{text[-3000:]}"
    assert names in lines[0], f"the error does not name {names!r}: {lines[0]}"


def expected_loss(dataset: Dataset, kind: Kind, damaged: list[tuple[int, int]]) -> set[int]:
    """Offsets of the batches the damage touched, in the file's own partition."""
    return hit_offsets(dataset.data_dir / kind.path, damaged) if damaged else set()


def check_state(
    dataset: Dataset,
    kind: Kind,
    damaged: list[tuple[int, int]],
    started: Started,
    loud: bool = True,
) -> None:
    """What the restarted server serves, against the pristine dataset.

    With ``loud``, anything lost must be named (the file or its directory) in the server's log.
    """
    records, schemas, offsets, acls = snapshot(started.address)
    lost_any = False
    hit = expected_loss(dataset, kind, damaged) if kind.holds == "records" else set()
    if kind.holds == "partition" and kind.partition is not None:  # the whole directory
        hit = set(dataset.records[kind.partition])
    for tp, pristine in dataset.records.items():
        served = records[tp]
        invented = {o: v for o, v in served.items() if pristine.get(o) != v}
        assert not invented, f"{tp}: served records the pristine log never held: {invented}"
        may_lose = hit if kind.partition == tp else set()
        missing = sorted(set(pristine) - set(served) - may_lose)
        assert not missing, f"{tp}: intact acknowledged records lost at offsets {missing}"
        lost_any |= set(pristine) != set(served)
    key_hits = (
        hit_keys(dataset, kind, damaged) if kind.holds in ("schemas", "offsets", "acls") else 0
    )
    assert set(schemas.items()) <= set(dataset.schemas.items())
    lost_schemas = len(dataset.schemas) - len(schemas)
    assert lost_schemas <= (key_hits if kind.holds == "schemas" else 0), (
        f"schemas lost: {sorted(set(dataset.schemas) - set(schemas))}"
    )
    for group, table in dataset.offsets.items():
        now = offsets.get(group, {})
        assert set(now.items()) <= set(table.items()), f"{group}: offsets changed: {now} vs {table}"
        if kind.holds != "offsets":
            assert now == table, f"{group}: committed offsets lost: {now} vs {table}"
    assert set(acls) <= set(dataset.acls)
    if kind.holds != "acls":
        assert acls == dataset.acls, f"ACLs lost: {set(dataset.acls) - set(acls)}"
    else:
        assert len(dataset.acls) - len(acls) <= key_hits
    lost_any |= lost_schemas > 0 or len(acls) < len(dataset.acls)
    lost_any |= any(offsets.get(g, {}) != t for g, t in dataset.offsets.items())
    if lost_any and loud:  # never silently: the log names the file
        assert (
            Path(kind.path).name in started.log() or Path(kind.path).parent.name in started.log()
        ), f"data was lost but the server's log does not name {kind.path}:\n{started.log()[-3000:]}"


def hit_keys(dataset: Dataset, kind: Kind, damaged: list[tuple[int, int]]) -> int:
    """How many records of an internal topic's file lie in damaged batches."""
    if not damaged:
        return 0
    return sum(
        len(b.records)
        for b in batches(dataset.data_dir / kind.path)
        if any(lo < b.end and b.start < hi for lo, hi in damaged)
    )


def detectable(dataset: Dataset, kind: Kind, damage: str) -> bool:
    """False when the damaged file looks like one the server could have written itself.

    An emptied or deleted segment, or one cut exactly between two batches, is a valid
    shorter log: with no log-end checkpoint the server cannot tell, so it cannot report it.
    """
    if damage in ("truncate0", "delete"):
        return False
    if damage == "half" and kind.holds in ("records", "schemas", "offsets", "acls"):
        size = (dataset.data_dir / kind.path).stat().st_size
        return size // 2 not in {b.start for b in batches(dataset.data_dir / kind.path)}
    return True


def may_refuse(kind: Kind, damage: str) -> bool:
    """Damage the server cannot work around: a file it cannot open at all.

    A damaged batch of ``__acls`` is skipped like one of ``_schemas`` (its ACLs are lost and
    named in the log), so ACL-log damage is no reason to refuse either.
    """
    if damage == "directory" and kind.holds not in ("cache", "log_start"):
        return True
    return damage == "chmod000" and not ROOT and kind.holds not in ("cache", "log_start")


def cases() -> list[object]:
    out: list[object] = []
    for kind in KINDS:
        for damage in DAMAGES:
            default = kind in DEFAULT_KINDS and damage in DEFAULT_DAMAGES
            if not default and not LONG:  # the default run keeps within CI's budget
                continue
            marks = [] if default else [pytest.mark.slow]
            out.append(pytest.param(kind, damage, id=f"{kind}-{damage}", marks=marks))
    return out


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("kind_name", "damage"), cases())
def test_damaged_file(dataset: Dataset, tmp_path: Path, kind_name: str, damage: str) -> None:
    kind = KINDS[kind_name]
    data = tmp_path / "data"
    shutil.copytree(dataset.data_dir, data)
    target = data / kind.path
    rng = random.Random(f"{kind_name}-{damage}")
    damaged = DAMAGES[damage](target, rng)
    started = start(data, tmp_path / "serve.log")
    try:
        if not started.served:
            assert may_refuse(kind, damage), (
                f"refused to start after {damage} of {kind.path}, which it should survive:\n"
                f"{started.log()[-3000:]}"
            )
            assert_refusal(started, Path(kind.path).name)
            return
        check_state(dataset, kind, damaged, started, loud=detectable(dataset, kind, damage))
    finally:
        if started.served:
            stop(started)
        if target.exists():
            target.chmod(0o755)


# -- stray files and directories -----------------------------------------------------------

STRAYS = {
    "root_tmp_file": ("foo.tmp", False),
    "root_topics_tmp": ("topics.tmp", False),
    "root_dir": ("junk", True),
    "log_file": ("log/README", False),
    "log_invalid_topic_dir": ("log/bad name!-0", True),
    "log_dir_no_partition": ("log/nopartition", True),
    "log_deleting_dir": ("log/plain-0.abc.deleting", True),
    "partition_tmp": ("log/plain-0/foo.tmp", False),
    "partition_swp": ("log/plain-0/00000000000000000000.log.swp", False),
    "partition_orphan_index": ("log/plain-0/00000000000000000099.index", False),
    "partition_dir": ("log/plain-0/subdir", True),
    "partition_non_numeric_log": ("log/plain-0/notanumber.log", False),
}


DEFAULT_STRAYS = {"root_tmp_file", "log_invalid_topic_dir", "partition_swp", "partition_dir"}


def strays() -> list[object]:
    out: list[object] = []
    for name in sorted(STRAYS):
        if name not in DEFAULT_STRAYS and not LONG:
            continue
        marks = [] if name in DEFAULT_STRAYS else [pytest.mark.slow]
        out.append(pytest.param(name, marks=marks))
    return out


@pytest.mark.timeout(120)
@pytest.mark.parametrize("stray", strays())
def test_stray_entry(dataset: Dataset, tmp_path: Path, stray: str) -> None:
    name, is_dir = STRAYS[stray]
    data = tmp_path / "data"
    shutil.copytree(dataset.data_dir, data)
    path = data / name
    if is_dir:
        path.mkdir()
        (path / "00000000000000000000.log").write_bytes(b"not a segment")
    else:
        path.write_bytes(b"stray bytes\n")
    started = start(data, tmp_path / "serve.log")
    assert started.served, f"a stray {name} stopped the server:\n{started.log()[-3000:]}"
    try:
        check_state(dataset, Kind("none", "none"), [], started)
    finally:
        stop(started)


# -- the data dir itself, locking, paths, shutdown ----------------------------------------


def test_missing_data_dir_is_created(tmp_path: Path) -> None:
    started = start(tmp_path / "a" / "b" / "data", tmp_path / "serve.log")
    assert started.served, started.log()
    stop(started)
    assert (tmp_path / "a" / "b" / "data" / "topics.json").is_file()


def test_data_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.write_text("not a directory")
    started = start(data, tmp_path / "serve.log")
    assert not started.served
    assert_refusal(started, str(data))


def test_unwritable_data_dir_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o555)
    try:
        started = start(data, tmp_path / "serve.log")
        if ROOT:  # root writes into a read-only directory anyway: it must simply work
            assert started.served, started.log()
            stop(started)
        else:
            assert not started.served
            assert_refusal(started, str(data))
    finally:
        data.chmod(0o755)


def test_unicode_and_spaces_in_the_data_dir(dataset: Dataset, tmp_path: Path) -> None:
    data = tmp_path / "dätä dir ✓" / "my data"
    shutil.copytree(dataset.data_dir, data)
    started = start(data, tmp_path / "serve.log")
    assert started.served, started.log()
    try:
        check_state(dataset, Kind("none", "none"), [], started)
    finally:
        stop(started)


def test_a_second_server_on_the_same_data_dir_is_refused(dataset: Dataset, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(dataset.data_dir, data)
    first = start(data, tmp_path / "first.log")
    assert first.served, first.log()
    try:
        before = {p: p.read_bytes() for p in data.rglob("*.log") if p.is_file()}
        second = start(data, tmp_path / "second.log")
        if second.served:
            stop(second)
        assert not second.served, "a second server started on a data dir in use"
        assert_refusal(second, "weir.lock")
        assert f"pid {first.process.pid}" in second.log()
        after = {p: p.read_bytes() for p in data.rglob("*.log") if p.is_file()}
        assert after == before, "the refused server touched the running server's segments"
        check_state(dataset, Kind("none", "none"), [], first)  # the first one is unharmed
    finally:
        stop(first)
    again = start(data, tmp_path / "again.log")  # the lock went with the first server
    assert again.served, again.log()
    stop(again)


def test_a_killed_server_leaves_no_stale_lock(dataset: Dataset, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(dataset.data_dir, data)
    first = start(data, tmp_path / "first.log")
    assert first.served, first.log()
    first.process.kill()
    first.process.wait(timeout=30)
    assert (data / "weir.lock").exists()
    second = start(data, tmp_path / "second.log")
    assert second.served, second.log()
    try:
        check_state(dataset, Kind("none", "none"), [], second)
    finally:
        stop(second)


PRODUCE_S = 6 if LONG else 2


@pytest.mark.timeout(180)
def test_sigterm_during_heavy_produce_keeps_every_acknowledged_record(tmp_path: Path) -> None:
    """SIGTERM while 4 idempotent acks=all producers send: a clean exit, every ack kept."""
    data = tmp_path / "data"
    first = start(data, tmp_path / "serve.log", env={})
    assert first.served, first.log()
    with Admin(first.address) as admin:
        admin.create_topic("busy", 3, {"value.schema.validation": "none"})
    acked: list[tuple[int, int, bytes]] = []
    lock = threading.Lock()
    halt = threading.Event()

    def produce(index: int) -> None:
        producer = Producer(
            first.address, linger_ms=1, delivery_timeout_ms=5000, retry=RetryPolicy(attempts=1)
        )
        n = 0
        try:
            while not halt.is_set():
                sent = []
                for _ in range(200):
                    value = f"p{index}-{n}".encode()
                    sent.append((value, producer.produce("busy", value, key=value)))
                    n += 1
                for value, future in sent:
                    try:
                        meta = future.result(timeout=30)
                    except Exception:  # refused or cut off by the shutdown: not acknowledged
                        continue
                    with lock:
                        acked.append((meta.partition, meta.offset, value))
        finally:
            producer.close(timeout=10)

    threads = [threading.Thread(target=produce, args=(i,), daemon=True) for i in range(4)]
    for t in threads:
        t.start()
    time.sleep(PRODUCE_S)
    with lock:
        before = len(acked)
    assert before > 0, "nothing was acknowledged before the SIGTERM"
    halt.set()  # producers finish the round in flight: it meets the SIGTERM
    stop(first)  # graceful: exit 0 and no traceback
    for t in threads:
        t.join(timeout=60)
        assert not t.is_alive(), "a producer hung after the shutdown"
    again = start(data, tmp_path / "again.log", env={})
    assert again.served, again.log()
    try:
        log = {p: dict(read_partition(again.address, "busy", p)) for p in range(3)}
    finally:
        stop(again)
    lost = [(p, o, v) for p, o, v in acked if log[p].get(o) != v]
    assert not lost, f"{len(lost)} of {len(acked)} acknowledged records lost: {lost[:5]}"
    stored = sum(len(x) for x in log.values())
    print(f"SIGTERM under load: {len(acked)} acknowledged, {stored} stored, none lost")


def test_a_deleted_partition_directory_is_reported(dataset: Dataset, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(dataset.data_dir, data)
    shutil.rmtree(data / "log" / "plain-1")
    started = start(data, tmp_path / "serve.log")
    assert started.served, started.log()
    try:
        check_state(dataset, Kind("log/plain-1", "partition", ("plain", 1)), [], started)
        assert "partition plain-1 has no directory" in started.log()
    finally:
        stop(started)


def test_a_partition_directory_replaced_by_a_file_is_refused(
    dataset: Dataset, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(dataset.data_dir, data)
    shutil.rmtree(data / "log" / "plain-1")
    (data / "log" / "plain-1").write_text("not a directory")
    started = start(data, tmp_path / "serve.log")
    assert not started.served
    assert_refusal(started, "plain-1")


@pytest.mark.parametrize("text", ["99\n", "3x5\n"])
def test_a_log_start_offset_past_the_data_loses_nothing(
    dataset: Dataset, tmp_path: Path, text: str
) -> None:
    """A log-start-offset past the log end (a flipped digit) or not a number is refused."""
    data = tmp_path / "data"
    shutil.copytree(dataset.data_dir, data)
    before = sorted(p.name for p in (data / "log" / "ret-0").iterdir())
    (data / "log" / "ret-0" / "log-start-offset").write_text(text)
    started = start(data, tmp_path / "serve.log")
    assert started.served, started.log()
    try:
        check_state(dataset, Kind("log/ret-0/log-start-offset", "log_start"), [], started)
        assert "ret-0/log-start-offset" in started.log(), started.log()[-3000:]
    finally:
        stop(started)
    after = sorted(p.name for p in (data / "log" / "ret-0").iterdir())
    assert set(before) <= set(after), "segments were deleted because of log-start-offset"
