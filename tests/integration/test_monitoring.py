"""Monitoring that ships in deploy/: the Grafana dashboard parses and every panel queries; the
Prometheus alerts pass their `promtool test rules` unit tests and the configuration passes
`promtool check config` (Debian's `prometheus` package; .ci/run installs it); every metric the
dashboard or an alert names exists in a running worker's /metrics."""

import re
import shutil
import subprocess
from typing import Any

import orjson
import pytest

from tests.conftest import Worker
from tests.support.paths import ROOT

DEPLOY = ROOT / "deploy"
DASHBOARD = DEPLOY / "grafana" / "newsstream.json"
PROMETHEUS = DEPLOY / "prometheus"
METRIC = re.compile(r"\b(?:newsstream|process|python)_[a-zA-Z0-9_]+\b")
# The series a histogram or counter is exported as, back to the name its TYPE line gives.
SUFFIXES = ("_bucket", "_count", "_sum", "_total")


def _expressions() -> list[str]:
    """Every PromQL expression of the dashboard and of the alerts."""
    dashboard: dict[str, Any] = orjson.loads(DASHBOARD.read_bytes())
    panels = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    alerts = re.findall(r"expr: (?:\|\n)?((?:.+\n)+?)\s+(?:for|labels):",
                        (PROMETHEUS / "alerts.yml").read_text())
    assert len(alerts) == 6
    return panels + alerts


def _promtool(*args: str) -> str:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: apt-get install prometheus (.ci/run does)"
    done = subprocess.run([promtool, *args], cwd=PROMETHEUS, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_alerts_pass_their_unit_tests() -> None:
    assert "SUCCESS: 6 rules found" in _promtool("check", "rules", "alerts.yml")
    assert "SUCCESS" in _promtool("test", "rules", "alerts_test.yml")


def test_the_compose_prometheus_configuration_is_valid() -> None:
    checked = _promtool("check", "config", "prometheus.yml")
    assert "SUCCESS: prometheus.yml is valid" in checked
    assert "SUCCESS: 6 rules found" in checked


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
def test_every_metric_the_dashboard_and_alerts_name_exists_in_a_worker(worker: Worker) -> None:
    status, text = worker.get("/metrics")
    assert status == 200
    exported = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
    named = {name for expr in _expressions() for name in METRIC.findall(expr)}
    missing = sorted(name for name in named
                     if name not in exported and _family(name) not in exported)
    assert missing == []
    assert len(named) >= 15
