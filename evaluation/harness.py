"""What the stream benchmarks share: the bench set, a broker with workers to run it through,
and reading those processes from outside (/proc, /metrics)."""

from __future__ import annotations

import asyncio
import itertools
import math
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from stream.config import Settings
from stream.runtime.budget import resident_bytes
from stream.tools.broker import EmbeddedBroker, create_newsstream_topics, free_port
from stream.tools.jsonl import iter_lines
from stream.tools.processes import settings_environment, stop_process, wait_ready
from stream.tools.producing import consume_topic

READY_TIMEOUT_S = 120.0
_TICKS = os.sysconf("SC_CLK_TCK")

# (column, set, file): the article-extraction benchmark's pages (67 of 76 in English, the
# others in six languages that the Indonesian model tags) and the Indonesian news, as pages
# and as the text crawlers scrape from them.
GROUPS = (
    ("aeb HTML", "aeb", "html"),
    ("aeb text", "aeb", "text"),
    ("idnews HTML", "idnews", "html"),
    ("idnews text", "idnews", "text"),
)


def group_records(data: Path) -> dict[str, list[bytes]]:
    return {column: list(iter_lines(data / name / f"{kind}.jsonl.gz"))
            for column, name, kind in GROUPS}


def mixed_set(data: Path) -> list[bytes]:
    """The raw records of every group, in the order of :data:`GROUPS`."""
    return [record for records in group_records(data).values() for record in records]


def variants(base: Sequence[bytes], articles: int,
             prefix: str = "bench") -> Iterator[tuple[bytes, bytes]]:
    """(id, record) for ``articles`` records: ``base`` over and over, each time with a new id
    and URL (a new article to de-duplication and counting, not a repeat)."""
    for n, line in zip(range(articles), itertools.cycle(base), strict=False):
        record = orjson.loads(line)
        variant = {**record, "id": f"{prefix}-{n}", "url": f"{record['url']}#{prefix}-{n}"}
        yield variant["id"].encode(), orjson.dumps(variant)


def bench_records(data: Path, copies: int) -> list[bytes]:
    """The mixed set ``copies`` times, each record with its own id and URL."""
    base = mixed_set(data)
    return [value for _id, value in variants(base, copies * len(base))]


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0-1) of ``values``."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def queued(service: Sequence[float], rate: float) -> list[float]:
    """Seconds from arrival to done of each job for one ideal server, first come first served:
    job n arrives at n / ``rate`` and takes ``service[n]``. What a stream with no transport
    costs at all would give: the wait behind slower articles is queueing, not the stream."""
    done, out = 0.0, []
    for n, seconds in enumerate(service):
        arrival = n / rate
        done = max(done, arrival) + seconds
        out.append(done - arrival)
    return out


# ---- processes, from outside -------------------------------------------------------------

def _stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat after the command name (which may hold spaces)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process, from /proc."""
    try:
        fields = _stat_fields(pid)
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (the forkserver, the enrichment child)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int(_stat_fields(int(entry.name))[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def worker_memory(pid: int) -> tuple[int, int]:
    """Resident bytes of a worker and of its largest child (the enrichment child)."""
    children = [resident_bytes(child) for child in descendants(pid)]
    return resident_bytes(pid), max(children, default=0)


def scrape_metrics(port: int) -> dict[str, float]:
    """A worker's /metrics as sample (name with labels) → value."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        lines = response.read().decode().splitlines()
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in lines
            if line and not line.startswith("#")}


def total_updates(port: int) -> float:
    """Entity events a worker has counted in the running total."""
    return scrape_metrics(port).get('newsstream_count_updates_total{window="total"}', 0.0)


# ---- a broker and workers ------------------------------------------------------------------

@dataclass
class Cluster:
    """An embedded broker with newsstream's topics and ``workers`` of one app, all ready."""

    settings: Settings  # the app's (the first worker's web port)
    broker: EmbeddedBroker
    workers: list[tuple[Settings, subprocess.Popen[bytes]]]

    @property
    def pids(self) -> list[int]:
        return [worker.pid for _own, worker in self.workers]

    @property
    def ports(self) -> list[int]:
        return [own.web_port for own, _worker in self.workers]


@contextmanager
def cluster(workers: int, prefix: str = "bench", **overrides: Any) -> Iterator[Cluster]:
    """A fresh broker and ``workers`` workers of a new app, stopped on exit. With more than one
    worker, it also waits for the group to settle: ready is per worker, and the group is
    settled when every member holds its partitions."""
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as data, \
            ExitStack() as stack:
        settings = Settings(broker_url=broker.url, app_id=f"{prefix}-{uuid.uuid4().hex[:6]}",
                            web_port=free_port(), data_dir=data, log_level="warning",
                            **overrides)
        asyncio.run(create_newsstream_topics(settings.connection, settings.topics, settings.limits))
        running = []
        for _ in range(workers):
            own = settings.model_copy(update={"web_port": free_port()})
            worker = subprocess.Popen([sys.executable, "-m", "stream.tools.cli", "worker"],
                                      env=settings_environment(own),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            stack.callback(stop_process, worker, 30.0)
            running.append((own, worker))
        for own, worker in running:
            wait_ready(own.web, worker, READY_TIMEOUT_S)
        if workers > 1:
            time.sleep(2 * settings.session_timeout_s)
        yield Cluster(running[0][0], broker, running)


async def until_enriched(settings: Settings, expected: int) -> float:
    """Read ``articles.enriched`` from the start until ``expected`` records came: the
    perf_counter time of the last one."""
    seen = 0
    async for _value in consume_topic(settings.connection, settings.enriched_topic,
                                      idle_timeout=120):
        seen += 1
        if seen == expected:
            return time.perf_counter()
    raise RuntimeError(f"only {seen} of {expected} records came out")
