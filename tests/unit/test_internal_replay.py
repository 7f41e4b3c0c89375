"""Replaying internal topics past a damaged batch: ``__acls``, ``_schemas`` and the shared
helper (also used by ``__consumer_offsets``). One bad batch loses only its own records,
and is logged once, naming the file, the byte and what was lost."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from weir.broker.log.api import NewRecord, PartitionId, StorageConfig, TopicName, TopicPartition
from weir.broker.log.batch import check_batch
from weir.broker.log.engine import EmbeddedLogStore
from weir.broker.log.replay import DamageSkipper, replay
from weir.broker.schemas_topic import TopicRegistryStore
from weir.broker.security.acl import AclBinding, Operation, PatternType, Permission, ResourceType
from weir.broker.security.acl_store import ACLS_TOPIC, AclStore
from weir.broker.topics import TopicManager
from weir.registry.store import StoreRecord


def acl(principal: str, permission: Permission) -> AclBinding:
    return AclBinding(
        principal=principal,
        resource_type=ResourceType.TOPIC,
        name="orders",
        pattern_type=PatternType.LITERAL,
        operation=Operation.READ,
        permission=permission,
    )


ALICE = acl("User:alice", Permission.ALLOW)
MALLORY = acl("User:mallory", Permission.DENY)
BOB = acl("User:bob", Permission.ALLOW)


def flip_batch(segment: Path, index: int) -> int:
    """Flip a byte in the middle of the ``index``-th batch; return the batch's first byte."""
    raw = bytearray(segment.read_bytes())
    start = 0
    for _ in range(index):
        start += check_batch(raw, start, len(raw)).size
    size = check_batch(raw, start, len(raw)).size
    raw[start + size // 2] ^= 0x40
    segment.write_bytes(bytes(raw))
    return start


async def open_acls(root: Path) -> tuple[EmbeddedLogStore, AclStore]:
    store = EmbeddedLogStore(root / "log")
    topics = TopicManager(root, store)
    await topics.open()
    return store, await AclStore.open(topics, store)


def test_acl_replay_skips_a_damaged_batch(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def write() -> None:
        store, acls = await open_acls(tmp_path)
        for one in (ALICE, MALLORY, BOB):  # one batch each
            acls.add([one])
        await store.close()

    asyncio.run(write())
    segment = tmp_path / "log" / f"{ACLS_TOPIC}-0" / f"{0:020d}.log"
    at = flip_batch(segment, 1)  # the DENY's batch

    async def reopen() -> list[AclBinding]:
        store, acls = await open_acls(tmp_path)
        try:
            return acls.all()
        finally:
            await store.close()

    with caplog.at_level(logging.WARNING):
        live = asyncio.run(reopen())
    assert sorted(live, key=str) == sorted([ALICE, BOB], key=str)
    [warning] = [r.getMessage() for r in caplog.records if "replay: skipped" in r.getMessage()]
    assert f"at byte {at} of {segment}" in warning
    assert "DENY" in warning
    assert "re-apply" in warning
    assert any("review the ACLs" in r.getMessage() for r in caplog.records)


def test_schemas_replay_skips_a_damaged_batch(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tp = TopicPartition(TopicName("_schemas"), PartitionId(0))

    async def main() -> list[StoreRecord]:
        store = EmbeddedLogStore(tmp_path)
        await store.create_partition(tp, StorageConfig())
        registry = TopicRegistryStore(store.partition(tp))
        for n in range(3):
            registry.append(StoreRecord(f"k{n}", {"n": n}))
        await store.close()
        flip_batch(tmp_path / "_schemas-0" / f"{0:020d}.log", 1)
        store = EmbeddedLogStore(tmp_path)
        try:
            return list(TopicRegistryStore(store.partition(tp)).load())
        finally:
            await store.close()

    with caplog.at_level(logging.WARNING):
        loaded = asyncio.run(main())
    assert loaded == [StoreRecord("k0", {"n": 0}), StoreRecord("k2", {"n": 2})]
    assert "_schemas replay: skipped the damaged batch" in caplog.text
    assert "register them again" in caplog.text


def test_replay_logs_each_damaged_batch_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tp = TopicPartition(TopicName("x"), PartitionId(0))

    async def main() -> tuple[list[int], int]:
        store = EmbeddedLogStore(tmp_path)
        await store.create_partition(tp, StorageConfig())
        for b in range(3):  # three batches of five records
            await store.append(tp, [NewRecord(b"%d-%d" % (b, i)) for i in range(5)])
        await store.close()
        flip_batch(tmp_path / "x-0" / f"{0:020d}.log", 1)
        store = EmbeddedLogStore(tmp_path)
        p = store.partition(tp)
        skipper = DamageSkipper(logging.getLogger("test.replay"), "x", "they are gone")
        got = [r.offset for r in replay(lambda o: p.read(o, 1 << 20), 0, 15, skipper)]
        await store.close()
        return got, skipper.skipped

    with caplog.at_level(logging.WARNING, logger="test.replay"):
        offsets, skipped = asyncio.run(main())
    assert offsets == [*range(5), *range(10, 15)]
    assert skipped == 5
    warnings = [r.getMessage() for r in caplog.records if r.name == "test.replay"]
    assert len(warnings) == 1, warnings
    assert "(from offset 5): they are gone" in warnings[0]
