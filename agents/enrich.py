"""raw topics → enrich → the internal articles topic (on to de-duplication) or the dead-letter
topic."""

from __future__ import annotations

import time
from typing import Any

import orjson

from agents.events import finished_events
from stream.context import WorkerContext
from stream.delivery import Undeliverable, send_then_check
from stream.guard import dead_letter, guarded, origin_of, send_deadletter, stopping
from stream.pipeline import Result, failed_record
from stream.transport import undecodable_reason


def register(ctx: WorkerContext) -> None:
    app, metrics, settings = ctx.app, ctx.metrics, ctx.settings

    @app.agent(ctx.raw_topic, name="enrich")
    async def enrich_articles(stream: Any) -> None:
        ctx.processing = True
        async for event in finished_events(stream, ctx.progress):
            message = event.message
            async with guarded(ctx, message, "publish"):
                origin = origin_of(message)
                undecodable = undecodable_reason(message.headers)
                if undecodable is not None:
                    result = failed_record(None, origin, "undecodable", "transport", undecodable,
                                           max_payload_bytes=settings.deadletter_payload_bytes)
                else:
                    # The boilerplate memory is kept per partition: its changelog must follow
                    # the partition of the record that changed it.
                    result = await ctx.enricher.run_async(message.value, ctx.lines_table, origin,
                                                          memory_prefix=f"{message.partition}/")
                started = time.perf_counter()
                result = await _publish(ctx, message, result)
                metrics.observe_result(message.topic, result)
                metrics.stage_seconds.labels("publish").observe(time.perf_counter() - started)
                highwater = app.consumer.highwater(message.tp)
                if highwater is not None:
                    metrics.lag.labels(message.topic, str(message.partition)).set(
                        max(0, highwater - message.offset - 1))


async def _publish(ctx: WorkerContext, message: Any, result: Result) -> Result:
    """Send the article on, or its dead letter. An article the broker refuses for good (too
    large for it) is dead-lettered instead, when the refusal comes. Returns what was sent."""
    if result.enriched is None:
        await send_deadletter(ctx, message, result)
        return result
    enriched = result.enriched

    async def refused(error: Undeliverable) -> None:
        ctx.metrics.publish_failures.labels(ctx.settings.articles_topic).inc()
        await dead_letter(ctx, message, error.code, "publish",
                          f"the enriched article was refused: {error.reason}", enriched["id"])

    record = {"enriched": enriched, "fingerprint": result.fingerprint}
    await send_then_check(ctx.articles_topic, enriched["id"].encode(), orjson.dumps(record),
                          refused, lambda: stopping(ctx))
    _observe_latency(ctx, result.fetched_at, origin_of(message).timestamp)
    for field in result.rejected_times:
        ctx.metrics.event_time_rejected.labels(field).inc()
    return result


def _observe_latency(ctx: WorkerContext, fetched: float | None, produced: float | None) -> None:
    now = time.time()
    if produced:
        ctx.metrics.latency.labels("produced").observe(max(0.0, now - produced))
    if fetched is not None:
        ctx.metrics.latency.labels("fetched").observe(max(0.0, now - fetched))
