"""The producer's pure accumulator: batching, sequences, retries, refusals and timeouts."""

from __future__ import annotations

import json
import random

import pytest

from weir.core.errors import (
    InvalidRecordError,
    OutOfOrderSequenceError,
    ProducerFencedError,
    TopicNotFoundError,
    UnavailableError,
)
from weir.core.partitioner import partition_for_key
from weir.sdk import _produce_config as pc
from weir.sdk import _produce_record as pr
from weir.sdk import _produce_state as st
from weir.sdk._produce_batches import Done, Row
from weir.v1 import log_pb2 as lp
from weir.v1 import log_service_pb2 as ls


def config(**overrides: object) -> pc.ProducerConfig:
    settings: dict[str, object] = {
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": 5,
        "batch_size": 1 << 20,
        "max_batch_records": 1000,
        "max_request_bytes": 1 << 20,
        "delivery_timeout_ms": 10_000,
        "request_timeout_ms": 1000,
        "buffer_memory": 1 << 24,
        "max_block_ms": 100,
        "metadata_max_age_ms": 1000,
        "retry": None,
    }
    settings.update(overrides)
    return pc.make_config(**settings)  # type: ignore[arg-type]


def rec(name: str, key: bytes | None = None) -> Row:
    value = name.encode()
    return (key, value, (), 1000, pr.record_size(key, value, ()))


def ready_acc(**overrides: object) -> st.Accumulator:
    acc = st.Accumulator(config(**overrides), random.Random(1))
    if acc.config.idempotent:
        assert isinstance(acc.step(0.0), st.Wait)  # nothing queued: no id needed yet
        acc.producer_ready(7, 0)
    return acc


def add(acc: st.Accumulator, names: list[str], partition: int = 0, now: float = 0.0) -> None:
    for n in names:
        acc.append("t", partition, rec(n), n, None, log_append_time=False, now=now)


def send(acc: st.Accumulator, now: float = 1.0) -> st.Send:
    step = acc.step(now)
    assert isinstance(step, st.Send), step
    return step


def reply(*results: ls.BatchResult) -> ls.ProduceResponse:
    return ls.ProduceResponse(results=list(results))


def appended(
    batch: int, partition: int, pairs: list[tuple[int, int]], **kw: object
) -> ls.BatchResult:
    result = ls.BatchResult(batch_index=batch, partition=partition, **kw)  # type: ignore[arg-type]
    result.record_indexes.extend(i for i, _ in pairs)
    result.offsets.extend(o for _, o in pairs)
    return result


def flat(outcomes: list[Done]) -> list[tuple[str, object]]:
    """(handle, RecordMetadata or error) per record, batch by batch."""
    return [pair for d in outcomes for pair in zip(d.handles, d.results, strict=True)]


def by_handle(outcomes: list[Done]) -> dict[str, object]:
    return dict(flat(outcomes))


def results(outcomes: list[Done]) -> list[object]:
    return [r for _, r in flat(outcomes)]


def test_a_keyed_record_goes_where_kafka_puts_it_and_keyless_ones_stick() -> None:
    acc = ready_acc()
    assert acc.partition_for("t", 6, b"order-42") == partition_for_key(b"order-42", 6)
    sticky = {acc.partition_for("t", 6, None) for _ in range(20)}
    assert len(sticky) == 1


def test_the_sticky_partition_moves_on_once_its_batch_is_sent() -> None:
    acc = ready_acc()
    seen = set()
    for i in range(30):
        p = acc.partition_for("t", 8, None)
        seen.add(p)
        acc.append("t", p, rec(str(i)), str(i), None, log_append_time=False, now=float(i))
        step = acc.step(float(i) + 1)
        assert isinstance(step, st.Send)
        acc.completed(step, reply(appended(0, p, [(0, i)])))
    assert len(seen) > 1


def test_a_batch_lingers_then_goes_and_a_full_one_goes_at_once() -> None:
    acc = ready_acc(linger_ms=50, max_batch_records=3)
    add(acc, ["a"])
    step = acc.step(0.01)
    assert isinstance(step, st.Wait)
    assert step.timeout_s == pytest.approx(0.04)
    add(acc, ["b", "c"])
    step = acc.step(0.01)
    assert isinstance(step, st.Send)
    assert [r.value for r in step.request.batches[0].records] == [b"a", b"b", b"c"]


def test_one_request_carries_ready_batches_of_several_partitions_with_their_sequences() -> None:
    acc = ready_acc()
    add(acc, ["a", "b"], partition=0)
    add(acc, ["c"], partition=1)
    step = send(acc)
    assert step.request.producer_id == 7
    assert [(b.partition, b.base_sequence, len(b.records)) for b in step.request.batches] == [
        (0, 0, 2),
        (1, 0, 1),
    ]
    settled = acc.completed(
        step, reply(appended(0, 0, [(0, 10), (1, 11)]), appended(1, 1, [(0, 5)]))
    )
    got = by_handle(settled.outcomes)
    assert [got[n].offset for n in "abc"] == [10, 11, 5]  # type: ignore[attr-defined]
    assert got["c"].partition == 1  # type: ignore[attr-defined]
    assert acc.is_idle()
    assert acc.buffered_bytes == 0


