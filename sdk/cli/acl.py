"""`weir acl ...`: add, remove and list ACLs (Kafka's model) on a running server.

An ACL allows or denies a principal (User:alice, or User:* for everyone) an operation (read,
write, create, delete, alter, describe or all) on a topic, group, subject or the cluster,
named literally or by prefix (--prefixed). A deny wins; with ACLs enabled, what no ACL
allows is refused. Changing ACLs needs alter on the cluster (or a super user).

Exit codes: 0 success, 2 invalid input, usage or not allowed, 3 server unreachable,
4 server fault.
"""

from __future__ import annotations

import argparse
from typing import Any

from weir.core.errors import InvalidArgumentError
from weir.sdk._client import GrpcClient
from weir.sdk.cli._broker import add_connection_args
from weir.sdk.cli._output import OK, Output, command
from weir.sdk.cli._workflow_client import cli_credentials, server_address
from weir.v1 import acl_pb2, acl_service_pb2, acl_service_pb2_grpc

OPERATIONS = ("read", "write", "create", "delete", "alter", "describe", "all")
RESOURCES = ("topic", "group", "subject", "cluster")
CLUSTER = "weir-cluster"

EXIT_CODES = """\
exit codes:
  0 success   2 invalid input, usage, or not allowed   3 server unreachable
  4 unexpected server error
"""
EXAMPLES = {
    "add": """\
examples:
  weir acl add --allow-principal User:alice --operation write --topic orders
  weir acl add --allow-principal User:alice --operation read --operation describe \\
      --topic pay. --prefixed
  weir acl add --allow-principal User:* --operation read --group billing
  weir acl add --deny-principal User:bob --operation all --subject orders-value
  weir acl add --allow-principal User:ops --operation alter --cluster
""",
    "remove": """\
examples:
  weir acl remove --allow-principal User:alice --operation write --topic orders
  weir acl remove --deny-principal User:bob --topic orders    # every operation
""",
    "list": """\
examples:
  weir acl list
  weir acl list --principal User:alice --output json
  weir acl list --topic orders
""",
}


def _enum(prefix: str, value: str) -> Any:
    return getattr(acl_pb2, f"{prefix}_{value.upper()}")


def _name(prefix: str, number: int) -> str:
    enum = {
        "ACL_RESOURCE_TYPE": acl_pb2.AclResourceType,
        "ACL_PATTERN_TYPE": acl_pb2.AclPatternType,
        "ACL_OPERATION": acl_pb2.AclOperation,
        "ACL_PERMISSION": acl_pb2.AclPermission,
    }[prefix]
    return str(enum.Name(number)).removeprefix(prefix + "_").lower()


def acl_json(acl: acl_pb2.Acl) -> dict[str, str]:
    """An ACL as JSON."""
    return {
        "principal": acl.principal,
        "permission": _name("ACL_PERMISSION", acl.permission),
        "operation": _name("ACL_OPERATION", acl.operation),
        "resource_type": _name("ACL_RESOURCE_TYPE", acl.resource_type),
        "name": acl.name,
        "pattern_type": _name("ACL_PATTERN_TYPE", acl.pattern_type),
    }


def acl_text(acl: acl_pb2.Acl) -> str:
    """One line: ``allow User:alice write topic orders (literal)``."""
    d = acl_json(acl)
    return (
        f"{d['permission']:<5} {d['principal']} {d['operation']} {d['resource_type']} "
        f"{d['name']} ({d['pattern_type']})"
    )


def _resource(args: argparse.Namespace, required: bool) -> tuple[Any, str] | None:
    given = [(kind, getattr(args, kind)) for kind in RESOURCES if getattr(args, kind)]
    if len(given) > 1:
        raise InvalidArgumentError("name one resource: --topic, --group, --subject or --cluster")
    if not given:
        if required:
            raise InvalidArgumentError(
                "name the resource: --topic NAME, --group NAME, --subject NAME or --cluster"
            )
        return None
    kind, name = given[0]
    return _enum("ACL_RESOURCE_TYPE", kind), name


def _principals(args: argparse.Namespace) -> list[tuple[str, Any]]:
    allow = [(p, acl_pb2.ACL_PERMISSION_ALLOW) for p in args.allow_principal]
    deny = [(p, acl_pb2.ACL_PERMISSION_DENY) for p in args.deny_principal]
    if not allow + deny:
        raise InvalidArgumentError("name who: --allow-principal User:NAME or --deny-principal")
    return allow + deny


def _pattern(args: argparse.Namespace) -> Any:
    return acl_pb2.ACL_PATTERN_TYPE_PREFIXED if args.prefixed else acl_pb2.ACL_PATTERN_TYPE_LITERAL


class _Acls(GrpcClient):
    """AclService over one channel."""

    def __init__(self, args: argparse.Namespace) -> None:
        server = server_address([args.server])
        super().__init__(server, timeout_s=args.timeout, credentials=cli_credentials())
        self.stub: Any = acl_service_pb2_grpc.AclServiceStub(self._channel)  # type: ignore[no-untyped-call]


