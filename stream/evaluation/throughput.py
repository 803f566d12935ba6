"""``make bench``: articles per second through a real worker on the embedded broker, next to
the same enrichment offline (``newsstream process``) on the same records in the same run —
the ratio is the cost of the stream (broker round trips, serialisation, the child process).

Usage: ``python -m stream.evaluation.throughput --input FILE.jsonl.gz --copies 3``
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import orjson

from stream.config import Settings
from stream.evaluation.report import Table, run_timed
from stream.tools.broker import EmbeddedBroker, create_newsstream_topics, free_port
from stream.tools.jsonl import iter_lines
from stream.tools.processes import settings_environment, stop_process, wait_ready
from stream.tools.producing import consume_topic, produce_records

READY_TIMEOUT_S = 120.0


def _records(path: Path, copies: int) -> list[bytes]:
    """The input ``copies`` times, each copy with fresh article ids."""
    out = []
    for copy in range(copies):
        for n, line in enumerate(iter_lines(path)):
            record = orjson.loads(line)
            record["id"] = f"bench-{copy}-{n}"
            out.append(orjson.dumps(record))
    return out


async def _stream(settings: Settings, records: list[bytes]) -> float:
    started = time.perf_counter()
    await produce_records(settings, settings.input_topics[0],
                          [(None, value) for value in records], progress=False)
    seen = 0
    async for _value in consume_topic(settings, settings.enriched_topic, idle_timeout=60):
        seen += 1
        if seen == len(records):
            break
    if seen < len(records):
        raise RuntimeError(f"only {seen} of {len(records)} records came out")
    return time.perf_counter() - started


MEMORY_METRICS = {"worker": "process_resident_memory_bytes",
                  "enrichment child": "newsstream_enrichment_child_process_resident_memory_bytes"}


def resident_memory(settings: Settings) -> dict[str, float]:
    """The worker's and its child's resident memory, from the worker's /metrics."""
    url = f"http://{settings.web_host}:{settings.web_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        lines = response.read().decode().splitlines()
    values = {line.split()[0]: float(line.split()[1]) for line in lines
              if line and not line.startswith("#")}
    return {name: values.get(metric, 0.0) for name, metric in MEMORY_METRICS.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input", type=Path,
                        default=Path("../shared/data/clean/aeb/html.jsonl.gz"))
    parser.add_argument("--copies", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("eval/throughput.md"))
    args = parser.parse_args()
    records = _records(args.input, args.copies)
    table = Table("run", "articles", "seconds (wall)", "articles/s", "ratio to offline")
    with tempfile.NamedTemporaryFile("wb", suffix=".jsonl", delete=False) as handle:
        handle.write(b"\n".join(records) + b"\n")
    started = time.perf_counter()
    run_timed([sys.executable, "-m", "stream.tools.cli", "process", handle.name])
    offline = time.perf_counter() - started
    Path(handle.name).unlink()
    table.add("newsstream process (one process)", len(records), f"{offline:.1f}",
              f"{len(records) / offline:.1f}", "1.00")
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as data:
        tag = uuid.uuid4().hex[:6]
        settings = Settings(broker_url=broker.url, app_id=f"bench-{tag}",
                            web_port=free_port(), data_dir=data, log_level="warning")
        asyncio.run(create_newsstream_topics(settings))
        worker = subprocess.Popen([sys.executable, "-m", "stream.tools.cli", "worker"],
                                  env=settings_environment(settings),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_ready(settings, worker, READY_TIMEOUT_S)
            streamed = asyncio.run(_stream(settings, records))
            memory = resident_memory(settings)
        finally:
            stop_process(worker, 30.0)
    table.add("worker on the embedded broker (one worker)", len(records), f"{streamed:.1f}",
              f"{len(records) / streamed:.1f}", f"{offline / streamed:.2f}")
    table.write(args.out)
    sizes = ", ".join(f"{name} {value / 2**20:,.0f} MiB" for name, value in memory.items())
    print(f"resident memory after the run: {sizes}")
    with args.out.open("a", encoding="utf-8") as out:
        out.write(f"\nResident memory after the run: {sizes}.\n")


if __name__ == "__main__":
    main()
