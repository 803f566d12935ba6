"""entity events → counts table (running total + tumbling windows) → entities.mentions."""

from __future__ import annotations

import time
from typing import Any

import orjson

from stream.clock import to_iso, utc_now
from stream.context import WorkerContext
from stream.counting import apply_event, count_key, count_update, windows_for
from stream.retention import WindowPruner


def register(ctx: WorkerContext) -> None:
    app, settings, table = ctx.app, ctx.settings, ctx.counts_table
    pruner = WindowPruner(settings.count_window_retention_s, settings.partitions)

    @app.agent(ctx.entity_events_topic, name="count")
    async def count_mentions(stream: Any) -> None:
        async for event in stream.events():
            entity_event = orjson.loads(event.value)
            updated_at = to_iso(utc_now())
            for window in windows_for(entity_event["event_time"], settings.count_windows_s):
                key = count_key(entity_event["entity_id"], window)
                value = apply_event(table.get(key), entity_event)
                table[key] = value
                update = count_update(entity_event, window, value, updated_at)
                await ctx.mentions_topic.send(key=key.encode(), value=orjson.dumps(update))
                ctx.metrics.count_updates.labels(window.name).inc()
            partition = event.message.partition
            pruner.observe(partition, entity_event["event_time"])
            if pruner.due(partition, time.monotonic()):
                for key in pruner.expired_keys(partition, list(table.keys())):
                    del table[key]
