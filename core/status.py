"""WeirError <-> google.rpc.Status with ErrorInfo(reason, domain="weir", metadata).

The server turns an error into rich status trailers with ``to_status``; the SDK turns a
received ``grpc.RpcError`` back into the same class with ``from_rpc_error``.
"""

from __future__ import annotations

import grpc
import grpc.aio
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from weir.core.errors import UnavailableError, WeirError, error_class

DOMAIN = "weir"

_TRANSPORT_ERRORS = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.CANCELLED,
}

_CALLS = (grpc.Call, grpc.aio.AioRpcError)
"""What a failed call raises: the sync API's errors are grpc.Call; grpc.aio's AioRpcError is
not, but has the same code(), details() and trailing_metadata()."""


MAX_STATUS_BYTES = 4096
"""The most an encoded status may take. It travels base64-encoded in the trailers, next to the
message, and a client refuses trailers over 8 KiB (16 KiB hard) with a bare RESOURCE_EXHAUSTED
that hides the real error, so long texts are clipped rather than sent whole."""


def to_status(error: WeirError) -> grpc.Status:
    """Encode an error as a grpc.Status carrying google.rpc.Status + ErrorInfo."""
    message, metadata = _clip(error.message, 2000), error.metadata
    status = _status(error, message, metadata)
    if status.ByteSize() > MAX_STATUS_BYTES:
        metadata = {k: _clip(v, 200) for k, v in metadata.items()}
        status = _status(error, message, metadata)
    if status.ByteSize() > MAX_STATUS_BYTES:
        message = _clip(message, 500)
        status = _status(error, message, {k: _clip(v, 40) for k, v in metadata.items()})
    return rpc_status.to_status(status)


def _status(error: WeirError, message: str, metadata: dict[str, str]) -> status_pb2.Status:
    info = error_details_pb2.ErrorInfo(reason=error.reason, domain=DOMAIN, metadata=metadata)
    detail = any_pb2.Any()
    detail.Pack(info)
    return status_pb2.Status(code=error.grpc_code.value[0], message=message, details=[detail])


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 15] + "... (clipped)"


def from_rpc_error(error: grpc.RpcError) -> WeirError:
    """Rebuild the WeirError a server sent; transport failures become UnavailableError."""
    # from_call reads only code(), details() and trailing_metadata(), which AioRpcError has.
    status = rpc_status.from_call(error) if isinstance(error, _CALLS) else None  # type: ignore[arg-type]
    if status is not None:
        for detail in status.details:
            info = error_details_pb2.ErrorInfo()
            if detail.Unpack(info) and info.domain == DOMAIN:
                return error_class(info.reason)(status.message, metadata=dict(info.metadata))
    code = error.code() if isinstance(error, _CALLS) else None
    details = error.details() if isinstance(error, _CALLS) else str(error)
    if code in _TRANSPORT_ERRORS:
        return UnavailableError(f"server unavailable ({code.name if code else '?'}): {details}")
    return WeirError(f"{code.name if code else 'UNKNOWN'}: {details}")
