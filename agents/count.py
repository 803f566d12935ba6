"""entity events → counts table (total + windows) → entities.mentions; trend scores on."""

from __future__ import annotations

import time
from functools import partial
from typing import Any

from stream.clock import to_iso, utc_now
from stream.counts.apply import count_event, prune_counts
from stream.counts.windows import window_name
from stream.records import decode_entity_event
from stream.runtime.context import WorkerContext
from stream.runtime.events import finished_events
from stream.runtime.guard import guarded
from stream.runtime.housekeeping import StreamClock, partition_of
from stream.runtime.publishing import send_counted


def register(ctx: WorkerContext) -> None:
    app, settings, table, index = ctx.app, ctx.settings, ctx.counts_table, ctx.count_index
    clock = StreamClock()
    retention = {window_name(size): keep for size, keep in settings.window_retention_s.items()}

    @table.on_recover
    async def rebuild_index() -> None:
        topic = table.changelog_topic.get_topic_name()
        active = {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == topic}
        index.rebuild(table.items(), partial(partition_of, partitions=settings.partitions), active)

    @app.agent(ctx.entity_events_topic, name="count")
    async def count_mentions(stream: Any) -> None:
        async for event in finished_events(stream, ctx.progress):
            async with guarded(ctx, event.message, "count"):
                entity_event, partition = decode_entity_event(event.value), event.message.partition
                counted = count_event(table, index, entity_event, partition, to_iso(utc_now()),
                                      baseline_windows=settings.trend_baseline_windows,
                                      min_mentions=settings.trend_min_mentions)
                await send_counted(ctx, counted)
                ctx.metrics.observe_counted(counted)
                clock.observe(partition, entity_event["event_time"])
                stream_time = clock.time(partition)
                if stream_time is not None and clock.due(partition, time.monotonic()):
                    prune_counts(table, index, partition, stream_time, retention)
