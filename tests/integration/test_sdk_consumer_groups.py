"""weir.sdk.Consumer in groups against a real server: a rebalance during consumption with
commits in on_revoke, leaving on close, pattern subscriptions and auto-commit.

The server heartbeats members at a third of their session timeout, so a 1.5-3 s session keeps
these tests fast without any server setting."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from typing import Any

import grpc
import pytest

from tests.integration.broker_helpers import Broker
from tests.integration.consumer_helpers import fill
from weir.core import errors
from weir.sdk import Consumer, Message, TopicPartition

TP = TopicPartition


@pytest.fixture
def broker(channel: grpc.Channel) -> Broker:
    return Broker(channel)


def wait_until(check: Any, consumers: list[Consumer], timeout: float = 10) -> list[Message]:
    """Poll every consumer (so they apply assignment changes) until check() holds; return
    the records those polls returned."""
    got: list[Message] = []
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        for c in consumers:
            m = c.poll(0.05)
            if m is not None:
                got.append(m)
    return got


def test_rebalance_mid_stream_with_commits_in_on_revoke_loses_and_repeats_nothing(
    server: Any, broker: Broker
) -> None:
    fill(broker, "orders", 4, 60)
    delivered: list[tuple[str, Message]] = []
    revoked: list[TP] = []
    commits_in_revoke: dict[TP, int] = {}
    refused: list[errors.WeirError] = []

    def on_revoke(consumer: Consumer, partitions: list[TP]) -> None:
        revoked.extend(partitions)
        commits_in_revoke.update(consumer.commit())  # still owned: accepted

    a = Consumer("checkout", ["orders"], server=server.address, on_revoke=on_revoke,
                 session_timeout_ms=1500, fetch_max_wait_ms=50)  # fmt: skip
    b: Consumer | None = None
    try:
        while len(delivered) < 40:  # a alone reads the first 40
            m = a.poll(0.5)
            if m is not None:
                delivered.append(("a", m))
        assert len(a.assignment()) == 4
        # b joins mid-stream
        b = Consumer("checkout", ["orders"], server=server.address,
                     session_timeout_ms=1500, fetch_max_wait_ms=50)  # fmt: skip
        deadline = time.monotonic() + 20
        while len(delivered) < 240 or len(a.assignment()) != 2 or len(b.assignment()) != 2:
            assert time.monotonic() < deadline, f"{len(delivered)} delivered"
            m = a.poll(0.01)  # a is slow: one record per round, so b joins mid-stream
            if m is not None:
                delivered.append(("a", m))
            time.sleep(0.005)
            for m in b.consume(100, 0.01):
                delivered.append(("b", m))
        assert a.poll(0.2) is None
        assert b.poll(0.2) is None

        # every record exactly once: on_revoke committed everything a had consumed
        seen = Counter((m.partition, m.offset) for _, m in delivered)
        assert sorted(seen) == [(p, o) for p in range(4) for o in range(60)]
        assert max(seen.values()) == 1
        # a gave up exactly the partitions b now owns, and committed their positions first
        assert sorted(revoked) == b.assignment()
        assert set(a.assignment()).isdisjoint(b.assignment())
        assert set(commits_in_revoke) == set(a.assignment()) | set(revoked)
        for tp in revoked:
            a_part = [
                m.offset for who, m in delivered if who == "a" and m.partition == tp.partition
            ]
            b_part = [
                m.offset for who, m in delivered if who == "b" and m.partition == tp.partition
            ]
            assert commits_in_revoke[tp] == (a_part[-1] + 1 if a_part else 0)
            assert (b_part[0] if b_part else 60) == commits_in_revoke[tp]  # b resumed there
        # a commit for a partition lost in the rebalance is refused, never dropped
        lost = revoked[0]
        try:
            a.commit(offsets={lost: 1})
        except errors.PartitionNotAssignedError as error:
            refused.append(error)
        assert len(refused) == 1
        assert f"{lost.topic}-{lost.partition}" in refused[0].message
        assert "revoked" in refused[0].message
        assert b.committed(lost) == {lost: commits_in_revoke[lost]}  # unchanged by the refusal
    finally:
        a.close()
        if b is not None:
            b.close()


def test_uncommitted_records_of_a_revoked_partition_are_redelivered_to_the_new_owner(
    server: Any, broker: Broker
) -> None:
    """Without a commit in on_revoke, the new owner re-reads from the last commit: the only
    repeats are the records consumed after it."""
    fill(broker, "t", 2, 30)
    kw: dict[str, Any] = {"server": server.address, "session_timeout_ms": 1500}
    a = Consumer("g", ["t"], **kw)
    b: Consumer | None = None
    try:
        a_seen = a.consume(60, 5)
        while len(a_seen) < 60:
            a_seen += a.consume(60, 5)
        a.commit(offsets={TP("t", 0): 5, TP("t", 1): 5})
        b = Consumer("g", ["t"], **kw)
        b_seen = wait_until(lambda: len(b.assignment()) == 1 == len(a.assignment()), [b, a])
        (moved,) = b.assignment()
        b_seen += b.consume(100, 5)
        assert b.poll(0.2) is None
        assert [m.offset for m in b_seen] == list(range(5, 30))  # from the last commit
        a_after_commit = [m.offset for m in a_seen if m.partition == moved.partition][5:]
        assert [m.offset for m in b_seen] == a_after_commit  # exactly the uncommitted repeat
    finally:
        a.close()
        if b is not None:
            b.close()


def test_close_leaves_the_group_so_the_other_member_takes_over_at_once(
    server: Any, broker: Broker
) -> None:
    fill(broker, "t", 4, 1)
    kw: dict[str, Any] = {"server": server.address, "session_timeout_ms": 4500}
    a, b = Consumer("g", ["t"], **kw), Consumer("g", ["t"], **kw)
    try:
        wait_until(lambda: len(a.assignment()) == 2 and len(b.assignment()) == 2, [a, b], 15)
        a.close()
        started = time.monotonic()
        wait_until(lambda: len(b.assignment()) == 4, [b], 5)
        assert time.monotonic() - started < 2.5  # b's next heartbeat, not a's 4.5 s timeout
    finally:
        a.close()
        b.close()


def test_pattern_subscription_matches_whole_topic_names(server: Any, broker: Broker) -> None:
    for name in ("ev-a", "ev-b", "other", "xev-c"):
        fill(broker, name, 1, 2)
    for i, pattern in enumerate([re.compile(r"ev-.*"), "^ev-.*"]):
        with Consumer(f"g{i}", pattern, server=server.address, session_timeout_ms=3000) as c:
            got: list[Message | None] = list(wait_until(lambda c=c: len(c.assignment()) == 2, [c]))
            assert c.assignment() == [TP("ev-a", 0), TP("ev-b", 0)]
            got += [c.poll(2) for _ in range(4 - len(got))]
            assert c.poll(0.2) is None
            assert sorted((m.topic, m.offset) for m in got if m is not None) == [
                ("ev-a", 0),
                ("ev-a", 1),
                ("ev-b", 0),
                ("ev-b", 1),
            ]


def test_auto_commit_in_poll_and_on_close(server: Any, broker: Broker) -> None:
    fill(broker, "t", 1, 10)
    tp = TP("t", 0)
    kw: dict[str, Any] = {"server": server.address, "session_timeout_ms": 3000}
    with Consumer("auto", ["t"], enable_auto_commit=True, auto_commit_interval_ms=100, **kw) as c:
        for _ in range(4):
            assert c.poll(5) is not None
        time.sleep(0.15)
        assert c.poll(0) is not None  # this poll commits the 4 returned before it
        assert c.committed() == {tp: 4}
        assert c.poll(5) is not None
    with Consumer("auto", ["t"], **kw) as c:  # close committed the last one returned
        got = wait_until(lambda: c.assignment() == [tp], [c])
        assert c.committed() == {tp: 6}
        first = got[0] if got else c.poll(5)
        assert first is not None
        assert first.offset == 6


def test_on_assign_may_seek_and_callbacks_run_on_the_polling_thread(
    server: Any, broker: Broker
) -> None:
    fill(broker, "t", 1, 10)
    calls: list[tuple[str, list[TP], str]] = []

    def on_assign(consumer: Consumer, partitions: list[TP]) -> None:
        calls.append(("assign", partitions, threading.current_thread().name))
        consumer.seek(partitions[0], 7)

    def on_revoke(consumer: Consumer, partitions: list[TP]) -> None:
        calls.append(("revoke", partitions, threading.current_thread().name))

    c = Consumer("g", "t", server=server.address, on_assign=on_assign, on_revoke=on_revoke)
    message = c.poll(5)
    c.close()
    assert message is not None
    assert message.offset == 7
    me = threading.current_thread().name
    assert calls == [("assign", [TP("t", 0)], me), ("revoke", [TP("t", 0)], me)]
