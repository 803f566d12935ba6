"""The CPU meter behind `make bench`'s stage table, and the process accounting of its scaling
runs."""

import os
import subprocess
import sys
import time
from pathlib import Path

import orjson

from stream.config import Settings
from stream.costs import metering, section
from stream.evaluation.stage_costs import Costs, measure, rows
from stream.evaluation.throughput import cpu_seconds, descendants

SAMPLE = Path(__file__).parent / "fixtures" / "kompas-2023-07-29.txt"


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
    for stage in ("decode", "clean", "language", "entities", "fingerprint"):
        assert stage in costs.seconds, stage
    assert costs.seconds["entities.tagger crf-id"] > 0
    assert costs.seconds["entities"] >= costs.seconds["entities.tagger crf-id"]
    labels = [label for label, _name in rows({"all": costs})]
    assert labels.index("entities") < labels.index("  model: crf-id") < labels.index("fingerprint")
    merged = Costs()
    merged.merge(costs)
    merged.merge(costs)
    assert merged.articles == 4 and abs(merged.total - 2 * costs.total) < 1e-9


def test_a_process_and_its_children_are_accounted() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time\nwhile True: time.sleep(1)"])
    try:
        assert child.pid in descendants(os.getpid())
        _burn(0.05)
        assert cpu_seconds(os.getpid()) >= 0.05
    finally:
        child.kill()
        child.wait()
    assert cpu_seconds(child.pid) == 0.0  # gone


def test_percentiles_are_nearest_rank() -> None:
    from stream.evaluation.latency import percentile

    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([3.0], 0.99) == 3.0
