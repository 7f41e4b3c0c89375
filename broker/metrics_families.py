"""Lock-free metric families for the hot paths, exposed through one scrape-time Collector.

prometheus_client's own Counter and Histogram take a lock per update (about 0.4 us for a
counter and 0.8 us for a histogram). Every hot-path update happens on the server's event
loop thread, so plain Python numbers do: an update here is a dict lookup and an add. The
collector turns them into the standard families when ``/metrics`` is scraped.

Each family keeps at most ``MAX_CHILDREN`` label sets; later ones are counted under
``OVERFLOW`` in every label, so no client can grow a scrape without bound.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

MAX_CHILDREN = 2000
"""The most label sets one family tracks before folding new ones into OVERFLOW."""
OVERFLOW = "_other"
"""The label value that absorbs label sets past MAX_CHILDREN."""


class CounterFamily:
    """A counter family: label values -> running total."""

    def __init__(self, name: str, doc: str, labels: Sequence[str]) -> None:
        self.name, self.doc, self.labels = name, doc, tuple(labels)
        self.values: dict[tuple[str, ...], float] = {}

    def inc(self, labels: tuple[str, ...], amount: float = 1) -> None:
        """Add ``amount`` to the series with these label values."""
        values = self.values
        if labels in values:
            values[labels] += amount
        elif len(values) < MAX_CHILDREN:
            values[labels] = amount
        else:
            key = (OVERFLOW,) * len(self.labels)
            values[key] = values.get(key, 0) + amount

    def metric(self) -> Metric:
        """The family as prometheus_client reports it."""
        family = CounterMetricFamily(self.name, self.doc, labels=self.labels)
        for labels, value in self.values.items():
            family.add_metric(labels, value)
        return family


class HistogramFamily:
    """A histogram family: label values -> bucket counts and sum."""

    def __init__(
        self, name: str, doc: str, labels: Sequence[str], buckets: Sequence[float]
    ) -> None:
        self.name, self.doc, self.labels = name, doc, tuple(labels)
        self.bounds = list(buckets)
        self.series: dict[tuple[str, ...], list[float]] = {}
        """Per label set: a count per bucket (the last is +Inf), then the sum."""

    def observe(self, labels: tuple[str, ...], value: float) -> None:
        """Record one observation."""
        row = self.series.get(labels)
        if row is None:
            if len(self.series) >= MAX_CHILDREN:
                labels = (OVERFLOW,) * len(self.labels)
            row = self.series.setdefault(labels, [0.0] * (len(self.bounds) + 2))
        row[bisect_left(self.bounds, value)] += 1
        row[-1] += value

    def metric(self) -> Metric:
        """The family with cumulative buckets, as Prometheus expects."""
        family = HistogramMetricFamily(self.name, self.doc, labels=self.labels)
        edges = [floatToGoString(b) for b in self.bounds]  # type: ignore[no-untyped-call]
        edges.append("+Inf")
        for labels, row in self.series.items():
            running, buckets = 0.0, []
            for edge, count in zip(edges, row, strict=False):
                running += count
                buckets.append((edge, running))
            family.add_metric(list(labels), buckets, row[-1])
        return family


class FamiliesCollector(Collector):
    """Reports a fixed list of families at scrape time."""

    def __init__(self, families: Sequence[CounterFamily | HistogramFamily]) -> None:
        self.families = tuple(families)

    def collect(self) -> Iterator[Metric]:
        """Every family, read now."""
        for family in self.families:
            yield family.metric()
