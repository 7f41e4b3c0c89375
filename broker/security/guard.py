"""Who is calling, and may they? One Guard answers both, for gRPC and HTTP alike.

Authentication: a bearer token (checked against the tokens file) names the principal; else a
verified client certificate does (``User:<subject CN>``); else the caller is
``User:ANONYMOUS``, which is refused when authentication is required (a tokens file is
configured, or client certificates are required).

Authorization: with ACLs enabled, every check a request needs must pass (see ``rules``);
without them everything is allowed.
"""

from __future__ import annotations

from collections.abc import Sequence

from weir.broker.security.acl import CLUSTER_NAME, Operation, ResourceType, authorize
from weir.broker.security.acl_store import AclStore
from weir.broker.security.audit import AuditLog
from weir.broker.security.rules import Need
from weir.broker.security.tokens import TokenVerifier
from weir.broker.security.visibility import NameMatcher
from weir.core.errors import PermissionDeniedError, UnauthenticatedError
from weir.core.visibility import Filter, Kind

ANONYMOUS = "User:ANONYMOUS"
"""The principal of a caller without credentials (Kafka's name)."""
BEARER = "bearer "
_MAX_DECISIONS = 100_000
_SEE_ALL = Need(ResourceType.CLUSTER, CLUSTER_NAME, Operation.DESCRIBE)


def bearer_token(header: str | None) -> str | None:
    """The token in an ``Authorization: Bearer TOKEN`` value; None when there is none."""
    if header is None:
        return None
    if not header.lower().startswith(BEARER) or not header[len(BEARER) :].strip():
        raise UnauthenticatedError(
            "the authorization header is not 'Bearer TOKEN'; send the token as a bearer token"
        )
    return header[len(BEARER) :].strip()


class Guard:
    """Authentication, authorization and the audit log, configured once per server."""

    def __init__(
        self,
        *,
        tokens: TokenVerifier | None,
        require_authentication: bool,
        acls: AclStore | None,
        super_users: frozenset[str],
        audit: AuditLog | None,
    ) -> None:
        self.tokens = tokens
        """The tokens file's hashes, or None when tokens are not accepted."""
        self.require_authentication = require_authentication
        """Refuse callers without credentials."""
        self.acls = acls
        """The ACLs when they are enabled, else None (everything allowed)."""
        self.super_users = super_users
        """Principals that bypass the ACLs."""
        self.audit = audit
        """Where admin changes are recorded, or None."""
        self._decisions: dict[tuple[str, Need], bool] = {}
        self._version = -1

    @property
    def active(self) -> bool:
        """Whether any request may be refused (authentication or ACLs are on)."""
        return self.require_authentication or self.acls is not None or self.tokens is not None

    async def principal(self, token: str | None, cert_name: str | None) -> str:
        """The caller's principal; raises UnauthenticatedError for missing or bad credentials."""
        if token is not None:
            if self.tokens is None and not self.active:
                return ANONYMOUS  # security is off: a token changes nothing
            if self.tokens is None:
                raise UnauthenticatedError(
                    "this server does not accept bearer tokens (no auth_tokens_file); "
                    "authenticate with a client certificate"
                )
            principal = await self.tokens.principal(token)
            if principal is None:
                raise UnauthenticatedError(
                    "the bearer token is not valid; check the token, or ask an admin to add "
                    "its hash to the server's tokens file (`weir token hash NAME`)"
                )
            return principal
        if cert_name:
            return f"User:{cert_name}"
        if self.require_authentication:
            raise UnauthenticatedError(
                "this server requires authentication: send a bearer token (--token, "
                "Credentials(token=...)) or a client certificate (--tls-cert and --tls-key)"
            )
        return ANONYMOUS

    def check(self, principal: str, needs: Sequence[Need] | None, action: str) -> None:
        """Raise PermissionDeniedError unless every need is allowed.

        ``needs`` None means the action has no rule, which is refused while ACLs are on.
        """
        if self.acls is None:
            return
        if needs is None:
            if principal in self.super_users:
                return
            raise PermissionDeniedError(
                f"{principal} may not call {action}: it has no access rule",
                metadata={"principal": principal, "action": action},
            )
        for need in needs:
            if not self._allowed(principal, need):
                raise PermissionDeniedError(
                    f"{principal} is not allowed to {need.operation} {need.resource_type} "
                    f"'{need.name}' ({action}); an admin can grant it with `weir acl add "
                    f"--allow-principal {principal} --operation {need.operation} "
                    f"--{need.resource_type} {need.name}`",
                    metadata={
                        "principal": principal,
                        "operation": str(need.operation),
                        "resource_type": str(need.resource_type),
                        "resource": need.name,
                    },
                )

    def list_filter(self, principal: str) -> Filter | None:
        """What ``principal`` may see of a list of names; None: everything (no per-name work).

        None when ACLs are off or the principal is a super user. Otherwise a function that
        keeps every name for a holder of describe on the cluster, and else only the names
        the principal may describe (``visibility.NameMatcher``).
        """
        if self.acls is None or principal in self.super_users:
            return None

        def keep(kind: Kind, names: Sequence[str]) -> list[str]:
            if not names or self._allowed(principal, _SEE_ALL):
                return list(names)
            assert self.acls is not None
            matcher = NameMatcher.compile(self.acls.all(), principal, ResourceType(kind))
            return matcher.keep(names)

        return keep

    def _allowed(self, principal: str, need: Need) -> bool:
        assert self.acls is not None
        if self._version != self.acls.version or len(self._decisions) > _MAX_DECISIONS:
            self._decisions.clear()
            self._version = self.acls.version
        key = (principal, need)
        found = self._decisions.get(key)
        if found is None:
            found = self._decisions[key] = authorize(
                self.acls.all(),
                self.super_users,
                principal,
                resource_type=need.resource_type,
                name=need.name,
                operation=need.operation,
            )
        return found
