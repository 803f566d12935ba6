"""``make bench``: articles per second through a real worker on the embedded broker, next to
the same enrichment offline (``newsstream process``) on the same records in the same run —
the ratio is the cost of the stream (broker round trips, serialisation, the child process).

Usage: ``python -m stream.evaluation.throughput --input FILE.jsonl.gz --copies 3``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from contextlib import suppress
from pathlib import Path

import orjson

from stream.broker import EmbeddedBroker, create_newsstream_topics, free_port
from stream.config import Settings
from stream.evaluation.report import Table, run_timed
from stream.jsonl import iter_lines
from stream.processes import stop_process
from stream.producing import consume_topic, produce_records


def _records(path: Path, copies: int) -> list[bytes]:
    """The input ``copies`` times, each copy with fresh article ids."""
    out = []
    for copy in range(copies):
        for n, line in enumerate(iter_lines(path)):
            record = orjson.loads(line)
            record["id"] = f"bench-{copy}-{n}"
            out.append(orjson.dumps(record))
    return out


def _wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("worker exited")
        with suppress(OSError), urllib.request.urlopen(
                f"http://127.0.0.1:{port}/readyz", timeout=1) as response:
            if response.status == 200:
                return
        time.sleep(0.2)
    raise TimeoutError("worker not ready")


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
    run_timed([sys.executable, "-m", "stream.cli", "process", handle.name])
    offline = time.perf_counter() - started
    Path(handle.name).unlink()
    table.add("newsstream process (one process)", len(records), f"{offline:.1f}",
              f"{len(records) / offline:.1f}", "1.00")
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as data:
        tag = uuid.uuid4().hex[:6]
        settings = Settings(broker_url=broker.url, app_id=f"bench-{tag}",
                            web_port=free_port(), data_dir=data, log_level="warning")
        asyncio.run(create_newsstream_topics(settings))
        env = {**os.environ, "NEWSSTREAM_BROKER_URL": broker.url,
               "NEWSSTREAM_APP_ID": settings.app_id, "NEWSSTREAM_WEB_PORT":
               str(settings.web_port), "NEWSSTREAM_DATA_DIR": data,
               "NEWSSTREAM_LOG_LEVEL": "warning"}
        worker = subprocess.Popen([sys.executable, "-m", "stream.cli", "worker"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_ready(settings.web_port, worker)
            streamed = asyncio.run(_stream(settings, records))
        finally:
            stop_process(worker, 30.0)
    table.add("worker on the embedded broker (one worker)", len(records), f"{streamed:.1f}",
              f"{len(records) / streamed:.1f}", f"{offline / streamed:.2f}")
    table.write(args.out)


if __name__ == "__main__":
    main()
