"""Log formatters: JSON lines and logfmt carry the request id and extra fields."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from weir.core.config import load_config
from weir.core.errors import InvalidArgumentError
from weir.core.log_format import configure_logging, formatter_for, install_request_ids
from weir.core.rpc import REQUEST_ID, request_id_from


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level, factory = list(root.handlers), root.level, logging.getLogRecordFactory()
    yield
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)
    logging.setLogRecordFactory(factory)


def _emit(fmt: str, request_id: str, **extra: object) -> str:
    stream = io.StringIO()
    configure_logging(fmt, stream=stream)
    token = REQUEST_ID.set(request_id)
    try:
        logging.getLogger("weir.test").warning("hello %s", "world", extra=extra)
    finally:
        REQUEST_ID.reset(token)
    return stream.getvalue()


@pytest.mark.usefixtures("restore_logging")
def test_json_lines_carry_request_id_and_extras() -> None:
    line = _emit("json", "abc123", rpc="Produce", duration_ms=12.5)
    assert line.endswith("\n")
    assert line.count("\n") == 1
    entry = json.loads(line)
    assert entry["msg"] == "hello world"
    assert entry["level"] == "warning"
    assert entry["logger"] == "weir.test"
    assert entry["request_id"] == "abc123"
    assert entry["rpc"] == "Produce"
    assert entry["duration_ms"] == 12.5
    assert entry["ts"].endswith("Z")


@pytest.mark.usefixtures("restore_logging")
def test_logfmt_quotes_values_that_need_it() -> None:
    line = _emit("logfmt", "r-1", peer='ipv4:127.0.0.1:5 "x"').strip()
    assert "request_id=r-1" in line
    assert 'msg="hello world"' in line
    assert "level=warning" in line
    assert 'peer="ipv4:127.0.0.1:5 \\"x\\""' in line


@pytest.mark.usefixtures("restore_logging")
def test_text_has_the_request_id_and_outside_a_request_a_dash() -> None:
    assert "[req-9]: hello world" in _emit("text", "req-9")
    stream = io.StringIO()
    configure_logging("text", stream=stream)
    logging.getLogger("weir.test").info("idle")
    assert "[-]: idle" in stream.getvalue()


@pytest.mark.usefixtures("restore_logging")
def test_exceptions_are_one_json_line() -> None:
    stream = io.StringIO()
    configure_logging("json", stream=stream)
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("weir.test").exception("failed")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert "ValueError: boom" in json.loads(lines[0])["exc"]


@pytest.mark.usefixtures("restore_logging")
def test_install_request_ids_is_idempotent() -> None:
    install_request_ids()
    factory = logging.getLogRecordFactory()
    install_request_ids()
    assert logging.getLogRecordFactory() is factory


def test_request_ids_from_clients_are_kept_only_when_plain() -> None:
    assert request_id_from("trace-42") == "trace-42"
    fresh = request_id_from("bad id with spaces")
    assert len(fresh) == 16
    assert int(fresh, 16) >= 0
    assert len(request_id_from("x" * 65)) == 16
    assert request_id_from(None) != request_id_from(None)


def test_config_checks_log_format_and_slow_threshold() -> None:
    assert load_config(env={"WEIR_LOG_FORMAT": "json"}).log_format == "json"
    assert load_config(env={"WEIR_SLOW_REQUEST_MS": "5"}).slow_request_ms == 5
    with pytest.raises(InvalidArgumentError, match="log_format"):
        load_config(env={"WEIR_LOG_FORMAT": "xml"})
    with pytest.raises(InvalidArgumentError, match="slow_request_ms"):
        load_config(env={"WEIR_SLOW_REQUEST_MS": "-1"})
    with pytest.raises(ValueError, match="xml"):
        formatter_for("xml")
