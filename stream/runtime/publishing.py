"""What the agents send, and what they observe while sending: an enriched article on to
de-duplication (or its dead letter), a record's enrichment in the child, the counts' updates.
Sends that fail are counted and logged (:meth:`Metrics.publish_failed`), never silent."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

import orjson

from stream.dedup.decision import Deduplicated
from stream.ingest.deadletters import Rejected
from stream.pipeline import Result
from stream.records import ArticleEnvelope, EntityEvent, encode
from stream.runtime.context import WorkerContext
from stream.runtime.delivery import Undeliverable, send_then_check, send_watched
from stream.runtime.guard import dead_letter, origin_of, send_deadletter, stopping
from stream.runtime.transport import undecodable_code, undecodable_reason

log = logging.getLogger(__name__)


async def enrich_message(ctx: WorkerContext, message: Any) -> Result:
    """The enrichment of one raw record (in the child), or the dead letter of a record whose
    batch could not be decoded."""
    origin = origin_of(message)
    undecodable = undecodable_reason(message.headers)
    if undecodable is not None:
        return Result.rejected(None, origin,
                               Rejected(undecodable_code(message.headers), "transport",
                                        undecodable),
                               ctx.limits.deadletter_payload_bytes)
    # The boilerplate memory is kept per partition: its changelog must follow the partition
    # of the record that changed it.
    return await ctx.enricher.run_async(message.value, ctx.lines_table, origin,
                                        memory_prefix=f"{message.partition}/")


async def publish_article(ctx: WorkerContext, message: Any, result: Result) -> Result:
    """Send the article on, or its dead letter. An article the broker refuses for good (too
    large for it) is dead-lettered instead, when the refusal comes. Returns what was sent."""
    if result.enriched is None:
        await send_deadletter(ctx, message, result)
        return result
    enriched = result.enriched

    async def refused(error: Undeliverable) -> None:
        ctx.metrics.publish_failures.labels(ctx.topics.articles).inc()
        await dead_letter(ctx, message, error.code, "publish",
                          f"the enriched article was refused: {error.reason}", enriched["id"])

    assert result.fingerprint is not None, "an enriched article always has its fingerprint"
    envelope: ArticleEnvelope = {"enriched": enriched, "fingerprint": result.fingerprint}
    await send_then_check(ctx.articles_topic, enriched["id"].encode(), encode(envelope),
                          refused, lambda: stopping(ctx))
    ctx.metrics.observe_latency(result.fetched_at, origin_of(message).timestamp, time.time())
    for field in result.rejected_times:
        ctx.metrics.event_time_rejected.labels(field).inc()
    return result


async def send_deduplicated(ctx: WorkerContext, done: Deduplicated,
                            count: Callable[[list[EntityEvent]], None]) -> None:
    """A de-duplicated article to ``articles.enriched``; its entity events to ``count`` (on
    to counting in batches: :mod:`stream.runtime.event_batches`)."""
    if done.enriched is not None:
        await send_watched(ctx.enriched_topic, done.enriched["id"].encode(),
                           orjson.dumps(done.enriched), ctx.metrics.publish_failed)
    count(done.entity_events)


async def publish_boards(ctx: WorkerContext,
                         boards: Iterable[tuple[str, dict[str, Any] | Exception]]) -> None:
    """Trending boards to ``entities.trending``; one that cannot be built is logged and
    counted, and the others go on."""
    for key, payload in boards:
        if isinstance(payload, Exception):
            log.error("trending board %s cannot be published", key, exc_info=payload)
            ctx.metrics.agent_errors.labels("trending").inc()
            continue
        await send_watched(ctx.trending_topic, key.encode(), orjson.dumps(payload),
                           ctx.metrics.publish_failed)
        ctx.metrics.trending_published.labels(payload["window"]).inc()
