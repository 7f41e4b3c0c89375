"""Helpers for the storage-fault sweep: a small dataset in every kind of file the server keeps,
the damages applied to those files, and readers that compare a restarted server with it.

The dataset is made once per module by a real `weir serve` (ACLs on, the anonymous principal a
super user, so no TLS is needed) and copied for each case.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from google.protobuf.json_format import MessageToDict

from tests.e2e.conftest import WEIR, clean_env
from tests.e2e.fault_helpers import FixedServe
from weir.broker.log.batch import HEADER_SIZE, BatchError, batch_size_at, check_batch
from weir.broker.log.batch import decode_records as _decode
from weir.sdk import Admin, Producer, SchemaRegistryClient
from weir.v1 import acl_service_pb2
from weir.v1 import acl_service_pb2_grpc as acl_grpc
from weir.v1 import log_service_pb2 as ls
from weir.v1 import log_service_pb2_grpc as ls_grpc

SECURE_ENV = {
    "WEIR_ACL_ENABLED": "true",
    "WEIR_SUPER_USERS": "User:ANONYMOUS",
}
"""ACLs on (so ``__acls`` is replayed), the anonymous principal allowed everything."""
USER_TOPICS = {"plain": 2, "comp": 1, "ret": 1}
"""Topics produced to, with their partition counts."""
GROUPS = {"g-plain": ("plain", 5), "g-comp": ("comp", 3)}
"""Groups whose offsets are committed: group -> (topic, offset)."""
ACLS = (
    ("User:alice", "read", "plain"),
    ("User:bob", "write", "comp"),
)
"""ACLs added: (principal, operation, topic)."""
SCHEMAS = (
    ("a-value", '{"type":"string"}'),
    ("a-value", '["null","string"]'),
    ("b-value", '{"type":"record","name":"B","fields":[{"name":"x","type":"int"}]}'),
)
"""Schemas registered, in order (Avro)."""

Records = dict[tuple[str, int], dict[int, bytes]]
"""Per (topic, partition): offset -> value."""


@dataclass
class Dataset:
    """What a pristine data dir holds, as a client sees it."""

    data_dir: Path
    """The pristine data dir (copy it; never start a server on it)."""
    records: Records = field(default_factory=dict)
    """Every record served, per partition."""
    acked: list[tuple[str, int, int, bytes]] = field(default_factory=list)
    """Acknowledged (topic, partition, offset, value)."""
    schemas: dict[tuple[str, int], tuple[int, str]] = field(default_factory=dict)
    """(subject, version) -> (schema id, schema text)."""
    offsets: dict[str, dict[tuple[str, int], int]] = field(default_factory=dict)
    """group -> (topic, partition) -> committed offset."""
    acls: list[str] = field(default_factory=list)
    """Every ACL, as sorted JSON text."""


def build_dataset(root: Path) -> Dataset:
    """Make the pristine data dir under ``root`` and describe it."""
    data = root / "pristine"
    server = FixedServe(
        data, root / "pristine.log", WEIR_LOG_CLEANUP_INTERVAL_MS="200", **SECURE_ENV
    )
    server.start()
    dataset = Dataset(data)
    try:
        small = {"value.schema.validation": "none", "segment.bytes": "1024"}
        with Admin(server.address) as admin:
            admin.create_topic("plain", 2, small)
            # min.compaction.lag.ms keeps every record while the cases run
            lag = {"cleanup.policy": "compact", "min.compaction.lag.ms": str(10**12)}
            admin.create_topic("comp", 1, {**small, **lag})
            admin.create_topic("ret", 1, {**small, "retention.bytes": "2048"})
        with Producer(server.address, linger_ms=0) as producer:
            for n in range(10):  # ten rounds, one batch per partition each (idempotent)
                sent = []
                for topic, partitions in USER_TOPICS.items():
                    for p in range(partitions):
                        for i in range(4):
                            value = f"{topic}-{p}-{n}-{i}-".encode() + b"x" * 40
                            key = f"k{i}".encode()
                            sent.append(
                                (topic, value, producer.produce(topic, value, key=key, partition=p))
                            )
                producer.flush()
                for topic, value, future in sent:
                    meta = future.result(timeout=30)
                    dataset.acked.append((topic, meta.partition, meta.offset, value))
        with SchemaRegistryClient(server.address) as registry:
            for subject, text in SCHEMAS:
                registry.register(subject, text, "AVRO")
        with Admin(server.address) as admin:
            for group, (topic, offset) in GROUPS.items():
                admin.reset_offsets(group, topic, to=offset)
        for principal, operation, topic in ACLS:
            add = acl_cli(
                server.address,
                "add",
                "--allow-principal",
                principal,
                "--operation",
                operation,
                "--topic",
                topic,
            )
            assert add.returncode == 0, add.stderr
        deadline = time.monotonic() + 20
        while not (data / "log" / "ret-0" / "log-start-offset").exists():
            assert time.monotonic() < deadline, "retention never moved ret-0's log start"
            time.sleep(0.1)
    finally:
        code = server.kill(signal.SIGTERM)
    assert code == 0, f"the pristine server exited {code}"
    describe(server_for(data, root / "describe.log"), dataset)
    return dataset


def server_for(data: Path, log: Path) -> FixedServe:
    """A FixedServe on ``data`` with the dataset's security settings."""
    return FixedServe(data, log, **SECURE_ENV)


