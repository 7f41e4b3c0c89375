"""Confluent wire framing: schema id header and protobuf message-index paths."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from weir.core.errors import InvalidRecordError
from weir.core.framing import frame, parse_header, parse_protobuf_indexes


def test_header_round_trip() -> None:
    data = frame(258, b"payload")
    assert data[:5] == b"\x00\x00\x00\x01\x02"
    assert parse_header(data) == 258


def test_first_message_is_a_single_zero_byte_as_confluent_writes_it() -> None:
    data = frame(7, b"x", ())
    assert data == b"\x00\x00\x00\x00\x07\x00x"
    assert parse_protobuf_indexes(data) == ((), 6)


@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=8))
def test_index_paths_round_trip(path: list[int]) -> None:
    data = frame(1, b"body", tuple(path))
    indexes, start = parse_protobuf_indexes(data)
    assert indexes == (() if path == [0] else tuple(path))
    assert data[start:] == b"body"


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (b"", "framing"),
        (b"\x00\x00\x00", "framing"),
        (b"\x01\x00\x00\x00\x01abc", "magic-byte"),
    ],
)
def test_bad_headers_are_refused(data: bytes, rule: str) -> None:
    with pytest.raises(InvalidRecordError) as caught:
        parse_header(data)
    assert caught.value.metadata["rule"] == rule


@pytest.mark.parametrize(
    "tail",
    [b"", b"\x04\x02", b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", b"\x02\x01", b"\x81\x01"],
)
def test_bad_index_paths_are_refused(tail: bytes) -> None:
    with pytest.raises(InvalidRecordError) as caught:
        parse_protobuf_indexes(b"\x00\x00\x00\x00\x01" + tail)
    assert caught.value.metadata["rule"] == "message-index"
