"""``make bench``: how long a worker takes from start to ready when its counts table holds many
keys, with the memory store (every start replays the whole changelog) next to the RocksDB store
(a restart replays only what changed since the last run), in the same run.

The keys are written straight to the counts table's changelog (as the worker itself writes
them: JSON key and value, each in its entity's partition), then a worker starts (and recovers
them all), stops, and starts again: the second start is what an operator's restart costs.

Usage: ``python -m evaluation.restart --keys 1000000``
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson

from evaluation.report import Table
from stream.config import Settings
from stream.runtime.connection import client_options
from stream.runtime.housekeeping import partition_of
from stream.tools.broker import EmbeddedBroker, create_newsstream_topics, free_port
from stream.tools.processes import settings_environment, stop_process, wait_ready
from stream.tools.producing import produce_records
from stream.tools.topics import TopicSpec, ensure_topics

READY_TIMEOUT_S = 1800.0
COUNTS_TABLE = "entity-counts"


async def fill_changelog(settings: Settings, keys: int) -> None:
    """``keys`` count keys (entities × windows) in the counts table's changelog."""
    topic = f"{settings.app_id}-{COUNTS_TABLE}-changelog"
    await ensure_topics(client_options(settings.connection), [TopicSpec(topic, settings.partitions,
                                                             {"cleanup.policy": "compact"})])

    def records() -> Iterator[tuple[bytes, bytes]]:
        for n in range(keys):
            entity = f"PER:person-{n // 4}"
            key = f"{entity}|1h|{3600 * (n % 4)}" if n % 4 else f"{entity}|total|"
            value = {"name": f"Person {n // 4}", "label": "PER", "mentions": 3, "articles": 1,
                     "applied": {"0": n}}
            yield orjson.dumps(key), orjson.dumps(value)

    def entity_partition(key: bytes | None) -> int:
        # The partition of the key's entity, as the worker writes its changelog.
        return partition_of(orjson.loads(key or b'""').split("|", 1)[0], settings.partitions)

    await produce_records(settings.connection, topic, records(), progress=False,
                          partition_of=entity_partition)


def time_to_ready(settings: Settings, log: Path) -> float:
    with log.open("ab") as handle:
        worker = subprocess.Popen([sys.executable, "-m", "stream.tools.cli", "worker"],
                                  env=settings_environment(settings), stdout=handle,
                                  stderr=subprocess.STDOUT)
    try:
        return wait_ready(settings.web, worker, READY_TIMEOUT_S)
    finally:
        stop_process(worker, 60.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("eval/restart.md"))
    args = parser.parse_args()
    table = Table("store", "table keys", "first start to ready (s)", "restart to ready (s)",
                  "restart vs memory")
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as folder:
        memory_restart = None
        for store in ("memory", "rocksdb"):
            tag = uuid.uuid4().hex[:6]
            settings = Settings(broker_url=broker.url, app_id=f"restart-{tag}", store=store,
                                web_port=free_port(), data_dir=f"{folder}/{store}",
                                log_level="warning")
            asyncio.run(create_newsstream_topics(settings.connection, settings.topics,
                                                 settings.limits))
            started = time.perf_counter()
            asyncio.run(fill_changelog(settings, args.keys))
            print(f"{args.keys:,} keys written in {time.perf_counter() - started:.0f} s",
                  flush=True)
            log = Path(folder) / f"{store}.log"
            first = time_to_ready(settings, log)
            again = time_to_ready(settings, log)
            memory_restart = memory_restart or again
            table.add(store, f"{args.keys:,}", f"{first:.1f}", f"{again:.1f}",
                      f"{again / memory_restart:.2f}")
    table.write(args.out)


if __name__ == "__main__":
    main()
