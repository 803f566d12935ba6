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
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from stream.config import Settings
from stream.evaluation.report import Table
from stream.evaluation.throughput import _workers, bench_records
from stream.runtime.connection import client_options
from stream.runtime.enricher import Enricher
from stream.tools.broker import EmbeddedBroker, create_newsstream_topics, free_port


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


async def _paced(settings: Settings, records: list[bytes], rate: float) -> list[float]:
    """Send ``records`` at ``rate`` per second (evenly spaced, keyed by id) and read the
    enriched events as they come: seconds from each send to its event's arrival."""
    sent: dict[str, float] = {}
    arrived: dict[str, float] = {}
    consumer = AIOKafkaConsumer(settings.enriched_topic, **client_options(settings),
                                group_id=None, auto_offset_reset="latest",
                                fetch_max_wait_ms=10, max_partition_fetch_bytes=8 * 2**20)
    producer = AIOKafkaProducer(**client_options(settings), linger_ms=0, acks="all",
                                max_request_size=8 * 2**20)
    await consumer.start()
    await producer.start()
    try:
        await consumer.getmany(timeout_ms=500)  # joined at the end, before the first send

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
                seconds = asyncio.run(_paced(settings, fresh, rate))
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
