"""``make soak``: the resident memory of one worker and its enrichment child while a long stream
of articles goes through (variants of the dev extraction sets: new ids and URLs, so every one is
a new article to de-duplication and counting), sampled from /proc every few seconds.

Flat means: the largest sample after warm-up (``--warmup`` articles, by default the first
tenth) is within 10 % of the sample taken when warm-up ended. The embedded broker keeps every
record in memory, so its own memory is not a figure of newsstream's and is not reported.

Usage: ``python -m evaluation.memory --articles 100000``
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

from evaluation.harness import cluster, mixed_set, variants, worker_memory
from evaluation.report import Table, write_report
from stream.config import Settings
from stream.tools.producing import consume_topic, produce_records

SAMPLE_EVERY_S = 5.0
CHUNK = 500  # articles produced at a time; the next chunk waits until this one is enriched
REPORT_EVERY = 60  # samples: the report on disk is at most five minutes old


@dataclass
class Samples:
    """(articles enriched so far, worker RSS, largest child RSS) over time."""

    rows: list[tuple[int, int, int]] = field(default_factory=list)
    done: int = 0

    def take(self, worker: int) -> None:
        self.rows.append((self.done, *worker_memory(worker)))


def soak(data: Path, articles: int, out: Path,
         warmup: int | None = None) -> tuple[Samples, float, str | None]:
    """The samples, the seconds, and why the soak stopped early (None: it did not). The report
    is rewritten every REPORT_EVERY samples, so a soak cut short (Ctrl-C, a kill, a broker
    that stops serving) leaves what it measured."""
    samples = Samples()
    stopped: str | None = None
    with cluster(1, prefix="soak") as running:
        worker = running.pids[0]
        stop = threading.Event()
        started = time.perf_counter()

        def sample() -> None:
            while not stop.wait(SAMPLE_EVERY_S):
                samples.take(worker)
                if len(samples.rows) % REPORT_EVERY == 0:
                    report(samples, articles, time.perf_counter() - started, out,
                           "still running, or cut short", warmup)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            records = variants(mixed_set(data), articles, prefix="soak")
            asyncio.run(_stream(running.settings, records, samples))
        except (Exception, KeyboardInterrupt) as error:
            stopped = f"{type(error).__name__}: {error}"
        finally:
            stop.set()
            sampler.join()
        samples.take(worker)
        return samples, time.perf_counter() - started, stopped


async def _stream(settings: Settings, records: Iterator[tuple[bytes, bytes]],
                  samples: Samples) -> None:
    reader = consume_topic(settings.connection, settings.enriched_topic, idle_timeout=300)
    while chunk := list(itertools.islice(records, CHUNK)):
        await produce_records(settings.connection, settings.input_topics[0], chunk, progress=False)
        target = samples.done + len(chunk)
        async for _value in reader:
            samples.done += 1
            if samples.done >= target:
                break
        if samples.done < target:
            raise RuntimeError(f"only {samples.done} of {target} articles came out")
    await reader.aclose()


def report(samples: Samples, articles: int, seconds: float, out: Path,
           stopped: str | None = None, warmup: int | None = None) -> None:
    """The report of the samples so far; ``stopped``: why the soak ended before ``articles``;
    ``warmup``: articles before the baseline sample (default: a tenth)."""
    if not samples.rows:
        return
    warmup = articles // 10 if warmup is None else warmup
    warm = next((row for row in samples.rows if row[0] >= warmup), samples.rows[-1])
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
    through = (f"{articles:,} articles" if stopped is None else
               f"{samples.done:,} of {articles:,} articles (stopped: {stopped})")
    write_report(
        out,
        f"Memory over a long stream (`make soak`): {through} (the dev extraction sets over and "
        f"over, new ids and URLs) through one worker on the embedded broker in "
        f"{seconds / 60:.0f} min, resident memory sampled every {SAMPLE_EVERY_S:g} s; warm-up "
        f"is the first {warmup:,} articles.", table.markdown, "Samples:", steps.markdown)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/clean"))
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--warmup", type=int, default=None,
                        help="articles before the baseline sample (default: a tenth)")
    parser.add_argument("--out", type=Path, default=Path("eval/memory.md"))
    args = parser.parse_args()
    samples, seconds, stopped = soak(args.data, args.articles, args.out, args.warmup)
    report(samples, args.articles, seconds, args.out, stopped, args.warmup)
    if stopped is not None:
        raise SystemExit(f"the soak stopped early: {stopped}")


if __name__ == "__main__":
    main()
