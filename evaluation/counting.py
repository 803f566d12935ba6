"""``make bench``, the counting path without NLP: enriched-article envelopes written straight to
the internal articles topic, so what is measured is de-duplication (one partition, one worker
at a time), the entity events it sends, and counting (as many partitions as the raw topics).

- articles per second through de-duplication alone (articles without entities), the ceiling of
  the whole stream whatever the number of workers;
- entity events per second through de-duplication and counting, with one and with two
  workers (counting is spread over the entity-events partitions);
- Quix Streams counting the very same entity events in the same windows, on the same
  embedded broker, in the same invocation (:mod:`evaluation.peers.quix_counting`,
  run with the Python of ``.venv-quix``, which ``make bench`` builds), and the ratio.

The newsstream figure runs from the first article produced to the last event counted (the
de-duplication of the articles included); Quix Streams' from its first event processed to its
last (its start-up excluded, and no de-duplication to do: it reads the entity events).

Usage: ``python -m evaluation.counting --articles 2000 --entities 15``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from evaluation.harness import Cluster, cluster, cpu_seconds, total_updates, until_enriched
from evaluation.report import Table, write_report
from evaluation.topic_records import Written, per_article, written_when_quiet
from stream.config import Settings
from stream.records import ArticleEnvelope, encode
from stream.tools.broker import EmbeddedBroker
from stream.tools.producing import consume_topic, produce_records

ENTITY_POOL = 5_000
TIMEOUT_S = 600.0


def envelopes(articles: int, entities: int, seed: int = 7) -> list[bytes]:
    """Distinct articles (own id and URL, no text), each naming ``entities`` entities drawn
    from a pool of 5,000 with a long tail, as news does."""
    rng = random.Random(seed)
    now = time.time()
    out = []
    for n in range(articles):
        named = {rng.paretovariate(1.2) for _ in range(entities)}
        ids = sorted({min(int(x * 10), ENTITY_POOL) for x in named})
        article_id = f"count-{n}"
        enriched: dict[str, Any] = {
            "id": article_id, "url": f"https://bench.example/{n}", "text": "",
            "language": "id", "entities": [],
            "entity_counts": [{"entity_id": f"PER:e{i}", "name": f"E{i}", "label": "PER",
                               "mentions": 1 + i % 3} for i in ids],
        }
        envelope: ArticleEnvelope = {"enriched": enriched, "fingerprint": {
            "id": article_id, "url": f"u{n}", "body": None, "simhash": None,
            "event_time": now + n * 0.01}}
        out.append(encode(envelope))
    return out


QUIX_PYTHON = Path(".venv-quix/bin/python")
QUIX_APP = Path(__file__).parent / "peers" / "quix_counting.py"


def entity_event_records(records: list[bytes]) -> list[tuple[bytes, bytes]]:
    """The entity events of the articles, one record per entity keyed by its id: what a user
    of a stream library would count."""
    out = []
    for record in records:
        envelope = orjson.loads(record)
        event_time = envelope["fingerprint"]["event_time"]
        for count in envelope["enriched"]["entity_counts"]:
            out.append((count["entity_id"].encode(), orjson.dumps({
                "entity_id": count["entity_id"], "name": count["name"],
                "label": count["label"], "mentions": count["mentions"],
                "article_id": envelope["enriched"]["id"], "event_time": event_time})))
    return out


def quix(records: list[bytes], windows: list[int]) -> float:
    """Entity events per second of Quix Streams counting the articles' entity events."""
    events = entity_event_records(records)
    with EmbeddedBroker() as broker:
        settings = Settings(broker_url=broker.url, app_id=f"quix-{uuid.uuid4().hex[:6]}")
        source = f"{settings.app_id}.entity-events"
        asyncio.run(produce_records(settings.connection, source, events, progress=False))
        done = subprocess.run(
            [str(QUIX_PYTHON), str(QUIX_APP), "--broker", broker.bootstrap, "--input", source,
             "--output", f"{settings.app_id}.counts", "--events", str(len(events)),
             "--windows", ",".join(map(str, windows))],
            capture_output=True, check=True, timeout=TIMEOUT_S)
    result = orjson.loads(done.stdout.splitlines()[-1])
    if result["events"] != len(events):
        raise RuntimeError(f"Quix Streams processed {result['events']} of {len(events)}")
    return float(len(events) / result["seconds"])


