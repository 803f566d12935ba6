"""What the agents share inside one worker: settings, topics, tables, metrics, the model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stream.config import Settings
from stream.enricher import Enricher
from stream.metrics import Metrics


@dataclass
class WorkerContext:
    settings: Settings
    app: Any  # faust.App (faust ships no type information)
    metrics: Metrics
    enricher: Enricher
    raw_topic: Any
    enriched_topic: Any
    mentions_topic: Any
    deadletter_topic: Any
    entity_events_topic: Any
    counts_table: Any
    # Per partition and site: which lines are boilerplate (see stream.boilerplate).
    lines_table: Any
    processing: bool = False
