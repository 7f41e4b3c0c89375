"""Connection handling of the SDK clients, sync and asyncio, against a scripted gRPC server.

The scripted server answers any method of any Weir service: by default with an empty reply
(valid for every response message), or as a test scripts it (an UNAVAILABLE status, a
WeirError sent the way the real server sends it, or a slow handler). It records each call it
receives with the deadline the client sent and the client's connection (peer). This shows:
an unreachable server fails fast with an error naming the address; only retriable errors
are retried, with growing backoff; calls that must not run twice are never retried; every
call of every client method carries the deadline; closed clients refuse calls; one channel
(one connection) serves every call.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from weir.core import errors
from weir.core.status import to_status
from weir.sdk import (
    Admin,
    AsyncAdmin,
    AsyncSchemaRegistryClient,
    RetryPolicy,
    SchemaRegistryClient,
)

AVRO = '{"type": "string"}'
FAST_RETRY = RetryPolicy(attempts=3, initial_backoff_s=0.001, max_backoff_s=0.002)


@dataclass(frozen=True)
class Seen:
    """One call as the server received it."""

    method: str
    """The RPC name, without the service."""
    time_remaining: float | None
    """Seconds left of the deadline the client sent (None: no deadline)."""
    peer: str
    """The client's connection."""
    at: float
    """time.monotonic() on arrival."""


Outcome = errors.WeirError | grpc.StatusCode | None


class ScriptedServer(grpc.GenericRpcHandler):
    """A gRPC server answering every method of every service from a script."""

    def __init__(self, address: str = "127.0.0.1:0") -> None:
        self.calls: list[Seen] = []
        self._script: dict[str, list[Outcome]] = {}
        self._always: dict[str, Outcome] = {}
        self._delay_s: dict[str, float] = {}
        self._lock = threading.Lock()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        self._server.add_generic_rpc_handlers((self,))
        port = self._server.add_insecure_port(address)
        self.address = f"127.0.0.1:{port}"
        self._server.start()

    def stop(self) -> None:
        self._server.stop(grace=None)

    def fail(self, method: str, outcome: Outcome, times: int | None = None) -> None:
        """Answer ``method`` with ``outcome`` ``times`` times (None: always), then succeed."""
        if times is None:
            self._always[method] = outcome
        else:
            self._script.setdefault(method, []).extend([outcome] * times)

    def fail_everything(self, outcome: Outcome) -> None:
        """Answer every method with ``outcome``."""
        self._always["*"] = outcome

    def slow(self, method: str, seconds: float) -> None:
        """Make ``method`` take ``seconds`` before it answers."""
        self._delay_s[method] = seconds

    def calls_to(self, method: str) -> list[Seen]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        method = handler_call_details.method.rsplit("/", 1)[-1]  # type: ignore[attr-defined]
        return grpc.unary_unary_rpc_method_handler(
            lambda request, context: self._handle(method, context)
        )

    def _handle(self, method: str, context: grpc.ServicerContext) -> bytes:
        seen = Seen(method, context.time_remaining(), context.peer(), time.monotonic())
        with self._lock:
            self.calls.append(seen)
            queue = self._script.get(method)
            default = self._always.get(method, self._always.get("*"))
            outcome = queue.pop(0) if queue else default
        time.sleep(self._delay_s.get(method, 0.0))
        if isinstance(outcome, errors.WeirError):
            context.abort_with_status(to_status(outcome))
        if isinstance(outcome, grpc.StatusCode):
            context.abort(outcome, "scripted failure")
        return b""  # an empty message: a valid reply of every response type


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    yield server
    server.stop()


