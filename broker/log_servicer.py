"""gRPC LogService: produce, pipelined produce, fetch and list offsets.

Protobuf stops here; ProduceService and FetchService see domain values only.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

from weir.broker.fetch import FetchService, FetchSpec
from weir.broker.gate import InboundRecord
from weir.broker.log.api import Acks
from weir.broker.produce import BatchOutcome, ProduceBatch, ProduceService
from weir.core.errors import InternalError, InvalidArgumentError, WeirError
from weir.core.rpc import (
    REQUEST_ID,
    RpcObserver,
    finished,
    new_request_id,
    rpc,
)
from weir.v1 import errors_pb2
from weir.v1 import log_pb2 as lp
from weir.v1 import log_service_pb2 as ls
from weir.v1 import log_service_pb2_grpc as ls_grpc

Ctx = Any
log = logging.getLogger("weir.rpc")
_ACKS = {lp.ACKS_NONE: Acks.NONE, lp.ACKS_LEADER: Acks.LEADER, lp.ACKS_ALL: Acks.ALL}


def reason_number(error: WeirError) -> int:
    """The ErrorReason enum number for an error."""
    return int(errors_pb2.ErrorReason.Value(f"ERROR_REASON_{error.reason}"))


def _internal(error: Exception, where: str) -> WeirError:
    log.exception("unexpected error in %s", where, exc_info=error)
    return InternalError(f"internal error in {where}; the server logged the details")


def _inbound(records: Iterable[lp.Record]) -> list[InboundRecord]:
    """The records as the gate takes them. Hot: tuples built directly (0.6 µs less per record
    than the NamedTuple's keyword constructor)."""
    new, cls = tuple.__new__, InboundRecord
    out = []
    for r in records:
        has = r.HasField
        out.append(
            new(
                cls,
                (
                    r.key if has("key") else None,
                    r.value if has("value") else None,
                    tuple([(h.key, h.value) for h in r.headers]) if r.headers else (),
                    r.timestamp_ms if has("timestamp_ms") else None,
                ),
            )
        )
    return out


def _batches(request: ls.ProduceRequest) -> list[ProduceBatch]:
    return [
        ProduceBatch(
            records=_inbound(b.records),
            partition=b.partition if b.HasField("partition") else None,
            base_sequence=b.base_sequence,
        )
        for b in request.batches
    ]


def _result(outcome: BatchOutcome) -> ls.BatchResult:
    result = ls.BatchResult(
        batch_index=outcome.batch_index,
        partition=outcome.partition,
        base_offset=outcome.offsets[0] if outcome.offsets else 0,
        duplicate=outcome.duplicate,
        log_append_time_ms=outcome.log_append_time_ms,
    )
    result.record_indexes.extend(outcome.record_indexes)
    result.offsets.extend(outcome.offsets)
    for r in outcome.refusals:
        result.errors.add(
            index=r.index,
            reason=reason_number(r.error),
            message=r.error.message,
            subject=r.subject,
            version=r.version,
            field_path=r.field_path,
            rule=r.rule,
            dead_lettered=outcome.dead_lettered,
        )
    return result


class LogServicer(ls_grpc.LogServiceServicer):
    """LogService over ProduceService and FetchService."""

    rpc_observer: RpcObserver | None = None
    """Times calls (set by the server; ProduceStream reports each request of the stream)."""

    def __init__(self, produce: ProduceService, fetch: FetchService) -> None:
        self.produce_service = produce
        self.fetch_service = fetch
        self._producer_ids = itertools.count(time.time_ns() // 1000)

    async def _produce(self, request: ls.ProduceRequest) -> ls.ProduceResponse:
        if request.acks not in _ACKS:
            raise InvalidArgumentError("acks must be ACKS_NONE, ACKS_LEADER or ACKS_ALL")
        self.produce_service.check_record_count(sum(len(b.records) for b in request.batches))
        outcomes = await self.produce_service.produce(
            request.topic,
            _batches(request),
            _ACKS[request.acks],
            request.producer_id,
            request.producer_epoch,
        )
        return ls.ProduceResponse(results=[_result(o) for o in outcomes])

    @rpc
    async def InitProducer(self, request: ls.InitProducerRequest, context: Ctx) -> Any:
        if request.transactional_id:
            raise InvalidArgumentError(
                "transactions are not supported; leave transactional_id empty"
            )
        return ls.InitProducerResponse(producer_id=next(self._producer_ids), producer_epoch=0)

    @rpc
    async def Produce(self, request: ls.ProduceRequest, context: Ctx) -> Any:
        return await self._produce(request)

    async def ProduceStream(
        self, requests: AsyncIterator[ls.ProduceStreamRequest], context: Ctx
    ) -> AsyncIterator[ls.ProduceStreamResponse]:
        REQUEST_ID.set(new_request_id())  # this call's own task: no reset needed
        async for item in requests:
            start = time.perf_counter()
            try:
                response = await self._produce(item.request)
                reply = ls.ProduceStreamResponse(request_id=item.request_id, response=response)
                code = "OK"
            except Exception as e:  # one bad request must not end the stream
                error = e if isinstance(e, WeirError) else _internal(e, "ProduceStream")
                code = error.grpc_code.name
                reply = ls.ProduceStreamResponse(
                    request_id=item.request_id,
                    error_reason=reason_number(error),  # type: ignore[arg-type]
                    error_message=error.message,
                )
            finished(self.rpc_observer, "ProduceStream", code, start, context)
            yield reply

    @rpc
    async def Fetch(self, request: ls.FetchRequest, context: Ctx) -> Any:
        specs = [
            FetchSpec(p.topic, p.partition, p.offset, p.max_bytes or 1 << 20)
            for p in request.partitions
        ]
        if not specs:
            raise InvalidArgumentError("fetch names no partitions; add at least one")
        fetched = await self.fetch_service.fetch(
            specs, request.max_wait_ms, request.min_bytes, request.max_bytes or 50 << 20
        )
        response = ls.FetchResponse()
        for f in fetched:
            part = response.partitions.add(topic=f.spec.topic, partition=f.spec.partition)
            if f.offsets is not None:
                part.log_start_offset = f.offsets.log_start
                part.log_end_offset = f.offsets.log_end
            if f.error is not None:
                part.error_reason = reason_number(f.error)  # type: ignore[assignment]
                part.error_message = f.error.message
            add = part.records.add
            for r in f.records:  # None leaves key/value unset (no key, tombstone)
                add(
                    offset=r.offset,
                    timestamp_ms=r.timestamp_ms,
                    key=r.key,
                    value=r.value,
                    headers=[lp.Header(key=k, value=v) for k, v in r.headers]
                    if r.headers
                    else None,
                    key_schema_id=r.key_schema_id,
                    value_schema_id=r.value_schema_id,
                    value_schema_version=r.value_schema_version,
                )
        return response

    @rpc
    async def ListOffsets(self, request: ls.ListOffsetsRequest, context: Ctx) -> Any:
        spec = request.WhichOneof("spec")
        if spec is None:
            raise InvalidArgumentError("say which offset: earliest, latest or timestamp_ms")
        offset, ts, bounds = await self.fetch_service.list_offset(
            request.topic,
            request.partition,
            request.timestamp_ms if spec == "timestamp_ms" else None,
            latest=spec == "latest",
        )
        response = ls.ListOffsetsResponse(
            timestamp_ms=ts, log_start_offset=bounds.log_start, log_end_offset=bounds.log_end
        )
        if offset is not None:
            response.offset = offset
        return response
