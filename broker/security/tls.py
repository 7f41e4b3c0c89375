"""TLS settings from the config: checked once, then turned into gRPC and HTTP credentials.

Both listeners use the same certificate and key. With ``tls_client_auth = "require"`` both
require a client certificate signed by ``tls_client_ca_file`` (mutual TLS); gRPC's Python
API can only require or not ask, so there is no "request but do not require" mode.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import grpc

from weir.core.config import ServerConfig
from weir.core.errors import InvalidArgumentError

CLIENT_AUTH_MODES = ("none", "require")
"""The accepted values of tls_client_auth."""


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """The PEM bytes TLS needs."""

    cert: bytes
    """The server's certificate chain."""
    key: bytes
    """Its private key."""
    client_ca: bytes | None
    """CA certificates for client certificates; None: client certificates are not asked for."""
    paths: tuple[str, str, str]
    """The cert, key and client CA paths, for ssl.SSLContext."""


def _read(key: str, path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise InvalidArgumentError(f"config key {key}: cannot read {path}: {e.strerror}") from None


def load_tls(config: ServerConfig) -> TlsFiles | None:
    """The TLS files, or None for plaintext; refuses half-made settings with what to fix."""
    if config.tls_client_auth not in CLIENT_AUTH_MODES:
        raise InvalidArgumentError(
            f"config key tls_client_auth: {config.tls_client_auth!r} is not one of "
            f"{', '.join(CLIENT_AUTH_MODES)}"
        )
    if not config.tls_cert_file and not config.tls_key_file:
        if config.tls_client_auth != "none" or config.tls_client_ca_file:
            raise InvalidArgumentError(
                "client certificates need TLS: set tls_cert_file and tls_key_file too"
            )
        return None
    if not config.tls_cert_file or not config.tls_key_file:
        raise InvalidArgumentError("set both tls_cert_file and tls_key_file, or neither")
    require = config.tls_client_auth == "require"
    if require and not config.tls_client_ca_file:
        raise InvalidArgumentError(
            "tls_client_auth = require needs tls_client_ca_file (the CA that signs client certs)"
        )
    if config.tls_client_ca_file and not require:
        raise InvalidArgumentError(
            "tls_client_ca_file is set but tls_client_auth is none; set tls_client_auth = require"
        )
    return TlsFiles(
        cert=_read("tls_cert_file", config.tls_cert_file),
        key=_read("tls_key_file", config.tls_key_file),
        client_ca=_read("tls_client_ca_file", config.tls_client_ca_file) if require else None,
        paths=(config.tls_cert_file, config.tls_key_file, config.tls_client_ca_file),
    )


def grpc_credentials(tls: TlsFiles) -> grpc.ServerCredentials:
    """Server credentials for grpc.aio's add_secure_port."""
    return grpc.ssl_server_credentials(
        [(tls.key, tls.cert)],
        root_certificates=tls.client_ca,
        require_client_auth=tls.client_ca is not None,
    )


def http_context(tls: TlsFiles) -> ssl.SSLContext:
    """An SSLContext for the HTTP listener, with the same client-certificate rule."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    cert, key, client_ca = tls.paths
    try:
        context.load_cert_chain(cert, key)
        if tls.client_ca is not None:
            context.load_verify_locations(cafile=client_ca)
            context.verify_mode = ssl.CERT_REQUIRED
    except (OSError, ssl.SSLError) as e:
        raise InvalidArgumentError(f"TLS files {cert}, {key}: {e}") from None
    return context
