"""ACLs in Kafka's model, and the decision: may this principal do this to that resource?

An ACL binds a principal (``User:alice``, or ``User:*`` for everyone) to a resource pattern
(a type, a name, literal or prefixed; the literal name ``*`` is every resource of the type),
an operation and a permission (allow or deny). The rules are Kafka's:

- super users may do anything;
- a matching deny wins over any allow;
- ``all`` matches every operation; read, write, delete and alter each imply describe;
- with no matching allow, the answer is no (deny by default).

Pure domain code: no grpc, no protobuf.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable
from dataclasses import dataclass

from weir.core.errors import InvalidArgumentError

CLUSTER_NAME = "weir-cluster"
"""The one cluster resource's name (Kafka calls its own ``kafka-cluster``)."""
WILDCARD = "*"
"""A literal resource name matching every resource of its type; ``User:*`` is every user."""


class ResourceType(enum.StrEnum):
    """What an ACL protects."""

    TOPIC = "topic"
    GROUP = "group"
    SUBJECT = "subject"
    CLUSTER = "cluster"


class Operation(enum.StrEnum):
    """What a request does to a resource."""

    READ = "read"
    WRITE = "write"
    CREATE = "create"
    DELETE = "delete"
    ALTER = "alter"
    DESCRIBE = "describe"
    ALL = "all"


class PatternType(enum.StrEnum):
    """How an ACL's resource name matches."""

    LITERAL = "literal"
    PREFIXED = "prefixed"


class Permission(enum.StrEnum):
    """Whether a matching ACL allows or denies."""

    ALLOW = "allow"
    DENY = "deny"


_IMPLIES_DESCRIBE = {Operation.READ, Operation.WRITE, Operation.DELETE, Operation.ALTER}


def check_principal(principal: str) -> str:
    """A principal as ``Type:name`` (``User:alice``, ``User:*``)."""
    kind, sep, name = principal.partition(":")
    if not sep or not kind or not name:
        raise InvalidArgumentError(
            f"principal {principal!r} is not TYPE:NAME; write it as User:alice (or User:*)"
        )
    return principal


@dataclass(frozen=True, slots=True)
class AclBinding:
    """One ACL."""

    principal: str
    """``User:alice``, or ``User:*`` for every principal."""
    resource_type: ResourceType
    """Topic, group, subject or cluster."""
    name: str
    """The resource name, a prefix (prefixed pattern) or ``*`` (every resource of the type)."""
    pattern_type: PatternType
    """Literal or prefixed."""
    operation: Operation
    """The operation allowed or denied (``all`` for every one)."""
    permission: Permission
    """Allow or deny."""

    def key(self) -> str:
        """A stable identity (the key on the ``__acls`` topic)."""
        return json.dumps(
            [
                self.principal,
                self.resource_type,
                self.pattern_type,
                self.name,
                self.operation,
                self.permission,
            ]
        )

    def matches_resource(self, resource_type: ResourceType, name: str) -> bool:
        """Whether this ACL's pattern covers the named resource."""
        if resource_type is not self.resource_type:
            return False
        if self.pattern_type is PatternType.PREFIXED:
            return name.startswith(self.name)
        return self.name in (WILDCARD, name)

    def describe(self) -> str:
        """One line for people: ``allow User:alice read topic orders (literal)``."""
        return (
            f"{self.permission} {self.principal} {self.operation} {self.resource_type} "
            f"{self.name} ({self.pattern_type})"
        )


@dataclass(frozen=True, slots=True)
class AclFilter:
    """Selects ACLs for listing or removal; None in a field matches anything."""

    principal: str | None = None
    """Only this principal's ACLs."""
    resource_type: ResourceType | None = None
    """Only ACLs on this resource type."""
    name: str | None = None
    """Only ACLs with exactly this resource name (or prefix)."""
    pattern_type: PatternType | None = None
    """Only literal or only prefixed ACLs."""
    operation: Operation | None = None
    """Only ACLs for this operation."""
    permission: Permission | None = None
    """Only allows or only denies."""

    def matches(self, acl: AclBinding) -> bool:
        """Whether ``acl`` is selected."""
        pairs = (
            (self.principal, acl.principal),
            (self.resource_type, acl.resource_type),
            (self.name, acl.name),
            (self.pattern_type, acl.pattern_type),
            (self.operation, acl.operation),
            (self.permission, acl.permission),
        )
        return all(want is None or want == have for want, have in pairs)


def _covers(acl: Operation, wanted: Operation, permission: Permission) -> bool:
    if acl in (Operation.ALL, wanted):
        return True
    # An allowed read/write/delete/alter lets the principal describe (Kafka's rule);
    # a denied one does not deny describe.
    return (
        permission is Permission.ALLOW and wanted is Operation.DESCRIBE and acl in _IMPLIES_DESCRIBE
    )


def principal_matches(acl: str, principal: str) -> bool:
    """Whether an ACL's principal (``User:alice`` or ``User:*``) covers ``principal``."""
    return acl == principal or acl == f"{principal.partition(':')[0]}:{WILDCARD}"


def authorize(
    acls: Iterable[AclBinding],
    super_users: frozenset[str],
    principal: str,
    *,
    resource_type: ResourceType,
    name: str,
    operation: Operation,
) -> bool:
    """Kafka's decision: super user, else no matching deny and at least one matching allow."""
    if principal in super_users:
        return True
    allowed = False
    for acl in acls:
        if (
            principal_matches(acl.principal, principal)
            and acl.matches_resource(resource_type, name)
            and _covers(acl.operation, operation, acl.permission)
        ):
            if acl.permission is Permission.DENY:
                return False
            allowed = True
    return allowed
