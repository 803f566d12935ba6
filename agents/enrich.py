"""raw topics → enrich → the internal articles topic (on to de-duplication) or the dead-letter
topic."""

from __future__ import annotations

import time
from typing import Any

from stream.runtime.context import WorkerContext
from stream.runtime.events import finished_events
from stream.runtime.faust_internals import assigned_highwater
from stream.runtime.guard import guarded
from stream.runtime.publishing import enrich_message, publish_article


def register(ctx: WorkerContext) -> None:
    metrics = ctx.metrics

    @ctx.app.agent(ctx.raw_topic, name="enrich")
    async def enrich_articles(stream: Any) -> None:
        ctx.processing = True
        async for event in finished_events(stream, ctx.progress):
            message = event.message
            async with guarded(ctx, message, "publish"):
                result = await enrich_message(ctx, message)
                started = time.perf_counter()
                result = await publish_article(ctx, message, result)
                metrics.observe_result(message.topic, result)
                metrics.stage_seconds.labels("publish").observe(time.perf_counter() - started)
                metrics.observe_lag(message, assigned_highwater(ctx.app.consumer)(message.tp))
