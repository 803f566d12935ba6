"""articles (one ordered partition) → de-duplicate → articles.enriched, entity events."""

from __future__ import annotations

import time
from typing import Any

from stream.dedup.decision import deduplicate, prune
from stream.dedup.index import SimIndex
from stream.records import decode_envelope
from stream.runtime.context import WorkerContext
from stream.runtime.event_batches import EntityEventBatcher
from stream.runtime.events import finished_events
from stream.runtime.guard import guarded
from stream.runtime.housekeeping import Pacer
from stream.runtime.publishing import send_deduplicated

PRUNE_EVERY_S = 300.0  # the de-duplication table is one partition: a full scan, seldom


def register(ctx: WorkerContext) -> None:
    counting, table, metrics = ctx.counting, ctx.dedup_table, ctx.metrics
    pruning = Pacer(PRUNE_EVERY_S, started=time.monotonic())
    near = SimIndex(counting.near_duplicate_distance)
    # The articles log's id at start: positions are of that log (a new one restarts us).
    articles_log = ctx.topic_ids.get(ctx.topics.articles, "")
    batcher = EntityEventBatcher.installed(ctx)  # entity events on to counting, in batches

    @table.on_recover
    async def rebuild_index() -> None:
        near.rebuild(table.items())

    @ctx.app.agent(ctx.articles_topic, name="dedup")
    async def deduplicate_articles(stream: Any) -> None:
        async for event in finished_events(stream, ctx.progress):
            async with batcher.lock, guarded(ctx, event.message, "dedup"):
                done = deduplicate(table, near, decode_envelope(event.value),
                                   (event.message.partition, event.message.offset),
                                   sizes=counting.windows_s, grace_s=counting.grace_s,
                                   count_near=counting.count_near_duplicates, log=articles_log)
                await send_deduplicated(ctx, done, batcher.add)
                metrics.observe_dedup(done)
                if pruning.due(time.monotonic()):
                    prune(table, near, counting.dedup_window_s)
