"""The Grafana dashboard (deploy/grafana/newsstream.json): it parses, every panel queries, and
every metric it names exists in a running worker's /metrics."""

import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import Worker

DASHBOARD = Path(__file__).resolve().parent.parent / "deploy" / "grafana" / "newsstream.json"
METRIC = re.compile(r"\b(?:newsstream|process|python)_[a-zA-Z0-9_]+\b")
# The series a histogram or counter is exported as, back to the name its TYPE line gives.
SUFFIXES = ("_bucket", "_count", "_sum", "_total")


def _expressions() -> list[str]:
    dashboard: dict[str, Any] = orjson.loads(DASHBOARD.read_bytes())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def _family(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


def test_every_panel_queries_prometheus_through_the_chosen_data_source() -> None:
    dashboard = orjson.loads(DASHBOARD.read_bytes())
    assert dashboard["uid"] == "newsstream"
    titles = [panel["title"] for panel in dashboard["panels"]]
    for wanted in ("by outcome", "Stage latency", "End-to-end latency", "lag per partition",
                   "Dead letters", "Duplicates", "Count updates", "readiness", "CPU",
                   "memory"):
        assert any(wanted.lower() in title.lower() for title in titles), wanted
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}"
            assert METRIC.search(target["expr"]), target["expr"]


@pytest.mark.integration
def test_every_metric_the_dashboard_names_exists_in_a_worker(worker: Worker) -> None:
    status, text = worker.get("/metrics")
    assert status == 200
    exported = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
    named = {name for expr in _expressions() for name in METRIC.findall(expr)}
    missing = sorted(name for name in named
                     if name not in exported and _family(name) not in exported)
    assert missing == []
    assert len(named) >= 15
