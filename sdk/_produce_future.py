"""The sync producer's futures: ``concurrent.futures.Future`` objects that cost little to make.

A plain Future builds a ``threading.Condition`` (a lock, a deque, a dict), a waiter list and
a callback list when it is created; a producer holding 100k buffered records keeps all of
them alive, and Python's garbage collector walks them again and again. ``ProduceFuture``
makes those parts only when something asks for them (``result()``, ``add_done_callback()``,
``concurrent.futures.wait``, ``as_completed``, ``done()``, ``cancel()``, ...): until then its
state comes from class defaults, and it is one small object.

Safety: every Future method reaches the condition through ``_condition``, which is created
under one module lock. ``resolve_all`` takes the same lock and sets the result of a future
directly only when its condition does not exist yet, so no thread can be waiting on it and
no callback can have been added; a future whose parts exist is resolved the ordinary way
(``set_result``: waiters woken, callbacks run).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures._base import FINISHED, RUNNING
from typing import Any

from weir.sdk._records import RecordMetadata

_LOCK = threading.Lock()


class _Parts:
    """What a plain Future makes in ``__init__``, made here on first use."""

    __slots__ = ("callbacks", "condition", "waiters")

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.waiters: list[Any] = []
        self.callbacks: list[Any] = []


class ProduceFuture(Future[RecordMetadata]):
    """A running ``concurrent.futures.Future`` whose lock and lists are made on first use."""

    _state = RUNNING  # a queued record cannot be taken back (set_running_or_notify_cancel)
    _result = None
    _exception = None
    _parts: _Parts | None = None

    def __init__(self) -> None:
        """A future in the RUNNING state (no lock is made until one is needed)."""

    def _get_parts(self) -> _Parts:
        parts = self._parts
        if parts is None:
            with _LOCK:
                parts = self._parts
                if parts is None:
                    parts = self._parts = _Parts()
        return parts

    @property
    def _condition(self) -> threading.Condition:  # type: ignore[override]
        return self._get_parts().condition

    @property
    def _waiters(self) -> list[Any]:  # type: ignore[override]
        return self._get_parts().waiters

    @property
    def _done_callbacks(self) -> list[Any]:
        return self._get_parts().callbacks


def resolve_all(futures: Sequence[ProduceFuture], results: Sequence[object]) -> None:
    """Give each future its result: a RecordMetadata, or an exception to raise."""
    slow: list[tuple[ProduceFuture, object]] = []
    with _LOCK:
        for future, result in zip(futures, results, strict=True):
            if future._parts is not None or future._state != RUNNING:
                slow.append((future, result))
            elif isinstance(result, BaseException):
                future._exception = result  # type: ignore[assignment]
                future._state = FINISHED
            else:
                future._result = result  # type: ignore[assignment]
                future._state = FINISHED
    for future, result in slow:
        if future.done():  # pragma: no cover - a producer resolves each record once
            continue
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)  # type: ignore[arg-type]


__all__: list[str] = []
