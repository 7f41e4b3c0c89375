"""`weir serve`: run the server until SIGINT or SIGTERM, then shut down gracefully."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from weir.core.config import LOG_FORMATS, load_config
from weir.core.data_lock import DataDirLock
from weir.core.errors import WeirError
from weir.core.log_format import configure_logging

EXAMPLES = """\
examples:
  weir serve                                   # 127.0.0.1:50051, data in ./weir-data
  weir serve --data-dir /var/lib/weir --grpc 0.0.0.0:50051
  WEIR_DATA_DIR=/tmp/w weir serve --config weir-server.toml
  weir serve --log-format json                 # JSON log lines with request ids on stderr
  weir serve --tls-cert server.crt --tls-key server.key \
      --tls-client-ca ca.crt --tls-client-auth require \
      --acl-enabled --super-users User:admin     # mTLS, ACLs, admin bypasses them

exit codes:
  0 shut down cleanly on SIGINT or SIGTERM   2 invalid configuration or data directory,
    or the data directory is in use by another server (DATA_DIR/weir.lock)
  3 cannot bind an address (in use, or not on this host)   4 unexpected internal error
"""


def add_parser(commands: Any) -> None:
    """Register `weir serve`."""
    parser = commands.add_parser(
        "serve",
        help="run the broker and schema registry",
        description="Run the Weir server (gRPC broker and schema registry) in the foreground.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data-dir", type=Path, help="data directory (default ./weir-data)")
    parser.add_argument(
        "--grpc", metavar="HOST:PORT", help="gRPC address (default 127.0.0.1:50051)"
    )
    parser.add_argument(
        "--http", metavar="HOST:PORT", help="REST API address (default 127.0.0.1:8081)"
    )
    parser.add_argument("--config", type=Path, help="TOML config file; WEIR_* env vars also apply")
    parser.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        help="log lines on stderr: text (default), json or logfmt; each carries a request id",
    )
    security = parser.add_argument_group("security (all off by default)")
    security.add_argument("--tls-cert", metavar="FILE", help="server certificate (PEM): TLS on")
    security.add_argument("--tls-key", metavar="FILE", help="its private key (PEM)")
    security.add_argument("--tls-client-ca", metavar="FILE", help="CA of client certificates")
    security.add_argument(
        "--tls-client-auth", choices=("none", "require"), help="require client certs (mTLS)"
    )
    security.add_argument(
        "--auth-tokens", metavar="FILE", help="bearer-token hashes (`weir token hash NAME`)"
    )
    security.add_argument(
        "--acl-enabled", action="store_true", default=None, help="authorize with ACLs"
    )
    security.add_argument(
        "--super-users", metavar="PRINCIPALS", help="bypass ACLs, e.g. 'User:admin;User:ops'"
    )
    security.add_argument(
        "--audit-log", metavar="FILE", help="audit log (default DATA_DIR/audit.log)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Serve until a signal arrives."""
    try:
        config = load_config(
            args.config,
            overrides={
                "data_dir": args.data_dir,
                "grpc_address": args.grpc,
                "http_address": args.http,
                "log_format": args.log_format,
                "tls_cert_file": args.tls_cert,
                "tls_key_file": args.tls_key,
                "tls_client_ca_file": args.tls_client_ca,
                "tls_client_auth": args.tls_client_auth,
                "auth_tokens_file": args.auth_tokens,
                "acl_enabled": args.acl_enabled,
                "super_users": args.super_users,
                "audit_log_file": args.audit_log,
            },
        )
        configure_logging(config.log_format, logging.INFO)
        lock = DataDirLock(config.data_dir)  # before the log is opened, held until exit
        try:
            return asyncio.run(_serve(config))
        finally:
            lock.release()
    except WeirError as e:
        print(f"weir serve: {e}", file=sys.stderr)
        return 3 if e.retriable else 2
    except OSError as e:  # e.g. a data dir that cannot be created or written
        where = f" ({e.filename})" if e.filename else ""
        print(
            f"weir serve: {e.strerror or e}{where}; check --data-dir and its permissions",
            file=sys.stderr,
        )
        return 2
    except Exception as e:  # a bug still ends in one line; the traceback only at debug level
        logging.getLogger("weir.serve").debug("serve failed", exc_info=True)
        print(
            f"weir serve: unexpected {type(e).__name__} while serving: {e}; this is a bug, "
            "please report it with the lines logged above",
            file=sys.stderr,
        )
        return 4


async def _serve(config: Any) -> int:
    # Imported here so other commands start without loading the server (about 0.3 s).
    from weir.broker.server import create_server  # noqa: PLC0415

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):  # before "serving": a prompt SIGTERM is graceful
        loop.add_signal_handler(sig, stop.set)
    server = await create_server(config)
    loop.add_signal_handler(signal.SIGHUP, server.security.reload_tokens)  # tokens file, at once
    print(
        f"weir: serving gRPC on {config.grpc_address.rsplit(':', 1)[0]}:{server.port}", flush=True
    )
    print(
        f"weir: serving HTTP on {config.http_address.rsplit(':', 1)[0]}:{server.http_port}",
        flush=True,
    )
    await stop.wait()
    print("weir: shutting down", flush=True)
    await server.stop(config.shutdown_grace_ms / 1000)
    return 0
