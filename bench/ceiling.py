"""The in-process ceilings every server figure is compared with: no gRPC, no asyncio.

* produce: validate each pre-encoded record with the registry's compiled validator, then
  append the batch to a file as ``u32 length, u32 CRC-32C, (u32 record length, bytes)*``;
  with ``fsync`` (acks=all) the file is fsynced after every batch, as a log without group
  commit would.
* fetch: read that file back, check each batch's CRC and slice out every record's bytes.
* fsync latency: the floor under any acks=all latency; one small append + fsync at a time.
"""

from __future__ import annotations

import os
import struct
import time
from dataclasses import dataclass
from pathlib import Path

import crc32c

from bench._records import checker

_FRAME = struct.Struct("<II")
_LEN = struct.Struct("<I")


@dataclass(frozen=True, slots=True)
class Ceiling:
    """One ceiling measurement."""

    records: int
    """Records processed."""
    seconds: float
    """Wall time."""

    @property
    def rec_s(self) -> float:
        """Records per second."""
        return self.records / self.seconds if self.seconds else 0.0


def produce(
    path: Path, kind: str, values: list[bytes], *, fsync: bool, seconds: float, min_batches: int = 3
) -> Ceiling:
    """Validate and append ``values`` as one batch, repeatedly, for about ``seconds``."""
    check = checker(kind).check
    batches = 0
    with path.open("ab", buffering=0) as f:
        fd = f.fileno()
        start = time.perf_counter()
        deadline = start + seconds
        while batches < min_batches or time.perf_counter() < deadline:
            parts = []
            for v in values:
                check(v)
                parts.append(_LEN.pack(len(v)))
                parts.append(v)
            body = b"".join(parts)
            f.write(_FRAME.pack(len(body), crc32c.crc32c(body)) + body)
            if fsync:
                os.fsync(fd)
            batches += 1
        elapsed = time.perf_counter() - start
    return Ceiling(batches * len(values), elapsed)


def fsync_latencies(
    path: Path, count: int, *, size: int = 10_000, gap_s: float = 0.001
) -> list[float]:
    """Seconds each of ``count`` fsyncs took, each after appending ``size`` bytes."""
    samples = []
    with path.open("ab", buffering=0) as f:
        for _ in range(count):
            f.write(b"x" * size)
            start = time.perf_counter()
            os.fsync(f.fileno())
            samples.append(time.perf_counter() - start)
            time.sleep(gap_s)
    path.unlink()
    return samples


def fetch(path: Path) -> Ceiling:
    """Read a produce-ceiling file back: CRC checked per batch, one bytes object per record."""
    start = time.perf_counter()
    data = memoryview(path.read_bytes())
    pos, count, end = 0, 0, len(data)
    while pos < end:
        length, crc = _FRAME.unpack_from(data, pos)
        pos += 8
        body = data[pos : pos + length]
        if crc32c.crc32c(body) != crc:
            raise ValueError(f"CRC mismatch at byte {pos}")
        at, stop = 0, length
        records = []
        while at < stop:
            (n,) = _LEN.unpack_from(body, at)
            records.append(bytes(body[at + 4 : at + 4 + n]))
            at += 4 + n
        count += len(records)
        pos += length
    return Ceiling(count, time.perf_counter() - start)