def free_address() -> str:
    """An address on which nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


@dataclass(frozen=True)
class ClientCall:
    """One client method called with sample arguments, and what it should send."""

    kind: str
    """``"registry"`` or ``"admin"``."""
    method: str
    """The client method."""
    args: tuple[Any, ...]
    """Its positional arguments."""
    rpc: str
    """The RPC it sends."""
    idempotent: bool = True
    """Whether running it twice is safe (so it may be retried)."""
    kwargs: tuple[tuple[str, Any], ...] = ()
    """Its keyword arguments."""

    def __str__(self) -> str:
        return f"{self.kind}.{self.method}"

    def run(self, runner: Callable[..., Any], address: str, **options: Any) -> Any:
        """Call it through ``run_sync`` or ``run_async``."""
        return runner(self.kind, address, self.method, *self.args, **dict(self.kwargs), **options)


def _registry(method: str, args: tuple[Any, ...], rpc: str, idempotent: bool = True) -> ClientCall:
    return ClientCall("registry", method, args, rpc, idempotent)


def _admin(method: str, args: tuple[Any, ...], rpc: str, idempotent: bool = True) -> ClientCall:
    return ClientCall("admin", method, args, rpc, idempotent)


REGISTRY_CALLS = [
    _registry("register", ("s", AVRO, "AVRO"), "RegisterSchema"),
    _registry("get_schema", (1,), "GetSchema"),
    _registry("get_schema_versions", (1,), "ListSchemaVersions"),
    _registry("get_version", ("s",), "GetSubjectVersion"),
    _registry("list_subjects", (), "ListSubjects"),
    _registry("list_versions", ("s",), "ListVersions"),
    _registry("lookup", ("s", AVRO, "AVRO"), "LookupSchema"),
    _registry("referenced_by", ("s", 1), "GetReferencedBy"),
    _registry("check_compatibility", ("s", AVRO, "AVRO"), "CheckCompatibility"),
    _registry("delete_subject", ("s",), "DeleteSubject", idempotent=False),
    _registry("delete_version", ("s", 1), "DeleteSchemaVersion", idempotent=False),
    _registry("get_compatibility", (), "GetCompatibility"),
    _registry("set_compatibility", ("BACKWARD",), "SetCompatibility"),
    _registry("delete_compatibility", ("s",), "DeleteCompatibility"),
    _registry("get_mode", (), "GetMode"),
    _registry("set_mode", ("READWRITE",), "SetMode"),
]
ADMIN_CALLS = [
    _admin("create_topic", ("t", 1), "CreateTopic", idempotent=False),
    _admin("describe_topic", ("t",), "GetTopic"),
    _admin("describe_config", ("t",), "GetTopic"),
    _admin("list_topics", (), "ListTopics"),
    _admin("alter_config", ("t", {"retention.ms": "1000"}), "UpdateTopicConfig"),
    _admin("add_partitions", ("t", 2), "CreatePartitions", idempotent=False),
    _admin("delete_topic", ("t",), "DeleteTopic", idempotent=False),
    _admin("list_offsets", ("t", 0, "earliest"), "ListOffsets"),
    _admin("list_groups", (), "ListGroups"),
    _admin("describe_group", ("g",), "DescribeGroup"),
    _admin("committed_offsets", ("g",), "FetchCommittedOffsets"),
    ClientCall("admin", "reset_offsets", ("g",), "ResetOffsets", False, (("to", "earliest"),)),
    _admin("delete_group", ("g",), "DeleteGroup", idempotent=False),
]
ALL_CALLS = REGISTRY_CALLS + ADMIN_CALLS
SYNC = {"registry": SchemaRegistryClient, "admin": Admin}
ASYNC = {"registry": AsyncSchemaRegistryClient, "admin": AsyncAdmin}


def _public_methods(cls: type) -> set[str]:
    return {
        name
        for klass in cls.__mro__
        if klass.__module__.startswith("weir.sdk")
        for name, member in vars(klass).items()
        if not name.startswith("_") and callable(member)
    } - {"close"}


@pytest.mark.parametrize("clients", [SYNC, ASYNC], ids=["sync", "async"])
def test_the_call_tables_cover_every_client_method(clients: dict[str, type]) -> None:
    assert _public_methods(clients["registry"]) == {c.method for c in REGISTRY_CALLS}
    assert _public_methods(clients["admin"]) == {c.method for c in ADMIN_CALLS}


def run_sync(kind: str, address: str, method: str, *args: Any, **kwargs: Any) -> Any:
    """Call one method of a fresh sync client; timeout_s and retry come from kwargs."""
    options = {k: kwargs.pop(k) for k in ("timeout_s", "retry") if k in kwargs}
    with SYNC[kind](address, **options) as client:
        return getattr(client, method)(*args, **kwargs)


def run_async(kind: str, address: str, method: str, *args: Any, **kwargs: Any) -> Any:
    """The same through the asyncio client, in a fresh event loop."""
    options = {k: kwargs.pop(k) for k in ("timeout_s", "retry") if k in kwargs}

    async def main() -> Any:
        async with ASYNC[kind](address, **options) as client:
            return await getattr(client, method)(*args, **kwargs)

    return asyncio.run(main())


RUNNERS = pytest.mark.parametrize("run", [run_sync, run_async], ids=["sync", "async"])


# ----- an unreachable server ---------------------------------------------------------------


@RUNNERS
@pytest.mark.parametrize("kind", ["registry", "admin"])
def test_unreachable_server_fails_fast_naming_the_address(
    run: Callable[..., Any], kind: str
) -> None:
    address = free_address()
    method = "list_subjects" if kind == "registry" else "list_topics"
    start = time.monotonic()
    with pytest.raises(errors.UnavailableError) as caught:
        run(kind, address, method, timeout_s=3.0)
    elapsed = time.monotonic() - start
    assert elapsed < 3.0, f"took {elapsed:.2f}s, more than the 3 s deadline"
    message = caught.value.message
    assert address in message
    assert "cannot reach the Weir server at" in message
    assert "`weir serve` is running" in message
    assert "address is right" in message
    assert caught.value.retriable


# ----- retries -----------------------------------------------------------------------------


@RUNNERS
def test_unavailable_is_retried_with_growing_backoff(
    scripted: ScriptedServer, run: Callable[..., Any]
) -> None:
    scripted.fail("ListSubjects", grpc.StatusCode.UNAVAILABLE, times=3)
    policy = RetryPolicy(attempts=5, initial_backoff_s=0.04, max_backoff_s=1.0, multiplier=2)
    assert run("registry", scripted.address, "list_subjects", retry=policy) == []
    seen = scripted.calls_to("ListSubjects")
    assert len(seen) == 4
    gaps = [b.at - a.at for a, b in itertools.pairwise(seen)]
    # full jitter: each pause is in [ceiling/2, ceiling], ceilings 0.04, 0.08, 0.16
    for gap, ceiling in zip(gaps, (0.04, 0.08, 0.16), strict=True):
        assert ceiling / 2 <= gap <= ceiling + 0.15, (gaps, ceiling)


@RUNNERS
def test_retries_stop_after_the_policy_attempts(
    scripted: ScriptedServer, run: Callable[..., Any]
) -> None:
    scripted.fail("ListTopics", grpc.StatusCode.UNAVAILABLE)
    with pytest.raises(errors.UnavailableError) as caught:
        run("admin", scripted.address, "list_topics", retry=FAST_RETRY)
    assert len(scripted.calls_to("ListTopics")) == 3
    assert scripted.address in caught.value.message


@RUNNERS
def test_storage_full_from_the_server_is_retried(
    scripted: ScriptedServer, run: Callable[..., Any]
) -> None:
    scripted.fail("RegisterSchema", errors.StorageFullError("disk full"), times=2)
    run("registry", scripted.address, "register", "s", AVRO, "AVRO", retry=FAST_RETRY)
    assert len(scripted.calls_to("RegisterSchema")) == 3


@RUNNERS
@pytest.mark.parametrize(
    ("call", "error"),
    [
        (_admin("describe_topic", ("t",), "GetTopic"), errors.TopicNotFoundError("no topic t")),
        (_admin("list_topics", (), "ListTopics"), errors.InvalidArgumentError("bad")),
        (
            _registry("register", ("s", AVRO, "AVRO"), "RegisterSchema"),
            errors.IncompatibleSchemaError("not backward compatible"),
        ),
        (_registry("get_schema", (7,), "GetSchema"), errors.SchemaNotFoundError("no id 7")),
    ],
    ids=str,
)
def test_non_retriable_errors_are_not_retried(
    scripted: ScriptedServer, run: Callable[..., Any], call: ClientCall, error: errors.WeirError
) -> None:
    scripted.fail(call.rpc, error)
    with pytest.raises(type(error)) as caught:
        call.run(run, scripted.address, retry=RetryPolicy(attempts=5))
    assert type(caught.value) is type(error)
    assert caught.value.message == error.message
    assert len(scripted.calls_to(call.rpc)) == 1


@pytest.mark.parametrize("call", ALL_CALLS, ids=str)
def test_only_calls_that_may_run_twice_are_retried(
    scripted: ScriptedServer, call: ClientCall
) -> None:
    """UNAVAILABLE does not say whether the server acted: a delete or create may have run."""
    scripted.fail_everything(grpc.StatusCode.UNAVAILABLE)
    for run in (run_sync, run_async):
        before = len(scripted.calls_to(call.rpc))
        with pytest.raises(errors.UnavailableError):
            call.run(run, scripted.address, retry=FAST_RETRY)
        sent = len(scripted.calls_to(call.rpc)) - before
        assert sent == (FAST_RETRY.attempts if call.idempotent else 1), (run.__name__, sent)


# ----- deadlines ---------------------------------------------------------------------------


@pytest.mark.parametrize("call", ALL_CALLS, ids=str)
def test_every_call_carries_the_deadline(scripted: ScriptedServer, call: ClientCall) -> None:
    # a non-retriable answer: each client sends exactly one request
    scripted.fail_everything(errors.NotFoundError("scripted"))
    for run, timeout_s in ((run_sync, 4.0), (run_async, 7.0)):
        with pytest.raises(errors.NotFoundError):
            call.run(run, scripted.address, timeout_s=timeout_s)
        remaining = scripted.calls_to(call.rpc)[-1].time_remaining
        assert remaining is not None, f"{call} was sent without a deadline"
        # the deadline travels as a timeout rounded by grpc: allow a little either way
        assert timeout_s - 1.0 < remaining <= timeout_s + 0.05, (run.__name__, remaining)


@RUNNERS
def test_a_slow_server_hits_the_deadline(scripted: ScriptedServer, run: Callable[..., Any]) -> None:
    scripted.slow("ListSubjects", 1.5)
    start = time.monotonic()
    with pytest.raises(errors.UnavailableError, match="DEADLINE_EXCEEDED"):
        run("registry", scripted.address, "list_subjects", timeout_s=0.2, retry=RetryPolicy(1))
    elapsed = time.monotonic() - start
    assert elapsed < 1.0, f"the 0.2 s deadline let the call run {elapsed:.2f}s"


@RUNNERS
def test_a_timed_out_call_is_retried_only_when_it_may_run_twice(
    scripted: ScriptedServer, run: Callable[..., Any]
) -> None:
    """Each attempt has its own deadline; a timed-out delete may have run: not sent again."""
    scripted.slow("ListSubjects", 0.6)
    scripted.slow("DeleteSubject", 0.6)
    policy = RetryPolicy(attempts=2, initial_backoff_s=0.01, max_backoff_s=0.01)
    with pytest.raises(errors.UnavailableError):
        run("registry", scripted.address, "list_subjects", timeout_s=0.15, retry=policy)
    with pytest.raises(errors.UnavailableError):
        run("registry", scripted.address, "delete_subject", "s", timeout_s=0.15, retry=policy)
    assert len(scripted.calls_to("ListSubjects")) == 2
    assert len(scripted.calls_to("DeleteSubject")) == 1


# ----- closed clients and channel reuse ----------------------------------------------------


@pytest.mark.parametrize("kind", ["registry", "admin"])
def test_closed_sync_client_raises_failed_precondition(scripted: ScriptedServer, kind: str) -> None:
    method = "list_subjects" if kind == "registry" else "list_topics"
    client = SYNC[kind](scripted.address)
    getattr(client, method)()
    client.close()
    with pytest.raises(
        errors.FailedPreconditionError, match=f"this {SYNC[kind].__name__} is closed"
    ):
        getattr(client, method)()
    assert len(scripted.calls) == 1


@pytest.mark.parametrize("kind", ["registry", "admin"])
def test_closed_async_client_raises_failed_precondition(
    scripted: ScriptedServer, kind: str
) -> None:
    method = "list_subjects" if kind == "registry" else "list_topics"

    async def main() -> None:
        async with ASYNC[kind](scripted.address) as client:
            await getattr(client, method)()
        with pytest.raises(
            errors.FailedPreconditionError, match=f"this {ASYNC[kind].__name__} is closed"
        ):
            await getattr(client, method)()

    asyncio.run(main())
    assert len(scripted.calls) == 1


def test_one_connection_serves_every_call(scripted: ScriptedServer) -> None:
    with Admin(scripted.address) as admin:
        for _ in range(5):
            admin.list_topics()
            admin.list_groups()

    async def main() -> None:
        async with AsyncSchemaRegistryClient(scripted.address) as registry:
            await asyncio.gather(*(registry.list_subjects() for _ in range(10)))

    asyncio.run(main())
    sync_peers = {c.peer for c in scripted.calls if c.method in ("ListTopics", "ListGroups")}
    async_peers = {c.peer for c in scripted.calls_to("ListSubjects")}
    assert len(scripted.calls) == 20
    assert len(sync_peers) == 1
    assert len(async_peers) == 1
    assert sync_peers != async_peers  # two clients, two channels


# ----- a server that comes up while the client retries ------------------------------------


def test_calls_retry_until_a_server_that_was_down_comes_up() -> None:
    """A patient policy rides out a server start; grpc's own reconnect backoff (about 1 s
    after the first refused connection) bounds how soon the channel notices it."""
    address = free_address()
    holder: dict[str, ScriptedServer] = {}
    client = SchemaRegistryClient(
        address,
        timeout_s=2.0,
        retry=RetryPolicy(attempts=30, initial_backoff_s=0.05, max_backoff_s=0.2),
    )
    attempts = 0
    real = client._stub.ListSubjects

    def counting(request: Any, **kwargs: Any) -> Any:
        nonlocal attempts
        attempts += 1
        if attempts == 2:  # down for the first two attempts at least: start it now
            holder["server"] = ScriptedServer(address)
        return real(request, **kwargs)

    client._stub.ListSubjects = counting
    try:
        start = time.monotonic()
        assert client.list_subjects() == []
        elapsed = time.monotonic() - start
    finally:
        client.close()
        if "server" in holder:
            holder["server"].stop()
    assert attempts >= 3, attempts
    assert len(holder["server"].calls_to("ListSubjects")) == 1
    assert elapsed < 3.0, f"took {elapsed:.2f}s to notice the server"


@pytest.mark.parametrize("server", ["127.0.0.1:99999", "localhost:65536", "  "])
def test_an_impossible_address_is_refused_before_connecting(server: str) -> None:
    """grpc would wrap port 99999 around to 34463 and maybe reach some other service."""
    with pytest.raises(errors.InvalidArgumentError, match=r"port|empty"):
        Admin(server)