def _counted(running: Cluster) -> float:
    return sum(total_updates(port) for port in running.ports)


@dataclass
class CountRun:
    deduplicated_s: float  # until every article is de-duplicated
    counted_s: float  # until every event is counted
    cpu_s: dict[str, float]  # CPU seconds of the workers' main processes and of the broker
    written: Written | None = None  # what the run wrote, per topic
    latency_ms: list[float] | None = None  # article to its count on entities.mentions


PROBES = 40
PROBE_GAP_S = 0.23  # not a divisor of the flush interval: probes land all through a flush


def _probe(n: int) -> bytes:
    """An article naming one entity no other article names, so its first count is its own."""
    enriched: dict[str, Any] = {
        "id": f"probe-{n}", "url": f"https://probe.example/{n}", "text": "", "language": "id",
        "entities": [], "entity_counts": [{"entity_id": f"PER:probe{n}", "name": f"Probe {n}",
                                           "label": "PER", "mentions": 1}]}
    return encode({"enriched": enriched, "fingerprint": {
        "id": f"probe-{n}", "url": f"p{n}", "body": None, "simhash": None,
        "event_time": time.time()}})


async def live_latency(settings: Settings) -> list[float]:
    """Milliseconds from an article's send (to the internal articles topic, after enrichment)
    to the first ``entities.mentions`` record of its entity, one article at a time under no
    other load: de-duplication, the entity-event batching and the count flush, what the
    dashboard's live update waits for before its own redraw."""
    sent: dict[str, float] = {}
    arrived: dict[str, float] = {}

    async def watch() -> None:
        async for value in consume_topic(settings.connection, settings.mentions_topic,
                                         from_beginning=False):
            entity = value["entity"]["entity_id"]
            if entity in sent and entity not in arrived:
                arrived[entity] = time.perf_counter()
                if len(arrived) == PROBES:
                    return

    watcher = asyncio.create_task(watch())
    await asyncio.sleep(2.0)  # the reader's partitions assigned before the first probe
    for n in range(PROBES):
        sent[f"PER:probe{n}"] = time.perf_counter()
        await produce_records(settings.connection, settings.articles_topic, [(None, _probe(n))],
                              progress=False)
        await asyncio.sleep(PROBE_GAP_S)
    await asyncio.wait_for(watcher, TIMEOUT_S)
    return [1000 * (arrived[entity] - at) for entity, at in sent.items()]


def run(records: list[bytes], workers: int, events: int,
        count_written: bool = False, latency: bool = False) -> CountRun:
    with cluster(workers) as running:
        settings = running.settings
        cpu_before = _cpu(running)
        started = time.perf_counter()
        asyncio.run(produce_records(settings.connection, settings.articles_topic,
                                    [(None, value) for value in records], progress=False))
        deduplicated = asyncio.run(until_enriched(settings, len(records))) - started
        deadline = time.monotonic() + TIMEOUT_S
        while _counted(running) < events:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{_counted(running):.0f} of {events} events counted")
            time.sleep(0.05)
        counted = time.perf_counter() - started
        cpu = {part: seconds - cpu_before[part] for part, seconds in _cpu(running).items()}
        written = asyncio.run(written_when_quiet(settings)) if count_written else None
        latency_ms = asyncio.run(live_latency(settings)) if latency else None
        return CountRun(deduplicated, counted, cpu, written, latency_ms)


