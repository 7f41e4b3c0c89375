"""How CLI commands print results and errors, and which exit code an error gets.

Text mode prints results on stdout and errors on stderr as ``weir: <message>``. JSON mode
prints one JSON document on stdout, results and errors alike (``{"error": {...}}``).

Exit codes: 0 success or compatible; 1 incompatible; 2 invalid input, usage, or anything
the server says was not found or not allowed; 3 server unreachable; 4 unexpected server fault.

A reader that goes away early (``weir ... | head``) is not an error: results go through
:func:`emit`, which stops writing quietly once stdout is closed, and the command still ends
with the exit code its verdict deserves.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from weir.core.errors import (
    FailedPreconditionError,
    IncompatibleSchemaError,
    InvalidArgumentError,
    NotFoundError,
    OffsetOutOfRangeError,
    PermissionDeniedError,
    TopicAlreadyExistsError,
    UnauthenticatedError,
    UnavailableError,
    WeirError,
)

OK = 0
INCOMPATIBLE = 1
INVALID = 2
UNREACHABLE = 3
SERVER_FAULT = 4

Command = Callable[[argparse.Namespace, "Output"], int]


def exit_code(error: WeirError) -> int:
    """The exit code for an error."""
    if isinstance(error, IncompatibleSchemaError):
        return INCOMPATIBLE
    if isinstance(error, UnavailableError):
        return UNREACHABLE
    if isinstance(
        error,
        InvalidArgumentError
        | NotFoundError
        | FailedPreconditionError
        | TopicAlreadyExistsError
        | OffsetOutOfRangeError
        | PermissionDeniedError
        | UnauthenticatedError,
    ):
        return INVALID
    return SERVER_FAULT


class Output:
    """Prints in the format the user picked with ``--output``."""

    def __init__(self, fmt: str) -> None:
        self.json = fmt == "json"
        """True for ``--output json``."""

    def result(self, data: Mapping[str, Any], text: str) -> None:
        """Print a command's result: ``data`` as JSON, or ``text`` as is."""
        if self.json:
            emit(json.dumps(data, indent=2))
        elif text:  # an empty listing prints nothing, not a blank line
            emit(text)

    def error(self, error: WeirError) -> int:
        """Print an error and return its exit code."""
        found = _incompatibilities(error)
        if self.json:
            body: dict[str, Any] = {"reason": error.reason, "message": error.message}
            if found:
                body["incompatibilities"] = found
            emit(json.dumps({"error": body}, indent=2))
        elif found:
            head = error.message.split(": ", 1)[0] if ": " in error.message else error.message
            print(f"weir: {head}:", file=sys.stderr)
            for line in incompatibility_lines(found):
                print(line, file=sys.stderr)
        else:
            print(f"weir: {error.message}", file=sys.stderr)
        return exit_code(error)


def command(run: Command) -> Callable[[argparse.Namespace], int]:
    """Wrap a command: build its Output, turn every WeirError into a message and exit code."""

    @functools.wraps(run)
    def wrapper(args: argparse.Namespace) -> int:
        out = Output(getattr(args, "output", "text"))
        try:
            return run(args, out)
        except WeirError as error:
            return out.error(error)
        except BrokenPipeError:  # a print that bypassed emit(): still no traceback
            silence_stdout()
            return OK
        except KeyboardInterrupt:
            print("weir: interrupted", file=sys.stderr)
            return 130
        except Exception as error:  # a bug, not bad input: say so without a traceback
            message = f"unexpected error ({type(error).__name__}): {error}; please report it"
            return out.error(WeirError(message))

    return wrapper


def emit(text: str) -> bool:
    """Print ``text`` and a newline on stdout; False once the reader has closed the pipe.

    After a broken pipe stdout is pointed at the null device, so later prints and the
    interpreter's final flush stay quiet instead of printing a traceback.
    """
    try:
        print(text, flush=True)
    except BrokenPipeError:
        silence_stdout()
        return False
    return True


def silence_stdout() -> None:
    """Send whatever is still written to stdout to the null device (its reader has gone)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # replaced or closed (tests, embedding)
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)


def incompatibility_lines(items: Sequence[Mapping[str, Any]]) -> list[str]:
    """One indented line per incompatibility, naming direction and version when known."""
    lines = []
    for item in items:
        against = item.get("file") or (
            f"version {item['version']}" if item.get("version") else None
        )
        where = " ".join(str(p) for p in (item.get("level"), against and f"vs {against}") if p)
        prefix = f"{where}: " if where else ""
        lines.append(f"  {prefix}{item.get('rule')} at {item.get('path')}: {item.get('message')}")
    return lines


def _incompatibilities(error: WeirError) -> list[dict[str, Any]]:
    raw = error.metadata.get("incompatibilities")
    if not isinstance(error, IncompatibleSchemaError) or not raw:
        return []
    try:
        found = json.loads(raw)
    except ValueError:
        return []
    return [i for i in found if isinstance(i, dict)] if isinstance(found, list) else []
