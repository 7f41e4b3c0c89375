"""Connections for the topic, produce and consume commands: Admin, registry and LogService.

``connect`` opens all three against one address and turns "unreachable" into an
UnavailableError that says what to do. ``LogCalls`` sends Produce and Fetch requests with
a deadline and turns every grpc.RpcError into the WeirError the server sent.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc

from weir.core.errors import UnavailableError
from weir.core.status import from_rpc_error
from weir.sdk import DEFAULT_SERVER, DEFAULT_TIMEOUT_S, Admin, SchemaRegistryClient
from weir.sdk.cli._output import Output, command
from weir.sdk.cli._workflow_client import (
    CLI_RETRY,
    add_credential_args,
    cli_credentials,
    server_address,
    unreachable,
)
from weir.v1 import log_service_pb2 as ls
from weir.v1 import log_service_pb2_grpc as ls_grpc

R = TypeVar("R")
MAX_RECEIVE_BYTES = 64 << 20
"""The largest reply a channel accepts."""


class LogCalls:
    """Produce and Fetch over one channel."""

    def __init__(self, server: str, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        """The deadline of a call, in seconds (plus the long-poll wait for Fetch)."""
        options = [("grpc.max_receive_message_length", MAX_RECEIVE_BYTES)]
        credentials = cli_credentials()
        self._channel = (
            grpc.secure_channel(
                server,
                credentials.channel_credentials(),
                options=[*options, *credentials.options()],
            )
            if credentials is not None
            else grpc.insecure_channel(server, options=options)
        )
        self._stub: Any = ls_grpc.LogServiceStub(self._channel)  # type: ignore[no-untyped-call]

    def produce(self, request: ls.ProduceRequest) -> ls.ProduceResponse:
        """One Produce call."""
        response: ls.ProduceResponse = self._call(self._stub.Produce, request, self.timeout_s)
        return response

    def fetch(self, request: ls.FetchRequest) -> ls.FetchResponse:
        """One Fetch call; its deadline covers the long-poll wait."""
        timeout_s = self.timeout_s + request.max_wait_ms / 1000
        response: ls.FetchResponse = self._call(self._stub.Fetch, request, timeout_s)
        return response

    def close(self) -> None:
        """Close the channel."""
        self._channel.close()

    @staticmethod
    def _call(method: Callable[..., R], request: Any, timeout_s: float) -> R:
        try:
            return method(request, timeout=timeout_s)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None


@dataclass(frozen=True, slots=True)
class Clients:
    """Everything a broker command talks to."""

    server: str
    """The HOST:PORT in use."""
    admin: Admin
    """Topics and offsets."""
    registry: SchemaRegistryClient
    """Schemas, for encoding and decoding."""
    log: LogCalls
    """Produce and Fetch."""


def add_connection_args(parser: argparse.ArgumentParser) -> None:
    """--server, --timeout and the TLS/token flags, as every `weir schema` command has them."""
    parser.add_argument(
        "--server",
        metavar="HOST:PORT",
        help=f"server gRPC address (default $WEIR_SERVER, else {DEFAULT_SERVER})",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help=f"deadline per call (default {DEFAULT_TIMEOUT_S:g})",
    )
    add_credential_args(parser)


@contextlib.contextmanager
def connect(args: argparse.Namespace) -> Iterator[Clients]:
    """Clients for ``args.server``; unreachable becomes an UnavailableError naming it."""
    server = server_address([args.server])
    credentials = cli_credentials()
    options = {"timeout_s": args.timeout, "credentials": credentials, "retry": CLI_RETRY}
    admin = Admin(server, **options)
    registry = SchemaRegistryClient(server, **options)
    log = LogCalls(server, args.timeout)
    try:
        yield Clients(server, admin, registry, log)
    except UnavailableError as e:
        raise unreachable(e, server) from None
    finally:
        log.close()
        registry.close()
        admin.close()


AdminCommand = Callable[[argparse.Namespace, Output, Admin], int]
"""A subcommand body: parsed args, the output, and a connected Admin."""


def admin_subcommands(
    commands: Any,
    name: str,
    *,
    help_text: str,
    description: str,
    epilog: str,
    positional: tuple[str, str, str],
) -> Callable[[str, str, AdminCommand, str], argparse.ArgumentParser]:
    """Register `weir NAME` and return ``add(sub, help, run, examples)`` for its subcommands.

    Every subcommand gets --output, --server and --timeout, a description from its help, its
    examples and exit codes as epilog, and (except ``list``) the positional argument
    ``positional`` = (dest, METAVAR, help).
    """
    raw = argparse.RawDescriptionHelpFormatter
    parser = commands.add_parser(
        name, help=help_text, description=description, epilog=epilog, formatter_class=raw
    )
    sub = parser.add_subparsers(dest=f"{name}_command", required=True, metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--output", choices=("text", "json"), default="text", help="output format (default text)"
    )
    add_connection_args(common)

    def add(
        command_name: str, command_help: str, run: AdminCommand, examples: str
    ) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(
            command_name,
            help=command_help,
            description=command_help[0].upper() + command_help[1:] + ".",
            parents=[common],
            epilog=examples,
            formatter_class=raw,
        )
        p.set_defaults(run=_with_admin(run))
        if command_name != "list":
            dest, metavar, arg_help = positional
            p.add_argument(dest, metavar=metavar, help=arg_help)
        return p

    return add


def _with_admin(run: AdminCommand) -> Callable[[argparse.Namespace], int]:
    @command
    def wrapper(args: argparse.Namespace, out: Output) -> int:
        with connect(args) as clients:
            return run(args, out, clients.admin)

    return wrapper
