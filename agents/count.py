"""entity events → counts table (running total + tumbling windows) → entities.mentions, and
trend scores on to the ranking partition."""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import orjson

from agents.events import finished_events
from stream.clock import to_iso, utc_now
from stream.context import WorkerContext
from stream.counting import Window, count_key, count_update, event_windows, window_name
from stream.counting import apply_event as apply_to_count
from stream.delivery import send_watched
from stream.guard import guarded
from stream.retention import StreamClock, horizons, partition_of
from stream.trending import board_key, score_update


def register(ctx: WorkerContext) -> None:
    app, settings, table, index = ctx.app, ctx.settings, ctx.counts_table, ctx.count_index
    clock = StreamClock()
    retention = {window_name(size): keep for size, keep in settings.window_retention_s.items()}

    @table.on_recover
    async def rebuild_index() -> None:
        topic = table.changelog_topic.get_topic_name()
        active = {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == topic}
        index.rebuild(table.items(), partial(partition_of, partitions=settings.partitions),
                      active)

    def baseline(entity_id: str, window: Window) -> list[int]:
        size = window.size or 0
        values = (table.get(count_key(entity_id, Window(window.name, start, start + size)))
                  for start in (window.start - k * size  # type: ignore[operator]
                                for k in range(1, settings.trend_baseline_windows + 1)))
        return [value["mentions"] if value else 0 for value in values]

    @app.agent(ctx.entity_events_topic, name="count")
    async def count_mentions(stream: Any) -> None:
        async for event in finished_events(stream, ctx.progress):
            async with guarded(ctx, event.message, "count"):
                await handle(event)

    async def handle(event: Any) -> None:
        entity_event = orjson.loads(event.value)
        partition = event.message.partition
        updated_at = to_iso(utc_now())
        for window in event_windows(entity_event):
            key = count_key(entity_event["entity_id"], window)
            current = table.get(key)
            value = apply_to_count(current, entity_event)
            if value is None:  # applied before this redelivery
                ctx.metrics.redeliveries.inc()
                # The table kept the update but its record on the mentions topic may have died
                # with the worker (the two are not written atomically): publish the current
                # value again, which consumers keeping the latest value per key take as is.
                update = count_update(entity_event, window, current, updated_at)
                await send_watched(ctx.mentions_topic, key.encode(), orjson.dumps(update),
                                   ctx.metrics.publish_failed)
                continue
            table[key] = value
            index.put(key, value, partition)
            update = count_update(entity_event, window, value, updated_at)
            await send_watched(ctx.mentions_topic, key.encode(), orjson.dumps(update),
                               ctx.metrics.publish_failed)
            ctx.metrics.count_updates.labels(window.name).inc()
            if window.start is not None and value["mentions"] >= settings.trend_min_mentions:
                score = score_update(entity_event, window, value["mentions"],
                                     baseline(entity_event["entity_id"], window))
                await send_watched(ctx.trend_scores_topic, board_key(score).encode(),
                                   orjson.dumps(score), ctx.metrics.publish_failed)
        clock.observe(partition, entity_event["event_time"])
        stream_time = clock.time(partition)
        if stream_time is not None and clock.due(partition, time.monotonic()):
            for key in index.expired_keys(partition, horizons(stream_time, retention)):
                del table[key]
                index.remove(key)
