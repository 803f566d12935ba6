"""articles (one ordered partition) → de-duplicate → articles.enriched, and entity events."""

from __future__ import annotations

import time
from typing import Any

from stream.dedup.decision import deduplicate, prune
from stream.dedup.index import SimIndex
from stream.records import decode_envelope
from stream.runtime.context import WorkerContext
from stream.runtime.events import finished_events
from stream.runtime.guard import guarded
from stream.runtime.housekeeping import Pacer
from stream.runtime.publishing import send_deduplicated

PRUNE_EVERY_S = 300.0  # the de-duplication table is one partition: a full scan, seldom


def register(ctx: WorkerContext) -> None:
    settings, table, metrics = ctx.settings, ctx.dedup_table, ctx.metrics
    pruning = Pacer(PRUNE_EVERY_S, started=time.monotonic())
    near = SimIndex(settings.near_duplicate_distance)
    # The articles log's id as this run started: positions are of that log (one created
    # again under the same name restarts the worker, and so this).
    articles_log = ctx.topic_ids.get(settings.articles_topic, "")

    @table.on_recover
    async def rebuild_index() -> None:
        near.rebuild(table.items())

    @ctx.app.agent(ctx.articles_topic, name="dedup")
    async def deduplicate_articles(stream: Any) -> None:
        async for event in finished_events(stream, ctx.progress):
            async with guarded(ctx, event.message, "dedup"):
                done = deduplicate(table, near, decode_envelope(event.value),
                                   (event.message.partition, event.message.offset),
                                   sizes=settings.count_windows_s, grace_s=settings.count_grace_s,
                                   count_near=settings.count_near_duplicates, log=articles_log)
                await send_deduplicated(ctx, done)
                metrics.observe_dedup(done)
                if pruning.due(time.monotonic()):
                    prune(table, near, settings.dedup_window_s)
