"""The `weir` command line: serve, schema, topic, produce, consume, group, acl and token.

Exit codes, the same for every command: 0 success or compatible, 1 incompatible or
refused, 2 invalid input or usage, 3 server unreachable, 4 unexpected server fault.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from weir.sdk.cli import acl, consume, group, produce, schema, serve, token, topic
from weir.sdk.cli._output import OK, silence_stdout
from weir.sdk.cli._workflow_client import export_credential_flags

EXAMPLES = """\
examples:
  weir serve --data-dir ./weir-data
  weir schema register orders-value schemas/order.avsc
  weir schema compat --type AVRO --level BACKWARD new.avsc old.avsc
  weir topic create orders --partitions 6 --config retention.ms=86400000
  echo '{"id": "o-1", "qty": 2}' | weir produce orders
  weir consume orders --from-beginning --max 10
  weir group describe billing
  weir acl add --allow-principal User:alice --operation write --topic orders

exit codes: 0 ok or compatible, 1 incompatible or refused, 2 invalid input or usage,
            3 server unreachable, 4 unexpected server fault
"""


def build_parser() -> argparse.ArgumentParser:
    """The root parser with one sub-parser per command group."""
    parser = argparse.ArgumentParser(
        prog="weir",
        description="Weir: a schema-governed event platform.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve.add_parser(commands)
    schema.add_parser(commands)
    topic.add_parser(commands)
    produce.add_parser(commands)
    consume.add_parser(commands)
    group.add_parser(commands)
    acl.add_parser(commands)
    token.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    try:
        try:
            args = build_parser().parse_args(argv)
            export_credential_flags(args)
            code: int = args.run(args)
        finally:  # --help exits from inside parse_args; its text may still be buffered
            sys.stdout.flush()
    except BrokenPipeError:  # `weir --help | head`: the reader has gone; not worth a traceback
        silence_stdout()
        return OK
    return code


if __name__ == "__main__":
    sys.exit(main())