@command
def _add(args: argparse.Namespace, out: Output) -> int:
    kind, name = _resource(args, required=True) or (None, "")
    if not args.operation:
        raise InvalidArgumentError("name at least one --operation (" + ", ".join(OPERATIONS) + ")")
    acls = [
        acl_pb2.Acl(
            principal=principal,
            resource_type=kind,
            name=name,
            pattern_type=_pattern(args),
            operation=_enum("ACL_OPERATION", op),
            permission=permission,
        )
        for principal, permission in _principals(args)
        for op in args.operation
    ]
    with _Acls(args) as client:
        reply = client._call(
            client.stub.CreateAcls, acl_service_pb2.CreateAclsRequest(acls=acls), idempotent=True
        )
    added = list(reply.created)
    lines = [f"added: {acl_text(a)}" for a in added] or ["no change: those ACLs exist already"]
    out.result({"created": [acl_json(a) for a in added]}, "\n".join(lines))
    return OK


@command
def _remove(args: argparse.Namespace, out: Output) -> int:
    kind, name = _resource(args, required=True) or (None, "")
    operations: list[Any] = [_enum("ACL_OPERATION", op) for op in args.operation] or [0]
    filters = [
        acl_pb2.AclFilter(
            principal=principal,
            resource_type=kind,
            name=name,
            pattern_type=_pattern(args),
            operation=op,
            permission=permission,
        )
        for principal, permission in _principals(args)
        for op in operations
    ]
    with _Acls(args) as client:
        request = acl_service_pb2.DeleteAclsRequest(filters=filters)
        reply = client._call(client.stub.DeleteAcls, request, idempotent=True)
    removed = list(reply.deleted)
    lines = [f"removed: {acl_text(a)}" for a in removed] or ["no ACL matched; nothing removed"]
    out.result({"deleted": [acl_json(a) for a in removed]}, "\n".join(lines))
    return OK


@command
def _list(args: argparse.Namespace, out: Output) -> int:
    kind, name = _resource(args, required=False) or (None, "")
    pattern: Any = acl_pb2.ACL_PATTERN_TYPE_PREFIXED if args.prefixed else 0
    flt = acl_pb2.AclFilter(
        principal=args.principal or "", resource_type=kind, name=name, pattern_type=pattern
    )
    with _Acls(args) as client:
        reply = client._call(client.stub.ListAcls, acl_service_pb2.ListAclsRequest(filter=flt))
    out.result({"acls": [acl_json(a) for a in reply.acls]}, "\n".join(map(acl_text, reply.acls)))
    return OK


def add_parser(commands: Any) -> None:
    """Register `weir acl` and its commands."""
    raw = argparse.RawDescriptionHelpFormatter
    parser = commands.add_parser(
        "acl",
        help="add, remove and list ACLs",
        description=__doc__.split("\n\n")[1],
        epilog="examples:\n"
        + "".join(e.removeprefix("examples:\n") for e in EXAMPLES.values())
        + "\n"
        + EXIT_CODES,
        formatter_class=raw,
    )
    sub = parser.add_subparsers(dest="acl_command", required=True, metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--output", choices=("text", "json"), default="text", help="output format (default text)"
    )
    add_connection_args(common)
    resource = argparse.ArgumentParser(add_help=False)
    for kind in ("topic", "group", "subject"):
        resource.add_argument(f"--{kind}", metavar="NAME", help=f"the {kind} (or prefix, or *)")
    resource.add_argument(
        "--cluster", nargs="?", const=CLUSTER, metavar="NAME", help="the cluster itself"
    )
    resource.add_argument(
        "--prefixed", action="store_true", help="the name is a prefix (default: literal)"
    )
    who = argparse.ArgumentParser(add_help=False)
    who.add_argument("--allow-principal", action="append", default=[], metavar="User:NAME")
    who.add_argument("--deny-principal", action="append", default=[], metavar="User:NAME")
    who.add_argument(
        "--operation", action="append", default=[], choices=OPERATIONS, help="repeat for several"
    )
    helps = {
        "add": "add ACLs (one per principal and operation)",
        "remove": "remove matching ACLs (every operation unless --operation)",
        "list": "list ACLs, optionally for one principal or resource",
    }
    runs = {"add": _add, "remove": _remove, "list": _list}
    for name, help_text in helps.items():
        parents = [common, resource] + ([who] if name != "list" else [])
        p = sub.add_parser(
            name,
            help=help_text,
            description=help_text[0].upper() + help_text[1:] + ".",
            parents=parents,
            epilog=EXAMPLES[name] + "\n" + EXIT_CODES,
            formatter_class=raw,
        )
        if name == "list":
            p.add_argument("--principal", metavar="User:NAME", help="only this principal's ACLs")
        p.set_defaults(run=runs[name])
