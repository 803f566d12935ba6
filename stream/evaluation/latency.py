"""``make bench``, latency: from a raw record's send to its enriched event's arrival at a
consumer, p50 / p95 / p99, through one worker on the embedded broker at a steady share of its
sustained rate, next to the p99 of the enrichment call alone (the same records through the
same :class:`Enricher`, in this process, one after another).

Usage: ``python -m stream.evaluation.latency --data ../shared/data/clean [--rate 17]`` (the
rate defaults to the one-worker rate ``stream.evaluation.throughput`` measured)
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson

from stream.config import Settings
from stream.evaluation.report import Table
from stream.evaluation.throughput import _workers, bench_records
from stream.runtime.enricher import Enricher
from stream.tools.broker import EmbeddedBroker, create_newsstream_topics, free_port
from stream.tools.producing import paced_round_trips


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0-1) of ``values``."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def call_seconds(records: list[bytes]) -> list[float]:
    """Wall seconds of the enrichment call of each record, in this process (models loaded)."""
    enricher = Enricher(Settings(log_level="warning"), start_method="alarm")
    memory: dict[str, Any] = {}
    out = []
    try:
        for value in records:
            started = time.perf_counter()
            enricher.run(value, memory)
            out.append(time.perf_counter() - started)
    finally:
        enricher.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/clean"))
    parser.add_argument("--rate", type=float, default=None,
                        help="the sustained articles/s of one worker (default: the one "
                             "measured by stream.evaluation.throughput, eval/throughput.json)")
    parser.add_argument("--load", type=float, action="append",
                        help="shares of --rate to run at (default 0.5 and 0.8)")
    parser.add_argument("--copies", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("eval/latency.md"))
    args = parser.parse_args()
    loads = args.load or [0.5, 0.8]
    if args.rate is None:
        measured = orjson.loads(Path("eval/throughput.json").read_bytes())
        args.rate = float(measured["one_worker_articles_per_s"])
    records = bench_records(args.data, args.copies)
    calls = call_seconds(records)
    table = Table("run", "articles/s", "p50 ms", "p95 ms", "p99 ms", "p99 / call's p99")
    call_p99 = percentile(calls, 0.99)
    table.add("the enrichment call alone (in process)", "-",
              *(f"{1000 * percentile(calls, q):,.0f}" for q in (0.5, 0.95, 0.99)), "1.00")
    for load in loads:
        rate = load * args.rate
        with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as data:
            settings = Settings(broker_url=broker.url, app_id=f"bench-{uuid.uuid4().hex[:6]}",
                                web_port=free_port(), data_dir=data, log_level="warning")
            asyncio.run(create_newsstream_topics(settings))
            with _workers(settings, 1):
                fresh = bench_records(args.data, args.copies)  # new ids: new articles
                seconds = asyncio.run(paced_round_trips(settings, fresh, rate))
        table.add(f"one worker at {load:.0%} of {args.rate:g}/s", f"{rate:.1f}",
                  *(f"{1000 * percentile(seconds, q):,.0f}" for q in (0.5, 0.95, 0.99)),
                  f"{percentile(seconds, 0.99) / call_p99:.2f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        "Latency (`make bench`): from a raw record's send to its enriched event's arrival at a "
        f"consumer, one worker on the embedded broker, the mixed dev set {args.copies} times "
        f"over ({len(records)} articles per run, evenly spaced); the call alone is the same "
        f"records through the enrichment in one process (mean {statistics.mean(calls) * 1000:.0f}"
        " ms).\n\n" + "\n".join(table.rows) + "\n", encoding="utf-8")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
