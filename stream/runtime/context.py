"""What the agents share inside one worker: settings views, topics, tables, metrics, the
enricher."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stream.config import Connection, Counting, Limits, Topics, Web, Worker
from stream.counts.index import CountIndex
from stream.runtime.enricher import Enricher
from stream.runtime.failpoints import Failpoints
from stream.runtime.flushing import CommitGuard
from stream.runtime.health import BrokerState, Progress
from stream.runtime.metrics import Metrics


@dataclass
class WorkerContext:
    # The settings, as the views the agents and the runtime read (stream.config.views).
    topics: Topics
    counting: Counting
    limits: Limits
    worker: Worker
    web: Web
    connection: Connection
    app: Any  # faust.App (faust ships no type information)
    metrics: Metrics
    enricher: Enricher
    raw_topic: Any
    articles_topic: Any
    enriched_topic: Any
    entity_events_topic: Any
    mentions_topic: Any
    trend_scores_topic: Any
    trending_topic: Any
    deadletter_topic: Any
    # (entity, window) → {mentions, articles, applied}; see stream.counts.apply.
    counts_table: Any
    # Per partition and site: which lines are boilerplate (see stream.clean.boilerplate).
    lines_table: Any
    # URL, body and SimHash keys of the articles seen; see stream.dedup.
    dedup_table: Any
    # Per window: the best-scoring entities; see stream.counts.trending.
    trends_table: Any
    # Whether the broker answers (stream.runtime.supervision probes it).
    broker: BrokerState
    count_index: CountIndex = field(default_factory=CountIndex)
    failpoints: Failpoints = field(default_factory=lambda: Failpoints(""))
    # Flushes what agents hold in memory before every commit (set up by the agents).
    commit_guard: CommitGuard = field(default_factory=lambda: CommitGuard(Failpoints("")))
    processing: bool = False
    progress: Progress = field(default_factory=Progress)
    # Topic → the id it had when first seen (brokers with topic ids): a new id is a new log.
    topic_ids: dict[str, str] = field(default_factory=dict)
