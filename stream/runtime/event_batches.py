"""De-duplication's entity events on their way to counting: gathered for a short interval and
sent as one record per counting partition, whatever the number of articles they come from.

One record per entity (or per article) costs a producer send on one side and a faust event on
the other; both measured as much CPU as counting the events. Every event keeps its source
position, so counting applies each once whatever batch it comes in; a batch is sent before the
offsets of its articles are committed (:class:`~stream.runtime.flushing.CommitGuard`), and
lost with a crash, its articles come again and de-duplication replays its decisions.
"""

from __future__ import annotations

import asyncio
from functools import partial

from stream.counts.apply import events_by_partition
from stream.records import EntityBatch, EntityEvent, encode
from stream.runtime.context import WorkerContext
from stream.runtime.flushing import flush_holding_lock, flush_on_revoke
from stream.runtime.housekeeping import partition_of

# How long events wait for others: a tenth of a second adds that to a dashboard's latency and
# gathers tens of articles per record at load.
BATCH_S = 0.1
MAX_EVENTS_PER_RECORD = 2_000  # a record of ~0.5 MB: far below every size limit


class EntityEventBatcher:
    def __init__(self, ctx: WorkerContext) -> None:
        self.ctx = ctx
        self.lock = asyncio.Lock()
        self._partition_of = partial(partition_of, partitions=ctx.topics.partitions)
        self._pending: list[EntityEvent] = []

    def add(self, events: list[EntityEvent]) -> None:
        """Hold an article's entity events (the caller holds :attr:`lock`)."""
        self._pending.extend(events)

    async def flush(self) -> bool:
        taken, self._pending = self._pending, []
        if not taken:
            return True
        try:
            sent = []
            for partition, events in events_by_partition(taken, self._partition_of):
                for start in range(0, len(events), MAX_EVENTS_PER_RECORD):
                    batch: EntityBatch = {"events": events[start:start + MAX_EVENTS_PER_RECORD]}
                    sent.append(await self.ctx.entity_events_topic.send(
                        key=None, value=encode(batch), partition=partition))
            await asyncio.gather(*sent)
        except Exception as error:
            self._pending = taken + self._pending  # sent again: counting ignores repeats
            self.ctx.metrics.publish_failed(self.ctx.topics.entity_events, error)
            return False
        return True

    @classmethod
    def installed(cls, ctx: WorkerContext) -> EntityEventBatcher:
        """A batcher flushed every :data:`BATCH_S`, before every commit and when partitions
        are revoked (one that fails there: the articles' next owner sends them again)."""
        batcher = cls(ctx)
        ctx.commit_guard.add(batcher)

        async def send_entity_events() -> None:
            await flush_holding_lock(batcher)

        ctx.app.timer(interval=BATCH_S)(send_entity_events)
        flush_on_revoke(ctx.app, batcher)
        return batcher
