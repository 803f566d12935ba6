"""What the evaluations share: timing child processes and writing their Markdown table."""

from __future__ import annotations

import resource
import subprocess
from collections.abc import Sequence
from pathlib import Path


def run_timed(command: Sequence[str], env: dict[str, str] | None = None) -> tuple[bytes, float]:
    """A child process's standard output and its CPU time (user + system, start-up included)."""
    before = _children_cpu()
    completed = subprocess.run(list(command), capture_output=True, check=True, env=env)
    return completed.stdout, _children_cpu() - before


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

    def write(self, out: Path) -> None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(self.rows) + "\n", encoding="utf-8")
        print(f"written to {out}")
