"""to_status keeps an error's trailers under gRPC's 8 KiB metadata limit, clipping long text."""

from __future__ import annotations

import base64

from google.rpc import error_details_pb2, status_pb2

from weir.core.errors import InvalidSchemaError
from weir.core.status import MAX_STATUS_BYTES, to_status


def test_small_errors_travel_unchanged() -> None:
    error = InvalidSchemaError("bad field 'x'", metadata={"path": "/fields/0"})
    status = to_status(error)
    assert status.details == "bad field 'x'"
    decoded = status_pb2.Status.FromString(
        dict(status.trailing_metadata)["grpc-status-details-bin"]
    )
    info = error_details_pb2.ErrorInfo()
    decoded.details[0].Unpack(info)
    assert dict(info.metadata) == {"path": "/fields/0"}


def test_huge_message_and_metadata_are_clipped_but_keep_the_reason() -> None:
    error = InvalidSchemaError("m" * 50_000, metadata={f"k{i}": "v" * 5000 for i in range(20)})
    status = to_status(error)
    raw = dict(status.trailing_metadata)["grpc-status-details-bin"]
    assert len(raw) <= MAX_STATUS_BYTES
    assert len(base64.b64encode(raw)) + len(status.details) < 8 * 1024
    assert status.details.endswith("(clipped)")
    decoded = status_pb2.Status.FromString(raw)
    info = error_details_pb2.ErrorInfo()
    decoded.details[0].Unpack(info)
    assert info.reason == "INVALID_SCHEMA"
    assert set(info.metadata) == {f"k{i}" for i in range(20)}  # every key kept, values clipped
