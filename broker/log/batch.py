"""The on-disk record batch: one append, one header, one CRC-32C.

All integers are little-endian. A batch is a fixed-width header, the schema ids the batch
uses, a fixed-width table with one row per record, then the variable-length bytes of every
record (key, value, headers) back to back::

    offset size field
    0      8    base_offset         i64  offset of the batch's first record
    8      4    length              u32  bytes after this field (batch size - 12)
    12     1    magic               u8   format version, MAGIC (1)
    13     4    crc                 u32  CRC-32C of every other byte of the batch
                                         (bytes 0-12, then 17 to the end)
    17     2    attributes          u16  reserved, 0
    19     4    last_offset_delta   u32  last offset - base offset (kept when compaction
                                         removes records, so offsets never change)
    23     4    record_count        u32  rows in the record table
    27     8    first_timestamp     i64  timestamp of the first record; rows store deltas
    35     8    max_timestamp       i64  largest record timestamp in the batch
    43     8    append_time         i64  the broker's clock when the batch was appended
    51     8    producer_id         i64  -1 without idempotence
    59     2    producer_epoch      i16
    61     4    base_sequence       i32  sequence of the first record (of offset delta 0)
    65     2    schema_id_count     u16  number of u32 schema ids that follow
    67     4*n  schema_ids          u32  distinct non-zero key and value schema ids, sorted

    record row (36 bytes, one per record, in offset order)
           4    offset_delta        u32
           8    timestamp_delta     i64  timestamp - first_timestamp
           4    key_length          i32  -1 = no key
           4    value_length        i32  -1 = tombstone (value None)
           4    headers_length      u32  bytes of the encoded headers
           4    key_schema_id       u32
           4    value_schema_id     u32
           4    value_schema_version u32

    then per record: key bytes, value bytes, headers bytes
    headers: per header u16 name length, u32 value length, UTF-8 name, value bytes

The record table is fixed-width so a whole batch decodes with one ``struct.iter_unpack``.
A batch's producer sequence range is base_sequence .. base_sequence + last_offset_delta.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import NamedTuple

import crc32c

from weir.broker.log.api import NewRecord, ProducerState, Record

MAGIC = 1
HEADER = struct.Struct("<qIBIHIIqqqqhiH")
HEADER_SIZE = HEADER.size
LENGTH_PREFIX = 12
"""Bytes before the length counts: base_offset and length."""
CRC_START = 17
"""The CRC covers bytes [0, 13) and then the batch from this byte on."""
ROW = struct.Struct("<IqiiIIII")
_HDR_ITEM = struct.Struct("<HI")
_PEEK = struct.Struct("<qIB")
_U32 = struct.Struct("<I")


class BatchHeader(NamedTuple):
    """The decoded fixed header of a batch."""

    base_offset: int
    """Offset of the first record."""
    size: int
    """Total bytes of the batch on disk."""
    last_offset_delta: int
    """last offset - base offset."""
    record_count: int
    """Records present (fewer than last_offset_delta + 1 after compaction)."""
    first_timestamp: int
    """Timestamp of the first record."""
    max_timestamp: int
    """Largest record timestamp."""
    append_time: int
    """Broker clock at append."""
    producer_id: int
    """Producer id, -1 when none."""
    producer_epoch: int
    """Producer epoch."""
    base_sequence: int
    """Sequence of offset delta 0."""

    @property
    def last_offset(self) -> int:
        """Offset of the batch's last record."""
        return self.base_offset + self.last_offset_delta


class BatchError(Exception):
    """A batch failed its length, magic or CRC check (internal; callers translate it)."""

    def __init__(self, message: str, position: int = -1) -> None:
        super().__init__(message)
        self.position = position
        """File position of the bad batch, -1 when not known yet."""


def _encode_headers(headers: tuple[tuple[str, bytes], ...]) -> bytes:
    parts: list[bytes] = []
    for name, value in headers:
        raw = name.encode()
        parts += (_HDR_ITEM.pack(len(raw), len(value)), raw, value)
    return b"".join(parts)


def _decode_headers(raw: bytes) -> tuple[tuple[str, bytes], ...]:
    out: list[tuple[str, bytes]] = []
    pos = 0
    while pos < len(raw):
        name_len, value_len = _HDR_ITEM.unpack_from(raw, pos)
        pos += 6
        name = raw[pos : pos + name_len].decode()
        pos += name_len
        out.append((name, raw[pos : pos + value_len]))
        pos += value_len
    return tuple(out)


