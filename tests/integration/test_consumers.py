"""The consumer examples a dashboard builder copies (examples/consumers/), run against a worker
that has streamed `make run`'s example articles: each prints the entities' latest counts."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from pathlib import Path

import orjson
import pytest

from stream.tools.producing import consume_topic, produce_records
from tests.conftest import Worker
from tests.support.paths import EXAMPLES, ROOT

pytestmark = pytest.mark.integration

CONSUMERS = ROOT / "examples" / "consumers"
TOP = 8


def _expected_totals() -> list[tuple[str, int, int, str]]:
    """The running totals the stream must reach, from `newsstream process` of the same
    articles: (entity id, mentions, articles, label), ranked as the examples rank them."""
    done = subprocess.run([sys.executable, "-m", "stream.tools.cli", "process", str(EXAMPLES)],
                          capture_output=True, check=True, timeout=300)
    mentions: Counter[str] = Counter()
    articles: Counter[str] = Counter()
    labels: dict[str, str] = {}
    for line in done.stdout.splitlines():
        for count in orjson.loads(line).get("entity_counts", []):
            mentions[count["entity_id"]] += count["mentions"]
            articles[count["entity_id"]] += 1
            labels[count["entity_id"]] = count["label"]
    ranked = sorted(mentions, key=lambda e: (-mentions[e], -articles[e], e))
    return [(e, mentions[e], articles[e], labels[e]) for e in ranked]


async def _stream_examples(worker: Worker, expected: dict[str, int]) -> dict[str, str]:
    """Send the examples and wait until every entity's total has reached its figure; the name
    each entity has on the topic (its canonical one: "Inggris" for "United Kingdom" too)."""
    records = [(None, line) for line in EXAMPLES.read_bytes().splitlines() if line.strip()]
    await produce_records(worker.settings.connection, worker.settings.input_topics[0], records,
                          progress=False)
    totals: dict[str, int] = {}
    names: dict[str, str] = {}
    async for value in consume_topic(worker.settings.connection,
                                     worker.settings.mentions_topic, idle_timeout=120):
        if value["window"] == "total":
            entity = value["entity"]
            totals[entity["entity_id"]], names[entity["entity_id"]] = \
                value["mentions"], entity["name"]
            if totals == expected:
                return names
    raise AssertionError(f"the stream's totals never reached the expected ones: {totals}")


def _lines(command: list[str], cwd: Path) -> list[tuple[int, int, str, str]]:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = []
    for line in done.stdout.splitlines():
        if line:
            mentions, articles, label, name = line.split("\t")
            rows.append((int(mentions), int(articles), label, name))
    return rows


def test_the_python_and_javascript_consumers_print_the_streams_counts(worker: Worker) -> None:
    expected = _expected_totals()
    names = asyncio.run(_stream_examples(worker, {entity: m for entity, m, *_ in expected}))
    brokers = worker.settings.connection.bootstrap_servers
    arguments = ["--brokers", brokers, "--topic", worker.settings.mentions_topic,
                 "--window", "total", "--top", str(TOP), "--once"]
    python = _lines([sys.executable, "latest_counts.py", *arguments], CONSUMERS)
    javascript = _lines(["node", "top_entities.mjs", *arguments], CONSUMERS / "js")
    shown = [(mentions, articles, label, names[entity])
             for entity, mentions, articles, label in expected[:TOP]]
    assert python == shown
    assert javascript == shown
