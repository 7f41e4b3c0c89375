"""Producer: the synchronous producer, a thin shell over the shared ProducerCore.

``produce()`` serializes and partitions on the caller's thread and returns a
``concurrent.futures.Future``; one background thread sends batches (several requests may be
out at once, one batch per partition) and resolves the futures batch by batch. Every
decision is made by ``_produce_core.ProducerCore``, the same code AsyncProducer uses.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import deque
from concurrent.futures import Future
from typing import Any

import grpc

from weir.core.errors import WeirError
from weir.core.status import from_rpc_error
from weir.sdk import _produce_config as pc
from weir.sdk import _produce_core as core_
from weir.sdk import _produce_steps as st
from weir.sdk import _topic_meta as tm
from weir.sdk._channel import closed_error, explain
from weir.sdk._client import GrpcClient
from weir.sdk._produce_batches import Done
from weir.sdk._produce_future import ProduceFuture, resolve_all
from weir.sdk._produce_record import RecordArgs
from weir.sdk._records import RecordMetadata
from weir.sdk._retry import RetryPolicy
from weir.v1 import log_service_pb2 as ls
from weir.v1 import log_service_pb2_grpc as ls_grpc
from weir.v1 import topic_service_pb2_grpc as ts_grpc


class Producer(core_.ProducerBase, GrpcClient):
    """Sends records to topics in batches, in the background; thread-safe.

    ``produce()`` returns a future of the record's ``RecordMetadata`` (topic, partition,
    offset, timestamp), or of the broker's reason for refusing it. With idempotence (the
    default) retries after a lost reply or a server restart never duplicate a record. Use it
    as a context manager, or call ``close()``, so buffered records are sent before exit.
    """

    def _open(self, server: str, timeout_s: float, retry: RetryPolicy | None) -> None:
        GrpcClient.__init__(
            self, server, timeout_s=timeout_s, retry=retry, credentials=self._credentials
        )
        self._log: Any = ls_grpc.LogServiceStub(self._channel)  # type: ignore[no-untyped-call]
        self._topics: Any = ts_grpc.TopicServiceStub(self._channel)  # type: ignore[no-untyped-call]
        self._cond = threading.Condition()
        self._replies: deque[tuple[st.Send, Any]] = deque()
        self._thread = threading.Thread(target=self._run, name="weir-producer", daemon=True)
        self._thread.start()

    # ----- the public surface ------------------------------------------------------------

    def produce(
        self,
        topic: str,
        value: Any = None,
        key: Any = None,
        *,
        headers: Any = None,
        partition: int | None = None,
        timestamp: int | None = None,
        on_delivery: pc.DeliveryCallback | None = None,
    ) -> Future[RecordMetadata]:
        """Queue one record; the future gives its RecordMetadata or the broker's error.

        ``on_delivery(error, metadata)`` is called once, from the producer's thread. Bad
        arguments, a failing serializer, a closed producer or a full buffer (after
        ``max_block_ms``) raise here; everything the broker decides comes through the future.
        """
        core = self._core
        core.check_open(self)
        args, row = core.record(
            topic, value, key, headers=headers, partition=partition, timestamp=timestamp
        )
        future = ProduceFuture()
        meta = core.cached_meta(args.topic, args.partition) or self._topic_meta(args)
        if isinstance(meta, WeirError):
            resolve_all([future], [meta])
            pc.notify(on_delivery, meta, None)
            return future
        with self._cond:
            if not core.has_room(row[4]):
                self._wait_for_room(row[4])
            core.check_open(self)
            if core.add(args, row, meta, future, on_delivery):
                self._cond.notify_all()
        return future

    def flush(self, timeout: float | None = None) -> int:
        """Send everything buffered now and wait for every answer; return how many are left.

        With a ``timeout`` (seconds) it may return early: the result counts the records whose
        futures are still unresolved (0 when all are done).
        """
        core = self._core
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            core.acc.flushing += 1
            self._cond.notify_all()
            try:
                while core.outstanding:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        break
                    self._cond.wait(remaining)
                return core.outstanding
            finally:
                core.acc.flushing -= 1

    def close(self, timeout: float | None = None) -> None:
        """Flush, stop the background thread and close the channel; produce() then raises.

        Records still unresolved when ``timeout`` passes fail with FailedPreconditionError.
        """
        core = self._core
        with self._cond:
            if not core.accepting:
                return
            core.accepting = False
        left = self.flush(timeout)
        with self._cond:
            if left:
                core.acc.fatal = closed_error(self)
            core.stopping = True
            self._cond.notify_all()
        self._thread.join()
        super().close()

    def _wait_for_room(self, size: int) -> None:  # with self._cond held
        deadline = time.monotonic() + self.config.max_block_s
        while not self._core.has_room(size):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._core.buffer_full(size)
            self._cond.wait(remaining)

    def _topic_meta(self, args: RecordArgs) -> tm.TopicMeta | WeirError:
        fetch = self._core.meta_fetch(args.topic, self.timeout_s)
        while True:
            try:
                reply = self._topics.GetTopic(fetch.request, timeout=fetch.wait_s(time.monotonic()))
            except grpc.RpcError as e:
                pause = fetch.failed(explain(from_rpc_error(e), self.server), time.monotonic())
                if pause is None:
                    reply = fetch.error
                else:
                    time.sleep(pause)
                    continue
            return self._core.fetched_meta(args.topic, args.partition, reply)

    # ----- the background thread ---------------------------------------------------------

    def _run(self) -> None:
        core, cond, replies = self._core, self._cond, self._replies
        while True:
            with cond:
                while True:
                    if replies:
                        step: Any = replies.popleft()
                        break
                    step = core.acc.step(time.monotonic())
                    if not isinstance(step, st.Wait):
                        break
                    if core.stopping and core.acc.is_idle():
                        return
                    cond.wait(step.timeout_s)
            if isinstance(step, st.Deliver):
                self._deliver(step.outcomes)
            elif isinstance(step, st.InitProducer):
                self._init_producer(step)
            elif isinstance(step, st.Send):
                call = self._log.Produce.future(step.request, timeout=step.timeout_s)
                call.add_done_callback(functools.partial(self._replied, step))
            else:
                self._settle(*step)

    def _replied(self, send: st.Send, call: Any) -> None:  # on a grpc thread
        with self._cond:
            self._replies.append((send, call))
            self._cond.notify_all()

    def _settle(self, send: st.Send, call: Any) -> None:
        reply: ls.ProduceResponse | WeirError
        try:
            reply = call.result()
        except grpc.RpcError as e:
            reply = explain(from_rpc_error(e), self.server)
        except Exception as e:  # a bug must not strand the batch in flight
            reply = core_.unexpected(e, self.server)
        with self._cond:
            outcomes = self._core.settle(send, reply)
        self._deliver(outcomes)

    def _init_producer(self, step: st.InitProducer) -> None:
        reply: ls.InitProducerResponse | WeirError
        try:
            reply = self._log.InitProducer(ls.InitProducerRequest(), timeout=step.timeout_s)
        except grpc.RpcError as e:
            reply = explain(from_rpc_error(e), self.server)
        with self._cond:
            self._core.init_replied(reply)

    def _deliver(self, outcomes: list[Done]) -> None:
        for done in outcomes:
            resolve_all(done.handles, done.results)
        core_.notify_all(outcomes)
        with self._cond:
            self._core.outstanding -= core_.count(outcomes)
            self._cond.notify_all()


__all__ = ["Producer"]
