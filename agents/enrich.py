"""raw topics → enrich → the internal articles topic (on to de-duplication) or the dead-letter
topic."""

from __future__ import annotations

import time
from typing import Any

import orjson

from agents.events import finished_events
from stream.context import WorkerContext
from stream.dedup import fingerprint
from stream.pipeline import Origin


def register(ctx: WorkerContext) -> None:
    app, metrics = ctx.app, ctx.metrics

    @app.agent(ctx.raw_topic, name="enrich")
    async def enrich_articles(stream: Any) -> None:
        ctx.processing = True
        async for event in finished_events(stream):
            message = event.message
            origin = Origin(message.topic, message.partition, message.offset,
                            message.timestamp, message.key)
            # The boilerplate memory is kept per partition: its changelog must follow the
            # partition of the record that changed it.
            result = await ctx.enricher.run_async(message.value, ctx.lines_table, origin,
                                                  memory_prefix=f"{message.partition}/")
            metrics.observe_result(message.topic, result)
            started = time.perf_counter()
            if result.enriched is not None:
                enriched = result.enriched
                when = result.event_time if result.event_time is not None else time.time()
                record = {"enriched": enriched,
                          "fingerprint": fingerprint(enriched, when).to_json()}
                await ctx.articles_topic.send(key=enriched["id"].encode(),
                                              value=orjson.dumps(record))
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
