"""RetryPolicy: exponential growth, the cap, full-jitter range, attempts, and which errors retry."""

from __future__ import annotations

import random

import pytest

from weir.core import errors
from weir.core.errors import all_reasons, error_class
from weir.sdk import RetryPolicy
from weir.sdk._retry import NO_RETRY


def _pin_jitter(monkeypatch: pytest.MonkeyPatch, pick: str) -> None:
    """Make random.uniform(lo, hi) answer its lower or upper bound."""
    monkeypatch.setattr(random, "uniform", lambda lo, hi: lo if pick == "low" else hi)


def test_backoff_grows_by_the_multiplier(monkeypatch: pytest.MonkeyPatch) -> None:
    _pin_jitter(monkeypatch, "high")
    policy = RetryPolicy(attempts=10, initial_backoff_s=0.1, max_backoff_s=100, multiplier=3)
    ceilings = [policy.backoff_s(n) for n in range(1, 6)]
    assert ceilings == pytest.approx([0.1, 0.3, 0.9, 2.7, 8.1])


def test_backoff_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    _pin_jitter(monkeypatch, "high")
    policy = RetryPolicy(attempts=50, initial_backoff_s=0.05, max_backoff_s=2.0, multiplier=2)
    pauses = [policy.backoff_s(n) for n in range(1, 40)]
    assert max(pauses) == pytest.approx(2.0)
    assert pauses[-1] == pytest.approx(2.0)
    # the cap is reached exactly where 0.05 * 2**(n-1) first passes 2.0 (n = 7: 3.2)
    assert pauses[5] == pytest.approx(1.6)
    assert pauses[6] == pytest.approx(2.0)


def test_jitter_lower_bound_is_half_the_ceiling(monkeypatch: pytest.MonkeyPatch) -> None:
    _pin_jitter(monkeypatch, "low")
    policy = RetryPolicy(initial_backoff_s=0.2, max_backoff_s=1.0, multiplier=2)
    assert [policy.backoff_s(n) for n in (1, 2, 3, 4)] == pytest.approx([0.1, 0.2, 0.4, 0.5])


def test_jitter_spreads_within_half_to_full_ceiling() -> None:
    policy = RetryPolicy(initial_backoff_s=0.4, max_backoff_s=10, multiplier=2)
    for attempt, ceiling in ((1, 0.4), (2, 0.8), (3, 1.6)):
        samples = [policy.backoff_s(attempt) for _ in range(2000)]
        assert all(ceiling / 2 <= s <= ceiling for s in samples), attempt
        # jitter really varies: the samples cover most of the range, not one value
        assert max(samples) - min(samples) > 0.8 * (ceiling / 2)
        assert len(set(samples)) > 1900


def test_attempts_counts_calls_including_the_first() -> None:
    policy = RetryPolicy(attempts=3, initial_backoff_s=0.01, max_backoff_s=0.01)
    error = errors.UnavailableError("down")
    assert policy.next_delay(error, 1) is not None
    assert policy.next_delay(error, 2) is not None
    assert policy.next_delay(error, 3) is None
    assert policy.next_delay(error, 4) is None


def test_one_attempt_and_no_retry_never_retry() -> None:
    error = errors.UnavailableError("down")
    assert RetryPolicy(attempts=1).next_delay(error, 1) is None
    assert NO_RETRY.attempts == 1
    assert NO_RETRY.next_delay(error, 1) is None


@pytest.mark.parametrize("reason", all_reasons())
def test_only_retriable_errors_are_retried(reason: str) -> None:
    cls = error_class(reason)
    delay = RetryPolicy(attempts=5).next_delay(cls("boom"), 1)
    if cls.retriable:
        assert delay is not None
        assert 0 < delay <= RetryPolicy().max_backoff_s
    else:
        assert delay is None, f"{cls.__name__} is not retriable but would be retried"


def test_the_retriable_classes_are_unavailable_and_storage_full() -> None:
    retriable = {error_class(r).__name__ for r in all_reasons() if error_class(r).retriable}
    assert retriable == {"UnavailableError", "StorageFullError"}


def test_non_retriable_error_is_not_retried_even_with_attempts_left() -> None:
    policy = RetryPolicy(attempts=100)
    for error in (
        errors.TopicNotFoundError("no topic"),
        errors.InvalidArgumentError("bad"),
        errors.IncompatibleSchemaError("no"),
        errors.WeirError("internal"),
    ):
        assert policy.next_delay(error, 1) is None, type(error).__name__


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"attempts": 0}, "attempts must be at least 1"),
        ({"attempts": -3}, "attempts must be at least 1"),
        ({"initial_backoff_s": -0.1}, "0 <= initial_backoff_s <= max_backoff_s"),
        ({"initial_backoff_s": 3.0, "max_backoff_s": 1.0}, "initial_backoff_s <= max_backoff_s"),
    ],
)
def test_bad_policies_are_refused(kwargs: dict[str, float], needle: str) -> None:
    with pytest.raises(errors.InvalidArgumentError, match=needle):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_policy_is_a_frozen_value() -> None:
    policy = RetryPolicy()
    with pytest.raises(AttributeError):
        policy.attempts = 9  # type: ignore[misc]
    assert policy == RetryPolicy()
