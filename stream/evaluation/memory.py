"""``make soak``: the resident memory of one worker and its enrichment child while a long stream
of articles goes through (variants of the dev extraction sets: new ids and URLs, so every one is
a new article to de-duplication and counting), sampled from /proc every few seconds.

Flat means: the largest sample after warm-up (the first tenth of the articles) is within 10 %
of the sample taken when warm-up ended. The embedded broker keeps every record in memory, so
its own memory is not a figure of newsstream's and is not reported.

Usage: ``python -m stream.evaluation.memory --articles 100000``
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from stream.config import Settings
from stream.evaluation.harness import cluster, mixed_set, variants, worker_memory
from stream.evaluation.report import Table, write_report
from stream.tools.producing import consume_topic, produce_records

SAMPLE_EVERY_S = 5.0
CHUNK = 500  # articles produced at a time; the next chunk waits until this one is enriched


@dataclass
class Samples:
    """(articles enriched so far, worker RSS, largest child RSS) over time."""

    rows: list[tuple[int, int, int]] = field(default_factory=list)
    done: int = 0

    def take(self, worker: int) -> None:
        self.rows.append((self.done, *worker_memory(worker)))


def soak(data: Path, articles: int) -> tuple[Samples, float]:
    samples = Samples()
    with cluster(1, prefix="soak") as running:
        worker = running.pids[0]
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(SAMPLE_EVERY_S):
                samples.take(worker)

        sampler = threading.Thread(target=sample, daemon=True)
        started = time.perf_counter()
        sampler.start()
        try:
            records = variants(mixed_set(data), articles, prefix="soak")
            asyncio.run(_stream(running.settings, records, samples))
        finally:
            stop.set()
            sampler.join()
        samples.take(worker)
        return samples, time.perf_counter() - started


async def _stream(settings: Settings, records: Iterator[tuple[bytes, bytes]],
                  samples: Samples) -> None:
    reader = consume_topic(settings, settings.enriched_topic, idle_timeout=300)
    while chunk := list(itertools.islice(records, CHUNK)):
        await produce_records(settings, settings.input_topics[0], chunk, progress=False)
        target = samples.done + len(chunk)
        async for _value in reader:
            samples.done += 1
            if samples.done >= target:
                break
        if samples.done < target:
            raise RuntimeError(f"only {samples.done} of {target} articles came out")
    await reader.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/clean"))
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=Path("eval/memory.md"))
    args = parser.parse_args()
    samples, seconds = soak(args.data, args.articles)
    warm = next((row for row in samples.rows if row[0] >= args.articles // 10), samples.rows[-1])
    after = [row for row in samples.rows if row[0] >= warm[0]]
    table = Table("process", "after warm-up (MiB)", "largest after (MiB)", "at the end (MiB)",
                  "growth")
    for name, column in (("worker", 1), ("enrichment child", 2)):
        start, top, end = warm[column], max(r[column] for r in after), after[-1][column]
        table.add(name, f"{start / 2**20:,.0f}", f"{top / 2**20:,.0f}", f"{end / 2**20:,.0f}",
                  f"{top / start - 1:+.1%}" if start else "-")
    steps = Table("articles enriched", "worker MiB", "enrichment child MiB")
    for done, worker, child in samples.rows[:: max(1, len(samples.rows) // 20)]:
        steps.add(done, f"{worker / 2**20:,.0f}", f"{child / 2**20:,.0f}")
    write_report(
        args.out,
        f"Memory over a long stream (`make soak`): {args.articles:,} articles (the dev "
        f"extraction sets over and over, new ids and URLs) through one worker on the embedded "
        f"broker in {seconds / 60:.0f} min, resident memory sampled every "
        f"{SAMPLE_EVERY_S:g} s; warm-up is the first tenth.", table.markdown, "Samples:",
        steps.markdown)


if __name__ == "__main__":
    main()
