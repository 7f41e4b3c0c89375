"""Kafka partitioner agreement: murmur2 vectors from Kafka's own UtilsTest."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from weir.core.partitioner import murmur2, partition_for_key

KAFKA_VECTORS = [
    (b"21", -973932308),
    (b"foobar", -790332482),
    (b"a-little-bit-long-string", -985981536),
    (b"a-little-bit-longer-string", -1486304829),
    (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
    (b"abc", 479470107),
]


@pytest.mark.parametrize(("key", "expected"), KAFKA_VECTORS)
def test_murmur2_matches_kafka(key: bytes, expected: int) -> None:
    assert murmur2(key) == expected


@pytest.mark.parametrize(("key", "expected"), KAFKA_VECTORS)
def test_partition_is_kafkas_to_positive_modulo(key: bytes, expected: int) -> None:
    for count in (1, 3, 12, 100):
        assert partition_for_key(key, count) == (expected & 0x7FFFFFFF) % count


@given(st.binary(max_size=64), st.integers(min_value=1, max_value=1000))
def test_partition_is_in_range_and_stable(key: bytes, count: int) -> None:
    chosen = partition_for_key(key, count)
    assert 0 <= chosen < count
    assert chosen == partition_for_key(bytes(key), count)
    assert -(2**31) <= murmur2(key) < 2**31
