"""gRPC AclService over the AclStore: protobuf in, domain ACLs out, and back."""

from __future__ import annotations

from typing import Any

from weir.broker.security.acl import (
    AclBinding,
    AclFilter,
    Operation,
    PatternType,
    Permission,
    ResourceType,
    check_principal,
)
from weir.broker.security.acl_store import AclStore
from weir.core.errors import FailedPreconditionError, InvalidArgumentError
from weir.core.rpc import rpc
from weir.v1 import acl_pb2, acl_service_pb2, acl_service_pb2_grpc

Ctx = Any

_TYPES = {
    acl_pb2.ACL_RESOURCE_TYPE_TOPIC: ResourceType.TOPIC,
    acl_pb2.ACL_RESOURCE_TYPE_GROUP: ResourceType.GROUP,
    acl_pb2.ACL_RESOURCE_TYPE_SUBJECT: ResourceType.SUBJECT,
    acl_pb2.ACL_RESOURCE_TYPE_CLUSTER: ResourceType.CLUSTER,
}
_PATTERNS = {
    acl_pb2.ACL_PATTERN_TYPE_LITERAL: PatternType.LITERAL,
    acl_pb2.ACL_PATTERN_TYPE_PREFIXED: PatternType.PREFIXED,
}
_OPERATIONS = {
    acl_pb2.ACL_OPERATION_READ: Operation.READ,
    acl_pb2.ACL_OPERATION_WRITE: Operation.WRITE,
    acl_pb2.ACL_OPERATION_CREATE: Operation.CREATE,
    acl_pb2.ACL_OPERATION_DELETE: Operation.DELETE,
    acl_pb2.ACL_OPERATION_ALTER: Operation.ALTER,
    acl_pb2.ACL_OPERATION_DESCRIBE: Operation.DESCRIBE,
    acl_pb2.ACL_OPERATION_ALL: Operation.ALL,
}
_PERMISSIONS = {
    acl_pb2.ACL_PERMISSION_ALLOW: Permission.ALLOW,
    acl_pb2.ACL_PERMISSION_DENY: Permission.DENY,
}


def _pick(table: dict[Any, Any], value: int, what: str, *, required: bool) -> Any:
    if value in table:
        return table[value]
    if value == 0 and not required:
        return None
    raise InvalidArgumentError(f"{what} is {'missing' if value == 0 else f'unknown ({value})'}")


def from_proto(acl: acl_pb2.Acl) -> AclBinding:
    """A checked domain ACL from its message (every field required)."""
    if not acl.name:
        raise InvalidArgumentError("an ACL needs a resource name (or '*' for every resource)")
    return AclBinding(
        principal=check_principal(acl.principal),
        resource_type=_pick(_TYPES, acl.resource_type, "resource_type", required=True),
        name=acl.name,
        pattern_type=_pick(_PATTERNS, acl.pattern_type, "pattern_type", required=True),
        operation=_pick(_OPERATIONS, acl.operation, "operation", required=True),
        permission=_pick(_PERMISSIONS, acl.permission, "permission", required=True),
    )


def filter_from_proto(f: acl_pb2.AclFilter) -> AclFilter:
    """A domain filter; empty or UNSPECIFIED fields match anything."""
    return AclFilter(
        principal=check_principal(f.principal) if f.principal else None,
        resource_type=_pick(_TYPES, f.resource_type, "resource_type", required=False),
        name=f.name or None,
        pattern_type=_pick(_PATTERNS, f.pattern_type, "pattern_type", required=False),
        operation=_pick(_OPERATIONS, f.operation, "operation", required=False),
        permission=_pick(_PERMISSIONS, f.permission, "permission", required=False),
    )


def _reverse(table: dict[Any, Any]) -> dict[Any, Any]:
    return {v: k for k, v in table.items()}


_TO = {
    "t": _reverse(_TYPES),
    "p": _reverse(_PATTERNS),
    "o": _reverse(_OPERATIONS),
    "m": _reverse(_PERMISSIONS),
}


def to_proto(acl: AclBinding) -> acl_pb2.Acl:
    """The message for a domain ACL."""
    return acl_pb2.Acl(
        principal=acl.principal,
        resource_type=_TO["t"][acl.resource_type],
        name=acl.name,
        pattern_type=_TO["p"][acl.pattern_type],
        operation=_TO["o"][acl.operation],
        permission=_TO["m"][acl.permission],
    )


class AclServicer(acl_service_pb2_grpc.AclServiceServicer):
    """AclService: add, remove and list ACLs (refused while ACLs are not enabled)."""

    def __init__(self, store: AclStore | None) -> None:
        self.store = store

    def _store(self) -> AclStore:
        if self.store is None:
            raise FailedPreconditionError(
                "ACLs are not enabled on this server; start it with acl_enabled = true "
                "(WEIR_ACL_ENABLED=true or `weir serve --acl-enabled`)"
            )
        return self.store

    @rpc
    async def CreateAcls(self, request: acl_service_pb2.CreateAclsRequest, context: Ctx) -> Any:
        if not request.acls:
            raise InvalidArgumentError("no ACLs given; pass at least one")
        acls = [from_proto(a) for a in request.acls]
        added = self._store().add(acls)
        return acl_service_pb2.CreateAclsResponse(created=[to_proto(a) for a in added])

    @rpc
    async def DeleteAcls(self, request: acl_service_pb2.DeleteAclsRequest, context: Ctx) -> Any:
        if not request.filters:
            raise InvalidArgumentError("no filters given; pass at least one")
        filters = [filter_from_proto(f) for f in request.filters]
        store = self._store()
        removed = [a for f in filters for a in store.remove(f)]
        return acl_service_pb2.DeleteAclsResponse(deleted=[to_proto(a) for a in removed])

    @rpc
    async def ListAcls(self, request: acl_service_pb2.ListAclsRequest, context: Ctx) -> Any:
        found = self._store().select(filter_from_proto(request.filter))
        return acl_service_pb2.ListAclsResponse(acls=[to_proto(a) for a in found])
