"""The worker watching itself: the broker probe, the enrichment child, stalled partitions and the
event loop, on faust timers. What it finds is what /readyz, /healthz and the metrics report."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from aiokafka.client import AIOKafkaClient

from stream.config import Limits, Worker
from stream.runtime.connection import client_options
from stream.runtime.context import WorkerContext
from stream.runtime.delivery import describe
from stream.runtime.faust_internals import assigned_highwater, forget_positions, start_offset
from stream.runtime.health import Verdict, liveness, readiness
from stream.runtime.housekeeping import Pacer
from stream.runtime.resets import (
    CARRIED_RESETS,
    LogReset,
    Remedy,
    Sign,
    carried,
    carry,
    lost_topics,
    new_topics,
    remedy,
    short_logs,
)
from stream.runtime.tables import changelog_partitions
from stream.runtime.topic_ids import topic_ids

log = logging.getLogger(__name__)
TICK_S = 1.0


@dataclass(frozen=True)
class BrokerView:
    """What a probe saw: why the broker did not answer (None when it did), its topics with
    their partition counts, and the ids of the topics asked about (where it has ids)."""

    error: str | None
    partitions: dict[str, int] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)


async def probe(options: Mapping[str, Any], timeout_s: float,
                topics: Sequence[str] = ()) -> BrokerView:
    """Whether a bootstrap server answers a metadata request within ``timeout_s``, and what it
    says of ``topics``; ``options`` is the client's connection. A new connection each time: a
    broker that froze or restarted is seen as it is now."""
    client = AIOKafkaClient(**options, request_timeout_ms=int(timeout_s * 1000),
                            connections_max_idle_ms=int(timeout_s * 2000))
    try:
        async with asyncio.timeout(timeout_s):
            await client.bootstrap()
            cluster = client.cluster
            partitions = {topic: len(cluster.partitions_for_topic(topic) or ())
                          for topic in cluster.topics()}
            ids = await topic_ids(client, [topic for topic in topics if topic in partitions])
        return BrokerView(None, partitions, ids)
    except TimeoutError:
        return BrokerView(f"no answer within {timeout_s:g} s")
    except Exception as error:
        return BrokerView(describe(error))
    finally:
        try:
            await asyncio.wait_for(client.close(), timeout_s)
        except Exception as error:  # a frozen peer: the socket goes with the client
            log.debug("closing the probe client: %s", error)


def log_resets(ctx: WorkerContext, view: BrokerView) -> list[LogReset]:
    """The logs the broker's answer and the consumer's fetches show to have started over (see
    :mod:`stream.runtime.resets`), one per topic or partition; learns the ids of topics seen
    for the first time."""
    consumer = ctx.app.consumer
    watched = watched_topics(ctx)
    expected = {tp: offset for tp, offset in ctx.progress.next_offset.items()
                if tp.topic in watched and tp not in ctx.progress.resuming}
    highwater = assigned_highwater(consumer)
    # A partition revoked meanwhile has no high watermark here: it is not this worker's log.
    highwaters = {tp: end for tp in expected if (end := highwater(tp)) is not None}
    expected = {tp: offset for tp, offset in expected.items() if tp in highwaters}
    found = [*lost_topics(ctx.topics, view.partitions, ctx.topic_ids),
             *new_topics(ctx.topic_ids, view.ids),
             *short_logs(expected, highwaters)]
    for topic, topic_id in view.ids.items():
        ctx.topic_ids.setdefault(topic, topic_id)
    whole = {reset.topic for reset in found if reset.partition is None}
    unique: dict[tuple[str, int | None], LogReset] = {}
    for reset in found:
        if reset.partition is None or reset.topic not in whole:
            unique.setdefault((reset.topic, reset.partition), reset)
    return list(unique.values())


async def act_on_resets(ctx: WorkerContext, view: BrokerView, resets: list[LogReset]) -> None:
    """Log and count each reset, then do what it calls for: start the worker afresh when its
    state went with a log, else resume the input partitions at their new logs' start."""
    topics, metrics = ctx.topics, ctx.metrics
    for reset in resets:
        log.error("log reset: %s: %s", reset.where, reset.reason)
        metrics.log_resets.labels(reset.topic).inc()
    lost = [reset for reset in resets if remedy(topics, reset) is Remedy.RESTART]
    if lost:
        os.environ[CARRIED_RESETS] = carry(metrics.log_resets_by_topic())
        gone = [reset.reason for reset in lost if reset.sign is Sign.GONE]
        more = f", and {len(gone) - 1} more" if len(gone) > 1 else ""
        restart_worker(ctx, f"the broker lost its state ({gone[0]}{more})" if gone else
                       "the worker's state went with the log of "
                       + ", ".join(sorted({reset.where for reset in lost})))
        return
    rewinding = [reset for reset in resets if remedy(topics, reset) is Remedy.REWIND]
    assigned = [tp for tp in ctx.app.consumer.assignment()
                if any(reset.topic == tp.topic and reset.partition in (None, tp.partition)
                       for reset in rewinding)]
    if assigned:
        await rewind(ctx, assigned)
    for reset in resets:
        if reset.sign is Sign.NEW and reset.topic in view.ids:
            ctx.topic_ids[reset.topic] = view.ids[reset.topic]


