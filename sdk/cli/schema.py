"""`weir schema ...`: register, read, list, delete, configure and check schemas.

Every command but `compat` and `lint` talks to a running server (``--server``, default
$WEIR_SERVER or localhost:50051); `compat` checks files offline. Each prints text or, with
``--output json``, one JSON document. Exit codes: 0 success or compatible, 1 incompatible,
2 invalid input or usage (including unknown subjects, versions and ids), 3 server
unreachable, 4 server fault.

The weir.toml workflow: `apply` registers a repository's subjects like terraform apply;
`check --against-server|--against-git` checks them all in CI; `lint` checks hygiene.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from weir.core.errors import InvalidArgumentError
from weir.sdk import DEFAULT_SERVER, DEFAULT_TIMEOUT_S
from weir.sdk.cli import _schema_commands as cmd
from weir.sdk.cli import _schema_compat, _workflow_check, _workflow_lint, _workflow_plan
from weir.sdk.cli._output import Output, command
from weir.sdk.cli._workflow_client import add_credential_args, connect, server_address
from weir.sdk.cli._workflow_report import FORMATS

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
  weir schema apply --dry-run                   # the subjects in weir.toml
  weir schema check --against-git origin/main --output github
  weir schema lint

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
  weir schema check --against-git origin/main   # every weir.toml subject, offline
  weir schema check --against-git HEAD --output github
  weir schema check --config weir.toml --against-server localhost:50051 --output junit
""",
    "apply": """\
examples:
  weir schema apply --dry-run                   # print the plan, write nothing
  weir schema apply                             # register what changed, set levels
  weir schema apply --config schemas/weir.toml --server registry:50051 --output json
""",
    "lint": """\
examples:
  weir schema lint
  weir schema lint --against-git origin/main --output github
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
    report = argparse.ArgumentParser(add_help=False)
    report.add_argument(
        "--output", choices=FORMATS, default="text", help="output format (default text)"
    )
    connection = argparse.ArgumentParser(add_help=False)
    connection.add_argument(
        "--server",
        metavar="HOST:PORT",
        help=f"registry gRPC address (default $WEIR_SERVER, else {DEFAULT_SERVER})",
    )
    connection.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help=f"deadline per call (default {DEFAULT_TIMEOUT_S:g})",
    )
    add_credential_args(connection)
    server = argparse.ArgumentParser(add_help=False, parents=[output, connection])
    config = argparse.ArgumentParser(add_help=False)
    config.add_argument(
        "--config", type=Path, metavar="FILE", help="the subjects file (default ./weir.toml)"
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
    p.add_argument("file", metavar="FILE", type=Path)
    _type_and_reference_args(p)
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

    _add_workflow(add, report, connection, config, server)

    p = add("compat", "check schema files against each other offline, with no server", [output])
    p.add_argument("new", metavar="NEW_FILE", type=Path)
    p.add_argument("previous", metavar="PREVIOUS_FILE", type=Path, nargs="*")
    p.add_argument("--type", metavar="TYPE", help="AVRO, PROTOBUF or JSON (default: from NEW_FILE)")
    p.add_argument("--level", metavar="LEVEL", default="BACKWARD", help="default BACKWARD")
    p.set_defaults(run=command(_schema_compat.compat))


def _add_workflow(
    add: Any,
    report: argparse.ArgumentParser,
    connection: argparse.ArgumentParser,
    config: argparse.ArgumentParser,
    server: argparse.ArgumentParser,
) -> None:
    """`check` (one file, or weir.toml's subjects), `apply` and `lint`."""
    p = add(
        "check",
        "check a schema file against a subject, or every weir.toml subject against the "
        "registry or git",
        [report, connection, config],
    )
    p.add_argument("subject", metavar="SUBJECT", nargs="?", help="with FILE: check one file")
    p.add_argument("file", metavar="FILE", type=Path, nargs="?")
    _type_and_reference_args(p)
    p.add_argument(
        "--version",
        metavar="N|latest",
        help="check against this version only (default: the subject's level and history)",
    )
    against = p.add_mutually_exclusive_group()
    against.add_argument(
        "--against-server",
        nargs="?",
        const=True,
        metavar="ADDR",
        help="check weir.toml's subjects against the registry (default --server's address)",
    )
    against.add_argument(
        "--against-git",
        metavar="REF",
        help="check weir.toml's subjects offline against their git history up to REF",
    )
    p.set_defaults(run=_check)

    p = add("apply", "register weir.toml's subjects: plan, then write", [server, config])
    p.add_argument("--dry-run", action="store_true", help="print the plan and write nothing")
    p.set_defaults(run=command(_workflow_plan.apply))

    p = add("lint", "check weir.toml's schemas for hygiene, offline", [report, config])
    p.add_argument(
        "--against-git",
        metavar="REF",
        help="judge deleted protobuf fields against REF (default HEAD when in git)",
    )
    p.set_defaults(run=command(_workflow_lint.lint_command))


def _type_and_reference_args(p: argparse.ArgumentParser) -> None:
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
        with connect(server_address([args.server]), args.timeout) as client:
            return run(args, out, client)

    with_client.__name__ = run.__name__
    return command(with_client)


def _check(args: argparse.Namespace) -> int:
    """`weir schema check`: one file (SUBJECT FILE) or every weir.toml subject (--against-*)."""
    return _one_file_check(args) if args.subject is not None else _config_check(args)


@command
def _config_check(args: argparse.Namespace, out: Output) -> int:
    if args.against_server is None and args.against_git is None:
        raise InvalidArgumentError(
            "pass SUBJECT FILE to check one file, or --against-server [ADDR] or "
            "--against-git REF to check every subject in weir.toml"
        )
    if args.type or args.reference or args.version:
        raise InvalidArgumentError("--type, --reference and --version go with SUBJECT FILE")
    return _workflow_check.check(args, out)


@command
def _one_file_check(args: argparse.Namespace, out: Output) -> int:
    if args.file is None:
        raise InvalidArgumentError(f"name the schema FILE to check against {args.subject!r}")
    if args.against_server is not None or args.against_git is not None or args.config:
        raise InvalidArgumentError(
            "--against-server, --against-git and --config check weir.toml; "
            "leave out SUBJECT FILE to use them"
        )
    if args.output not in ("text", "json"):
        raise InvalidArgumentError(
            f"--output {args.output} needs --against-server or --against-git"
        )
    with connect(server_address([args.server]), args.timeout) as client:
        return cmd.check(args, out, client)
