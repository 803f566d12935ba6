"""Stream iteration that processes each partition's records once each, in log order, and never
acknowledges an event the agent did not finish.

- faust acknowledges the current event in a ``finally`` block of its stream iterator, so an
  agent cancelled in the middle of an event (the worker stopping) acknowledges it anyway, and a
  commit can then skip it for good. Here an event is acknowledged only when the agent comes
  back for the next one.
- Around a rebalance faust can deliver a partition's records out of order: records of a batch
  fetched before the rebalance arrive after the partition was sought back to its committed
  offset, ahead of the records before them (its own guard against this dropped records
  outright; `stream.runtime.faust_internals` switches it off). The counts rely on log order, so
  here a record is processed only when it is the next one of its partition: a record ahead of
  that is skipped unacknowledged (the fetch from the committed offset brings it again), and a
  record behind it was processed already. A record of a partition revoked from this worker is
  skipped: its new owner processes it.

Limit: a partition whose offsets have gaps (compacted topics, transaction markers) would wait
at the first gap; newsstream's topics have none, and crawlers must not produce to the raw
topics transactionally.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from stream.runtime.faust_internals import start_offset
from stream.runtime.health import Progress

log = logging.getLogger(__name__)
# Records ahead of the expected one for this long: is the expected one still in the log?
OUT_OF_RANGE_CHECK_S = 5.0


async def _log_start_past(app: Any, tp: Any, expected: int, ahead: dict[Any, float],
                          progress: Progress | None) -> int | None:
    """Where the log of ``tp`` now starts, when that is past ``expected`` (the committed offset
    fell out of retention, or the log started over and has been cut since): the records before
    it will never come. Asked of the broker only after records ahead of ``expected`` have come
    for a few seconds (a stale batch after a rebalance is followed by the expected record
    within moments)."""
    now = time.monotonic()
    since = ahead.setdefault(tp, now)
    if now - since < OUT_OF_RANGE_CHECK_S:
        return None
    ahead[tp] = now  # ask again in a while, not for every record
    earliest = (await app.consumer.earliest_offsets(tp)).get(tp)
    if earliest is None or earliest <= expected:
        return None
    log.error("%s/%s: log reset: offset %d is no longer in the log, which starts at %d: "
              "%d records were deleted before they were read; resuming there",
              tp.topic, tp.partition, expected, earliest, earliest - expected)
    if progress is not None and progress.on_log_reset is not None:
        progress.on_log_reset(tp.topic)
    ahead.pop(tp, None)
    # The records from there on that were passed over as ahead are fetched again, in order.
    await app.consumer.seek_wait({tp: earliest})  # in the consumer's thread
    return int(earliest)


async def finished_events(stream: Any, progress: Progress | None = None) -> AsyncIterator[Any]:
    """The stream's events in log order per partition, each acknowledged once the agent asks
    for the next; ``progress`` learns of every finished record (for readiness)."""
    app = stream.app
    manual = stream.noack()
    following: dict[Any, int] = {}  # partition → the offset of its next record
    ahead: dict[Any, float] = {}  # partition → since when only later records have come
    generation = None
    assigned: set[Any] = set()
    async for event in manual.events():
        if app.consumer_generation_id != generation:  # a rebalance: positions were sought
            generation = app.consumer_generation_id
            following.clear()
            assigned = set(app.consumer.assignment())
        tp, offset = event.message.tp, event.message.offset
        if progress is not None and (start := progress.take_rewind(tp)) is not None:
            following[tp] = start  # the log started over: its records begin again there
            ahead.pop(tp, None)
        if tp not in assigned:
            assigned = set(app.consumer.assignment())
            if tp not in assigned:  # a partition now owned by another worker
                continue
        expected = following.get(tp)
        if expected is None:
            # where the partition was sought to at its assignment
            start = start_offset(app.consumer, tp)
            expected = start if start is not None else offset
        if offset > expected:
            start = await _log_start_past(app, tp, expected, ahead, progress)
            if start is not None:
                following[tp] = expected = start
        if offset != expected:  # behind: done before; ahead: comes again in order
            continue
        ahead.pop(tp, None)
        yield event
        # Reached only when the agent comes back for the next event, i.e. finished this one.
        await manual.ack(event)
        following[tp] = offset + 1
        if progress is not None:
            progress.finished(tp, offset, time.monotonic())
