"""trend scores (one partition) → per-window boards → entities.trending, at most once per
publish interval per window."""

from __future__ import annotations

import time
from typing import Any

import orjson

from agents.events import finished_events
from stream.clock import to_iso, utc_now
from stream.context import WorkerContext
from stream.counting import window_size
from stream.trending import merge, trending_payload

PRUNE_EVERY_S = 30.0


def register(ctx: WorkerContext) -> None:
    app, settings, table = ctx.app, ctx.settings, ctx.trends_table
    keep = max(3 * settings.trend_top_n, 50)
    changed: set[str] = set()
    latest_end: dict[str, int] = {}  # per window name: the latest window end ranked
    last_prune = time.monotonic()

    @app.agent(ctx.trend_scores_topic, name="trending")
    async def rank(stream: Any) -> None:
        nonlocal last_prune
        async for event in finished_events(stream):
            update = orjson.loads(event.value)
            key = f"{update['window']}|{update['start']}"
            table[key] = merge(table.get(key), update, keep)
            changed.add(key)
            latest_end[update["window"]] = max(latest_end.get(update["window"], 0),
                                               update["end"])
            if time.monotonic() - last_prune > PRUNE_EVERY_S:
                last_prune = time.monotonic()
                for old in _expired(list(table.keys())):
                    del table[old]
                    changed.discard(old)

    def _expired(keys: list[str]) -> list[str]:
        retention = settings.window_retention_s
        expired = []
        for key in keys:
            name, start = key.rsplit("|", 1)
            size = window_size(name)
            if size is None or name not in latest_end:
                continue
            if int(start) + size < latest_end[name] - retention.get(size, 0):
                expired.append(key)
        return expired

    @app.timer(interval=settings.trend_publish_interval_s)
    async def publish_trending() -> None:
        updated_at = to_iso(utc_now())
        for key in sorted(changed):
            changed.discard(key)
            board = table.get(key)
            if not board:
                continue
            payload = trending_payload(key, board, settings.trend_top_n, updated_at)
            await ctx.trending_topic.send(key=key.encode(), value=orjson.dumps(payload))
            ctx.metrics.trending_published.labels(payload["window"]).inc()