def describe(server: FixedServe, dataset: Dataset) -> None:
    """Fill ``dataset`` from a server started on a copy-free pristine dir (then stop it)."""
    server.start()
    try:
        state = snapshot(server.address)
    finally:
        assert server.kill(signal.SIGTERM) == 0
    dataset.records, dataset.schemas, dataset.offsets, dataset.acls = state


def snapshot(
    address: str,
) -> tuple[
    Records,
    dict[tuple[str, int], tuple[int, str]],
    dict[str, dict[tuple[str, int], int]],
    list[str],
]:
    """Everything a client can see: records, schemas, committed offsets, ACLs."""
    records = {
        (topic, p): read_readable(address, topic, p)
        for topic, n in USER_TOPICS.items()
        for p in range(n)
    }
    schemas: dict[tuple[str, int], tuple[int, str]] = {}
    with SchemaRegistryClient(address) as registry:
        for subject in registry.list_subjects():
            for version in registry.list_versions(subject):
                got = registry.get_version(subject, version).schema
                assert got is not None
                schemas[(subject, version)] = (got.id, got.text)
    offsets: dict[str, dict[tuple[str, int], int]] = {}
    with Admin(address) as admin:
        for group in GROUPS:
            found = admin.committed_offsets(group)
            offsets[group] = {
                (c.topic, c.partition): c.offset for c in found if c.offset is not None
            }
    with grpc.insecure_channel(address) as channel:
        stub = acl_grpc.AclServiceStub(channel)
        listed = stub.ListAcls(acl_service_pb2.ListAclsRequest(), timeout=30)
    acls = sorted(
        json.dumps(MessageToDict(a, preserving_proto_field_name=True), sort_keys=True)
        for a in listed.acls
    )
    return records, schemas, offsets, acls


