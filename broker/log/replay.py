"""Replaying an internal topic (``_schemas``, ``__consumer_offsets``, ``__acls``) past damage.

The server rebuilds state by reading such a topic from its log start. A batch that cannot be
read (a flipped bit, a lost page) must not stop the server: the replay steps over it, one
offset at a time until a whole batch serves again, so one bad batch costs only its own
records. Each damaged batch is logged once, naming the file, the byte and what was lost.
This is the trade-off Kafka makes when a record of a corrupt segment is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from weir.broker.log.api import Record
from weir.core.errors import CorruptDataError


class DamageSkipper:
    """Steps a replay past offsets that cannot be read, logging each damaged batch once."""

    def __init__(self, logger: logging.Logger, topic: str, lost: str) -> None:
        """``lost`` says what the records of a skipped batch held and what to do about it."""
        self.logger = logger
        """Where the warnings go."""
        self.topic = topic
        """The topic being replayed (named in each warning)."""
        self.lost = lost
        """What a skipped batch's loss means, for the operator."""
        self.skipped = 0
        """Offsets skipped so far."""
        self._last: tuple[str, str] | None = None

    def skip(self, offset: int, exc: CorruptDataError) -> int:
        """The next offset to try after ``offset`` could not be read."""
        where = (exc.metadata.get("file", "?"), exc.metadata.get("position", "?"))
        if where != self._last:
            self._last = where
            self.logger.warning(
                "%s replay: skipped the damaged batch at byte %s of %s (from offset %d): %s",
                self.topic,
                where[1],
                where[0],
                offset,
                self.lost,
            )
        self.skipped += 1
        return offset + 1


def replay(
    read: Callable[[int], list[Record]], start: int, end: int, skipper: DamageSkipper
) -> Iterator[Record]:
    """Every readable record in [start, end), oldest first; ``read(offset)`` reads a chunk."""
    offset = start
    while offset < end:
        try:
            batch = read(offset)
        except CorruptDataError as exc:
            offset = skipper.skip(offset, exc)
            continue
        if not batch:
            return
        yield from batch
        offset = batch[-1].offset + 1
