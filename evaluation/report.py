"""What the evaluations share: timing child processes, running `newsstream entities` on
texts, and writing their Markdown table."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import orjson


class Timed(NamedTuple):
    """A child process's standard output, CPU time (user + system) and wall time."""

    stdout: bytes
    cpu: float
    wall: float


def tier_env(tier: str, int8: bool = False) -> dict[str, str]:
    """This process's environment with the entity tier set (``NEWSSTREAM_NER_MODEL``,
    ``NEWSSTREAM_NER_INT8``), for a child `newsstream` command."""
    return {**os.environ, "NEWSSTREAM_NER_MODEL": tier,
            "NEWSSTREAM_NER_INT8": "true" if int8 else "false"}


def run_entities(texts: Sequence[str], language: str, env: dict[str, str] | None = None,
                 repeat: int = 1) -> tuple[list[list[dict[str, Any]]], float, float]:
    """`newsstream entities --language` on ``texts`` as a user runs it (one record each): the
    entities of each text, and the least CPU time and the least wall time over ``repeat`` runs
    (machine noise only ever adds time)."""
    with tempfile.NamedTemporaryFile("wb", suffix=".jsonl", delete=False) as handle:
        for number, text in enumerate(texts):
            handle.write(orjson.dumps({"id": number, "text": text}) + b"\n")
    try:
        command = [sys.executable, "-m", "stream.tools.cli", "entities", "--language", language,
                   handle.name]
        runs = [run_timed(command, env) for _ in range(repeat)]
    finally:
        Path(handle.name).unlink()
    entities: list[list[dict[str, Any]]] = [[] for _ in texts]
    for line in runs[0].stdout.splitlines():
        record = orjson.loads(line)
        entities[record["id"]] = record["entities"]
    return entities, min(run.cpu for run in runs), min(run.wall for run in runs)


def run_timed(command: Sequence[str], env: dict[str, str] | None = None) -> Timed:
    """A child process's standard output and its CPU and wall time, start-up included."""
    before, started = _children_cpu(), time.perf_counter()
    completed = subprocess.run(list(command), capture_output=True, check=True, env=env)
    return Timed(completed.stdout, _children_cpu() - before, time.perf_counter() - started)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Table:
    """Rows printed as they come, and the whole Markdown table written at the end."""

    def __init__(self, *columns: str) -> None:
        self.rows = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]

    def add(self, *cells: object) -> None:
        row = "| " + " | ".join(str(cell) for cell in cells) + " |"
        self.rows.append(row)
        print(row, flush=True)

    @property
    def markdown(self) -> str:
        return "\n".join(self.rows)

    def write(self, out: Path) -> None:
        write_report(out, self.markdown)


def write_report(out: Path, *parts: str) -> None:
    """A report of text and tables, a blank line between parts."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    print(f"written to {out}")