async def rewind(ctx: WorkerContext, tps: list[Any]) -> None:
    """Resume ``tps`` at the start of their new logs: the positions and acknowledgements kept
    of the old ones are dropped, and the worker is not ready until each has resumed."""
    consumer = ctx.app.consumer
    starts = await consumer.earliest_offsets(*tps)
    now = time.monotonic()
    for tp in tps:
        start = int(starts.get(tp) or 0)
        await consumer.seek_wait({tp: start})  # in the consumer's thread
        forget_positions(consumer, tp)
        ctx.progress.rewind(tp, start, now)
        log.warning("%s/%s: resuming at offset %d of the new log", tp.topic, tp.partition,
                    start)


def watched_topics(ctx: WorkerContext) -> set[str]:
    """The topics agents process (table changelogs and standbys are read, not processed)."""
    topics = ctx.topics
    return {*topics.inputs, topics.articles, topics.entity_events, topics.trend_scores}


def stalled_partitions(ctx: WorkerContext, after_s: float) -> list[Any]:
    consumer = ctx.app.consumer
    return ctx.progress.stalled(assigned_highwater(consumer), time.monotonic(), after_s)


def ready(ctx: WorkerContext) -> Verdict:
    app = ctx.app
    assigned = {tp.topic for tp in app.consumer.assignment()}
    now = time.monotonic()
    return readiness(
        resuming=ctx.progress.resuming,
        processing=ctx.processing,
        rebalancing=bool(getattr(app, "rebalancing", False)),
        recovering=bool(getattr(app, "in_recovery", False)),
        inputs_assigned=bool(assigned & set(ctx.topics.inputs)),
        broker_reachable=ctx.broker.reachable(now),
        broker_error=ctx.broker.silence(now),
        child_ready=ctx.enricher.ready,
        stalled=stalled_partitions(ctx, ctx.worker.stall_ready_s),
    )


def live(ctx: WorkerContext) -> Verdict:
    return liveness(stalled_partitions(ctx, ctx.worker.stall_live_s), ctx.worker.stall_live_s)


def _sync_assignment(ctx: WorkerContext) -> None:
    """Start the no-progress timers of newly assigned partitions, forget revoked ones."""
    consumer = ctx.app.consumer
    topics = watched_topics(ctx)
    current = {tp for tp in consumer.assignment() if tp.topic in topics}
    if current != set(ctx.progress.since):
        ctx.metrics.forget_lag(set(ctx.progress.since) - current)
        ctx.progress.assigned(current, time.monotonic(), partial(start_offset, consumer))


def refetch_after_s(worker: Worker, limits: Limits) -> float:
    """How long a partition with records to process may make no progress before it is
    fetched again from its next offset: longer than one record may take (two attempts)."""
    return min(worker.stall_ready_s / 2, max(10.0, 1.5 * limits.article_budget_s))


async def refetch_stalled(ctx: WorkerContext, pacer: Pacer, now: float) -> list[Any]:
    """Fetch again, from the next offset to process, each partition that has records to
    process but has made no progress for :func:`refetch_after_s`.

    Records are processed strictly in log order (``stream.runtime.events``): a record ahead of
    the next one is skipped and expected to come again. Should the consumer's position have
    moved past the next record anyway (seen once in CI: a partition that stopped for good
    after a worker left the group), nothing would bring it back; this does. A refetch of a
    partition that was only slow costs one fetch: what was done is skipped as done."""
    refetched = []
    after_s = refetch_after_s(ctx.worker, ctx.limits)
    for tp in ctx.progress.stalled(assigned_highwater(ctx.app.consumer), now, after_s):
        offset = ctx.progress.next_offset.get(tp)
        if offset is None or not pacer.due(now, tp):
            continue
        log.warning("%s/%s: records to process and no progress for %.0f s: fetching again from "
                    "offset %d", tp.topic, tp.partition, after_s, offset)
        try:
            await ctx.app.consumer.seek_wait({tp: offset})  # in the consumer's thread
        except Exception as error:  # revoked meanwhile: the timer must go on for the rest
            log.warning("%s/%s: could not fetch again: %s", tp.topic, tp.partition, error)
            continue
        ctx.metrics.refetches.inc()
        refetched.append(tp)
    return refetched


def register_supervision(ctx: WorkerContext) -> None:
    app, worker, metrics = ctx.app, ctx.worker, ctx.metrics
    connection = client_options(ctx.connection)
    ctx.broker.started = time.monotonic()
    last_tick = [time.monotonic()]
    refetching = Pacer(refetch_after_s(worker, ctx.limits))

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
            ctx.progress.resumed(assigned_highwater(ctx.app.consumer))
        stalled = stalled_partitions(ctx, worker.stall_ready_s)
        metrics.stalled.set(len(stalled))
        metrics.ready.set(1 if ready(ctx).ok else 0)

    for topic, count in carried(os.environ.pop(CARRIED_RESETS, None)).items():
        metrics.log_resets.labels(topic).inc(count)
    ctx.progress.on_log_reset = lambda topic: metrics.log_resets.labels(topic).inc()

    @app.timer(interval=worker.broker_probe_interval_s)
    async def probe_broker() -> None:
        names = [*ctx.topics.all, *changelog_partitions(ctx.topics)]
        view = await probe(connection, worker.broker_timeout_s, names)
        was = ctx.broker.reachable(time.monotonic())
        if view.error is None:
            ctx.broker.answered(time.monotonic())
            if not was:
                log.warning("the broker answers again")
            resets = log_resets(ctx, view)
            if resets:
                await act_on_resets(ctx, view, resets)
        else:
            ctx.broker.failed(view.error)
            if was and not ctx.broker.reachable(time.monotonic()):
                log.error("the broker does not answer: %s", view.error)
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
