"""The steps a consumer operation asks its shell to perform, as data (see ``_consume_core``).

An operation is a generator: it yields an Op and receives the result, or has the error thrown
in at the ``yield``. The sync shell performs Ops with blocking calls, the asyncio shell
awaits them.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol, TypeVar

from weir.sdk._call import Call
from weir.sdk._records import Message, TopicPartition

T = TypeVar("T")


class Flag(Protocol):
    """A threading.Event or an asyncio.Event: the parts the core uses."""

    def is_set(self) -> bool:
        """True once set."""
        ...

    def set(self) -> None:
        """Set it (waking waiters)."""
        ...

    def clear(self) -> None:
        """Clear it."""
        ...


@dataclass(frozen=True, slots=True)
class Callback:
    """Run a rebalance callback as ``fn(consumer, partitions)``; a coroutine is awaited."""

    fn: Callable[..., object]
    """The application's callback."""
    partitions: list[TopicPartition]
    """The partitions it is about, sorted."""


@dataclass(frozen=True, slots=True)
class Commit:
    """Commit these offsets through the shell (which keeps commits in order); returns them."""

    offsets: dict[TopicPartition, int]
    """Next offsets to store."""


@dataclass(frozen=True, slots=True)
class Fetch:
    """Fetch (or wait for the fetch in flight) for up to ``wait_s`` seconds."""

    wait_s: float
    """How long the server may hold the request when there is nothing to read."""


@dataclass(frozen=True, slots=True)
class Decode:
    """Deserialize these records; returns the Messages with keys and values as objects."""

    batch: list[Message]
    """Records taken from the buffers, their positions already past them."""


@dataclass(frozen=True, slots=True)
class Sleep:
    """The heartbeater waits ``seconds``, or less when woken (partitions were released)."""

    seconds: float
    """The heartbeat interval."""


Op = Call[Any] | Callback | Commit | Fetch | Decode | Sleep
"""One step an operation asks its shell to perform."""

Steps = Generator[Op, Any, T]
"""An operation: yields Ops, receives their results, returns its value."""

HeartbeatNext = Literal["rejoin", "wait", "stop"]
"""After a failed heartbeat: rejoin at once, wait the interval, or stop (closing)."""


class Stepper(Generic[T]):
    """Runs an operation for a shell: ``next()`` hands out each step; the shell sets ``result``
    (or ``error``, thrown in at the step) before asking for the next; ``value`` at the end.

        run = Stepper(steps)
        while (op := run.next()) is not None:
            try:
                run.result = perform(op)
            except BaseException as exc:
                run.error = exc
        return run.value
    """

    def __init__(self, steps: Steps[T]) -> None:
        self.steps = steps
        """The operation."""
        self.result: Any = None
        """What the last step returned."""
        self.error: BaseException | None = None
        """What the last step raised."""
        self.value: T
        """The operation's value, once ``next()`` returned None."""

    def next(self) -> Op | None:
        """The next step, or None when the operation returned (its value in ``value``)."""
        try:
            if self.error is None:
                op = self.steps.send(self.result)
            else:
                op = self.steps.throw(self.error)
        except StopIteration as done:
            self.value = done.value
            return None
        self.result = self.error = None
        return op


def _reply(reply: T) -> T:
    return reply


def rpc(stub: Literal["log", "groups"], method: str, request: Any, **kw: Any) -> Call[Any]:
    """An RPC step on the LogService or GroupService stub, returning the raw reply."""
    return Call(stub, method, request, kw.pop("parse", _reply), **kw)


__all__: list[str] = []
