"""Server configuration: one frozen dataclass from an optional TOML file plus WEIR_* env vars.

Precedence: defaults < TOML file < environment < explicit overrides (CLI flags). An unknown
key anywhere is an error that names it and lists the known keys. Units go in the names.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from weir.core.errors import InvalidArgumentError

ENV_PREFIX = "WEIR_"


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Everything `weir serve` needs."""

    data_dir: Path = Path("weir-data")
    """Where the server keeps its data."""
    grpc_address: str = "127.0.0.1:50051"
    """HOST:PORT for gRPC; port 0 picks a free port."""
    http_address: str = "127.0.0.1:8081"
    """HOST:PORT for the Confluent-compatible REST API; port 0 picks a free port."""
    log_cleanup_interval_ms: int = 30_000
    """How often retention, compaction and age-based segment rolls run."""
    shutdown_grace_ms: int = 5000
    """How long in-flight RPCs get to finish on shutdown."""
    log_format: str = "text"
    """Server log lines: text, json (one object per line) or logfmt."""
    slow_request_ms: int = 1000
    """Requests at least this long are logged as slow (method, duration, peer, request id)."""
    console_allow_writes: bool = False
    """Let the web console (/ui) apply offset resets; off, it only previews them."""
    console_lag_sample_ms: int = 5000
    """How often the web console samples consumer-group lag for its charts."""
    tls_cert_file: str = ""
    """PEM certificate (chain) of the server; set with tls_key_file to serve gRPC and HTTP
    over TLS. Empty: plaintext."""
    tls_key_file: str = ""
    """PEM private key of tls_cert_file."""
    tls_client_ca_file: str = ""
    """PEM CA certificates that sign client certificates (mutual TLS)."""
    tls_client_auth: str = "none"
    """Client certificates: none, or require (verified against tls_client_ca_file; the
    subject CN becomes the principal User:CN)."""
    auth_tokens_file: str = ""
    """File of salted bearer-token hashes (`weir token hash NAME` makes a line); when set,
    every request must authenticate. Needs TLS."""
    acl_enabled: bool = False
    """Authorize every request with ACLs (deny by default); manage them with `weir acl`."""
    super_users: str = ""
    """Principals that bypass ACLs, separated by ';' or ',' (e.g. User:admin)."""
    audit_log_file: str = ""
    """Where admin and registry changes are logged as JSON lines; empty: DATA_DIR/audit.log.
    Each line is fsynced before the call returns. Best-effort, like Confluent's audit log: a
    line that cannot be written (disk full, unwritable file) is logged at ERROR naming the
    file and the change still stands; the server refuses to start if the file cannot be opened."""
    audit_log_max_bytes: int = 100 << 20
    """Rotate the audit log before a line would take it past this size (audit.log becomes
    audit.log.1, .1 becomes .2, ...); 0: never rotate."""
    audit_log_backups: int = 5
    """Rotated audit logs kept (audit.log.1 newest ... audit.log.N oldest), 1 to 1000."""
    max_request_bytes: int = 64 << 20
    """Limit: key, value and header bytes of one produce request."""
    max_records_per_request: int = 100_000
    """Limit: records in one produce request."""
    max_headers_per_record: int = 100
    """Limit: headers on one record."""
    max_schema_bytes: int = 1 << 20
    """Limit: UTF-8 bytes of one schema's text (registry)."""
    max_schema_depth: int = 100
    """Limit: nesting of a schema (JSON levels for Avro and JSON Schema, messages for .proto)."""
    max_payload_depth: int = 100
    """Limit: nesting of a record payload (JSON levels, Avro and protobuf records)."""
    validation_timeout_ms: int = 2000
    """Limit: time spent validating the records of one produce request."""
    pattern_timeout_ms: int = 100
    """Limit: time for one JSON Schema pattern match (bounded regex, never Python's re)."""
    max_name_bytes: int = 1000
    """Limit: UTF-8 bytes of a subject name, consumer group id or group instance id (topic
    names follow Kafka's rule instead: 1 to 249 of [a-zA-Z0-9._-]). Subjects, groups and
    instance ids that a request would create or change must also be free of control
    characters (U+0000-U+001F, U+007F-U+009F), as Confluent Schema Registry refuses them
    (42208); reads and deletes check only the length, so older names stay removable."""
    max_fetch_wait_ms: int = 30_000
    """Limit: how long one fetch may wait for records. A longer max_wait_ms is clamped to
    this, silently, as a Kafka broker answers within the request timeout (the client's
    request.timeout.ms defaults to 30 s; its fetch.max.wait.ms to 500 ms)."""
    max_topics: int = 10_000
    """Limit: topics on the server, internal ones included."""
    max_partitions: int = 100_000
    """Limit: partitions on the server, across all topics."""
    max_connections: int = 1000
    """Limit: open gRPC connections (grpc.max_allowed_incoming_connections)."""
    max_concurrent_streams: int = 100
    """Limit: concurrent calls on one gRPC connection (HTTP/2 max_concurrent_streams)."""
    max_concurrent_rpcs: int = 10_000
    """Limit: calls in progress on the server; more are refused with RESOURCE_EXHAUSTED."""
    keepalive_time_ms: int = 60_000
    """The server pings an idle connection this often to find dead clients."""
    keepalive_timeout_ms: int = 20_000
    """A connection whose ping is unanswered this long is closed."""


