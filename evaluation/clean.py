"""``make eval-clean``: `newsstream clean` against trafilatura on the dev extraction sets.

Each system runs as its own process over a whole set; its CPU time (user + system, start-up
included) gives documents per CPU-second, and the ScrapingHub benchmark metric gives F1.
"""

from __future__ import annotations

import argparse
import gzip
import sys
from pathlib import Path

import orjson

from evaluation.extraction_metric import match, scores
from evaluation.report import Table, run_timed

SETS = {"aeb": "English news", "idnews": "Indonesian news"}
SYSTEMS = {
    "html": ["newsstream clean", "trafilatura", "trafilatura-precision"],
    "text": ["newsstream clean", "unchanged", "trafilatura-lines"],
}


def run_system(system: str, path: Path, repeat: int) -> tuple[dict[str, str], float]:
    """Outputs of one run, and the least CPU time over ``repeat`` runs (machine noise only
    ever adds time)."""
    runs = [_run_once(system, path) for _ in range(repeat)]
    return runs[0][0], min(cpu for _texts, cpu in runs)


def _run_once(system: str, path: Path) -> tuple[dict[str, str], float]:
    if system == "newsstream clean":
        command = [sys.executable, "-m", "stream.tools.cli", "clean", str(path)]
    else:
        command = [sys.executable, "-m", "evaluation.baselines", system, str(path)]
    stdout, cpu, _wall = run_timed(command)
    texts = {}
    for line in stdout.splitlines():
        record = orjson.loads(line)
        if record.get("id") is not None:
            texts[record["id"]] = record.get("text") or ""
    return texts, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/clean"))
    parser.add_argument("--out", type=Path, default=Path("eval/clean.md"))
    parser.add_argument("--repeat", type=int, default=3, help="runs per system; least CPU wins")
    args = parser.parse_args()
    table = Table("set", "input", "system", "precision", "recall", "F1", "docs per CPU-s")
    for name, description in SETS.items():
        with gzip.open(args.data / name / "gold.jsonl.gz") as handle:
            gold = {r["id"]: r["text"] for r in map(orjson.loads, handle)}
        for variant, systems in SYSTEMS.items():
            path = args.data / name / f"{variant}.jsonl.gz"
            for system in systems:
                texts, cpu = run_system(system, path, args.repeat)
                p, r, f1 = scores([match(text, texts.get(key, "")) for key, text in gold.items()])
                table.add(f"{name} ({description})", variant, system, f"{p:.3f}", f"{r:.3f}",
                          f"{f1:.3f}", f"{len(gold) / cpu:.1f}")
    table.write(args.out)


if __name__ == "__main__":
    main()
