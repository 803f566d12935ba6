"""The counting agent's flush: the folded counts (:mod:`stream.counts.fold`) written to the
counts table and published, once per interval, before every commit, when partitions are
revoked and when the worker stops.

Order of a flush, and why each step waits for the one before:

1. the changed values go to the table and its changelog, and the flush waits until the broker
   has them: a worker that dies after this point recovers them, and the redelivered events
   (their offsets are not committed yet) publish them again as redeliveries;
2. the ``entities.mentions`` records and one record of trend scores, delivered;
3. final mode: the windows whose final record was delivered are marked ``final`` in the table
   (marked before delivery, a crash in between would lose that record for good);
4. the commit (:class:`~stream.runtime.flushing.CommitGuard` holds the lock across the flush
   and the commit: an event folded after the flush took the changes must not have its offset
   committed by this commit).

A flush that fails keeps its changes for the next one and holds the commit back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from functools import partial
from typing import Any

import orjson

from stream.clock import to_iso, utc_now
from stream.counts.apply import prune_counts
from stream.counts.fold import CountFold, FlushPlan, Folded
from stream.counts.index import CountIndex
from stream.counts.keys import entity_of
from stream.counts.windows import window_name
from stream.records import EntityEvent, TrendScores, encode
from stream.runtime.batches import send_batched
from stream.runtime.context import WorkerContext
from stream.runtime.delivery import describe
from stream.runtime.faust_internals import PartitionedTable, kafka_producer
from stream.runtime.housekeeping import StreamClock, partition_of

log = logging.getLogger(__name__)
TREND_SCORES_KEY = b"scores"


class CountFlusher:
    """Folds entity events and flushes them; ``lock`` is held by the agent around each event
    and by a flush, so that neither sees the other half done."""

    def __init__(self, ctx: WorkerContext) -> None:
        self.ctx = ctx
        counting = ctx.counting
        self.partition_of = partial(partition_of, partitions=ctx.topics.partitions)
        self.table = PartitionedTable(ctx.counts_table,
                                      lambda key: self.partition_of(entity_of(key)))
        self.fold = CountFold(ctx.counts_table, counting.emit)
        self.index: CountIndex = ctx.count_index
        self.clock = StreamClock()
        self.retention = {window_name(size): keep
                          for size, keep in counting.window_retention_s.items()}
        self.failpoints = ctx.failpoints
        self.lock = asyncio.Lock()

    def recovered(self, partitions: set[int]) -> None:
        """After a recovery of the table: the query index and the open windows of the
        ``partitions`` now this worker's."""
        items = list(self.ctx.counts_table.items())
        self.index.rebuild(items, self.partition_of, partitions)
        self.fold.rebuild(items, self.partition_of, partitions)

    def add(self, events: list[EntityEvent], partition: int) -> None:
        """Fold the entity events of one record (the caller holds :attr:`lock`)."""
        counted = Folded()
        for event in events:
            folded, changed = self.fold.apply(event, partition)
            for key, value in changed:
                self.index.put(key, value, partition)
            counted.counted.extend(folded.counted)
            counted.redelivered += folded.redelivered
            self.clock.observe(partition, event["event_time"])
        self.ctx.metrics.observe_counted(counted)
        self.ctx.metrics.count_pending.set(len(self.fold))

    async def flush(self) -> bool:
        """Write and publish what was folded (the caller holds :attr:`lock`); False if that
        failed (the changes are kept for the next flush)."""
        counting, metrics = self.ctx.counting, self.ctx.metrics
        taken = self.fold.take()
        closing = self.fold.closing(self.clock.times(), counting.grace_s) \
            if counting.emit == "final" else []
        if not taken and not closing:
            return await self._prune()
        plan = self.fold.plan(taken, closing, to_iso(utc_now()),
                              baseline_windows=counting.trend_baseline_windows,
                              min_mentions=counting.trend_min_mentions)
        started = time.perf_counter()
        try:
            await self._write(plan)
        except Exception as error:
            self.fold.restore(taken)
            self.fold.reopen(closing)
            metrics.count_flushes.labels("failed").inc()
            log.error("count flush failed (%d keys kept for the next): %s", len(taken),
                      describe(error))
            return False
        finally:
            metrics.count_pending.set(len(self.fold))
        self.fold.flushed()
        metrics.count_flushes.labels("ok").inc()
        metrics.stage_seconds.labels("count-flush").observe(time.perf_counter() - started)
        return await self._prune()

    async def _write(self, plan: FlushPlan) -> None:
        ctx, metrics = self.ctx, self.ctx.metrics
        for _partition, key, value in plan.writes:
            self.table[key] = value
        await self.table.send_changelog(self.ctx.app)
        metrics.count_flushed.labels("changelog").inc(len(plan.writes))
        self.failpoints.reach("count-after-changelog")
        producer = kafka_producer(ctx.app)
        mentions = ((None, key.encode(), orjson.dumps(update))
                    for _partition, key, update in plan.updates)
        sent = await send_batched(producer, ctx.topics.mentions, mentions)
        if plan.scores:
            batch: TrendScores = {"scores": plan.scores}
            sent.append(await ctx.trend_scores_topic.send(key=TREND_SCORES_KEY,
                                                          value=encode(batch)))
        await asyncio.gather(*sent)
        metrics.count_flushed.labels("mentions").inc(len(plan.updates))
        metrics.count_flushed.labels("scores").inc(len(plan.scores))
        if plan.closed:
            for _partition, key, value in plan.closed:
                self.table[key] = value
            await self.table.send_changelog(self.ctx.app)

    async def _prune(self) -> bool:
        """Drop the windows past their retention (at most every 30 s per partition)."""
        now = time.monotonic()
        for partition, stream_time in self.clock.times().items():
            if not self.clock.due(partition, now):
                continue
            for key in prune_counts(self.table, self.index, partition, stream_time,
                                    self.retention):
                self.fold.forget(key)
        try:
            await self.table.send_changelog(self.ctx.app)
        except Exception as error:  # deletions: the next recovery finds the keys, pruned again
            log.warning("pruned count keys not confirmed: %s", describe(error))
        return True

    async def on_revoked(self, revoked: set[Any]) -> None:
        """Before partitions go to another worker: flush, so that their new owner recovers the
        counts; what could not be flushed is forgotten (the new owner counts those events
        again, from the last commit)."""
        topic = self.ctx.entity_events_topic.get_topic_name()
        partitions = {tp.partition for tp in revoked if tp.topic == topic}
        async with self.lock:
            flushed = await self.flush()
            dropped = self.fold.discard(partitions)
        if not flushed and dropped:
            log.warning("count changes of revoked partitions %s forgotten: %d keys",
                        sorted(partitions), dropped)
