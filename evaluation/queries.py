"""``make bench`` (queries): latency of the entity query endpoints with many distinct entities
in the counts table, next to ``/healthz`` on the same worker in the same run (the floor: HTTP
and faust's web server, no table work).

Entity events go straight to the internal entity-events topic (as the de-duplication agent
would send them), so that the table holds exactly ``--entities`` entities, each in the running
total and in its 1m, 1h and 1d windows. With ``--workers 2`` the entities are spread over two
workers and ``/entities/top`` merges both.

Usage: ``python -m evaluation.queries --entities 10000 --workers 2``
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
import urllib.request
from pathlib import Path

import orjson

from evaluation.harness import cluster, percentile, total_updates
from evaluation.report import Table
from stream.tools.producing import produce_records

BASE_TIME = 1_790_000_000
# /healthz first: the floor the others are compared with
ENDPOINTS = ("/healthz", "/entities/top?window=1h&n=20", "/entities/top?window=total&n=20",
             "/entities/PER:bench-person-7")


def _events(n: int, seed: int = 1) -> list[tuple[bytes, bytes]]:
    rng = random.Random(seed)
    records = []
    for i in range(n):
        entity_id = f"PER:bench-person-{i}"
        event = {"entity_id": entity_id, "name": f"Bench Person {i}", "label": "PER",
                 "mentions": rng.randint(1, 50), "article_id": f"bench-{i}",
                 "event_time": BASE_TIME + rng.uniform(0, 3000),
                 "window_sizes": [60, 3600, 86400], "source": [0, i]}
        records.append((entity_id.encode(), orjson.dumps(event)))
    return records


def _get(url: str) -> tuple[float, bytes]:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=10) as response:
        body = response.read()
    return (time.perf_counter() - started) * 1000, body


def _latencies(url: str, requests: int) -> list[float]:
    _get(url)  # warm: the first request builds faust's route cache
    return [_get(url)[0] for _ in range(requests)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--out", type=Path, default=Path("eval/queries.md"))
    args = parser.parse_args()
    with cluster(args.workers, prefix="bench-q", session_timeout_s=3.0) as running:
        settings, ports = running.settings, running.ports
        asyncio.run(produce_records(settings.connection, settings.entity_events_topic,
                                    _events(args.entities), progress=False))
        deadline = time.monotonic() + 300
        while sum(total_updates(p) for p in ports) < args.entities:
            if time.monotonic() > deadline:
                raise TimeoutError("the entity events were not all counted")
            time.sleep(0.5)
        table = Table("endpoint", "entities in the tables", "workers", "requests",
                      "p50 ms", "p95 ms", "p99 ms", "ratio of p50 to /healthz")
        base = f"http://127.0.0.1:{ports[0]}"
        results = {endpoint: _latencies(base + endpoint, args.requests)
                   for endpoint in ENDPOINTS}
        _, body = _get(base + "/entities/top?window=total&n=3")
        assert len(orjson.loads(body)["entities"]) == 3
    floor = statistics.median(results["/healthz"])
    for endpoint, values in results.items():
        p95, p99 = percentile(values, 0.95), percentile(values, 0.99)
        median = statistics.median(values)
        table.add(endpoint, args.entities, args.workers, len(values), f"{median:.1f}",
                  f"{p95:.1f}", f"{p99:.1f}", f"{median / floor:.1f}")
    table.write(args.out)


if __name__ == "__main__":
    main()
