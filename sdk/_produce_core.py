"""Everything Producer and AsyncProducer share, free of I/O: settings, buffer, metadata, replies.

``ProducerBase`` is the one constructor both shells have (same parameters, same checks);
it builds a ``ProducerCore`` and lets the shell open its channel. ``ProducerCore`` turns a
record into bytes, picks its partition, buffers it, and says what replies and failures mean.
A shell only waits, sends and resolves futures its own way (threads or asyncio).
"""

from __future__ import annotations

import time
from typing import Any

from weir.core.errors import PartitionNotFoundError, WeirError
from weir.sdk import _produce_config as pc
from weir.sdk import _produce_record as pr
from weir.sdk import _topic_meta as tm
from weir.sdk._channel import DEFAULT_SERVER, DEFAULT_TIMEOUT_S, closed_error
from weir.sdk._credentials import Credentials
from weir.sdk._produce_batches import Done, Row
from weir.sdk._produce_state import Accumulator
from weir.sdk._produce_steps import Send
from weir.sdk._records import MessageField, Serializer
from weir.sdk._retry import RetryPolicy
from weir.v1 import log_service_pb2 as ls
from weir.v1 import topic_service_pb2 as ts


class ProducerCore:
    """One producer's state and decisions; the shell holds its lock (if any) around calls."""

    def __init__(
        self,
        config: pc.ProducerConfig,
        key_serializer: Serializer | None,
        value_serializer: Serializer | None,
    ) -> None:
        self.config = config
        """The checked settings."""
        self.key_serializer = key_serializer
        """Turns keys into bytes (None: bytes or str as they are)."""
        self.value_serializer = value_serializer
        """Turns values into bytes (None: bytes or str as they are)."""
        self.acc = Accumulator(config)
        """The batches and the send decisions."""
        self.meta = tm.TopicMetadataCache(config.metadata_max_age_s)
        """Partition counts by topic."""
        self.outstanding = 0
        """Records queued and not yet resolved."""
        self.accepting = True
        """False once close() began."""
        self.stopping = False
        """True once the sender should end when idle."""

    def check_open(self, client: object) -> None:
        """Raise if produce() may not queue records (closed, or ended by a fatal error)."""
        if not self.accepting:
            raise closed_error(client)
        if self.acc.fatal is not None:
            raise self.acc.fatal

    # ----- one record, on the caller's side ----------------------------------------------

    def record(
        self, topic: str, value: Any, key: Any, *, headers: Any, partition: Any, timestamp: Any
    ) -> tuple[pr.RecordArgs, Row]:
        """Check the arguments and serialize with the (sync) serializers."""
        args = pr.record_args(topic, headers, partition, timestamp)
        value_bytes = pr.run_serializer(self.value_serializer, value, args, MessageField.VALUE)
        key_bytes = pr.run_serializer(self.key_serializer, key, args, MessageField.KEY)
        return args, pr.make_row(args, key_bytes, value_bytes, self.config)

    def cached_meta(self, topic: str, partition: int | None) -> tm.TopicMeta | None:
        """The cached metadata when fresh and good for ``partition``; None: fetch it."""
        cached = self.meta.get(topic)
        if (
            cached is None
            or self.meta.needs_fetch(topic, time.monotonic())
            or (partition is not None and partition >= cached.partition_count)
        ):
            return None
        return cached

    def meta_fetch(self, topic: str, timeout_s: float) -> tm.MetaFetch:
        """The GetTopic attempts for a topic, bounded by max_block_ms and the delivery timeout."""
        budget = min(self.config.max_block_s, self.config.delivery_timeout_s)
        return tm.MetaFetch(topic, time.monotonic(), budget, timeout_s, self.config.retry)

    def fetched_meta(
        self, topic: str, partition: int | None, reply: ts.GetTopicResponse | WeirError
    ) -> tm.TopicMeta | WeirError:
        """The metadata to produce with after a fetch, or the error the record fails with."""
        fetched = (
            reply if isinstance(reply, WeirError) else tm.meta_from_reply(reply, time.monotonic())
        )
        meta = tm.resolve(self.meta, topic, fetched)
        if isinstance(meta, WeirError):
            return tm.unusable(meta, topic)
        if partition is not None and partition >= meta.partition_count:
            return PartitionNotFoundError(
                f"topic '{topic}' has {meta.partition_count} partition(s), so partition "
                f"{partition} does not exist; use 0 to {meta.partition_count - 1}",
                metadata={"topic": topic, "partition": str(partition)},
            )
        return meta

    def has_room(self, size: int) -> bool:
        """True when a record of ``size`` bytes fits in buffer_memory (one always fits)."""
        buffered = self.acc.buffered_bytes
        return not buffered or buffered + size <= self.config.buffer_memory

    def buffer_full(self, size: int) -> WeirError:
        """The error for a record that found no room within max_block_ms."""
        return pc.buffer_full(self.config, self.acc.buffered_bytes, size)

    def add(
        self, args: pr.RecordArgs, row: Row, meta: tm.TopicMeta, handle: Any, callback: Any
    ) -> bool:
        """Buffer the record; True when the sender should look again."""
        acc = self.acc
        chosen = args.partition
        if chosen is None:
            chosen = acc.partition_for(args.topic, meta.partition_count, row[0])
        self.outstanding += 1
        return acc.append(
            args.topic,
            chosen,
            row,
            handle,
            callback,
            log_append_time=meta.log_append_time,
            now=time.monotonic(),
        )

    # ----- replies, on the sender's side -------------------------------------------------

    def settle(self, send: Send, reply: ls.ProduceResponse | WeirError) -> list[Done]:
        """What a Produce reply (or the error instead of one) means for the request's records."""
        if isinstance(reply, WeirError):
            settled = self.acc.failed(send, reply, time.monotonic())
        else:
            settled = self.acc.completed(send, reply)
        if settled.stale_topic:
            self.meta.invalidate(send.topic)
        return settled.outcomes

    def init_replied(self, reply: ls.InitProducerResponse | WeirError) -> None:
        """Record what InitProducer answered."""
        if isinstance(reply, WeirError):
            self.acc.producer_failed(reply, time.monotonic())
        else:
            self.acc.producer_ready(reply.producer_id, reply.producer_epoch)


