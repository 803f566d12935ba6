"""The worker watching itself: the broker probe, the enrichment child, stalled partitions and the
event loop, on faust timers. What it finds is what /readyz, /healthz and the metrics report."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections.abc import Mapping
from functools import partial
from typing import Any

from aiokafka.client import AIOKafkaClient

from stream.config import Settings
from stream.runtime.connection import client_options
from stream.runtime.context import WorkerContext
from stream.runtime.delivery import describe
from stream.runtime.faust_internals import committed_offset
from stream.runtime.health import Verdict, liveness, readiness
from stream.runtime.housekeeping import Pacer

log = logging.getLogger(__name__)
TICK_S = 1.0


async def probe(options: Mapping[str, Any],
                timeout_s: float) -> tuple[str | None, dict[str, int]]:
    """(None, topic → partition count) when a bootstrap server answers a metadata request within
    ``timeout_s``, else (the cause, {}); ``options`` is the client's connection. A new
    connection each time: a broker that froze or restarted is seen as it is now."""
    client = AIOKafkaClient(**options, request_timeout_ms=int(timeout_s * 1000),
                            connections_max_idle_ms=int(timeout_s * 2000))
    try:
        await asyncio.wait_for(client.bootstrap(), timeout_s)
        cluster = client.cluster
        return None, {topic: len(cluster.partitions_for_topic(topic) or ())
                      for topic in cluster.topics()}
    except TimeoutError:
        return f"no answer within {timeout_s:g} s", {}
    except Exception as error:
        return describe(error), {}
    finally:
        try:
            await asyncio.wait_for(client.close(), timeout_s)
        except Exception as error:  # a frozen peer: the socket goes with the client
            log.debug("closing the probe client: %s", error)


def lost_state(settings: Settings, topics: dict[str, int]) -> str | None:
    """Why the broker's topics show that it lost its state (an embedded broker restarted with
    memory storage comes back empty), or None. The worker created these topics before it
    started, so a missing one, or an ordering topic with other than one partition, means the
    log the worker's positions and tables refer to is gone."""
    for topic in settings.all_topics:
        if topic not in topics:
            return f"topic {topic} is gone"
    for topic in settings.single_partition_topics:
        if topics[topic] != 1:
            return f"topic {topic} has {topics[topic]} partitions, not 1"
    return None


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
        broker_error=ctx.broker.silence(now),
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
        ctx.progress.assigned(current, time.monotonic(), partial(committed_offset, consumer))


def refetch_after_s(settings: Settings) -> float:
    """How long a partition with records to process may make no progress before it is
    fetched again from its next offset: longer than one record may take (two attempts)."""
    return min(settings.stall_ready_s / 2, max(10.0, 1.5 * settings.article_budget_s))


async def refetch_stalled(ctx: WorkerContext, pacer: Pacer, now: float) -> list[Any]:
    """Fetch again, from the next offset to process, each partition that has records to
    process but has made no progress for :func:`refetch_after_s`.

    Records are processed strictly in log order (``stream.runtime.events``): a record ahead of
    the next one is skipped and expected to come again. Should the consumer's position have
    moved past the next record anyway (seen once in CI: a partition that stopped for good
    after a worker left the group), nothing would bring it back; this does. A refetch of a
    partition that was only slow costs one fetch: what was done is skipped as done."""
    refetched = []
    after_s = refetch_after_s(ctx.settings)
    for tp in ctx.progress.stalled(ctx.app.consumer.highwater, now, after_s):
        offset = ctx.progress.next_offset.get(tp)
        if offset is None or not pacer.due(now, tp):
            continue
        log.warning("%s/%s: records to process and no progress for %.0f s: fetching again from "
                    "offset %d", tp.topic, tp.partition, after_s, offset)
        try:
            await ctx.app.consumer.seek(tp, offset)
        except Exception as error:  # revoked meanwhile: the timer must go on for the rest
            log.warning("%s/%s: could not fetch again: %s", tp.topic, tp.partition, error)
            continue
        ctx.metrics.refetches.inc()
        refetched.append(tp)
    return refetched


def register_supervision(ctx: WorkerContext) -> None:
    app, settings, metrics = ctx.app, ctx.settings, ctx.metrics
    ctx.broker.timeout_s = settings.broker_timeout_s
    connection = client_options(settings)
    ctx.broker.started = time.monotonic()
    last_tick = [time.monotonic()]
    refetching = Pacer(refetch_after_s(settings))

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
            await refetch_stalled(ctx, refetching, now)
        stalled = stalled_partitions(ctx, settings.stall_ready_s)
        metrics.stalled.set(len(stalled))
        metrics.ready.set(1 if ready(ctx).ok else 0)

    @app.timer(interval=settings.broker_probe_interval_s)
    async def probe_broker() -> None:
        error, topics = await probe(connection, settings.broker_timeout_s)
        was = ctx.broker.reachable(time.monotonic())
        if error is None:
            ctx.broker.answered(time.monotonic())
            if not was:
                log.warning("the broker answers again")
            lost = lost_state(settings, topics)
            if lost is not None:
                restart_worker(ctx, f"the broker lost its state ({lost})")
        else:
            ctx.broker.failed(error)
            if was and not ctx.broker.reachable(time.monotonic()):
                log.error("the broker does not answer: %s", error)
        metrics.broker_up.set(1 if ctx.broker.reachable(time.monotonic()) else 0)


def restart_worker(ctx: WorkerContext, reason: str) -> None:
    """Start this worker afresh, in this process (same pid, same arguments): it creates the
    topics again, joins the group, recovers its tables from the changelogs, and resumes from
    the committed offsets (the earliest ones where the group has none). Nothing uncommitted is
    lost: offsets are committed only for finished work, as after a SIGKILL."""
    log.error("%s: restarting the worker to set it up again on the broker", reason)
    ctx.enricher.terminate()
    logging.shutdown()
    os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])
