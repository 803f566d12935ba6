"""`make bench` as one invocation: its parts are wired to options their modules accept, a failed
part is named in the report, and the report holds every part under its heading."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from evaluation.bench import PARTS, Part, compose, run_part


def test_the_report_holds_every_part_under_its_heading() -> None:
    report = compose([("Scaling", "| a | b |\n|---|---|\n| 1 | 2 |\n"), ("Latency", "p99 3 ms")],
                     minutes=12.4)
    assert report.startswith("# `make bench`")
    assert "(12 min)" in report
    assert report.index("## Scaling\n\n| a | b |") < report.index("## Latency\n\np99 3 ms")


def test_a_failed_part_is_named_and_its_stale_report_is_not_shown(tmp_path: Path) -> None:
    stale = tmp_path / "stale.md"
    stale.write_text("figures from an older run", encoding="utf-8")
    part = Part("Broken", "no_such_bench", ("--data", "{data}"), str(stale))
    body, succeeded = run_part(part, tmp_path)
    assert not succeeded
    assert "**Failed**" in body and "no_such_bench" in body
    assert not stale.exists()


@pytest.mark.parametrize("part", PARTS, ids=lambda part: part.module)
def test_each_part_passes_only_options_its_module_accepts(part: Part) -> None:
    shown = subprocess.run([sys.executable, "-m", f"evaluation.{part.module}", "--help"],
                           capture_output=True, text=True, check=True).stdout
    accepted = set(re.findall(r"--[a-z][a-z-]*", shown))
    given = {word for word in part.command(Path("data")) if word.startswith("--")}
    assert "--out" in given
    assert given <= accepted, given - accepted


def test_an_ideal_server_queues_jobs_behind_a_slow_one_in_order_of_arrival() -> None:
    from evaluation.harness import queued

    # Arrivals every 0.1 s; the second job takes 0.35 s, and every later one waits behind it.
    assert queued([0.05, 0.35, 0.05, 0.05, 0.05], rate=10) == pytest.approx(
        [0.05, 0.35, 0.30, 0.25, 0.20])


def test_a_soak_cut_short_still_reports_its_growth_and_why_it_stopped(tmp_path: Path) -> None:
    from evaluation.memory import Samples, report

    mib = 2**20
    rows = [(0, 150 * mib, 250 * mib), (1_000, 180 * mib, 270 * mib),
            (4_000, 189 * mib, 270 * mib), (6_000, 185 * mib, 272 * mib)]
    out = tmp_path / "memory.md"
    report(Samples(rows, done=6_000), 10_000, 600, out, "broker gone")
    text = out.read_text(encoding="utf-8")
    assert "6,000 of 10,000 articles (stopped: broker gone)" in text
    assert "warm-up is the first 1,000 articles" in text
    assert "| worker | 180 | 189 | 185 | +5.0% |" in text  # warm-up ends at a tenth: 1,000
    assert "| enrichment child | 270 | 272 | 272 | +0.7% |" in text


def test_running_some_parts_replaces_their_sections_and_keeps_the_others() -> None:
    from evaluation.bench import splice

    report = compose([("One", "old one"), ("Two", "old two\n\n| a |\n|---|")], 20)
    spliced = splice(report, [("Two", "new two"), ("Three", "new three")])
    assert spliced == compose([("One", "old one"), ("Two", "new two"), ("Three", "new three")],
                              20)
    assert splice(spliced, []) == spliced
