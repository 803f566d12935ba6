"""trend scores (one partition) → per-window boards → entities.trending, at most once per
publish interval per window."""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson

from agents.events import finished_events
from stream.clock import to_iso, utc_now
from stream.context import WorkerContext
from stream.delivery import send_watched
from stream.guard import guarded
from stream.retention import Pacer
from stream.trending import board_key, expired_boards, merge, trending_payload

PRUNE_EVERY_S = 30.0
log = logging.getLogger(__name__)


def register(ctx: WorkerContext) -> None:
    app, settings, table = ctx.app, ctx.settings, ctx.trends_table
    keep = max(3 * settings.trend_top_n, 50)
    changed: set[str] = set()
    latest_end: dict[str, int] = {}  # per window name: the latest window end ranked
    pruning = Pacer(PRUNE_EVERY_S, started=time.monotonic())

    @app.agent(ctx.trend_scores_topic, name="trending")
    async def rank(stream: Any) -> None:
        async for event in finished_events(stream, ctx.progress):
            async with guarded(ctx, event.message, "trending"):
                handle(orjson.loads(event.value))

    def handle(update: dict[str, Any]) -> None:
        key = board_key(update)
        table[key] = merge(table.get(key), update, keep)
        changed.add(key)
        latest_end[update["window"]] = max(latest_end.get(update["window"], 0),
                                           update["end"])
        if pruning.due(time.monotonic()):
            for old in expired_boards(list(table.keys()), latest_end,
                                      settings.window_retention_s):
                del table[old]
                changed.discard(old)

    @app.timer(interval=settings.trend_publish_interval_s)
    async def publish_trending() -> None:
        updated_at = to_iso(utc_now())
        for key in sorted(changed):
            changed.discard(key)
            board = table.get(key)
            if not board:
                continue
            try:
                payload = trending_payload(key, board, settings.trend_top_n, updated_at)
            except Exception:  # one bad board must not stop the timer for every window
                log.exception("trending board %s cannot be published", key)
                ctx.metrics.agent_errors.labels("trending").inc()
                continue
            await send_watched(ctx.trending_topic, key.encode(), orjson.dumps(payload),
                               ctx.metrics.publish_failed)
            ctx.metrics.trending_published.labels(payload["window"]).inc()
