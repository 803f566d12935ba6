"""articles (one ordered partition) → de-duplicate → articles.enriched, and entity events for
the articles that count."""

from __future__ import annotations

import time
from typing import Any

import orjson

from agents.events import finished_events
from stream.context import WorkerContext
from stream.counting import entity_events, window_name
from stream.dedup import STREAM_TIME, Fingerprint, SimIndex, decide, expired_keys, forget
from stream.delivery import send_watched
from stream.guard import guarded
from stream.retention import Pacer

PRUNE_EVERY_S = 300.0


def register(ctx: WorkerContext) -> None:
    app, settings, table, metrics = ctx.app, ctx.settings, ctx.dedup_table, ctx.metrics
    pruning = Pacer(PRUNE_EVERY_S, started=time.monotonic())
    near = SimIndex(settings.near_duplicate_distance)

    @table.on_recover
    async def rebuild_index() -> None:
        near.rebuild(table.items())

    @app.agent(ctx.articles_topic, name="dedup")
    async def deduplicate(stream: Any) -> None:
        async for event in finished_events(stream, ctx.progress):
            async with guarded(ctx, event.message, "dedup"):
                await handle(event)

    async def handle(event: Any) -> None:
        record = orjson.loads(event.value)
        item = Fingerprint.from_json(record["fingerprint"])
        at = (event.message.partition, event.message.offset)
        decision = decide(table, near, item, at, sizes=settings.count_windows_s,
                          grace_s=settings.count_grace_s,
                          count_near=settings.count_near_duplicates)
        enriched = record["enriched"]
        enriched["duplicate_of"] = decision.duplicate_of
        await send_watched(ctx.enriched_topic, enriched["id"].encode(),
                           orjson.dumps(enriched), metrics.publish_failed)
        if not decision.replay:
            if decision.reason:
                metrics.duplicates.labels(decision.reason).inc()
            if decision.counted:
                for size in set(settings.count_windows_s) - set(decision.sizes):
                    metrics.late.labels(window_name(size)).inc()
        if decision.counted:
            for entity_event in entity_events(enriched, item.event_time, decision.sizes, at):
                await send_watched(ctx.entity_events_topic,
                                   entity_event["entity_id"].encode(),
                                   orjson.dumps(entity_event), metrics.publish_failed)
        if pruning.due(time.monotonic()):
            stream_time = table.get(STREAM_TIME)
            if stream_time is not None:
                horizon = stream_time - settings.dedup_window_s
                forget(table, near, expired_keys(list(table.items()), horizon))
