"""The log engine against a model: append, read, roll, reopen, retention, compaction.

The model is the list of every acknowledged record (offset -> key, value, timestamp) and
the log start offset. Invariants:

* offsets are dense: log end equals the number of records appended;
* a read returns records in increasing offset order, each exactly as appended, and skips
  no record that must still exist;
* a record must still exist when it is at or after log start and is keyless or the newest
  value (not a tombstone) of its key; compaction may remove the others, never re-adds them;
* per key, the newest record the log still holds is the model's newest, or the model's
  newest is a tombstone and the key is gone (no resurrection);
* close and reopen changes nothing.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from weir.broker.log.api import (
    Acks,
    NewRecord,
    PartitionId,
    Record,
    StorageConfig,
    TopicName,
    TopicPartition,
)
from weir.broker.log.engine import EmbeddedLogStore

TP = TopicPartition(TopicName("model-topic"), PartitionId(0))
T = TypeVar("T")
KEYS = st.sampled_from([None, b"a", b"b", b"c", b"d"])


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000

    def __call__(self) -> int:
        return self.now


class LogMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="weir-log-machine-"))
        self.loop = asyncio.new_event_loop()
        self.clock = Clock()
        self.config = StorageConfig(segment_bytes=400, index_interval_bytes=64)
        self.store = EmbeddedLogStore(self.dir, now_ms=self.clock)
        self.run(self.store.create_partition(TP, self.config))
        self.model: list[tuple[bytes | None, bytes | None, int]] = []
        self.log_start = 0
        self.removed: set[int] = set()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.store.close())
        self.loop.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- the model --------------------------------------------------------------------

    def newest(self) -> dict[bytes, int]:
        out: dict[bytes, int] = {}
        for offset, (key, _, _) in enumerate(self.model):
            if key is not None and offset >= self.log_start:
                out[key] = offset
        return out

    def required(self) -> set[int]:
        newest = self.newest()
        return {
            o
            for o in range(self.log_start, len(self.model))
            if self.model[o][0] is None
            or (newest[self.model[o][0]] == o and self.model[o][1] is not None)  # type: ignore[index]
        }

    def check_records(self, records: list[Record], start: int) -> None:
        offsets = [r.offset for r in records]
        assert offsets == sorted(set(offsets))
        for r in records:
            assert r.offset >= start
            key, value, ts = self.model[r.offset]
            assert (r.key, r.value, r.timestamp_ms) == (key, value, ts)
            assert r.offset not in self.removed
        if records:
            must = {o for o in self.required() if start <= o <= offsets[-1]}
            assert must <= set(offsets)

    def check_all(self) -> list[Record]:
        offsets = self.store.offsets(TP)
        assert offsets.log_end == len(self.model)
        assert offsets.log_start >= self.log_start
        self.log_start = offsets.log_start
        records = self.run(self.store.read(TP, self.log_start, 1 << 30))
        self.check_records(records, self.log_start)
        present = {r.offset for r in records}
        assert self.required() <= present
        self.removed |= set(range(self.log_start, len(self.model))) - present
        newest = self.newest()
        held: dict[bytes, int] = {}
        for r in records:
            if r.key is not None:
                held[r.key] = r.offset
        for key, offset in newest.items():
            if self.model[offset][1] is None:
                assert held.get(key, offset) == offset
            else:
                assert held[key] == offset
        return records

    # -- rules ------------------------------------------------------------------------

    @rule(
        batch=st.lists(st.tuples(KEYS, st.none() | st.binary(max_size=40)), min_size=1, max_size=4),
        acks=st.sampled_from(list(Acks)),
        age=st.sampled_from([0, 0, 0, 2_500, 6_000]),
    )
    def append(self, batch: list[tuple[bytes | None, bytes | None]], acks: Acks, age: int) -> None:
        # CreateTime may lie in the past: timestamps are not monotonic in the log
        records = [
            NewRecord(
                b"" if key is None and value is None else value,
                key,
                timestamp_ms=self.clock.now - age,
            )
            for key, value in batch
        ]
        result = self.run(self.store.append(TP, records, acks))
        assert result.base_offset == len(self.model)
        assert result.last_offset == len(self.model) + len(records) - 1
        self.model += [(r.key, r.value, r.timestamp_ms) for r in records]

    @rule(data=st.data(), max_bytes=st.sampled_from([1, 100, 1000, 1 << 20]))
    def read(self, data: st.DataObject, max_bytes: int) -> None:
        offset = data.draw(st.integers(self.log_start, len(self.model)))
        records = self.run(self.store.read(TP, offset, max_bytes))
        self.check_records(records, offset)
        if any(o >= offset for o in self.required()):
            assert records

    @rule()
    def roll(self) -> None:
        self.store.partition(TP).roll()

    @rule(ms=st.integers(1, 5_000))
    def tick(self, ms: int) -> None:
        self.clock.now += ms

    @rule()
    def reopen(self) -> None:
        before = self.check_all()
        self.run(self.store.close())
        self.store = EmbeddedLogStore(self.dir, now_ms=self.clock)
        self.store.set_config(TP, self.config)
        assert self.check_all() == before

    @rule(
        compact=st.booleans(),
        delete=st.booleans(),
        retention_ms=st.sampled_from([-1, 2_000, 10_000]),
        retention_bytes=st.sampled_from([-1, 500, 3_000]),
        lag=st.sampled_from([0, 3_000]),
        tombstone_ms=st.sampled_from([0, 4_000]),
        segment_ms=st.sampled_from([7 * 86_400_000, 6_000]),
    )
    def configure(  # noqa: PLR0917 - hypothesis passes rule arguments by keyword
        self,
        compact: bool,
        delete: bool,
        retention_ms: int,
        retention_bytes: int,
        lag: int,
        tombstone_ms: int,
        segment_ms: int,
    ) -> None:
        self.config = StorageConfig(
            segment_bytes=400,
            index_interval_bytes=64,
            segment_ms=segment_ms,
            cleanup_compact=compact,
            cleanup_delete=delete,
            retention_ms=retention_ms,
            retention_bytes=retention_bytes,
            min_compaction_lag_ms=lag,
            delete_retention_ms=tombstone_ms,
        )
        self.store.set_config(TP, self.config)

    @rule()
    def cleanup(self) -> None:
        self.run(self.store.run_cleanup())
        self.check_all()

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def delete_records(self, data: st.DataObject) -> None:
        before = data.draw(st.integers(self.log_start, len(self.model)))
        assert self.run(self.store.delete_records(TP, before)) == max(before, self.log_start)
        self.check_all()
        assert self.log_start == before

    @invariant()
    def offsets_are_dense(self) -> None:
        offsets = self.store.offsets(TP)
        assert offsets.log_end == len(self.model)
        assert offsets.log_start <= offsets.log_end


LogMachine.TestCase.settings = settings(max_examples=100, stateful_step_count=50, deadline=None)
test_log_machine = LogMachine.TestCase
