"""``make bench``, the counting path without NLP: enriched-article envelopes written straight to
the internal articles topic, so what is measured is de-duplication (one partition, one worker
at a time), the entity events it sends, and counting (as many partitions as the raw topics).

- articles per second through de-duplication alone (articles without entities), the ceiling of
  the whole stream whatever the number of workers;
- entity events per second through de-duplication and counting, with one and with two
  workers (counting is spread over the entity-events partitions).

Usage: ``python -m stream.evaluation.counting --articles 2000 --entities 15``
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from pathlib import Path
from typing import Any

import orjson

from stream.evaluation.harness import Cluster, cluster, total_updates, until_enriched
from stream.evaluation.report import Table, write_report
from stream.records import ArticleEnvelope, encode
from stream.tools.producing import produce_records

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


def _counted(running: Cluster) -> float:
    return sum(total_updates(port) for port in running.ports)


def run(records: list[bytes], workers: int, events: int) -> tuple[float, float]:
    """(seconds until every article is de-duplicated, seconds until every event is counted)."""
    with cluster(workers) as running:
        settings = running.settings
        started = time.perf_counter()
        asyncio.run(produce_records(settings, settings.articles_topic,
                                    [(None, value) for value in records], progress=False))
        deduplicated = asyncio.run(until_enriched(settings, len(records))) - started
        deadline = time.monotonic() + TIMEOUT_S
        while _counted(running) < events:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{_counted(running):.0f} of {events} events counted")
            time.sleep(0.05)
        return deduplicated, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--entities", type=int, default=15, help="entities named per article")
    parser.add_argument("--out", type=Path, default=Path("eval/counting.md"))
    args = parser.parse_args()
    table = Table("run", "articles", "entity events", "seconds", "articles/s",
                  "entity events/s")
    bare = envelopes(args.articles, 0)
    seconds, _ = run(bare, 1, 0)
    table.add("de-duplication alone (no entities), one worker", args.articles, 0,
              f"{seconds:.1f}", f"{args.articles / seconds:,.0f}", "-")
    records = envelopes(args.articles, args.entities)
    events = sum(len(orjson.loads(r)["enriched"]["entity_counts"]) for r in records)
    for workers in (1, 2):
        _, seconds = run(records, workers, events)
        table.add(f"de-duplication and counting, {workers} worker{'s' * (workers > 1)}",
                  args.articles, events, f"{seconds:.1f}", f"{args.articles / seconds:,.0f}",
                  f"{events / seconds:,.0f}")
    write_report(
        args.out,
        "The counting path without NLP (`make bench`): article envelopes written straight to "
        "the internal articles topic, each naming entities from a pool of 5,000 with a long "
        "tail; counted in the running total and three windows, on the embedded broker.",
        table.markdown)


if __name__ == "__main__":
    main()
