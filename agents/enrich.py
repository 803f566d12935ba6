"""raw topics → enrich → articles.enriched (+ entity events) or articles.deadletter."""

from __future__ import annotations

import asyncio
import time
from functools import partial
from typing import Any

import orjson

from stream.context import WorkerContext
from stream.counting import entity_events
from stream.pipeline import Origin, enrich_record, warm_up


def register(ctx: WorkerContext) -> None:
    app, settings, metrics = ctx.app, ctx.settings, ctx.metrics
    enrich = partial(enrich_record, max_bytes=settings.max_payload_bytes, tagger=ctx.tagger)

    @app.agent(ctx.raw_topic, name="enrich")
    async def enrich_articles(stream: Any) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(ctx.executor, warm_up, ctx.tagger)
        ctx.processing = True
        async for event in stream.events():
            message = event.message
            origin = Origin(message.topic, message.partition, message.offset,
                            message.timestamp, message.key)
            result = await loop.run_in_executor(ctx.executor, enrich, message.value, origin)
            metrics.observe_result(message.topic, result)
            started = time.perf_counter()
            if result.enriched is not None:
                enriched = result.enriched
                await ctx.enriched_topic.send(key=enriched["id"].encode(),
                                              value=orjson.dumps(enriched))
                when = result.event_time if result.event_time is not None else time.time()
                for entity_event in entity_events(enriched, when):
                    await ctx.entity_events_topic.send(key=entity_event["entity_id"].encode(),
                                                       value=orjson.dumps(entity_event))
                _observe_latency(ctx, result.fetched_at, message.timestamp)
            else:
                await ctx.deadletter_topic.send(key=message.key,
                                                value=orjson.dumps(result.deadletter))
            metrics.stage_seconds.labels("publish").observe(time.perf_counter() - started)
            highwater = app.consumer.highwater(message.tp)
            if highwater is not None:
                metrics.lag.labels(message.topic, str(message.partition)).set(
                    max(0, highwater - message.offset - 1))


def _observe_latency(ctx: WorkerContext, fetched: float | None, produced: float | None) -> None:
    now = time.time()
    if produced:
        ctx.metrics.latency.labels("produced").observe(max(0.0, now - produced))
    if fetched is not None:
        ctx.metrics.latency.labels("fetched").observe(max(0.0, now - fetched))
