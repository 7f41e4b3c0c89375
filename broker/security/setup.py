"""Security for one server, from its config: what ``create_server`` plugs in.

``open_security`` checks the settings (refusing half-made ones with what to fix), loads the
TLS files and tokens, replays the ACLs when they are enabled and opens the audit log. The
result gives the gRPC interceptor and port, the HTTP SSL context and middleware mount, and
the AclService servicer.
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass
from pathlib import Path

import grpc
import grpc.aio

from weir.broker.log.engine import EmbeddedLogStore
from weir.broker.security import http, tls
from weir.broker.security.acl import check_principal
from weir.broker.security.acl_servicer import AclServicer
from weir.broker.security.acl_store import AclStore
from weir.broker.security.audit import AuditLog
from weir.broker.security.guard import Guard
from weir.broker.security.interceptor import SecurityInterceptor
from weir.broker.security.tokens import TokenVerifier
from weir.broker.topics import TopicManager
from weir.core.config import ServerConfig
from weir.core.errors import InvalidArgumentError
from weir.registry.rest.server import Mount


@dataclass(slots=True)
class Security:
    """The pieces of one server's security."""

    guard: Guard
    """Authentication, authorization and audit."""
    tls: tls.TlsFiles | None
    """The TLS files, or None for plaintext."""
    http_ssl: ssl.SSLContext | None
    """The HTTP listener's TLS, or None."""
    servicer: AclServicer
    """AclService."""

    def interceptor(self) -> SecurityInterceptor:
        """The gRPC interceptor (install it on the server)."""
        return SecurityInterceptor(self.guard)

    def add_port(self, server: grpc.aio.Server, address: str) -> int:
        """Bind gRPC on ``address``, over TLS when configured; returns the port."""
        if self.tls is None:
            return server.add_insecure_port(address)
        return server.add_secure_port(address, tls.grpc_credentials(self.tls))

    def http_mount(self) -> Mount:
        """The HTTP middleware mount."""
        return http.mount(self.guard)

    def reload_tokens(self) -> bool:
        """Load the tokens file again if it changed (for SIGHUP); True when it was replaced.

        The file is also checked at most once a second as tokens are presented, so this only
        makes a change take effect at once.
        """
        return self.guard.tokens is not None and self.guard.tokens.reload()

    def close(self) -> None:
        """Close the audit log."""
        if self.guard.audit is not None:
            self.guard.audit.close()


def super_users(text: str) -> frozenset[str]:
    """``User:a;User:b`` (or comma-separated) as a set of principals."""
    return frozenset(check_principal(p.strip()) for p in re.split(r"[;,]", text) if p.strip())


async def open_security(
    config: ServerConfig, topics: TopicManager, log_store: EmbeddedLogStore
) -> Security:
    """Check the settings and build the server's security."""
    files = tls.load_tls(config)
    http_ssl = tls.http_context(files) if files is not None else None
    tokens = None
    if config.auth_tokens_file:
        if files is None:
            raise InvalidArgumentError(
                "auth_tokens_file needs TLS (tls_cert_file and tls_key_file): bearer tokens "
                "must not cross the network in clear text"
            )
        tokens = TokenVerifier.from_file(Path(config.auth_tokens_file))
    supers = super_users(config.super_users)
    acls = await AclStore.open(topics, log_store) if config.acl_enabled else None
    audit_path = Path(config.audit_log_file or config.data_dir / "audit.log")
    guard = Guard(
        tokens=tokens,
        require_authentication=tokens is not None or config.tls_client_auth == "require",
        acls=acls,
        super_users=supers,
        audit=AuditLog(audit_path, config.audit_log_max_bytes, config.audit_log_backups),
    )
    return Security(guard, files, http_ssl, AclServicer(acls))
