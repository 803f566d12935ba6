"""trend scores (one partition, a record per count flush) → boards per window →
entities.trending, once per interval."""

from __future__ import annotations

import time
from typing import Any

from stream.clock import to_iso, utc_now
from stream.counts.trending import TrendBoards
from stream.records import decode_trend_scores
from stream.runtime.boards import BoardsFlusher
from stream.runtime.context import WorkerContext
from stream.runtime.events import finished_events
from stream.runtime.guard import guarded
from stream.runtime.housekeeping import Pacer
from stream.runtime.publishing import publish_boards

PRUNE_EVERY_S = 30.0


def register(ctx: WorkerContext) -> None:
    app, counting = ctx.app, ctx.counting
    boards = TrendBoards(ctx.trends_table, max(3 * counting.trend_top_n, 50),
                         counting.window_retention_s)
    pruning = Pacer(PRUNE_EVERY_S, started=time.monotonic())
    flusher = BoardsFlusher.installed(ctx, boards)

    @app.agent(ctx.trend_scores_topic, name="trending")
    async def rank(stream: Any) -> None:
        async for event in finished_events(stream, ctx.progress):
            async with flusher.lock, guarded(ctx, event.message, "trending"):
                for score in decode_trend_scores(event.value):
                    boards.add(score)
                if pruning.due(time.monotonic()):
                    boards.prune(flusher.table)

    @app.timer(interval=counting.trend_publish_interval_s)
    async def publish_trending() -> None:
        async with flusher.lock:
            await flusher.flush()
            publishable = list(boards.publishable(counting.trend_top_n, to_iso(utc_now())))
        await publish_boards(ctx, publishable)
