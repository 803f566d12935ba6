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
import statistics
from pathlib import Path

import orjson

from stream.config import Settings
from stream.evaluation.harness import bench_records, cluster, percentile
from stream.evaluation.report import Table, write_report
from stream.evaluation.stage_costs import measure
from stream.tools.producing import paced_round_trips


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
    calls = measure(records, Settings(log_level="warning")).calls
    table = Table("run", "articles/s", "p50 ms", "p95 ms", "p99 ms", "p99 / call's p99")
    call_p99 = percentile(calls, 0.99)
    table.add("the enrichment call alone (in process)", "-",
              *(f"{1000 * percentile(calls, q):,.0f}" for q in (0.5, 0.95, 0.99)), "1.00")
    for load in loads:
        rate = load * args.rate
        with cluster(1) as running:  # a new app: the same ids are new articles to it
            seconds = asyncio.run(paced_round_trips(running.settings, records, rate))
        table.add(f"one worker at {load:.0%} of {args.rate:g}/s", f"{rate:.1f}",
                  *(f"{1000 * percentile(seconds, q):,.0f}" for q in (0.5, 0.95, 0.99)),
                  f"{percentile(seconds, 0.99) / call_p99:.2f}")
    write_report(
        args.out,
        "Latency (`make bench`): from a raw record's send to its enriched event's arrival at a "
        f"consumer, one worker on the embedded broker, the mixed dev set {args.copies} times "
        f"over ({len(records)} articles per run, evenly spaced); the call alone is the same "
        f"records through the enrichment in one process (mean {statistics.mean(calls) * 1000:.0f}"
        " ms).", table.markdown)


if __name__ == "__main__":
    main()
