"""`weir token hash NAME`: make a bearer token and the tokens-file line that accepts it.

The server's tokens file (``auth_tokens_file``) holds only salted PBKDF2 hashes; the token
itself is printed once, for the user it belongs to. With ``--stdin`` an existing token is
read from standard input instead of making a new one.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from weir.core.errors import InvalidArgumentError
from weir.sdk.cli._output import OK, Output, command

EXAMPLES = """\
examples:
  weir token hash alice                        # a new token, and the line for the file
  weir token hash alice --output json
  weir token hash alice >> tokens.txt          # append the line (the token goes to stderr)
  printf %s "$TOKEN" | weir token hash alice --stdin

exit codes:
  0 success   2 invalid input or usage
"""


def add_parser(commands: Any) -> None:
    """Register `weir token`."""
    raw = argparse.RawDescriptionHelpFormatter
    parser = commands.add_parser(
        "token",
        help="make bearer tokens and their tokens-file lines",
        description=__doc__.split("\n\n")[0].split(": ", 1)[1],
        epilog=EXAMPLES,
        formatter_class=raw,
    )
    sub = parser.add_subparsers(dest="token_command", required=True, metavar="COMMAND")
    p = sub.add_parser(
        "hash",
        help="print a tokens-file line for NAME (and a new token)",
        description="Print a tokens-file line for NAME; the token goes to stderr.",
        epilog=EXAMPLES,
        formatter_class=raw,
    )
    p.add_argument("name", metavar="NAME", help="the user; the principal is User:NAME")
    p.add_argument("--stdin", action="store_true", help="hash the token read from stdin")
    p.add_argument("--iterations", type=int, default=None, metavar="N", help="PBKDF2 iterations")
    p.add_argument(
        "--output", choices=("text", "json"), default="text", help="output format (default text)"
    )
    p.set_defaults(run=_hash)


@command
def _hash(args: argparse.Namespace, out: Output) -> int:
    # The server's module: the CLI is the composition root and may use weir.broker.
    from weir.broker.security import tokens  # noqa: PLC0415

    token = sys.stdin.read().strip() if args.stdin else tokens.new_token()
    if not token:
        raise InvalidArgumentError("stdin held no token; pipe the token in, or drop --stdin")
    iterations = args.iterations or tokens.DEFAULT_ITERATIONS
    if iterations < 1:
        raise InvalidArgumentError("--iterations must be at least 1")
    line = tokens.hash_line(args.name, token, iterations)
    if out.json:
        out.result({"principal": f"User:{args.name}", "token": token, "line": line}, "")
    else:
        if not args.stdin:
            print(
                f"token for User:{args.name} (give it to them; it is not stored): {token}",
                file=sys.stderr,
            )
        out.result({}, line)
    return OK
