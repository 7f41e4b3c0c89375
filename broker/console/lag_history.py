"""Recent consumer-group lag, sampled in the background for the console's charts.

Memory is bounded: each group keeps a ring buffer of ``capacity`` samples, at most
``max_groups`` groups are tracked, and groups that disappear are dropped at the next sample.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from weir.broker.groups.service import GroupManager
from weir.core.errors import NotFoundError

log = logging.getLogger("weir.console")
WINDOW_MS = 10 * 60 * 1000
"""How far back the charts reach."""
MAX_SAMPLES = 720
"""The most samples kept per group, whatever the interval."""


@dataclass(frozen=True, slots=True)
class LagSample:
    """A group's lag at one moment."""

    at_ms: int
    """When it was taken (wall clock, ms)."""
    records: int
    """Lag in records, summed over the group's partitions."""
    seconds: float
    """The oldest unconsumed record's age over the group's partitions, in seconds."""


class LagHistory:
    """Ring buffers of lag samples per group."""

    def __init__(self, interval_ms: int, max_groups: int = 1000) -> None:
        self.interval_ms = max(interval_ms, 10)
        """Time between samples."""
        self.capacity = max(2, min(MAX_SAMPLES, WINDOW_MS // self.interval_ms))
        """Samples kept per group."""
        self.max_groups = max_groups
        """Groups tracked at most."""
        self._samples: dict[str, deque[LagSample]] = {}

    def add(self, group_id: str, sample: LagSample) -> None:
        """Record one sample (ignored for a new group once max_groups are tracked)."""
        ring = self._samples.get(group_id)
        if ring is None:
            if len(self._samples) >= self.max_groups:
                return
            ring = self._samples[group_id] = deque(maxlen=self.capacity)
        ring.append(sample)

    def samples(self, group_id: str) -> Sequence[LagSample]:
        """The group's samples, oldest first."""
        return tuple(self._samples.get(group_id, ()))

    def retain(self, group_ids: set[str]) -> None:
        """Forget groups that no longer exist."""
        for gone in set(self._samples) - group_ids:
            del self._samples[gone]

    async def sample_once(self, groups: GroupManager) -> None:
        """Describe every group once and record its lag."""
        views = groups.list_groups()
        self.retain({v.group_id for v in views})
        for view in views:
            try:
                described = await groups.describe(view.group_id)
            except NotFoundError:  # deleted while we sampled
                continue
            lags = described.partitions
            self.add(
                view.group_id,
                LagSample(
                    groups.now_ms(),
                    sum(p.lag_records for p in lags),
                    max((p.lag_ms for p in lags), default=0) / 1000,
                ),
            )

    async def run(self, groups: GroupManager) -> None:
        """Sample forever, every interval (the console runs this as a task)."""
        while True:
            try:
                await self.sample_once(groups)
            except Exception:
                log.exception("console lag sampling failed; will retry")
            await asyncio.sleep(self.interval_ms / 1000)
