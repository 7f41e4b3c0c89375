"""How a client proves who it is: TLS (with a client certificate for mTLS) and bearer tokens."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import grpc

from weir.core.errors import InvalidArgumentError


@dataclass(frozen=True, slots=True)
class Credentials:
    """TLS settings and an optional bearer token for every SDK client.

    ``Credentials(ca_file="ca.crt")`` connects over TLS, checking the server's certificate
    against that CA (without ``ca_file``, the system's roots). ``cert_file`` and ``key_file``
    add a client certificate (mutual TLS; the server's principal is ``User:<its CN>``).
    ``token`` is sent as ``authorization: Bearer TOKEN`` on every call, and needs TLS.
    """

    ca_file: str | Path | None = None
    """PEM CA certificates that sign the server's certificate; None: the system's roots."""
    cert_file: str | Path | None = None
    """PEM client certificate (mutual TLS); needs key_file."""
    key_file: str | Path | None = None
    """PEM private key of cert_file."""
    token: str | None = None
    """A bearer token from the server's tokens file."""
    server_name: str | None = None
    """Check the server's certificate against this name instead of the address's host."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Credentials | None:
        """From WEIR_TLS_CA, WEIR_TLS_CERT, WEIR_TLS_KEY and WEIR_TOKEN; None when none is set."""
        env = os.environ if env is None else env
        values = {
            "ca_file": env.get("WEIR_TLS_CA") or None,
            "cert_file": env.get("WEIR_TLS_CERT") or None,
            "key_file": env.get("WEIR_TLS_KEY") or None,
            "token": env.get("WEIR_TOKEN") or None,
        }
        if not any(values.values()):
            return None
        return cls(**values)

    def channel_credentials(self) -> grpc.ChannelCredentials:
        """gRPC channel credentials: TLS, the client certificate, and the token per call."""
        if (self.cert_file is None) != (self.key_file is None):
            raise InvalidArgumentError(
                "a client certificate needs both cert_file and key_file; pass both or neither"
            )
        channel = grpc.ssl_channel_credentials(
            root_certificates=_read(self.ca_file, "ca_file"),
            private_key=_read(self.key_file, "key_file"),
            certificate_chain=_read(self.cert_file, "cert_file"),
        )
        if self.token is None:
            return channel
        if not self.token.strip():
            raise InvalidArgumentError("the token is empty; pass the token the admin gave you")
        call = grpc.access_token_call_credentials(self.token.strip())
        return grpc.composite_channel_credentials(channel, call)

    def options(self) -> tuple[tuple[str, str], ...]:
        """Channel options these credentials need (the server name override)."""
        if self.server_name:
            return (("grpc.ssl_target_name_override", self.server_name),)
        return ()

    def __repr__(self) -> str:  # never print the token
        token = "'***'" if self.token else None
        return (
            f"Credentials(ca_file={self.ca_file!r}, cert_file={self.cert_file!r}, "
            f"key_file={self.key_file!r}, token={token}, server_name={self.server_name!r})"
        )


def _read(path: str | Path | None, what: str) -> bytes | None:
    if path is None:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise InvalidArgumentError(f"credentials {what} {path}: {e.strerror or e}") from None


__all__ = ["Credentials"]
