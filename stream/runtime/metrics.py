"""Prometheus metrics of a worker. Labels are low-cardinality: never an entity, URL or id."""

from __future__ import annotations

import contextlib
import logging
from collections import Counter as Tally
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)

from stream.counts.fold import Folded
from stream.dedup.decision import Deduplicated
from stream.pipeline import Result

log = logging.getLogger(__name__)
# A pid no process has: no child, no child_process_* series (rather than the worker's own).
_NO_PROCESS = 0

# The *_created series double the output and no dashboard of ours reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

_STAGE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.consumed = Counter("newsstream_articles_consumed_total",
                                "Raw article records taken from the input topics.",
                                ["topic"], registry=r)
        self.processed = Counter("newsstream_articles_processed_total",
                                 "Raw article records handled, by outcome (ok, deadletter).",
                                 ["outcome"], registry=r)
        self.deadletters = Counter("newsstream_deadletter_total",
                                   "Records sent to the dead-letter topic, by reason.",
                                   ["reason"], registry=r)
        self.stage_seconds = Histogram("newsstream_stage_duration_seconds",
                                       "Time spent per record in each pipeline stage.",
                                       ["stage"], buckets=_STAGE_BUCKETS, registry=r)
        self.entities = Counter("newsstream_entities_extracted_total",
                                "Entity mentions found in article text, by label.",
                                ["label"], registry=r)
        self.latency = Histogram("newsstream_end_to_end_latency_seconds",
                                 "From when the article was fetched (crawler's fetched_at) or "
                                 "produced (record timestamp) until its enriched event was sent.",
                                 ["since"], buckets=_LATENCY_BUCKETS, registry=r)
        self.lag = Gauge("newsstream_consumer_lag_records",
                         "Records in an input partition not yet processed by this worker.",
                         ["topic", "partition"], registry=r)
        self.count_updates = Counter("newsstream_count_updates_total",
                                     "Entity events counted, by window (each folded into its "
                                     "(entity, window) until the next flush).",
                                     ["window"], registry=r)
        self.count_flushes = Counter("newsstream_count_flushes_total",
                                     "Flushes of the folded counts, by outcome (ok, failed: "
                                     "the changes are kept and the commit is held back).",
                                     ["outcome"], registry=r)
        self.count_flushed = Counter("newsstream_count_flushed_records_total",
                                     "Records written by count flushes, by kind (changelog, "
                                     "mentions, scores).", ["kind"], registry=r)
        self.count_pending = Gauge("newsstream_count_pending_keys",
                                   "(entity, window) keys changed since the last flush.",
                                   registry=r)
        self.duplicates = Counter("newsstream_duplicate_articles_total",
                                  "Articles found to be a copy of an earlier one, by how.",
                                  ["reason"], registry=r)
        self.resent = Counter("newsstream_resent_articles_total",
                              "Articles sent again under the same id, by outcome: unchanged "
                              "(published as it was, not counted again), updated (the new text "
                              "published, counts kept), stale (an older version redelivered "
                              "after a newer one: not published).",
                              ["outcome"], registry=r)
        self.late = Counter("newsstream_late_articles_total",
                            "Counted articles that came after their window closed (past the "
                            "grace period): in the running total, not in that window.",
                            ["window"], registry=r)
        self.redeliveries = Counter("newsstream_count_redeliveries_total",
                                    "Entity events already applied to a count (redelivered "
                                    "after a crash or a rebalance), ignored.", registry=r)
        self.trending_published = Counter("newsstream_trending_published_total",
                                          "Trending rankings published, per window size.",
                                          ["window"], registry=r)
        self.ready = Gauge("newsstream_worker_ready",
                           "1 when /readyz says ready: partitions assigned, the broker answering, "
                           "the enrichment child alive, no stalled partition.", registry=r)
        self.stalled = Gauge("newsstream_stalled_partitions",
                             "Partitions with records to process that have made no progress "
                             "for NEWSSTREAM_STALL_READY_S.", registry=r)
        self.broker_up = Gauge("newsstream_broker_up",
                               "1 while the broker answers the worker's probes.", registry=r)
        self.child_up = Gauge("newsstream_enrichment_child_up",
                              "1 while the enrichment child process is alive and warm.",
                              registry=r)
        self.child_rss = Gauge("newsstream_enrichment_child_resident_bytes",
                               "Resident memory of the enrichment child process.", registry=r)
        self.child_restarts = Counter(
            "newsstream_enrichment_child_restarts_total",
            "Enrichment child processes replaced, by cause (crash, too_slow, memory).",
            ["reason"], registry=r)
        self.agent_errors = Counter("newsstream_agent_errors_total",
                                    "Records an agent failed on (dead-lettered), by stage.",
                                    ["stage"], registry=r)
        self.publish_failures = Counter("newsstream_publish_failures_total",
                                        "Records the broker did not take, by topic.",
                                        ["topic"], registry=r)
        self.event_time_rejected = Counter(
            "newsstream_event_time_rejected_total",
            "Article date fields not used as the event time (too far in the future, or "
            "before the epoch), by field.", ["field"], registry=r)
        self.refetches = Counter(
            "newsstream_partition_refetches_total",
            "Partitions fetched again from their next offset after making no progress with "
            "records to process (see stream.runtime.supervision.refetch_stalled).", registry=r)
        self.log_resets = Counter(
            "newsstream_log_resets_total",
            "Logs found to have started over (a broker restarted empty, a topic created again, "
            "a log cut below the worker's position), by topic; see stream.runtime.resets.",
            ["topic"], registry=r)
        self.loop_lag = Gauge("newsstream_event_loop_lag_seconds",
                              "How late the worker's event loop ran its last 1 s tick.",
                              registry=r)

        # The standard process_* and python_* series of the worker, and process_* of its
        # enrichment child (CPU, memory, open files: the child does the CPU work).
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        self._child_pid: Callable[[], int | None] = lambda: None
        ProcessCollector(namespace="newsstream_enrichment_child",
                         pid=lambda: self._child_pid() or _NO_PROCESS, registry=r)

        # Series that dashboards alert on exist from the start, at zero.
        for outcome in ("ok", "deadletter"):
            self.processed.labels(outcome)
        for reason in ("url", "body", "near"):
            self.duplicates.labels(reason)
        self.redeliveries.inc(0)
        for reason in ("crash", "too_slow", "memory"):
            self.child_restarts.labels(reason)

    def log_resets_by_topic(self) -> dict[str, int]:
        """The log resets counted so far, by topic (handed to the next run of a worker that
        starts afresh in place, so that the counter goes on)."""
        return {sample.labels["topic"]: int(sample.value)
                for metric in self.log_resets.collect() for sample in metric.samples
                if sample.name.endswith("_total")}

    def watch_child(self, pid: Callable[[], int | None]) -> None:
        """Report the process of the enrichment child whose pid ``pid`` gives (None: none)."""
        self._child_pid = pid

    def publish_failed(self, topic: str, error: BaseException) -> None:
        """A send the broker did not take: counted and logged, never silent."""
        self.publish_failures.labels(topic).inc()
        log.error("a record for %s was not delivered: %s", topic, error)

    def observe_result(self, topic: str, result: Result) -> None:
        self.consumed.labels(topic).inc()
        for stage, seconds in result.timings.items():
            self.stage_seconds.labels(stage).observe(seconds)
        if result.enriched is not None:
            self.processed.labels("ok").inc()
            for entity in result.enriched["entities"]:
                self.entities.labels(entity["label"]).inc()
        else:
            self.processed.labels("deadletter").inc()
            self.deadletters.labels(result.reason_code or "unknown").inc()

    def observe_latency(self, fetched: float | None, produced: float | None,
                        now: float) -> None:
        """End-to-end latency of an article sent on: from its record's timestamp, and from
        the crawler's fetch."""
        if produced:
            self.latency.labels("produced").observe(max(0.0, now - produced))
        if fetched is not None:
            self.latency.labels("fetched").observe(max(0.0, now - fetched))

    def observe_lag(self, message: Any, highwater: int | None) -> None:
        if highwater is not None:
            self.lag.labels(message.topic, str(message.partition)).set(
                max(0, highwater - message.offset - 1))

    def forget_lag(self, tps: Iterable[Any]) -> None:
        """Partitions this worker no longer owns: their lag is their new owner's to report
        (a stale value here would hold a lag alert up for records already processed)."""
        for tp in tps:
            with contextlib.suppress(KeyError):  # never observed here
                self.lag.remove(tp.topic, str(tp.partition))

    def observe_dedup(self, outcome: Deduplicated) -> None:
        if outcome.decision.replay:
            return
        if outcome.decision.resent:
            self.resent.labels(outcome.decision.resent).inc()
        if outcome.decision.reason and outcome.decision.resent is None:
            self.duplicates.labels(outcome.decision.reason).inc()
        for window in outcome.late_windows:
            self.late.labels(window).inc()

    def observe_counted(self, counted: Folded) -> None:
        if counted.redelivered:
            self.redeliveries.inc(counted.redelivered)
        for window, events in Tally(counted.counted).items():
            self.count_updates.labels(window).inc(events)
