"""The CPU meter behind `make bench`'s stage table, and the process accounting of its scaling
runs."""

import os
import subprocess
import sys
import time
from pathlib import Path

import orjson

from evaluation.harness import cpu_seconds, descendants, worker_memory
from evaluation.stage_costs import Costs, measure, rows
from stream.config import Settings
from stream.costs import metering, section
from tests.support.paths import FIXTURES

SAMPLE = FIXTURES / "kompas-2023-07-29.txt"


def _burn(seconds: float) -> None:
    until = time.process_time() + seconds
    while time.process_time() < until:
        pass


def test_sections_count_only_while_metering_and_nest_inclusively() -> None:
    with section("outside"):
        _burn(0.01)
    with metering() as totals:
        with section("clean"):
            _burn(0.02)
            with section("clean.parse"):
                _burn(0.02)
        with section("clean"):
            _burn(0.01)
    assert set(totals) == {"clean", "clean.parse"}
    assert totals["clean"] >= totals["clean.parse"] + 0.03
    assert totals["clean.parse"] >= 0.02
    with section("after"):
        _burn(0.01)
    assert set(totals) == {"clean", "clean.parse"}


def test_the_stage_table_measures_every_stage_and_the_model() -> None:
    body = SAMPLE.read_text(encoding="utf-8")
    records = [orjson.dumps({"schema_version": 1, "id": f"k{n}", "content_type": "text/plain",
                             "url": f"https://www.kompas.com/read/{n}", "body": body})
               for n in range(2)]
    costs = measure(records, Settings(log_level="warning"))
    assert costs.articles == 2
    assert len(costs.calls) == 2 and all(call > 0 for call in costs.calls)
    for stage in ("decode", "clean", "language", "entities", "assemble", "fingerprint"):
        assert stage in costs.seconds, stage
    assert costs.seconds["entities.tagger crf-id"] > 0
    assert costs.seconds["entities"] >= costs.seconds["entities.tagger crf-id"]
    labels = [label for label, _name in rows({"all": costs})]
    assert labels.index("entities") < labels.index("  model: crf-id") < labels.index("fingerprint")
    merged = Costs()
    merged.merge(costs)
    merged.merge(costs)
    assert merged.articles == 4 and abs(merged.total - 2 * costs.total) < 1e-9
    assert merged.calls == costs.calls * 2


def test_a_process_and_its_children_are_accounted() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time\nwhile True: time.sleep(1)"])
    try:
        assert child.pid in descendants(os.getpid())
        own, largest_child = worker_memory(os.getpid())
        assert own > 10 * 2**20 and largest_child > 2**20
        _burn(0.05)
        assert cpu_seconds(os.getpid()) >= 0.05
    finally:
        child.kill()
        child.wait()
    assert cpu_seconds(child.pid) == 0.0  # gone


def test_percentiles_are_nearest_rank() -> None:
    from evaluation.harness import percentile

    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([3.0], 0.99) == 3.0


def test_counting_bench_articles_are_distinct_with_long_tailed_entities() -> None:
    from collections import Counter

    from evaluation.counting import envelopes

    records = [orjson.loads(value) for value in envelopes(300, 15)]
    assert len({r["enriched"]["id"] for r in records}) == 300
    assert len({r["fingerprint"]["url"] for r in records}) == 300
    named = Counter(c["entity_id"] for r in records for c in r["enriched"]["entity_counts"])
    assert all(1 <= len(r["enriched"]["entity_counts"]) <= 15 for r in records)
    top, rest = named.most_common(1)[0][1], sorted(named.values())[len(named) // 2]
    assert top > 10 * rest  # a few entities in most articles, most in a few
    assert all(not r["enriched"]["entity_counts"] for r in map(orjson.loads, envelopes(5, 0)))


def test_soak_variants_are_new_articles_and_memory_is_read_from_proc(tmp_path: Path) -> None:
    import gzip

    from evaluation.harness import GROUPS, mixed_set, variants
    from stream.runtime.budget import resident_bytes  # what the harness reads memory with

    for _column, name, kind in GROUPS:
        (tmp_path / name).mkdir(exist_ok=True)
        with gzip.open(tmp_path / name / f"{kind}.jsonl.gz", "wb") as handle:
            for n in range(3):
                handle.write(orjson.dumps({"id": f"{name}{kind}{n}", "url": f"https://x/{n}",
                                           "body": "text"}) + b"\n")
    records = list(variants(mixed_set(tmp_path), 400))  # more than the 12: repeated, renamed
    ids = [orjson.loads(value)["id"] for _key, value in records]
    urls = {orjson.loads(value)["url"] for _key, value in records}
    assert len(set(ids)) == len(urls) == 400
    assert [key.decode() for key, _value in records] == ids
    assert resident_bytes(os.getpid()) > 10 * 2**20
    assert resident_bytes(2**22 + 12345) == 0  # no such process
