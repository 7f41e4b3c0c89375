"""Console failures as HTML pages with a 4xx status (5xx only for real server faults)."""

from __future__ import annotations

import grpc

from weir.core.errors import WeirError

_STATUS = {
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNAVAILABLE: 503,
}


class ConsoleError(Exception):
    """A request the console cannot answer, with the HTTP status and a message for a person."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        """The HTTP status."""
        self.message = message
        """What was wrong and what to do instead."""


def from_weir_error(error: WeirError) -> ConsoleError:
    """The console form of a domain error, by its gRPC code."""
    return ConsoleError(_STATUS.get(error.grpc_code, 500), error.message)


def bad_request(message: str) -> ConsoleError:
    """A 400 for malformed input."""
    return ConsoleError(400, message)


def parse_int(text: str | None, name: str, default: int | None = None, low: int = 0) -> int:
    """A query or form integer >= ``low``; 400 naming the field when it is not one."""
    if text is None or not text.strip():
        if default is None:
            raise bad_request(f"{name} is required")
        return default
    try:
        value = int(text.strip())
    except ValueError:
        raise bad_request(f"{name} must be a whole number, got {text!r}") from None
    if value < low:
        raise bad_request(f"{name} must be at least {low}, got {value}")
    return value
