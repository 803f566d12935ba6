"""``make bench``, scaling: articles per second of one and two workers on the embedded broker,
next to one ``newsstream process`` and two of them side by side, on the same records in the
same run; and where each worker run's CPU goes (worker main processes, enrichment children,
the broker, the client that produces and reads), per article.

Usage: ``python -m evaluation.throughput --data ../shared/data/clean --copies 2``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from evaluation.harness import (
    bench_records,
    cluster,
    cpu_seconds,
    descendants,
    until_enriched,
    worker_memory,
)
from evaluation.report import Table, write_report
from evaluation.topic_records import Written, per_article, written_when_quiet
from stream.config import Settings
from stream.tools.producing import produce_records


@dataclass
class CpuSplit:
    """CPU seconds of each part of a streamed run."""

    seconds: dict[str, float] = field(default_factory=dict)

    @classmethod
    def now(cls, workers: list[int], broker: int | None) -> CpuSplit:
        split = {"worker main": sum(cpu_seconds(pid) for pid in workers),
                 "enrichment children": sum(cpu_seconds(child) for pid in workers
                                            for child in descendants(pid)),
                 "broker": cpu_seconds(broker) if broker else 0.0,
                 "bench client": time.process_time()}
        return cls(split)

    def __sub__(self, other: CpuSplit) -> CpuSplit:
        return CpuSplit({k: v - other.seconds.get(k, 0.0) for k, v in self.seconds.items()})


async def _stream(settings: Settings, records: list[bytes]) -> float:
    started = time.perf_counter()
    # Spread evenly over the raw partitions, as a crawler's producer without keys does: by
    # hashed ids the four partitions of this set got 13 % to 31 % of the work, and the busier
    # worker of two bounded the pair at 1.7 times one.
    keyed = [(orjson.loads(value)["id"].encode(), value) for value in records]
    turn = iter(range(len(keyed)))
    await produce_records(settings.connection, settings.input_topics[0], keyed, progress=False,
                          partition_of=lambda _key: next(turn) % settings.partitions)
    return await until_enriched(settings, len(records)) - started


def offline(records: list[bytes], side_by_side: int) -> float:
    """Seconds for ``side_by_side`` ``newsstream process`` runs, each on all the records."""
    with tempfile.NamedTemporaryFile("wb", suffix=".jsonl", delete=False) as handle:
        handle.write(b"\n".join(records) + b"\n")
    try:
        started = time.perf_counter()
        runs = [subprocess.Popen([sys.executable, "-m", "stream.tools.cli", "process",
                                  handle.name], stdout=subprocess.DEVNULL)
                for _ in range(side_by_side)]
        for run in runs:
            if run.wait() != 0:
                raise RuntimeError(f"newsstream process exited with {run.returncode}")
        return time.perf_counter() - started
    finally:
        Path(handle.name).unlink()


@dataclass
class StreamRun:
    seconds: float
    cpu: CpuSplit
    memory: tuple[int, int]  # resident bytes of the worker and its enrichment child
    written: Written | None = None


def streamed(records: list[bytes], workers: int, count_written: bool = False) -> StreamRun:
    with cluster(workers) as running:
        before = CpuSplit.now(running.pids, running.broker.pid)
        seconds = asyncio.run(_stream(running.settings, records))
        cpu = CpuSplit.now(running.pids, running.broker.pid) - before
        memory = worker_memory(running.pids[0])
        written = asyncio.run(written_when_quiet(running.settings)) if count_written else None
    return StreamRun(seconds, cpu, memory, written)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/clean"))
    parser.add_argument("--copies", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("eval/throughput.md"))
    args = parser.parse_args()
    records = bench_records(args.data, args.copies)
    n = len(records)
    table = Table("run", "articles", "seconds (wall)", "articles/s", "ratio to one process")
    one = offline(records, 1)
    table.add("newsstream process (one process)", n, f"{one:.1f}", f"{n / one:.1f}", "1.00")
    two = offline(records, 2)
    table.add("two newsstream process side by side", 2 * n, f"{two:.1f}", f"{2 * n / two:.1f}",
              f"{2 * one / two:.2f}")
    runs = {}
    for count in (1, 2):
        run = runs[count] = streamed(records, count, count_written=count == 1)
        label = "one worker" if count == 1 else "two workers, one group"
        table.add(f"{label} on the embedded broker", n, f"{run.seconds:.1f}",
                  f"{n / run.seconds:.1f}", f"{one / run.seconds:.2f}")
    table.add("two workers / one worker", "", "", "",
              f"**{runs[1].seconds / runs[2].seconds:.2f}**")
    # Every process of the two-worker run (workers, children, broker, client) shares these
    # cores: at the CPU an article cost in that run, this is the most the cores can give.
    cores = len(os.sched_getaffinity(0))
    ceiling = cores / (sum(runs[2].cpu.seconds.values()) / n)
    table.add(f"ceiling of two workers: {cores} cores / all CPU per article of their run", "",
              "", f"{ceiling:.1f}", f"{one / n * ceiling:.2f}")
    table.add("ceiling / one worker", "", "", "", f"{runs[1].seconds / n * ceiling:.2f}")
    cpu = Table("CPU ms per article", "one worker", "two workers")
    for part in runs[1].cpu.seconds:
        cpu.add(part, *(f"{1000 * runs[c].cpu.seconds[part] / n:,.1f}" for c in (1, 2)))
    cpu.add("**all**", *(f"{1000 * sum(runs[c].cpu.seconds.values()) / n:,.1f}"
                         for c in (1, 2)))
    # The sustained rate the latency runs take their load from (evaluation.latency).
    args.out.with_suffix(".json").write_bytes(orjson.dumps(
        {"one_worker_articles_per_s": round(n / runs[1].seconds, 2)}))
    worker, child = runs[1].memory
    written = runs[1].written
    assert written is not None
    settings = Settings()
    sizes = f"worker {worker / 2**20:,.0f} MiB, enrichment child {child / 2**20:,.0f} MiB"
    write_report(
        args.out,
        f"Throughput (`make bench`) on {cores} cores: the dev extraction sets (English "
        f"and Indonesian, HTML and scraped text) {args.copies} times over, fresh ids and URLs "
        "each time; every run in the same invocation.", table.markdown,
        "Where the CPU of the streamed runs goes (the bench client produces the records and "
        "reads the enriched events):", cpu.markdown,
        f"Resident memory after the one-worker run: {sizes}.",
        "Records written per article by the one-worker run, on each topic (read back from the "
        "broker once the run was quiet; bytes of key and value, before compression):",
        per_article(written, n, settings.input_topics).markdown)


if __name__ == "__main__":
    main()