def test_sequences_count_appended_records_only() -> None:
    acc = ready_acc()
    add(acc, ["a", "b", "c", "d", "e"])
    first = send(acc)
    result = appended(0, 0, [(0, 0), (2, 1), (4, 2)])
    result.errors.add(index=1, reason=21, message="record 1 bad", rule="type", field_path="/qty")
    result.errors.add(index=3, reason=21, message="record 3 bad", rule="type")
    got = by_handle(acc.completed(first, reply(result)).outcomes)
    assert isinstance(got["b"], InvalidRecordError)
    assert got["b"].metadata["path"] == "/qty"
    assert got["b"].metadata["rule"] == "type"
    assert "record 1 bad" in str(got["b"])
    assert got["e"].offset == 2  # type: ignore[attr-defined]
    add(acc, ["f"], now=2.0)
    second = send(acc, now=3.0)
    assert second.request.batches[0].base_sequence == 3  # 0 + three appended


def test_a_retriable_failure_resends_the_same_batch_with_the_same_sequence() -> None:
    acc = ready_acc(retry=None)
    add(acc, ["a", "b"])
    first = send(acc)
    add(acc, ["c"], now=1.5)  # arrives while the batch is in flight: a new batch
    assert acc.failed(first, UnavailableError("server went away"), 2.0).outcomes == []
    step = acc.step(2.0)
    assert isinstance(step, st.Wait)  # backing off
    assert step.timeout_s
    again = send(acc, now=5.0)
    assert again.request == first.request  # same records, id, epoch and base sequence
    assert again.batches[0] is first.batches[0]
    assert again.batches[0].attempts == 2
    acc.completed(again, reply(appended(0, 0, [(0, 0), (1, 1)], duplicate=True)))
    third = send(acc, now=6.0)
    assert [r.value for r in third.request.batches[0].records] == [b"c"]
    assert third.request.batches[0].base_sequence == 2


def test_a_duplicate_answer_gives_the_original_offsets() -> None:
    acc = ready_acc()
    add(acc, ["a", "b"])
    step = send(acc)
    acc.failed(step, UnavailableError("reply lost"), 1.0)
    retry = send(acc, now=5.0)
    settled = acc.completed(retry, reply(appended(0, 0, [(0, 40), (1, 41)], duplicate=True)))
    assert [r.offset for r in results(settled.outcomes)] == [40, 41]  # type: ignore[attr-defined]


def test_only_one_batch_per_partition_is_in_flight() -> None:
    acc = ready_acc(max_batch_records=1)
    add(acc, ["a", "b"])
    first = send(acc)
    assert len(first.batches) == 1
    assert isinstance(acc.step(1.0), st.Wait)  # "b" waits for "a"'s reply
    acc.completed(first, reply(appended(0, 0, [(0, 0)])))
    second = send(acc, now=1.0)
    assert second.request.batches[0].base_sequence == 1


def test_records_time_out_with_the_last_error_and_a_new_producer_id_follows() -> None:
    acc = ready_acc(delivery_timeout_ms=1000)
    add(acc, ["a"])
    step = send(acc, now=0.1)
    acc.failed(step, UnavailableError("cannot reach the Weir server at x:1"), 0.2)
    expired = acc.step(1.5)
    assert isinstance(expired, st.Deliver)
    error = results(expired.outcomes)[0]
    assert isinstance(error, UnavailableError)
    assert "delivery_timeout_ms=1000" in str(error)
    assert "x:1" in str(error)
    assert acc.buffered_bytes == 0
    add(acc, ["b"], now=2.0)
    assert isinstance(acc.step(2.1), st.InitProducer)  # "a" may be in the log: new sequences
    acc.producer_ready(8, 0)
    step = send(acc, now=2.2)
    assert (step.request.producer_id, step.request.batches[0].base_sequence) == (8, 0)


def test_a_batch_retried_under_an_old_id_keeps_it_while_new_batches_use_the_new_one() -> None:
    acc = ready_acc(delivery_timeout_ms=1000)
    add(acc, ["a"], partition=0, now=0.0)
    add(acc, ["b"], partition=1, now=0.5)
    step = send(acc, now=0.6)
    acc.failed(step, UnavailableError("down"), 0.6)
    assert isinstance(acc.step(1.2), st.Deliver)  # "a" expired, "b" not yet
    add(acc, ["c"], partition=2, now=1.2)
    assert isinstance(acc.step(1.25), st.InitProducer)
    acc.producer_ready(9, 0)
    step = send(acc, now=1.3)
    ids = {b.partition: b.producer_id for b in step.batches}
    assert ids in ({1: 7}, {2: 9})  # one identity per request
    assert step.request.producer_id == next(iter(ids.values()))


