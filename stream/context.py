"""What the agents share inside one worker: settings, topics, tables, metrics, the model."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from stream.config import Settings
from stream.entities import TokenTagger
from stream.metrics import Metrics


@dataclass
class WorkerContext:
    settings: Settings
    app: Any  # faust.App (faust ships no type information)
    metrics: Metrics
    tagger: TokenTagger
    raw_topic: Any
    enriched_topic: Any
    mentions_topic: Any
    deadletter_topic: Any
    entity_events_topic: Any
    counts_table: Any
    # CPU-bound enrichment runs here, so that a slow page does not block heartbeats and
    # the web server on the event loop.
    executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="enrich")
    )
    processing: bool = False
