"""Retry with exponential backoff and jitter, free of I/O, shared by the sync and asyncio clients.

Only errors whose class says ``retriable`` (UnavailableError, StorageFullError) are retried;
everything else (a bad argument, a missing topic, an incompatible schema) fails at once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from weir.core.errors import InvalidArgumentError, WeirError


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a call is retried after a retriable error."""

    attempts: int = 6
    """Calls in total, the first one included; 1 turns retries off."""
    initial_backoff_s: float = 0.1
    """The pause before the first retry."""
    max_backoff_s: float = 2.0
    """The cap on any one pause."""
    multiplier: float = 2.0
    """How much each pause grows over the last."""

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise InvalidArgumentError(f"retry attempts must be at least 1, got {self.attempts}")
        if self.initial_backoff_s < 0 or self.max_backoff_s < self.initial_backoff_s:
            raise InvalidArgumentError(
                "retry backoff must satisfy 0 <= initial_backoff_s <= max_backoff_s, got "
                f"{self.initial_backoff_s} and {self.max_backoff_s}"
            )

    def backoff_s(self, attempt: int) -> float:
        """The pause after failed attempt number ``attempt`` (from 1), with full jitter."""
        ceiling = min(self.max_backoff_s, self.initial_backoff_s * self.multiplier ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)

    def next_delay(self, error: WeirError, attempt: int) -> float | None:
        """The pause before retrying after ``error`` on ``attempt``, or None to give up."""
        if not error.retriable or attempt >= self.attempts:
            return None
        return self.backoff_s(attempt)


NO_RETRY = RetryPolicy(attempts=1)
"""A policy that never retries: for calls that must not run twice."""

__all__ = ["RetryPolicy"]
