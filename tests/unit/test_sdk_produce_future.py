"""ProduceFuture behaves like a concurrent.futures.Future for every way callers use one."""

from __future__ import annotations

import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, as_completed, wait

import pytest

from weir.core.errors import InvalidRecordError
from weir.sdk._produce_future import ProduceFuture, resolve_all
from weir.sdk._records import RecordMetadata

MD = RecordMetadata("t", 0, 5, 1000)


def test_it_is_a_running_future_until_resolved_in_bulk() -> None:
    futures = [ProduceFuture() for _ in range(3)]
    assert all(isinstance(f, Future) for f in futures)
    assert futures[0].running()
    assert not futures[0].done()
    assert not futures[0].cancel()  # a queued record cannot be taken back
    error = InvalidRecordError("bad")
    resolve_all(futures, [MD, error, MD._replace(offset=6)])
    assert futures[0].result(0) == MD
    assert futures[1].exception(0) is error
    with pytest.raises(InvalidRecordError):
        futures[1].result(0)
    assert futures[2].result().offset == 6
    assert all(f.done() for f in futures)
    assert "finished" in repr(futures[0])


def test_waiters_and_callbacks_added_before_the_result_are_woken_and_called() -> None:
    futures = [ProduceFuture() for _ in range(4)]
    called: list[object] = []
    futures[0].add_done_callback(lambda f: called.append(f.result()))
    got: list[object] = []
    waiter = threading.Thread(target=lambda: got.append(futures[1].result(5)))
    waiter.start()
    time.sleep(0.05)

    def later() -> None:
        time.sleep(0.05)
        resolve_all(futures, [MD, MD, MD, InvalidRecordError("no")])

    threading.Thread(target=later).start()
    done, _ = wait(futures[2:3], timeout=5, return_when=FIRST_COMPLETED)
    assert done == {futures[2]}
    assert len(list(as_completed(futures, timeout=5))) == 4
    waiter.join(5)
    assert got == [MD]
    assert called == [MD]


def test_a_callback_added_after_the_result_runs_at_once() -> None:
    future = ProduceFuture()
    resolve_all([future], [MD])
    seen: list[object] = []
    future.add_done_callback(lambda f: seen.append(f.result()))
    assert seen == [MD]
    assert wait([future], timeout=0).done == {future}
