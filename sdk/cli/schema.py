"""`weir schema ...`: register, read, list, delete, configure and check schemas.

Every command but `compat` talks to a running server (``--server``, default $WEIR_SERVER or
localhost:50051); `compat` checks files offline. Each prints text or, with ``--output json``,
one JSON document. Exit codes: 0 success or compatible, 1 incompatible, 2 invalid input or
usage (including unknown subjects, versions and ids), 3 server unreachable, 4 server fault.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from weir.core.errors import UnavailableError
from weir.sdk import DEFAULT_SERVER, DEFAULT_TIMEOUT_S, SchemaRegistryClient
from weir.sdk.cli import _schema_commands as cmd
from weir.sdk.cli import _schema_compat
from weir.sdk.cli._output import command

RAW = argparse.RawDescriptionHelpFormatter

EXIT_CODES = """\
exit codes:
  0 success or compatible   1 incompatible   2 invalid input, usage, or not found
  3 server unreachable      4 unexpected server error
"""

GROUP_EXAMPLES = f"""\
examples:
  weir schema register orders-value order.avsc
  weir schema get orders-value --version latest
  weir schema list
  weir schema check orders-value order-v2.avsc
  weir schema compat --type AVRO --level BACKWARD order-v2.avsc order-v1.avsc

{EXIT_CODES}"""

EXAMPLES = {
    "register": """\
examples:
  weir schema register orders-value order.avsc
  weir schema register orders-value order.proto --reference money.proto=money-value:1
  weir schema register users-value user.schema --type JSON --output json
""",
    "get": """\
examples:
  weir schema get orders-value                  # the latest version's text
  weir schema get orders-value --version 2 --output json
  weir schema get --id 7
""",
    "list": """\
examples:
  weir schema list                              # subjects
  weir schema list orders-value --deleted       # versions, soft-deleted ones too
""",
    "delete": """\
examples:
  weir schema delete orders-value --version 2   # soft delete
  weir schema delete orders-value --version 2 --permanent
  weir schema delete orders-value               # every version
""",
    "config": """\
examples:
  weir schema config                            # the global level
  weir schema config orders-value               # the level in force for a subject
  weir schema config orders-value --level FULL  # set it
""",
    "check": """\
examples:
  weir schema check orders-value order-v2.avsc
  weir schema check orders-value order-v2.avsc --version 1 --output json
""",
    "compat": """\
examples (offline, no server; previous versions oldest first):
  weir schema compat --type AVRO --level BACKWARD order-v3.avsc order-v1.avsc order-v2.avsc
  weir schema compat --level FULL_TRANSITIVE new.proto old.proto --output json
""",
}


def add_parser(commands: Any) -> None:
    """Register `weir schema` and its commands."""
    parser = commands.add_parser(
        "schema",
        help="register, read and check schemas",
        description="Manage schemas in a running registry, or check compatibility offline.",
        epilog=GROUP_EXAMPLES,
        formatter_class=RAW,
    )
    sub = parser.add_subparsers(dest="schema_command", required=True, metavar="COMMAND")
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument(
        "--output", choices=("text", "json"), default="text", help="output format (default text)"
    )
    server = argparse.ArgumentParser(add_help=False, parents=[output])
    server.add_argument(
        "--server",
        metavar="HOST:PORT",
        help=f"registry gRPC address (default $WEIR_SERVER, else {DEFAULT_SERVER})",
    )
    server.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help=f"deadline per call (default {DEFAULT_TIMEOUT_S:g})",
    )

    def add(name: str, help_text: str, parents: list[argparse.ArgumentParser]) -> Any:
        return sub.add_parser(
            name,
            help=help_text,
            description=help_text[0].upper() + help_text[1:] + ".",
            parents=parents,
            epilog=EXAMPLES[name] + "\n" + EXIT_CODES,
            formatter_class=RAW,
        )

    p = add("register", "register a schema file under a subject", [server])
    p.add_argument("subject", metavar="SUBJECT")
    _schema_file_args(p)
    p.set_defaults(run=_with_client(cmd.register))

    p = add("get", "print a subject version's schema, or a schema by id", [server])
    p.add_argument("subject", metavar="SUBJECT", nargs="?")
    p.add_argument("--version", metavar="N|latest", help="version to read (default latest)")
    p.add_argument("--id", type=int, metavar="ID", help="read a schema by its global id instead")
    p.add_argument("--deleted", action="store_true", help="also read a soft-deleted version")
    p.set_defaults(run=_with_client(cmd.get))

    p = add("list", "list subjects, or a subject's versions", [server])
    p.add_argument("subject", metavar="SUBJECT", nargs="?")
    p.add_argument("--deleted", action="store_true", help="include soft-deleted ones")
    p.add_argument("--prefix", default="", help="only subjects starting with this")
    p.set_defaults(run=_with_client(cmd.list_))

    p = add("delete", "delete a subject or one version (soft, then --permanent)", [server])
    p.add_argument("subject", metavar="SUBJECT")
    p.add_argument("--version", metavar="N|latest", help="delete this version only")
    p.add_argument("--permanent", action="store_true", help="remove a soft-deleted one for good")
    p.set_defaults(run=_with_client(cmd.delete))

    p = add("config", "show or set the compatibility level, global or per subject", [server])
    p.add_argument("subject", metavar="SUBJECT", nargs="?")
    p.add_argument("--level", metavar="LEVEL", help="set this level (NONE, BACKWARD, ...)")
    p.set_defaults(run=_with_client(cmd.config))

    p = add("check", "check a schema file against a subject in the running registry", [server])
    p.add_argument("subject", metavar="SUBJECT")
    _schema_file_args(p)
    p.add_argument(
        "--version",
        metavar="N|latest",
        help="check against this version only (default: the subject's level and history)",
    )
    p.set_defaults(run=_with_client(cmd.check))

    p = add("compat", "check schema files against each other offline, with no server", [output])
    p.add_argument("new", metavar="NEW_FILE", type=Path)
    p.add_argument("previous", metavar="PREVIOUS_FILE", type=Path, nargs="*")
    p.add_argument("--type", metavar="TYPE", help="AVRO, PROTOBUF or JSON (default: from NEW_FILE)")
    p.add_argument("--level", metavar="LEVEL", default="BACKWARD", help="default BACKWARD")
    p.set_defaults(run=command(_schema_compat.compat))


def _schema_file_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", type=Path)
    p.add_argument(
        "--type", metavar="TYPE", help="AVRO, PROTOBUF or JSON (default: from the extension)"
    )
    p.add_argument(
        "--reference",
        action="append",
        metavar="NAME=SUBJECT:VERSION",
        help="a schema this one refers to; repeat for each",
    )


def _with_client(run: cmd.ClientCommand) -> Any:
    def with_client(args: argparse.Namespace, out: Any) -> int:
        server = args.server or os.environ.get("WEIR_SERVER") or DEFAULT_SERVER
        try:
            with SchemaRegistryClient(server, timeout_s=args.timeout) as client:
                return run(args, out, client)
        except UnavailableError as e:
            raise UnavailableError(
                f"cannot reach the registry at {server}: {e.message}; is `weir serve` running? "
                "pass --server HOST:PORT or set WEIR_SERVER",
                metadata=e.metadata,
            ) from None

    with_client.__name__ = run.__name__
    return command(with_client)
