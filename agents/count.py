"""entity events → counts folded per (entity, window) → flushed to the counts table,
entities.mentions and the trend scores: once per interval, before each commit, when partitions
are revoked and when the worker stops (stream.runtime.counting)."""

from __future__ import annotations

from typing import Any

from stream.records import decode_entity_events
from stream.runtime.context import WorkerContext
from stream.runtime.counting import CountFlusher
from stream.runtime.events import finished_events
from stream.runtime.flushing import flush_holding_lock
from stream.runtime.guard import guarded


def register(ctx: WorkerContext) -> None:
    app, table = ctx.app, ctx.counts_table
    flusher = CountFlusher(ctx)
    ctx.commit_guard.add(flusher)

    @table.on_recover
    async def rebuild_index() -> None:
        topic = table.changelog_topic.get_topic_name()
        flusher.recovered({tp.partition for tp in app.assignor.assigned_actives()
                           if tp.topic == topic})

    @app.on_partitions_revoked.connect
    async def flush_before_revoking(_app: Any, revoked: set[Any], **_kwargs: Any) -> None:
        await flusher.on_revoked(revoked)

    @app.timer(interval=ctx.counting.flush_s)
    async def flush_counts() -> None:
        await flush_holding_lock(flusher)

    @app.agent(ctx.entity_events_topic, name="count")
    async def count_mentions(stream: Any) -> None:
        async for event in finished_events(stream, ctx.progress):
            async with flusher.lock, guarded(ctx, event.message, "count"):
                flusher.add(decode_entity_events(event.value), event.message.partition)

