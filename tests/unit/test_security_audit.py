"""The audit log: fsynced lines, size-based rotation with bounded backups, and best-effort
failures (logged with the path, never raised; the next line tries again)."""

from __future__ import annotations

import errno
import json
import logging
import os
from pathlib import Path

import pytest

from weir.broker.security import audit as audit_module
from weir.broker.security.audit import AuditLog
from weir.core.config import load_config
from weir.core.errors import InvalidArgumentError


def entry(log: AuditLog, n: int) -> bool:
    return log.record(
        principal="User:admin",
        action="weir.v1.TopicService/CreateTopic",
        resources=[{"type": "topic", "name": f"t{n}", "operation": "create"}],
        outcome="ok",
        transport="grpc",
        peer="ipv4:127.0.0.1:1",
        request_id=f"r{n}",
    )


def numbers(path: Path) -> list[int]:
    return [int(json.loads(line)["request_id"][1:]) for line in path.read_text().splitlines()]


def test_rotation_keeps_bounded_backups_newest_in_the_live_file(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    log = AuditLog(path, max_bytes=1000, backups=3)
    for n in range(300):
        assert entry(log, n)
    log.close()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["audit.log", "audit.log.1", "audit.log.2", "audit.log.3"]
    chain = [path.with_name(f"audit.log.{i}") for i in (3, 2, 1)] + [path]
    for file in chain:
        assert 0 < file.stat().st_size <= 1000, file
    seen = [n for file in chain for n in numbers(file)]
    assert seen[-1] == 299  # the newest entry is in audit.log
    assert seen == list(range(seen[0], 300))  # oldest backup to live file: in order, no gaps
    assert len(seen) < 300  # the oldest entries were dropped with the oldest backup


def test_max_bytes_zero_never_rotates(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.log", max_bytes=0, backups=1)
    for n in range(50):
        entry(log, n)
    assert [p.name for p in tmp_path.iterdir()] == ["audit.log"]
    assert numbers(tmp_path / "audit.log") == list(range(50))


def test_an_existing_file_counts_towards_the_size_and_is_appended(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    path.write_text("x" * 900 + "\n")
    log = AuditLog(path, max_bytes=1000, backups=2)
    entry(log, 1)  # 901 + ~200 bytes > 1000: rotate first
    assert path.with_name("audit.log.1").read_text() == "x" * 900 + "\n"
    assert numbers(path) == [1]


def test_every_line_is_fsynced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = AuditLog(tmp_path / "audit.log", max_bytes=0)
    synced: list[int] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        synced.append(fd)
        real(fd)

    monkeypatch.setattr(audit_module.os, "fsync", fsync)
    for n in range(3):
        entry(log, n)
    assert synced == [log._fd] * 3


def test_a_failed_write_is_logged_not_raised_and_the_next_line_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "audit.log"
    log = AuditLog(path, max_bytes=0)
    entry(log, 0)
    real = os.write
    calls = 0

    def disk_full(fd: int, data: bytes | memoryview) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            return real(fd, bytes(data)[:10])  # a torn line, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(audit_module.os, "write", disk_full)
    with caplog.at_level(logging.ERROR, logger="weir.audit"):
        assert entry(log, 1) is False
    assert log.failures == 1
    message = caplog.records[-1].getMessage()
    assert str(path) in message
    assert "No space left" in message
    assert "CreateTopic" in message
    monkeypatch.setattr(audit_module.os, "write", real)
    assert entry(log, 2)
    lines = path.read_text().splitlines()
    assert len(lines) == 3
    assert len(lines[1]) == 10
    assert [json.loads(line)["request_id"] for line in (lines[0], lines[2])] == ["r0", "r2"]


def test_an_unwritable_path_is_refused_at_start_naming_it(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(InvalidArgumentError, match=r"audit_log_file .*file/audit\.log"):
        AuditLog(blocker / "audit.log")


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"audit_log_max_bytes": "-1"}, "audit_log_max_bytes: -1 is negative"),
        ({"audit_log_backups": "0"}, "audit_log_backups: 0 is not between 1 and 1000"),
        ({"audit_log_backups": "many"}, "audit_log_backups: 'many' is not a valid int"),
    ],
)
def test_bad_rotation_settings_are_refused(settings: dict[str, str], words: str) -> None:
    with pytest.raises(InvalidArgumentError, match=words):
        load_config(env={}, overrides=settings)
    assert load_config(env={}).audit_log_max_bytes == 100 << 20