def test_a_multi_batch_refusal_is_retried_batch_by_batch_to_find_the_bad_one() -> None:
    acc = ready_acc()
    add(acc, ["good"], partition=0)
    add(acc, ["ok", "bad"], partition=1)
    step = send(acc)
    refusals = json.dumps([{"index": 1, "reason": "INVALID_RECORD", "message": "record 1: /qty"}])
    error = InvalidRecordError("1 record(s) refused", metadata={"refusals": refusals})
    assert acc.failed(step, error, 1.0).outcomes == []
    alone = send(acc, now=1.0)
    assert len(alone.batches) == 1
    assert alone.request.batches[0].base_sequence == 0
    if alone.batches[0].partition == 0:
        acc.completed(alone, reply(appended(0, 0, [(0, 3)])))
        alone = send(acc, now=1.0)
    got = by_handle(acc.failed(alone, error, 1.0).outcomes)
    assert str(got["bad"]) == "record 1: /qty"
    assert isinstance(got["ok"], InvalidRecordError)
    assert got["ok"].metadata["collateral"] == "true"  # type: ignore[attr-defined]
    assert "record(s) 1" in str(got["ok"])
    add(acc, ["next"], partition=1, now=2.0)
    assert send(acc, now=3.0).request.batches[0].base_sequence == 0  # nothing was appended


def test_fenced_ends_the_producer_and_fails_everything() -> None:
    acc = ready_acc(max_batch_records=1)
    add(acc, ["a", "b"])
    step = send(acc)
    settled = acc.failed(step, ProducerFencedError("epoch 0 fenced by 1"), 1.0)
    assert isinstance(results(settled.outcomes)[0], ProducerFencedError)
    rest = acc.step(1.0)
    assert isinstance(rest, st.Deliver)
    assert [h for h, _ in flat(rest.outcomes)] == ["b"]
    assert isinstance(acc.fatal, ProducerFencedError)
    assert acc.is_idle()


def test_out_of_order_fails_the_batch_and_asks_for_a_new_id() -> None:
    acc = ready_acc()
    add(acc, ["a"])
    step = send(acc)
    got = acc.failed(step, OutOfOrderSequenceError("expected 5"), 1.0).outcomes
    assert isinstance(results(got)[0], OutOfOrderSequenceError)
    add(acc, ["b"], now=1.0)
    assert isinstance(acc.step(2.0), st.InitProducer)


def test_a_missing_topic_fails_its_records_and_marks_metadata_stale() -> None:
    acc = ready_acc(max_batch_records=1)
    add(acc, ["a", "b"])
    settled = acc.failed(send(acc), TopicNotFoundError("topic 't' does not exist"), 1.0)
    assert settled.stale_topic
    assert sorted(h for h, _ in flat(settled.outcomes)) == ["a", "b"]
    assert acc.is_idle()


def test_without_idempotence_no_producer_id_and_acks_none_gives_offset_minus_one() -> None:
    acc = ready_acc(enable_idempotence=False, acks=0)
    add(acc, ["a"])
    step = send(acc)
    assert step.request.producer_id == 0
    assert step.request.acks == lp.ACKS_NONE
    settled = acc.completed(step, reply())
    assert results(settled.outcomes)[0].offset == -1  # type: ignore[attr-defined]


def test_a_request_stays_under_the_byte_limit() -> None:
    acc = ready_acc(max_request_bytes=100, buffer_memory=1000, batch_size=50)
    for p in range(4):
        add(acc, ["x" * 20], partition=p)
    step = send(acc)
    assert 1 <= len(step.batches) <= 2
    assert sum(b.size for b in step.batches) <= 100


@pytest.mark.parametrize(
    ("acks", "wire"),
    [
        ("all", lp.ACKS_ALL),
        (1, lp.ACKS_LEADER),
        ("1", lp.ACKS_LEADER),
        (0, lp.ACKS_NONE),
        ("0", lp.ACKS_NONE),
    ],
)
def test_acks_mapping(acks: object, wire: int) -> None:
    assert pc.acks_value(acks) == wire


def test_bad_settings_and_values_say_what_to_do() -> None:
    with pytest.raises(Exception, match='acks must be "all", 1 or 0'):
        pc.acks_value(2)
    with pytest.raises(Exception, match="linger_ms must be at least 0"):
        config(linger_ms=-1)
    with pytest.raises(Exception, match="value_serializer"):
        pr.plain_bytes({"id": 1}, pr.MessageField.VALUE, "t")
    with pytest.raises(Exception, match="headers must be"):
        pr.header_pairs([("k", 3)])
    assert pr.header_pairs({"a": "b", "c": None}) == (("a", b"b"), ("c", b""))
