"""``make bench``, latency: from a raw record's send to its enriched event's arrival at a
consumer, p50 / p95 / p99, through one worker on the embedded broker at a steady share of its
sustained rate, next to two baselines: the p99 of the enrichment call alone (the same records
through the same :class:`Enricher`, in this process, one after another), and the p99 of an
ideal server at the same load, which takes each article for its call's time, one at a time, in
order of arrival, with no transport at all. The stream's p99 over the call's is what the issue
asks; over the ideal server's it is what the stream adds beyond the queueing any single
enrichment process has behind its slow articles.

Usage: ``python -m evaluation.latency --data ../shared/data/clean [--rate 17]`` (the
rate defaults to the one-worker rate ``evaluation.throughput`` measured)
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from evaluation.harness import bench_records, cluster, percentile, queued
from evaluation.report import Table, write_report
from evaluation.stage_costs import measure
from stream.config import Settings
from stream.runtime.connection import client_options
from stream.tools.broker import within
from stream.tools.producing import MAX_REQUEST_BYTES


async def paced_round_trips(settings: Settings, records: list[bytes], rate: float) -> list[float]:
    """Send raw ``records`` at ``rate`` per second (evenly spaced, keyed by id) and read the
    enriched events as they come: the seconds from each send to its event's arrival."""
    sent: dict[str, float] = {}
    arrived: dict[str, float] = {}
    consumer = AIOKafkaConsumer(settings.enriched_topic, **client_options(settings.connection),
                                group_id=None, auto_offset_reset="latest",
                                fetch_max_wait_ms=10, max_partition_fetch_bytes=MAX_REQUEST_BYTES)
    producer = AIOKafkaProducer(**client_options(settings.connection), linger_ms=0, acks="all",
                                max_request_size=MAX_REQUEST_BYTES)
    try:
        await within(settings.connection, consumer.start(), f"read {settings.enriched_topic}")
        await within(settings.connection, producer.start(), f"send to {settings.input_topics[0]}")
        await consumer.getmany(timeout_ms=500)  # positioned at the end before the first send

        async def read() -> None:
            while len(arrived) < len(records):
                batches = await consumer.getmany(timeout_ms=200)
                now = time.perf_counter()
                for messages in batches.values():
                    for message in messages:
                        arrived.setdefault(orjson.loads(message.value)["id"], now)

        reader = asyncio.create_task(read())
        started = time.perf_counter()
        for n, value in enumerate(records):
            delay = started + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            key = orjson.loads(value)["id"]
            sent[key] = time.perf_counter()
            await producer.send(settings.input_topics[0], value=value, key=key.encode())
        await asyncio.wait_for(reader, timeout=120 + len(records) / rate)
    finally:
        await producer.stop()
        await consumer.stop()
    return [arrived[key] - at for key, at in sent.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/clean"))
    parser.add_argument("--rate", type=float, default=None,
                        help="the sustained articles/s of one worker (default: the one "
                             "measured by evaluation.throughput, eval/throughput.json)")
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
    table = Table("run", "articles/s", "p50 ms", "p95 ms", "p99 ms", "p99 / call's p99",
                  "p99 / ideal server's p99")

    def add(label: str, rate: str, seconds: list[float], ideal: list[float] | None) -> None:
        p99 = percentile(seconds, 0.99)
        table.add(label, rate, *(f"{1000 * percentile(seconds, q):,.0f}" for q in (0.5, 0.95)),
                  f"{1000 * p99:,.0f}", f"{p99 / call_p99:.2f}",
                  f"{p99 / percentile(ideal, 0.99):.2f}" if ideal else "-")

    call_p99 = percentile(calls, 0.99)
    add("the enrichment call alone (in process)", "-", calls, None)
    for load in loads:
        rate = load * args.rate
        ideal = queued(calls, rate)
        add(f"an ideal server at {load:.0%} (the calls queued, no transport)", f"{rate:.1f}",
            ideal, None)
        with cluster(1) as running:  # a new app: the same ids are new articles to it
            seconds = asyncio.run(paced_round_trips(running.settings, records, rate))
        add(f"one worker at {load:.0%} of {args.rate:g}/s", f"{rate:.1f}", seconds, ideal)
    write_report(
        args.out,
        "Latency (`make bench`): from a raw record's send to its enriched event's arrival at a "
        f"consumer, one worker on the embedded broker, the mixed dev set {args.copies} times "
        f"over ({len(records)} articles per run, evenly spaced); the call alone is the same "
        f"records through the enrichment in one process (mean {statistics.mean(calls) * 1000:.0f}"
        " ms).", table.markdown)


if __name__ == "__main__":
    main()
