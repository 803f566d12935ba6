"""The faust application: settings → app, topics, tables, agents and web pages."""

from __future__ import annotations

import logging
import socket
import sys
from collections.abc import Mapping
from typing import Any

from stream.config import Settings
from stream.runtime import transport
from stream.runtime.connection import compression, faust_credentials
from stream.runtime.context import WorkerContext
from stream.runtime.enricher import Enricher
from stream.runtime.failpoints import Failpoints
from stream.runtime.faust_internals import (
    NewsstreamApp,
    NewsstreamTableManager,
    check_faust_version,
)
from stream.runtime.flushing import CommitGuard
from stream.runtime.metrics import Metrics
from stream.runtime.tables import COUNTS, FINGERPRINTS, LINES, TRENDS, table_partitions
from stream.runtime.web_guard import auth_middleware


def canonical_url(settings: Settings, hostname: str) -> str:
    """The URL peers reach this worker at: ``NEWSSTREAM_CANONICAL_URL`` with ``{hostname}``
    replaced by this host's name (a container's or pod's, which its peers resolve), else the
    web host and port."""
    configured = settings.canonical_url or f"http://{settings.web_host}:{settings.web_port}"
    return configured.replace("{hostname}", hostname)


def create_app(settings: Settings, topic_ids: Mapping[str, str] | None = None) -> Any:
    """The worker's faust app; :class:`~stream.runtime.versions.UnverifiedLibrary` when faust
    or aiokafka is not a version whose internals newsstream was checked against.
    ``topic_ids``: the ids of the topics as the worker starts (where the broker has them)."""
    check_faust_version()
    # an undecodable or oversize batch is dead-lettered, never a dead consumer
    transport.install(settings.max_batch_bytes)
    app = NewsstreamApp(
        settings.app_id,
        broker=settings.broker_url,
        broker_credentials=faust_credentials(settings),
        producer_compression_type=compression(settings),
        store=f"{settings.store}://",
        autodiscover=False,
        # At-least-once: Tansu has no transactions. Counting is made idempotent instead.
        processing_guarantee="at_least_once",
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.heartbeat_interval_s,
        broker_rebalance_timeout=settings.session_timeout_s,
        broker_commit_interval=settings.commit_interval_s,
        producer_linger=settings.producer_linger_s,
        consumer_auto_offset_reset="earliest",
        web_bind=settings.web_host,
        # The query pages need the token when one is set; requests carry small bodies only.
        web_application_options={"middlewares": [auth_middleware(settings.web_secret)],
                                 "client_max_size": 64 * 1024},
        web_host=settings.web_host,
        web_port=settings.web_port,
        canonical_url=canonical_url(settings, socket.gethostname()),
        datadir=settings.data_dir,
        table_cleanup_interval=30.0,
        # Commits stop when the worker stops (stream.runtime.faust_internals), so waiting for
        # unacknowledged events would only hold shutdown up: after an agent failure, for good.
        stream_wait_empty=False,
        # faust's /table and /router pages show table contents and the cluster's addresses.
        web_tables_enabled=settings.enable_debug_pages,
        web_router_enabled=settings.enable_debug_pages,
        # A partition fetch must fit the largest record we accept, or that record would stall
        # its partition instead of reaching the dead-letter topic as oversize.
        consumer_max_fetch_size=max(4 * 1024 * 1024, 2 * settings.max_payload_bytes),
        producer_max_request_size=max(1024 * 1024, 2 * settings.max_payload_bytes),
        # Recovery that reads changelogs to their true end on brokers with short ListOffsets.
        TableManager=NewsstreamTableManager,
    )
    app.newsstream_fetch_max_wait_s = settings.consumer_fetch_max_wait_s
    raw = dict(key_serializer="raw", value_serializer="raw")
    single = dict(raw, partitions=1)
    metrics = Metrics()
    partitions = table_partitions(settings)
    failpoints = Failpoints(settings.failpoint)
    context = WorkerContext(
        settings=settings,
        app=app,
        metrics=metrics,
        # forkserver: the worker has threads (aiohttp, aiokafka); fork could copy held locks.
        enricher=Enricher(settings, start_method="forkserver",
                          on_restart=lambda reason: metrics.child_restarts.labels(reason).inc()),
        raw_topic=app.topic(*settings.input_topics, **raw),
        articles_topic=app.topic(settings.articles_topic, **single),
        enriched_topic=app.topic(settings.enriched_topic, **raw),
        entity_events_topic=app.topic(settings.entity_events_topic, **raw),
        mentions_topic=app.topic(settings.mentions_topic, **raw),
        trend_scores_topic=app.topic(settings.trend_scores_topic, **single),
        trending_topic=app.topic(settings.trending_topic, **raw),
        deadletter_topic=app.topic(settings.deadletter_topic, **raw),
        counts_table=app.Table(
            COUNTS, default=None, partitions=partitions[COUNTS], key_type=str,
            help="Mention counts per (entity, window): {mentions, articles, applied}.",
        ),
        lines_table=app.Table(
            LINES, default=None, partitions=partitions[LINES], key_type=str,
            help="Boilerplate memory per partition and site, for scraped text.",
        ),
        dedup_table=app.Table(
            FINGERPRINTS, default=None, partitions=partitions[FINGERPRINTS], key_type=str,
            help="URL, body and SimHash keys of recent articles, for de-duplication.",
        ),
        topic_ids=dict(topic_ids or {}),
        failpoints=failpoints,
        commit_guard=CommitGuard(failpoints),
        trends_table=app.Table(
            TRENDS, default=None, partitions=partitions[TRENDS], key_type=str,
            help="Per window: the entities scoring highest against their baseline.",
        ),
    )
    from stream.runtime.supervision import register_supervision
    from stream.runtime.web import register_pages

    app.newsstream_commit_guard = context.commit_guard.around_commit
    app.newsstream_before_stop = context.commit_guard.before_stop
    register_pages(context)
    register_supervision(context)
    metrics.watch_child(context.enricher.child_pid)
    app.newsstream = context
    logging.getLogger("faust").setLevel(settings.log_level.upper())
    return app


GIL_SWITCH_S = 0.0005


def faust_worker(app: Any, loglevel: str) -> Any:
    """faust's worker for ``app``, without its terminal spinner (the spinner turns every log
    record into a spin and sets the root logger to DEBUG to get them all, so every aiokafka
    send built a debug record that no handler wrote: 4 % of a worker's main process), in a
    process that hands the GIL to its other threads sooner."""
    from faust.worker import Worker

    # Records reach the enrichment child and come back through threads (concurrent.futures'
    # queue feeder and result manager), which wait for the GIL behind the event loop: up to
    # the switch interval each way, with the child idle. At Python's default of 5 ms one
    # worker took 21.2 s for the bench's 368 articles, at 0.5 ms 20.7 s (two runs each).
    sys.setswitchinterval(GIL_SWITCH_S)
    worker = Worker(app, loglevel=loglevel)
    worker.spinner = None
    return worker
