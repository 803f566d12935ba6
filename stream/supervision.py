"""The worker watching itself: the broker probe, the enrichment child, stalled partitions and the
event loop, on faust timers. What it finds is what /readyz, /healthz and the metrics report."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiokafka.client import AIOKafkaClient

from stream.context import WorkerContext
from stream.health import Verdict, liveness, readiness

log = logging.getLogger(__name__)
TICK_S = 1.0


async def broker_answers(bootstrap: str, timeout_s: float) -> str | None:
    """None when a bootstrap server answers a metadata request within ``timeout_s``, else the
    cause. A new connection each time: a broker that froze or restarted is seen as it is now."""
    client = AIOKafkaClient(bootstrap_servers=bootstrap,
                            request_timeout_ms=int(timeout_s * 1000),
                            connections_max_idle_ms=int(timeout_s * 2000))
    try:
        await asyncio.wait_for(client.bootstrap(), timeout_s)
        return None
    except TimeoutError:
        return f"no answer within {timeout_s:g} s"
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    finally:
        try:
            await asyncio.wait_for(client.close(), timeout_s)
        except Exception as error:  # a frozen peer: the socket goes with the client
            log.debug("closing the probe client: %s", error)


def watched_topics(ctx: WorkerContext) -> set[str]:
    """The topics agents process (table changelogs and standbys are read, not processed)."""
    settings = ctx.settings
    return {*settings.input_topics, settings.articles_topic, settings.entity_events_topic,
            settings.trend_scores_topic}


def stalled_partitions(ctx: WorkerContext, after_s: float) -> list[Any]:
    consumer = ctx.app.consumer
    return ctx.progress.stalled(consumer.highwater, time.monotonic(), after_s)


def ready(ctx: WorkerContext) -> Verdict:
    app = ctx.app
    assigned = {tp.topic for tp in app.consumer.assignment()}
    now = time.monotonic()
    return readiness(
        processing=ctx.processing,
        rebalancing=bool(getattr(app, "rebalancing", False)),
        recovering=bool(getattr(app, "in_recovery", False)),
        inputs_assigned=bool(assigned & set(ctx.settings.input_topics)),
        broker_reachable=ctx.broker.reachable(now),
        broker_error=ctx.broker.last_error,
        child_ready=ctx.enricher.ready,
        stalled=stalled_partitions(ctx, ctx.settings.stall_ready_s),
    )


def live(ctx: WorkerContext) -> Verdict:
    return liveness(stalled_partitions(ctx, ctx.settings.stall_live_s), ctx.settings.stall_live_s)


def _sync_assignment(ctx: WorkerContext) -> None:
    """Start the no-progress timers of newly assigned partitions, forget revoked ones."""
    consumer = ctx.app.consumer
    topics = watched_topics(ctx)
    current = {tp for tp in consumer.assignment() if tp.topic in topics}
    if current != set(ctx.progress.since):
        committed = getattr(consumer, "_committed_offset", {})
        ctx.progress.assigned(current, time.monotonic(), committed.get)


def register_supervision(ctx: WorkerContext) -> None:
    app, settings, metrics = ctx.app, ctx.settings, ctx.metrics
    ctx.broker.timeout_s = settings.broker_timeout_s
    ctx.broker.started = time.monotonic()
    last_tick = [time.monotonic()]

    @app.timer(interval=TICK_S)
    async def watch_worker() -> None:
        now = time.monotonic()
        metrics.loop_lag.set(max(0.0, now - last_tick[0] - TICK_S))
        last_tick[0] = now
        if await ctx.enricher.supervise():
            log.warning("the enrichment child had died; a new one is running")
        metrics.child_up.set(1 if ctx.enricher.ready else 0)
        metrics.child_rss.set(ctx.enricher.child_rss())
        if ctx.processing:
            _sync_assignment(ctx)
        stalled = stalled_partitions(ctx, settings.stall_ready_s)
        metrics.stalled.set(len(stalled))
        metrics.ready.set(1 if ready(ctx).ok else 0)

    @app.timer(interval=settings.broker_probe_interval_s)
    async def probe_broker() -> None:
        error = await broker_answers(settings.bootstrap_servers, settings.broker_timeout_s)
        was = ctx.broker.reachable(time.monotonic())
        if error is None:
            ctx.broker.answered(time.monotonic())
            if not was:
                log.warning("the broker answers again")
        else:
            ctx.broker.failed(error)
            if was and not ctx.broker.reachable(time.monotonic()):
                log.error("the broker does not answer: %s", error)
        metrics.broker_up.set(1 if ctx.broker.reachable(time.monotonic()) else 0)
