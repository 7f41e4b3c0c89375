"""Consumer: a synchronous consumer, in a group (server-side assignment, KIP-848) or standalone.

    with Consumer("checkout", ["orders"], server="localhost:50051") as consumer:
        for message in consumer:
            handle(message)
            consumer.commit(message)

Group mode (``group_id`` and ``topics``): a background thread heartbeats at the interval the
server asks for, so slow processing does not lose the session, and records assignment changes.
``poll()`` applies them on the calling thread before it fetches: partitions lost to a fence
(``on_lost``, else ``on_revoke``; commits for them are refused because another member may own
them already), then revoked partitions (``on_revoke`` runs while they are still owned, so a
commit inside it is accepted; then they are released), then new partitions (started at the
group's commit, else at ``auto_offset_reset``; then ``on_assign``, where ``seek()`` may move them).

Standalone mode (``topics=None``): ``assign()`` partitions. With ``group_id=None`` there is
nowhere to commit and commit() refuses; with a ``group_id`` the consumer starts from the group's
commits and commits standalone, which the server allows only while the group has no members.

Delivery is at least once: a record is redelivered after a rebalance or restart unless its
offset + 1 was committed. Not thread-safe, except that ``commit(asynchronous=True)`` returns a
``concurrent.futures.Future`` completed by a worker thread.

Reading: once a Fetch returns records, the next one (from the end of those records) is sent at
once on a worker thread, so the server reads while the application consumes; a seek, pause or
revocation makes its reply stale, and it is ignored. Everything else (membership, positions,
commits, callbacks) is decided by ``_consume_core.ConsumerCore``; this class only sends, waits
and calls back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from types import TracebackType
from typing import Any, Self, TypeVar

from weir.sdk import _consume_calls as calls
from weir.sdk._call import Call
from weir.sdk._channel import DEFAULT_SERVER, DEFAULT_TIMEOUT_S
from weir.sdk._client import GrpcClient
from weir.sdk._consume_calls import Offsets, Partitions
from weir.sdk._consume_core import ConsumerCore, core_options
from weir.sdk._consume_ops import Callback, Commit, Decode, Fetch, Op, Sleep, Stepper, Steps
from weir.sdk._consume_state import OffsetReset
from weir.sdk._credentials import Credentials
from weir.sdk._membership import Topics
from weir.sdk._records import Deserializer, Message, TopicPartition
from weir.sdk._retry import RetryPolicy
from weir.v1 import group_service_pb2_grpc as gs_grpc
from weir.v1 import log_service_pb2 as ls
from weir.v1 import log_service_pb2_grpc as ls_grpc

T = TypeVar("T")

RebalanceCallback = Callable[["Consumer", list[TopicPartition]], object]
"""``callback(consumer, partitions)``, run on the thread that calls poll()."""


class Consumer:
    """Reads records from Weir topics, as a group member or from assigned partitions."""

    def __init__(
        self,
        group_id: str | None,
        topics: Topics | None = None,
        *,
        server: str = DEFAULT_SERVER,
        key_deserializer: Deserializer | None = None,
        value_deserializer: Deserializer | None = None,
        auto_offset_reset: OffsetReset = "earliest",
        enable_auto_commit: bool = False,
        auto_commit_interval_ms: int = 5000,
        on_assign: RebalanceCallback | None = None,
        on_revoke: RebalanceCallback | None = None,
        on_lost: RebalanceCallback | None = None,
        session_timeout_ms: int = 45_000,
        rebalance_timeout_ms: int = 300_000,
        group_instance_id: str | None = None,
        fetch_max_wait_ms: int = 300,
        max_partition_fetch_bytes: int = 1 << 20,
        fetch_max_bytes: int = 50 << 20,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        credentials: Credentials | None = None,
    ) -> None:
        """Connect; with ``topics``, join ``group_id`` in the background (poll() to consume)."""
        changed, wake = threading.Event(), threading.Event()
        self._core = core = ConsumerCore("Consumer", **core_options(locals()))
        self._changed, self._wake = changed, wake
        self.settings = core.settings
        """The checked settings."""
        self.group_id = group_id
        """The consumer group, or None."""
        self._state = core.state
        self._client = GrpcClient(server, timeout_s=timeout_s, retry=retry, credentials=credentials)
        channel = self._client._channel
        self._stubs: dict[str, Any] = {
            "log": ls_grpc.LogServiceStub(channel),  # type: ignore[no-untyped-call]
            "groups": gs_grpc.GroupServiceStub(channel),  # type: ignore[no-untyped-call]
        }
        self._fetcher = ThreadPoolExecutor(1, thread_name_prefix="weir-fetch")
        self._in_flight: tuple[ls.FetchRequest, Future[ls.FetchResponse]] | None = None
        self._committer: ThreadPoolExecutor | None = None
        self._heartbeater: threading.Thread | None = None
        if core.membership is not None:
            self._heartbeater = threading.Thread(
                target=self._run,
                args=(core.heartbeats(),),
                name=f"weir-heartbeat-{group_id}",
                daemon=True,
            )
            self._heartbeater.start()

    def __repr__(self) -> str:
        return f"Consumer(group_id={self.group_id!r}, server={self._client.server!r})"

    # ----- running the core's steps -----------------------------------------------------------

    def _run(self, steps: Steps[T]) -> T:
        """Perform each step the core asks for, handing back its result or its error."""
        run = Stepper(steps)
        while (op := run.next()) is not None:
            try:
                run.result = self._perform(op)
            except BaseException as exc:  # handed to the step that asked
                run.error = exc
        return run.value

    def _perform(self, op: Op) -> Any:
        if isinstance(op, Call):
            method = getattr(self._stubs[op.stub], op.method)
            return op.parse(self._client._call(method, op.request, idempotent=op.idempotent))
        if isinstance(op, Fetch):
            return self._fetch(op.wait_s)
        if isinstance(op, Decode):
            return self._core.decode(op.batch)
        if isinstance(op, Commit):
            return self._send_commit(op.offsets)
        if isinstance(op, Sleep):
            return self._wake.wait(op.seconds)
        assert isinstance(op, Callback)
        return op.fn(self, op.partitions)

    def _fetch(self, wait_s: float) -> None:
        """Wait up to ``wait_s`` for the fetch in flight, else send one and wait for it; then
        send the next one ahead, so the server reads while the application consumes."""
        core = self._core
        if self._in_flight is None:
            request = core.fetch_request(wait_s)
            if request is None:  # nothing to read: wait for an assignment change
                self._changed.wait(wait_s)
                return
            self._in_flight = (request, self._send_fetch(request))
            wait_s = wait_s + self._client.timeout_s  # its own deadline ends the wait
        request, future = self._in_flight
        try:
            reply = future.result(wait_s)
        except FutureTimeout:
            return
        finally:
            if future.done():
                self._in_flight = None
        ahead = core.fetched(request, reply)
        if ahead is not None:
            self._in_flight = (ahead, self._send_fetch(ahead))

    def _send_fetch(self, request: ls.FetchRequest) -> Future[ls.FetchResponse]:
        timeout_s = self._client.timeout_s + request.max_wait_ms / 1000
        return self._fetcher.submit(
            self._client._call, self._stubs["log"].Fetch, request, timeout_s=timeout_s
        )

    # ----- consuming -----------------------------------------------------------------------

    def poll(self, timeout: float | None = None) -> Message | None:
        """The next record, waiting up to ``timeout`` seconds (None: until one arrives)."""
        message = self._core.next_ready()
        if message is None:
            got = self._run(self._core.poll(timeout, 1))
            return got[0] if got else None
        if self._core.decoding:
            return self._core.decode([message])[0]
        return message

    def consume(self, num_messages: int = 1, timeout: float | None = None) -> list[Message]:
        """Up to ``num_messages`` records at once (at least one unless ``timeout`` passes)."""
        batch = self._core.take_ready(num_messages)
        if not batch:
            return self._run(self._core.poll(timeout, num_messages))
        return self._core.decode(batch) if self._core.decoding else batch

    def __iter__(self) -> Iterator[Message]:
        """Every record as it arrives; the loop ends once the consumer is closed."""
        while not self._core.closed:
            message = self.poll(1.0)
            if message is not None:
                yield message

    # ----- commits -------------------------------------------------------------------------

    def commit(
        self,
        message: Message | None = None,
        *,
        offsets: Offsets | None = None,
        asynchronous: bool = False,
    ) -> Any:
        """Store positions for the group; returns ``{TopicPartition: offset}`` stored.

        ``commit()`` stores every consumed position, ``commit(message)`` that message's offset
        + 1, ``commit(offsets=...)`` the given next offsets. A partition this consumer no longer
        owns is refused with PartitionNotAssignedError (never dropped silently). With
        ``asynchronous=True`` it returns at once a ``concurrent.futures.Future`` of the same
        result (or error); commits then run in order on one worker thread.
        """
        chosen = self._core.commit_offsets(message, offsets)
        if not asynchronous:
            return self._send_commit(chosen)
        if self._committer is None:
            self._committer = ThreadPoolExecutor(1, thread_name_prefix="weir-commit")
        future: Future[dict[TopicPartition, int]] = self._committer.submit(
            self._send_commit, chosen
        )
        return future

    def _send_commit(self, offsets: Mapping[TopicPartition, int]) -> dict[TopicPartition, int]:
        return self._run(self._core.send_commit(offsets))

    def committed(self, partitions: Partitions | None = None) -> dict[TopicPartition, int | None]:
        """The group's committed offsets (None: no commit), for these or all assigned partitions."""
        return self._run(self._core.committed(partitions))

    # ----- positions -----------------------------------------------------------------------

    def assignment(self) -> list[TopicPartition]:
        """The partitions this consumer reads now, sorted."""
        return self._state.assignment()

    def assign(self, partitions: Iterable[TopicPartition]) -> None:
        """Read exactly these partitions (standalone mode only), from the group's commit if
        there is a group_id, else from ``auto_offset_reset`` (with 'none': seek() first)."""
        self._run(self._core.assign(partitions))

    def unassign(self) -> None:
        """Stop reading every assigned partition (standalone mode)."""
        self.assign([])

    def position(self, partitions: Partitions | None = None) -> dict[TopicPartition, int]:
        """The offset of the next record poll() returns, per assigned partition."""
        tps = None if partitions is None else calls.partitions_arg(partitions)
        return self._state.positions(tps)

    def seek(self, partition: TopicPartition, offset: int) -> None:
        """Make ``offset`` the next record returned from an assigned partition."""
        self._state.seek(partition, calls.offset_arg(partition, offset))

    def offsets_for_times(
        self, timestamps: Mapping[TopicPartition, Any] | Iterable[tuple[TopicPartition, Any]]
    ) -> dict[TopicPartition, int | None]:
        """Per partition, the first offset whose timestamp is at or after the time given (ms
        since the epoch or an aware datetime); None when no record is that recent."""
        return self._run(self._core.offsets_for_times(timestamps))

    def seek_to_timestamp(
        self, timestamp: Any, partitions: Partitions | None = None
    ) -> dict[TopicPartition, int]:
        """Seek assigned partitions (all, or these) to the first record at or after a time
        (ms since the epoch or an aware datetime), or to the log end; returns the positions."""
        return self._run(self._core.seek_to_timestamp(timestamp, partitions))

    def pause(self, partitions: Partitions) -> None:
        """Stop fetching these assigned partitions (their prefetched records are dropped)."""
        self._state.set_paused(calls.partitions_arg(partitions), True)

    def resume(self, partitions: Partitions) -> None:
        """Fetch these paused partitions again, from their positions."""
        self._state.set_paused(calls.partitions_arg(partitions), False)

    def paused(self) -> list[TopicPartition]:
        """The paused partitions, sorted."""
        return self._state.paused()

    # ----- closing -------------------------------------------------------------------------

    def close(self) -> None:
        """Auto-commit, run on_revoke for owned partitions, leave the group, close the channel.

        Leaving moves this consumer's partitions to the other members at once.
        """
        core = self._core
        if core.closed:
            return
        try:
            self._run(core.closing())
        finally:
            core.closed = True
            core.wake.set()
            self._fetcher.shutdown(wait=False, cancel_futures=True)
            if self._heartbeater is not None:
                self._heartbeater.join(self._client.timeout_s)
            if self._committer is not None:
                self._committer.shutdown(wait=True)
            self._run(core.leave())
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


__all__ = ["Consumer"]