def encode_batch(
    base_offset: int,
    records: Sequence[NewRecord],
    producer: ProducerState,
    append_time: int,
    *,
    offset_deltas: Sequence[int] | None = None,
    last_offset_delta: int | None = None,
) -> bytes:
    """Encode records as one batch; offset_deltas default to 0..n-1 (given by compaction)."""
    first_ts = records[0].timestamp_ms if records else append_time
    rows: list[bytes] = []
    blobs: list[bytes] = []
    deltas = range(len(records)) if offset_deltas is None else offset_deltas
    for delta, r in zip(deltas, records, strict=True):
        key, value = r.key, r.value
        hdrs = _encode_headers(r.headers) if r.headers else b""
        rows.append(
            ROW.pack(
                delta,
                r.timestamp_ms - first_ts,
                -1 if key is None else len(key),
                -1 if value is None else len(value),
                len(hdrs),
                r.key_schema_id,
                r.value_schema_id,
                r.value_schema_version,
            )
        )
        if key:
            blobs.append(key)
        if value:
            blobs.append(value)
        if hdrs:
            blobs.append(hdrs)
    ids = sorted(({r.value_schema_id for r in records} | {r.key_schema_id for r in records}) - {0})
    if last_offset_delta is None:
        last_offset_delta = len(records) - 1
    body = b"".join(
        (
            struct.pack(f"<{len(ids)}I", *ids),
            *rows,
            *blobs,
        )
    )
    head = HEADER.pack(
        base_offset,
        HEADER_SIZE - LENGTH_PREFIX + len(body),
        MAGIC,
        0,
        0,
        last_offset_delta,
        len(records),
        first_ts,
        max((r.timestamp_ms for r in records), default=first_ts),
        append_time,
        producer.producer_id,
        producer.epoch,
        producer.base_sequence,
        len(ids),
    )
    crc = crc32c.crc32c(body, crc32c.crc32c(head[CRC_START:], crc32c.crc32c(head[:13])))
    return b"".join((head[:13], _U32.pack(crc), head[CRC_START:], body))


def peek_header(buf: bytes | memoryview, pos: int) -> BatchHeader:
    """Decode the header at ``pos`` without any check (for batches this process encoded)."""
    f = HEADER.unpack_from(buf, pos)
    return BatchHeader(
        f[0], f[1] + LENGTH_PREFIX, f[5], f[6], f[7], f[8], f[9], f[10], f[11], f[12]
    )


def batch_size_at(buf: bytes | memoryview, pos: int) -> int:
    """Total size of the batch starting at ``pos`` from its length field (not yet checked)."""
    _, length, _ = _PEEK.unpack_from(buf, pos)
    return int(length) + LENGTH_PREFIX


def check_batch(buf: bytes | memoryview, pos: int, end: int) -> BatchHeader:
    """Verify length, magic and CRC of the batch at ``pos``; raise BatchError if bad."""
    if end - pos < HEADER_SIZE:
        raise BatchError(f"{end - pos} bytes left, shorter than a batch header")
    f = HEADER.unpack_from(buf, pos)
    size = f[1] + LENGTH_PREFIX
    if f[2] != MAGIC:
        raise BatchError(f"bad magic byte {f[2]}")
    if size < HEADER_SIZE or pos + size > end:
        raise BatchError(f"batch length {size} runs past the end of the data")
    view = memoryview(buf)
    if (
        crc32c.crc32c(view[pos + CRC_START : pos + size], crc32c.crc32c(view[pos : pos + 13]))
        != f[3]
    ):
        raise BatchError("CRC-32C mismatch")
    expected = HEADER_SIZE + 4 * f[13] + ROW.size * f[6]
    if f[6] > f[5] + 1 or size < expected:
        raise BatchError("record table does not fit the batch")
    return BatchHeader(f[0], size, f[5], f[6], f[7], f[8], f[9], f[10], f[11], f[12])


def decode_records(buf: bytes, pos: int, header: BatchHeader) -> list[Record]:
    """Decode every record of a checked batch."""
    (n_ids,) = struct.unpack_from("<H", buf, pos + HEADER_SIZE - 2)
    table = pos + HEADER_SIZE + 4 * n_ids
    data = table + ROW.size * header.record_count
    base, first_ts = header.base_offset, header.first_timestamp
    out: list[Record] = []
    append = out.append
    new = tuple.__new__  # skips the NamedTuple constructor's argument handling: ~25% faster
    for od, tsd, kl, vl, hl, ks, vs, vv in ROW.iter_unpack(buf[table:data]):
        if kl < 0:
            key = None
        else:
            key = buf[data : data + kl]
            data += kl
        if vl < 0:
            value = None
        else:
            value = buf[data : data + vl]
            data += vl
        if hl:
            headers = _decode_headers(buf[data : data + hl])
            data += hl
        else:
            headers = ()
        append(new(Record, (base + od, first_ts + tsd, key, value, headers, ks, vs, vv)))
    return out


def decode_keys(buf: bytes, pos: int, header: BatchHeader) -> list[tuple[int, bytes | None]]:
    """(offset, key) of every record of a checked batch, without building Records."""
    (n_ids,) = struct.unpack_from("<H", buf, pos + HEADER_SIZE - 2)
    table = pos + HEADER_SIZE + 4 * n_ids
    data = table + ROW.size * header.record_count
    out: list[tuple[int, bytes | None]] = []
    base = header.base_offset
    for od, _, kl, vl, hl, _, _, _ in ROW.iter_unpack(buf[table:data]):
        out.append((base + od, None if kl < 0 else buf[data : data + kl]))
        data += max(kl, 0) + max(vl, 0) + hl
    return out


def schema_ids(buf: bytes, pos: int) -> tuple[int, ...]:
    """The schema ids listed in the header of the batch at ``pos``."""
    (n_ids,) = struct.unpack_from("<H", buf, pos + HEADER_SIZE - 2)
    return struct.unpack_from(f"<{n_ids}I", buf, pos + HEADER_SIZE)
