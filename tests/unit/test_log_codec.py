"""The batch codec: round trips, CRC and length checks, compacted batches."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from weir.broker.log.api import NewRecord, ProducerState, Record
from weir.broker.log.batch import (
    HEADER_SIZE,
    BatchError,
    check_batch,
    decode_keys,
    decode_records,
    encode_batch,
    schema_ids,
)

PRODUCER = ProducerState(producer_id=7, epoch=2, base_sequence=40)


def _roundtrip(records: list[NewRecord], base: int = 100) -> list[Record]:
    data = encode_batch(base, records, PRODUCER, append_time=5_000)
    h = check_batch(data, 0, len(data))
    assert h.size == len(data)
    return decode_records(data, 0, h)


def test_header_fields() -> None:
    records = [
        NewRecord(b"a", b"k1", timestamp_ms=30, key_schema_id=9, value_schema_id=3),
        NewRecord(b"b", None, timestamp_ms=10, value_schema_id=4, value_schema_version=2),
    ]
    data = encode_batch(100, records, PRODUCER, append_time=5_000)
    h = check_batch(data, 0, len(data))
    assert (h.base_offset, h.last_offset, h.record_count) == (100, 101, 2)
    assert (h.first_timestamp, h.max_timestamp, h.append_time) == (30, 30, 5_000)
    assert (h.producer_id, h.producer_epoch, h.base_sequence) == (7, 2, 40)
    assert schema_ids(data, 0) == (3, 4, 9)


def test_records_roundtrip_with_tombstones_headers_and_ids() -> None:
    records = [
        NewRecord(b"v", b"k", (("a", b"1"), ("a", b"2"), ("\u00e9", b"")), 1, 1, 2, 3),
        NewRecord(None, b"k", (), 2),
        NewRecord(b"", None, (), -5),
        NewRecord(b"x" * 70_000, b"", (), 2**40),
    ]
    out = _roundtrip(records)
    assert [r.offset for r in out] == [100, 101, 102, 103]
    for new, got in zip(records, out, strict=True):
        assert (got.key, got.value, got.headers, got.timestamp_ms) == (
            new.key,
            new.value,
            new.headers,
            new.timestamp_ms,
        )
        assert (got.key_schema_id, got.value_schema_id, got.value_schema_version) == (
            new.key_schema_id,
            new.value_schema_id,
            new.value_schema_version,
        )
    assert out[1].value is None
    assert out[2].key is None
    assert out[3].key == b""


def test_compacted_batch_keeps_offsets_and_last_delta() -> None:
    kept = [NewRecord(b"b", b"k2", timestamp_ms=7), NewRecord(b"d", b"k4", timestamp_ms=9)]
    data = encode_batch(
        50, kept, PRODUCER, append_time=1, offset_deltas=[1, 3], last_offset_delta=4
    )
    h = check_batch(data, 0, len(data))
    assert h.last_offset == 54
    assert h.record_count == 2
    assert [r.offset for r in decode_records(data, 0, h)] == [51, 53]
    assert decode_keys(data, 0, h) == [(51, b"k2"), (53, b"k4")]


def test_every_flipped_byte_is_detected() -> None:
    data = encode_batch(0, [NewRecord(b"value", b"key", (("h", b"v"),), 3)], PRODUCER, 1)
    for i in range(len(data)):
        bad = bytearray(data)
        bad[i] ^= 0x40
        with pytest.raises(BatchError):
            check_batch(bytes(bad), 0, len(bad))


def test_truncated_batch_is_detected() -> None:
    data = encode_batch(0, [NewRecord(b"value", b"key")], PRODUCER, 1)
    for cut in (0, 5, HEADER_SIZE - 1, HEADER_SIZE, len(data) - 1):
        with pytest.raises(BatchError):
            check_batch(data[:cut], 0, cut)


records_strategy = st.lists(
    st.builds(
        NewRecord,
        value=st.none() | st.binary(max_size=50),
        key=st.none() | st.binary(max_size=20),
        headers=st.lists(st.tuples(st.text(max_size=5), st.binary(max_size=5)), max_size=3).map(
            tuple
        ),
        timestamp_ms=st.integers(-(2**40), 2**40),
        key_schema_id=st.integers(0, 2**32 - 1),
        value_schema_id=st.integers(0, 2**32 - 1),
        value_schema_version=st.integers(0, 2**32 - 1),
    ),
    min_size=1,
    max_size=20,
)


@settings(max_examples=150, deadline=None)
@given(records=records_strategy, base=st.integers(0, 2**50))
def test_roundtrip_property(records: list[NewRecord], base: int) -> None:
    out = _roundtrip(records, base)
    assert [r.offset for r in out] == list(range(base, base + len(records)))
    assert [
        (r.key, r.value, r.headers, r.timestamp_ms, r.key_schema_id, r.value_schema_id) for r in out
    ] == [
        (r.key, r.value, r.headers, r.timestamp_ms, r.key_schema_id, r.value_schema_id)
        for r in records
    ]
