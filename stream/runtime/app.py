"""The faust application: settings → app, topics, tables, agents and web pages."""

from __future__ import annotations

import logging
import socket
import sys
from collections.abc import Mapping
from typing import Any

from stream.config import Settings, Web
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
from stream.runtime.health import BrokerState
from stream.runtime.metrics import Metrics
from stream.runtime.tables import COUNTS, FINGERPRINTS, LINES, TRENDS, table_partitions
from stream.runtime.web_guard import auth_middleware


def canonical_url(web: Web, hostname: str) -> str:
    """The URL peers reach this worker at: ``NEWSSTREAM_CANONICAL_URL`` with ``{hostname}``
    replaced by this host's name (a container's or pod's, which its peers resolve), else the
    web host and port."""
    configured = web.canonical_url or f"http://{web.host}:{web.port}"
    return configured.replace("{hostname}", hostname)


def create_app(settings: Settings, topic_ids: Mapping[str, str] | None = None) -> Any:
    """The worker's faust app; :class:`~stream.runtime.versions.UnverifiedLibrary` when faust
    or aiokafka is not a version whose internals newsstream was checked against.
    ``topic_ids``: the ids of the topics as the worker starts (where the broker has them)."""
    check_faust_version()
    connection, topics, limits, worker, web = (settings.connection, settings.topics,
                                               settings.limits, settings.worker, settings.web)
    # an undecodable or oversize batch is dead-lettered, never a dead consumer
    transport.install(connection.max_batch_bytes)
    app = NewsstreamApp(
        worker.app_id,
        broker=connection.broker_url,
        broker_credentials=faust_credentials(connection),
        producer_compression_type=compression(connection),
        store=f"{worker.store}://",
        autodiscover=False,
        # At-least-once: Tansu has no transactions. Counting is made idempotent instead.
        processing_guarantee="at_least_once",
        topic_partitions=topics.partitions,
        topic_replication_factor=topics.replication_factor,
        broker_session_timeout=worker.session_timeout_s,
        broker_heartbeat_interval=worker.heartbeat_interval_s,
        broker_rebalance_timeout=worker.session_timeout_s,
        broker_commit_interval=worker.commit_interval_s,
        producer_linger=connection.linger_s,
        consumer_auto_offset_reset="earliest",
        web_bind=web.host,
        # The query pages need the token when one is set; requests carry small bodies only.
        web_application_options={"middlewares": [auth_middleware(web.secret)],
                                 "client_max_size": 64 * 1024},
        web_host=web.host,
        web_port=web.port,
        canonical_url=canonical_url(web, socket.gethostname()),
        datadir=worker.data_dir,
        table_cleanup_interval=30.0,
        # Commits stop when the worker stops (stream.runtime.faust_internals), so waiting for
        # unacknowledged events would only hold shutdown up: after an agent failure, for good.
        stream_wait_empty=False,
        # faust's /table and /router pages show table contents and the cluster's addresses.
        web_tables_enabled=web.enable_debug_pages,
        web_router_enabled=web.enable_debug_pages,
        # A partition fetch must fit the largest record we accept, or that record would stall
        # its partition instead of reaching the dead-letter topic as oversize.
        consumer_max_fetch_size=max(4 * 1024 * 1024, 2 * limits.max_payload_bytes),
        producer_max_request_size=max(1024 * 1024, 2 * limits.max_payload_bytes),
        # Recovery that reads changelogs to their true end on brokers with short ListOffsets.
        TableManager=NewsstreamTableManager,
    )
    app.newsstream_fetch_max_wait_s = worker.fetch_max_wait_s
    raw = dict(key_serializer="raw", value_serializer="raw")
    single = dict(raw, partitions=1)
    metrics = Metrics()
    partitions = table_partitions(topics)
    failpoints = Failpoints(worker.failpoint)
    context = WorkerContext(
        topics=topics,
        counting=settings.counting,
        limits=limits,
        worker=worker,
        web=web,
        connection=connection,
        app=app,
        metrics=metrics,
        # forkserver: the worker has threads (aiohttp, aiokafka); fork could copy held locks.
        enricher=Enricher(limits, settings.entities, start_method="forkserver",
                          on_restart=lambda reason: metrics.child_restarts.labels(reason).inc()),
        raw_topic=app.topic(*topics.inputs, **raw),
        articles_topic=app.topic(topics.articles, **single),
        enriched_topic=app.topic(topics.enriched, **raw),
        entity_events_topic=app.topic(topics.entity_events, **raw),
        mentions_topic=app.topic(topics.mentions, **raw),
        trend_scores_topic=app.topic(topics.trend_scores, **single),
        trending_topic=app.topic(topics.trending, **raw),
        deadletter_topic=app.topic(topics.deadletter, **raw),
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
        broker=BrokerState(timeout_s=worker.broker_timeout_s),
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
    logging.getLogger("faust").setLevel(worker.log_level.upper())
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
