"""``make bench``: bytes on the wire per enriched article for each producer codec, next to no
compression, as aiokafka's producer builds the record batches (the same code, so the same
bytes a broker receives), one article per batch and 16 per batch (what a busy worker's linger
gathers). Also the CPU time each codec costs per article.

Usage: ``python -m evaluation.wire --input FILE.jsonl.gz [--input ...] --out eval/wire.md``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import orjson
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from evaluation.report import Table, run_timed

# Kafka's codec ids in a record batch's attributes.
CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
_MAGIC, _NO_PRODUCER = 2, -1


def wire_bytes(values: list[bytes], codec: str, batch: int) -> tuple[int, float]:
    """(bytes of the record batches holding ``values``, ``batch`` records each, CPU seconds to
    build them): what aiokafka's producer would send with ``codec``."""
    total, started = 0, time.process_time()
    for first in range(0, len(values), batch):
        builder = DefaultRecordBatchBuilder(_MAGIC, CODECS[codec], False, _NO_PRODUCER,
                                            _NO_PRODUCER, _NO_PRODUCER, 1 << 26)
        for offset, value in enumerate(values[first:first + batch]):
            builder.append(offset, int(time.time() * 1000), b"0123456789abcdef", value, [])
        total += len(builder.build())
    return total, time.process_time() - started


BATCH_SIZES = (1, 16)


def enriched_articles(inputs: list[Path]) -> list[bytes]:
    """The enriched articles of the inputs, as `newsstream process` makes them."""
    articles = []
    for path in inputs:
        output = run_timed([sys.executable, "-m", "stream.tools.cli", "process", str(path)]).stdout
        for line in output.splitlines():
            record = orjson.loads(line)
            if "entities" in record:  # dead letters are not what the stream mostly writes
                articles.append(orjson.dumps(record))
    return articles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input", type=Path, action="append", required=True)
    parser.add_argument("--out", type=Path, default=Path("eval/wire.md"))
    args = parser.parse_args()
    articles = enriched_articles(args.input)
    print(f"{len(articles)} enriched articles, "
          f"{sum(map(len, articles)) / len(articles):,.0f} bytes of JSON each on average")
    table = Table("codec", "articles per batch", "bytes per article", "vs none",
                  "CPU µs per article")
    for batch in BATCH_SIZES:
        plain, _ = wire_bytes(articles, "none", batch)
        for codec in CODECS:
            size, cpu = wire_bytes(articles, codec, batch)
            table.add(codec, batch, f"{size / len(articles):,.0f}", f"{size / plain:.2f}",
                      f"{cpu / len(articles) * 1e6:,.0f}")
    table.write(args.out)


if __name__ == "__main__":
    main()