def acl_cli(address: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`weir acl ARGS --server ADDRESS`."""
    return subprocess.run(
        [str(WEIR), "acl", *args, "--server", address],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
        check=False,
    )


def read_readable(address: str, topic: str, partition: int) -> dict[int, bytes]:
    """Every record that can be served, stepping over offsets whose fetch reports damage."""
    found: dict[int, bytes] = {}
    with grpc.insecure_channel(address) as channel:
        stub = ls_grpc.LogServiceStub(channel)
        offset, end, errors = 0, None, 0
        while end is None or offset < end:
            reply = stub.Fetch(
                ls.FetchRequest(
                    partitions=[ls.FetchPartition(topic=topic, partition=partition, offset=offset)]
                ),
                timeout=30,
            )
            part = reply.partitions[0]
            end = part.log_end_offset
            if part.error_message:
                if "outside" in part.error_message and offset < end:  # below log start
                    offset += 1
                    continue
                errors += 1
                assert errors < 10_000, part.error_message
                offset += 1
                continue
            if not part.records:
                break
            found.update((r.offset, r.value) for r in part.records)
            offset = part.records[-1].offset + 1
    return found


# -- batches in a .log file ----------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    """One batch of a segment file, as the pristine copy holds it."""

    start: int
    """Its first byte in the file."""
    end: int
    """One past its last byte."""
    records: tuple[tuple[int, bytes | None, bytes | None], ...]
    """(offset, key, value) of its records."""


def batches(path: Path) -> list[Batch]:
    """The whole batches of a segment file."""
    raw = path.read_bytes()
    found: list[Batch] = []
    pos = 0
    while len(raw) - pos >= HEADER_SIZE:
        try:
            h = check_batch(raw, pos, len(raw))
        except BatchError:
            break
        recs = tuple((r.offset, r.key, r.value) for r in _decode(raw, pos, h))
        found.append(Batch(pos, pos + batch_size_at(raw, pos), recs))
        pos += h.size
    assert pos == len(raw), f"{path}: pristine segment has a bad batch at {pos}"
    return found


def hit_offsets(path: Path, damaged: list[tuple[int, int]]) -> set[int]:
    """Offsets of the batches of ``path`` that any damaged byte range touches."""
    return {
        offset
        for b in batches(path)
        if any(lo < b.end and b.start < hi for lo, hi in damaged)
        for offset, _, _ in b.records
    }


# -- damages ---------------------------------------------------------------------------------


Damage = Callable[[Path, random.Random], list[tuple[int, int]]]
"""Damage a file; return the byte ranges whose content can no longer be trusted."""


def _size(path: Path) -> int:
    return path.stat().st_size


def truncate_zero(path: Path, rng: random.Random) -> list[tuple[int, int]]:
    size = _size(path)
    os.truncate(path, 0)
    return [(0, size)]


def truncate_half(path: Path, rng: random.Random) -> list[tuple[int, int]]:
    size = _size(path)
    os.truncate(path, size // 2)
    return [(size // 2, size)]


def torn_tail(path: Path, rng: random.Random) -> list[tuple[int, int]]:
    size = _size(path)
    cut = min(size, 7)
    os.truncate(path, size - cut)
    return [(size - cut, size)]


def flip_middle(path: Path, rng: random.Random) -> list[tuple[int, int]]:
    raw = bytearray(path.read_bytes())
    if not raw:
        return []
    lo = max(0, len(raw) // 2 - 8)
    hit = sorted(rng.sample(range(lo, min(len(raw), lo + 16)), min(3, len(raw) - lo)))
    for i in hit:
        raw[i] ^= 1 << rng.randrange(8)
    path.write_bytes(bytes(raw))
    return [(i, i + 1) for i in hit]


def garbage(path: Path, rng: random.Random) -> list[tuple[int, int]]:
    size = _size(path)
    path.write_bytes(rng.randbytes(max(size, 64)))
    return [(0, max(size, 64))]


def delete(path: Path, rng: random.Random) -> list[tuple[int, int]]:
    size = _size(path)
    path.unlink()
    return [(0, size)]


def directory(path: Path, rng: random.Random) -> list[tuple[int, int]]:
    size = _size(path)
    path.unlink()
    path.mkdir()
    (path / "inside").write_bytes(b"x")
    return [(0, size)]


def unreadable(path: Path, rng: random.Random) -> list[tuple[int, int]]:
    path.chmod(0)
    return [(0, _size(path))] if os.geteuid() != 0 else []


DAMAGES: dict[str, Damage] = {
    "truncate0": truncate_zero,
    "half": truncate_half,
    "torn_tail": torn_tail,
    "flip": flip_middle,
    "garbage": garbage,
    "delete": delete,
    "directory": directory,
    "chmod000": unreadable,
}
"""Every damage, by case name."""


def copy_pristine(dataset: Dataset, to: Path) -> Path:
    """A fresh copy of the pristine data dir."""
    shutil.copytree(dataset.data_dir, to, symlinks=True)
    return to