def _cpu(running: Cluster) -> dict[str, float]:
    return {"worker main processes": sum(cpu_seconds(pid) for pid in running.pids),
            "broker": cpu_seconds(running.broker.pid) if running.broker.pid else 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--entities", type=int, default=15, help="entities named per article")
    parser.add_argument("--out", type=Path, default=Path("eval/counting.md"))
    args = parser.parse_args()
    table = Table("run", "articles", "entity events", "seconds", "articles/s",
                  "entity events/s")
    bare = envelopes(args.articles, 0)
    seconds = run(bare, 1, 0).deduplicated_s
    table.add("de-duplication alone (no entities), one worker", args.articles, 0,
              f"{seconds:.1f}", f"{args.articles / seconds:,.0f}", "-")
    records = envelopes(args.articles, args.entities)
    events = sum(len(orjson.loads(r)["enriched"]["entity_counts"]) for r in records)
    rates, runs = {}, {}
    for workers in (1, 2):
        done = runs[workers] = run(records, workers, events, count_written=workers == 1,
                                   latency=workers == 1)
        seconds = done.counted_s
        rates[workers] = events / seconds
        table.add(f"de-duplication and counting, {workers} worker{'s' * (workers > 1)}",
                  args.articles, events, f"{seconds:.1f}", f"{args.articles / seconds:,.0f}",
                  f"{events / seconds:,.0f}")
    peer = Table("counting the same entity events", "entity events/s", "ratio to Quix Streams")
    quix_rate = quix(records, Settings().count_windows_s) if QUIX_PYTHON.exists() else None
    if quix_rate is None:
        peer.add("Quix Streams: not run (no .venv-quix; `make bench` builds it)", "-", "-")
    else:
        peer.add("Quix Streams 3.28.1, one process (first to last event processed)",
                 f"{quix_rate:,.0f}", "1.00")
    for workers, rate in rates.items():
        ratio = "-" if quix_rate is None else f"**{rate / quix_rate:.2f}**"
        peer.add(f"newsstream, {workers} worker{'s' * (workers > 1)} (de-duplication "
                 "included)", f"{rate:,.0f}", ratio)
    peer.add("newsstream, two workers / one", "", f"{rates[2] / rates[1]:.2f}")
    cpu = Table("CPU ms per 1,000 entity events", "one worker", "two workers")
    for part in runs[1].cpu_s:
        cpu.add(part, *(f"{1e6 * runs[w].cpu_s[part] / events:,.0f}" for w in (1, 2)))
    cores = len(os.sched_getaffinity(0))
    per_event = sum(runs[2].cpu_s.values()) / events
    cpu.add(f"ceiling of two workers: {cores} cores / that CPU per event (events/s)", "",
            f"{cores / per_event:,.0f}")
    written, latency_ms = runs[1].written, runs[1].latency_ms
    assert written is not None and latency_ms is not None
    flush_s = Settings().count_flush_s
    live = Table("article to its count on `entities.mentions`, one worker, "
                 f"{len(latency_ms)} articles {PROBE_GAP_S} s apart", "p50", "p95", "max",
                 "bound: flush interval + 200 ms")
    live.add("milliseconds", *(f"{statistics.quantiles(latency_ms, n=20)[i]:.0f}"
                               for i in (9, 18)), f"{max(latency_ms):.0f}",
             f"{1000 * flush_s + 200:.0f}")
    write_report(
        args.out,
        "The counting path without NLP (`make bench`): article envelopes written straight to "
        "the internal articles topic, each naming entities from a pool of 5,000 with a long "
        "tail; counted in the running total and three windows, on the embedded broker.",
        table.markdown,
        "Against Quix Streams on the same events, windows and broker, in this run (its app: "
        "`evaluation/peers/quix_counting.py`):", peer.markdown,
        "Where the CPU goes (the bench client producing and reading shares the cores too); "
        "the broker's is the embedded one's:", cpu.markdown,
        "The live update's wait in the worker (de-duplication, entity-event batching, the count "
        "flush); the dashboard's own record-to-redrawn-page time is in "
        "`eval/dashboard.md`:", live.markdown,
        "Records written by the one-worker run, per article, on each topic:",
        per_article(written, args.articles, []).markdown)


if __name__ == "__main__":
    main()
