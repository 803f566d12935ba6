"""``make bench``: WARC records per second through ``newsstream produce`` to the embedded
broker, next to ``produce`` of the same pages as raw-article JSONL (the baseline, same run),
and the WARC reader alone (no broker): the goal is that the broker, not the reader, limits.

The WARC is written here with warcio from the dev extraction sets' HTML pages, as crawlers
write it (gzip per record, chunked HTTP bodies), the pages repeated under new URLs to
``--records``.

Usage: ``python -m evaluation.warc --data DIR --records 3000 --out eval/warc.md``
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import sys
import tempfile
import time
from pathlib import Path

import orjson
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from evaluation.report import Table, run_timed, write_report
from stream.tools.broker import EmbeddedBroker
from stream.tools.producing import Checked, located_records, valid_records
from stream.tools.warc import WarcTally

RUNS = 3  # each command; the fastest counts (a shared machine's noise only slows)


def pages(data: Path) -> list[dict[str, str]]:
    found = []
    for name in ("aeb/html.jsonl.gz", "idnews/html.jsonl.gz"):
        with gzip.open(data / name) as lines:
            found += [orjson.loads(line) for line in lines if line.strip()]
    return found


def write_warc(path: Path, source: list[dict[str, str]], records: int) -> None:
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for number in range(records):
            page = source[number % len(source)]
            body = page["body"].encode("utf-8")
            chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                               ("Transfer-Encoding", "chunked")],
                                    protocol="HTTP/1.1")
            url = f"{page['url'].split('#')[0]}#copy-{number}"
            writer.write_record(writer.create_warc_record(
                url, "response", payload=io.BytesIO(chunked), http_headers=http))


def read_only(path: Path) -> tuple[int, float]:
    """Raw articles made from the WARC and checked as ``produce`` checks them, no broker:
    (records, seconds)."""
    started = time.perf_counter()
    count = sum(1 for _ in valid_records(located_records([path], "", None, WarcTally()),
                                         5_000_000, Checked()))
    return count, time.perf_counter() - started


def produce_seconds(path: Path, topic: str, env: dict[str, str]) -> float:
    run = run_timed([sys.executable, "-m", "stream.tools.cli", "produce", "--create",
                     "--topic", topic, str(path)], env=env)
    return run.wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--records", type=int, default=3000)
    parser.add_argument("--out", type=Path, default=Path("eval/warc.md"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, EmbeddedBroker() as broker:
        warc, jsonl = Path(folder) / "crawl.warc.gz", Path(folder) / "pages.jsonl"
        write_warc(warc, pages(args.data), args.records)
        size = warc.stat().st_size
        with jsonl.open("wb") as out:  # the same raw articles, as a crawler's JSONL
            for _where, _key, value in located_records([warc], "", None, WarcTally()):
                out.write(value + b"\n")
        env = {**os.environ, "NEWSSTREAM_BROKER_URL": broker.url}
        reads = [read_only(warc) for _ in range(RUNS)]
        count = reads[0][0]
        timings = {name: min(produce_seconds(path, f"bench-{name}-{run}", env)
                             for run in range(RUNS))
                   for name, path in (("jsonl", jsonl), ("warc", warc))}
    table = Table("input", "records", "records/s", "vs JSONL produce")
    baseline = count / timings["jsonl"]
    table.add("`produce` of raw-article JSONL (baseline)", count, f"{baseline:,.0f}", "1.00")
    rate = count / timings["warc"]
    table.add("`produce` of the WARC (gzip per record, chunked bodies)", count, f"{rate:,.0f}",
              f"{rate / baseline:.2f}")
    reader = count / min(seconds for _count, seconds in reads)
    table.add("the WARC reader alone, no broker", count, f"{reader:,.0f}",
              f"{reader / baseline:.2f}")
    write_report(args.out, f"WARC in (`make bench`): {count} HTML pages of the dev extraction "
                 f"sets, repeated under new URLs, into the embedded broker; each command run "
                 f"{RUNS} times, the fastest counted, start-up included. WARC file: "
                 f"{size / 2**20:.1f} MiB.", table.markdown)


if __name__ == "__main__":
    main()
