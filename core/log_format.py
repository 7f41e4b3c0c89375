"""Server log lines as text, JSON lines or logfmt, each carrying the request id.

``configure_logging(fmt)`` installs one stream handler on the root logger. Every record gets
``request_id`` from ``weir.core.rpc.REQUEST_ID`` (set per gRPC call and per HTTP request;
"-" outside one), and values passed with ``extra=`` (``rpc``, ``duration_ms``, ``peer``, ...)
become fields of their own in JSON and logfmt.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import IO, Any

from weir.core.config import LOG_FORMATS
from weir.core.rpc import REQUEST_ID

__all__ = ["LOG_FORMATS", "configure_logging", "formatter_for", "install_request_ids"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "taskName",
}
"""LogRecord attributes that are not ``extra=`` fields."""


def install_request_ids() -> None:
    """Make every LogRecord carry ``request_id`` from its creator's context (idempotent).

    A record factory rather than a handler filter, so every handler sees the id, test
    capture handlers included, and the id is the one current where the record was made.
    """
    factory = logging.getLogRecordFactory()
    if getattr(factory, "weir_request_ids", False):
        return

    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        record.request_id = REQUEST_ID.get()
        return record

    make.weir_request_ids = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make)


def _fields(record: logging.LogRecord, formatter: logging.Formatter) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        + f".{int(record.msecs):03d}Z",
        "level": record.levelname.lower(),
        "logger": record.name,
        "msg": record.getMessage(),
        "request_id": getattr(record, "request_id", REQUEST_ID.get()),
    }
    for key, value in vars(record).items():
        if key not in _STANDARD and not key.startswith("_"):
            fields[key] = value
    if record.exc_info:
        fields["exc"] = formatter.formatException(record.exc_info)
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, request_id, extras, exc."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        return json.dumps(_fields(record, self), default=str, ensure_ascii=False)


_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t"})


def _logfmt_value(value: Any) -> str:
    text = str(value)
    if text and not any(c in text for c in ' ="\\\n\t'):
        return text
    escaped = text.translate(_ESCAPES)
    return f'"{escaped}"'


class LogfmtFormatter(logging.Formatter):
    """One ``key=value`` line per record, values quoted when they need it."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one logfmt line."""
        return " ".join(f"{k}={_logfmt_value(v)}" for k, v in _fields(record, self).items())


def formatter_for(fmt: str) -> logging.Formatter:
    """The formatter for a ``log_format`` value."""
    if fmt == "json":
        return JsonFormatter()
    if fmt == "logfmt":
        return LogfmtFormatter()
    if fmt == "text":
        return logging.Formatter(TEXT_FORMAT)
    raise ValueError(f"log format {fmt!r} is not one of {', '.join(LOG_FORMATS)}")


def configure_logging(fmt: str, level: int = logging.INFO, stream: IO[str] | None = None) -> None:
    """Send every log record to ``stream`` (stderr) in format ``fmt``, with request ids."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter_for(fmt))
    install_request_ids()
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