def unexpected(error: Exception, server: str) -> WeirError:
    """A bug met while sending: reported on the batch so it is not stranded in flight."""
    return WeirError(f"sending to {server} failed unexpectedly: {error!r}")


def notify_all(outcomes: list[Done]) -> None:
    """Call each record's on_delivery(error, metadata), batch by batch."""
    for done in outcomes:
        if done.callbacks is None:
            continue
        for callback, result in zip(done.callbacks, done.results, strict=True):
            if callback is not None:
                if isinstance(result, WeirError):
                    pc.notify(callback, result, None)
                else:
                    pc.notify(callback, None, result)


def count(outcomes: list[Done]) -> int:
    """How many records the outcomes resolve."""
    return sum(len(done.handles) for done in outcomes)


class ProducerBase:
    """The constructor Producer and AsyncProducer share; the shell's ``_open`` does the I/O."""

    def __init__(
        self,
        server: str = DEFAULT_SERVER,
        *,
        key_serializer: Serializer | None = None,
        value_serializer: Serializer | None = None,
        acks: str | int = "all",
        linger_ms: float = 5,
        batch_size: int = 1 << 20,
        max_batch_records: int = 10_000,
        max_request_bytes: int = 16 << 20,
        enable_idempotence: bool = True,
        delivery_timeout_ms: float = 120_000,
        request_timeout_ms: float = 30_000,
        buffer_memory: int = 32 << 20,
        max_block_ms: float = 60_000,
        metadata_max_age_ms: float = 300_000,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        credentials: Credentials | None = None,
    ) -> None:
        config = pc.make_config(
            acks=acks,
            enable_idempotence=enable_idempotence,
            linger_ms=linger_ms,
            batch_size=batch_size,
            max_batch_records=max_batch_records,
            max_request_bytes=max_request_bytes,
            delivery_timeout_ms=delivery_timeout_ms,
            request_timeout_ms=request_timeout_ms,
            buffer_memory=buffer_memory,
            max_block_ms=max_block_ms,
            metadata_max_age_ms=metadata_max_age_ms,
            retry=retry,
        )
        self.config = config
        """The checked settings."""
        self.key_serializer = key_serializer
        """Turns keys into bytes; None sends bytes or str keys as they are."""
        self.value_serializer = value_serializer
        """Turns values into bytes; None sends bytes or str values as they are."""
        self._core = ProducerCore(config, key_serializer, value_serializer)
        self._credentials = credentials
        self._open(server, timeout_s, retry)

    def _open(self, server: str, timeout_s: float, retry: RetryPolicy | None) -> None:
        raise NotImplementedError  # pragma: no cover - each shell opens its channel

    def __len__(self) -> int:
        """How many produced records are not yet resolved."""
        return self._core.outstanding


__all__: list[str] = []