def load_config(
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> ServerConfig:
    """Build the config from a TOML file, WEIR_* variables and overrides."""
    values: dict[str, Any] = {}
    if path is not None:
        try:
            values.update(tomllib.loads(path.read_text()))
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise InvalidArgumentError(f"config file {path}: {e}") from None
        _check_keys(values, f"config file {path}")
    env = os.environ if env is None else env
    from_env = {
        k[len(ENV_PREFIX) :].lower(): v
        for k, v in env.items()
        if k.startswith(ENV_PREFIX) and k[len(ENV_PREFIX) :].lower() in _FIELDS
    }
    values.update(from_env)
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    _check_keys(values, "overrides")
    config = ServerConfig(**{k: _coerce(k, v) for k, v in values.items()})
    if config.log_format not in LOG_FORMATS:
        raise InvalidArgumentError(
            f"config key log_format: {config.log_format!r} is not one of {', '.join(LOG_FORMATS)}"
        )
    for name in LIMITS:
        if getattr(config, name) < 1:
            raise InvalidArgumentError(
                f"config key {name}: {getattr(config, name)} is not positive; use 1 or more"
            )
    if config.audit_log_max_bytes < 0:
        raise InvalidArgumentError(
            f"config key audit_log_max_bytes: {config.audit_log_max_bytes} is negative; "
            "use 0 (never rotate) or a size in bytes such as 104857600"
        )
    if not 1 <= config.audit_log_backups <= 1000:
        raise InvalidArgumentError(
            f"config key audit_log_backups: {config.audit_log_backups} is not between 1 and "
            "1000; it is how many rotated audit logs are kept"
        )
    for name in ("slow_request_ms", "shutdown_grace_ms"):
        if getattr(config, name) < 0:
            raise InvalidArgumentError(
                f"config key {name}: {getattr(config, name)} is negative; use 0 or more"
            )
    for name in ("log_cleanup_interval_ms", "console_lag_sample_ms"):
        if getattr(config, name) < 1:
            raise InvalidArgumentError(
                f"config key {name}: {getattr(config, name)} is not positive; use 1 or more"
            )
    for name in ("grpc_address", "http_address"):
        _check_address(name, getattr(config, name))
    return config


def _check_address(name: str, address: str) -> None:
    """HOST:PORT with a port from 0 (any free port) to 65535; IPv6 hosts in brackets."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        raise InvalidArgumentError(
            f"config key {name}: {address!r} is not HOST:PORT with a port from 0 to 65535; "
            "for example 127.0.0.1:50051, 0.0.0.0:8081 or [::1]:0"
        )


LIMITS = tuple(
    name
    for name in ServerConfig.__dataclass_fields__
    if name.startswith(("max_", "keepalive_")) or name.endswith("_timeout_ms")
)
"""Config keys that must be positive."""
LOG_FORMATS = ("text", "json", "logfmt")
"""The accepted values of log_format."""
_FIELDS = {f.name: f for f in dataclasses.fields(ServerConfig)}
_BOOLS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _check_keys(values: Mapping[str, Any], where: str) -> None:
    unknown = sorted(set(values) - set(_FIELDS))
    if unknown:
        raise InvalidArgumentError(
            f"{where}: unknown key(s) {', '.join(unknown)}; known keys: {', '.join(_FIELDS)}"
        )


def _coerce(name: str, value: Any) -> Any:
    kind = type(getattr(ServerConfig(), name))
    if kind is bool and isinstance(value, str):  # bool("false") would be True
        if value.strip().lower() in _BOOLS:
            return _BOOLS[value.strip().lower()]
        raise InvalidArgumentError(f"config key {name}: {value!r} is not true or false")
    try:
        return Path(value) if issubclass(kind, Path) else kind(value)
    except (TypeError, ValueError):
        raise InvalidArgumentError(
            f"config key {name}: {value!r} is not a valid {kind.__name__}"
        ) from None
