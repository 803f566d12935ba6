"""General web pages: `newsstream clean` against trafilatura on trafilatura's own evaluation
set (990 pages of news, blogs, shops and institutions in ~10 languages, each with text chunks
that must and must not be extracted), scored as trafilatura scores it.

The set is not in ``../shared``: pass a checkout of https://github.com/adbar/trafilatura
(``--trafilatura DIR``; its ``tests/evaldata.json``, ``tests/eval/`` and ``tests/cache/``).
Pages split in two halves by a hash of their URL, so that rules found on one half can be
checked on the other.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import orjson

from evaluation.clean import run_system
from evaluation.report import Table

SYSTEMS = ("newsstream clean", "trafilatura", "trafilatura-precision")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Page:
    key: str
    url: str
    body: str
    with_chunks: tuple[str, ...]
    without_chunks: tuple[str, ...]

    @property
    def half(self) -> int:
        return int(hashlib.sha1(self.url.encode()).hexdigest(), 16) % 2


def norm(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def read_pages(checkout: Path) -> list[Page]:
    annotations = json.loads((checkout / "tests" / "evaldata.json").read_text(encoding="utf-8"))
    pages = []
    for number, (url, item) in enumerate(annotations.items()):
        found = [checkout / "tests" / folder / item["file"] for folder in ("cache", "eval")]
        path = next((p for p in found if p.is_file()), None)
        if path is None:
            continue
        raw = path.read_bytes()
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            body = raw.decode("latin-1")
        # A few entries are keyed by a made-up name, not a URL.
        address = url if url.startswith("http") else "https://eval.invalid/" + re.sub(
            r"\s", "_", item["file"])
        pages.append(Page(f"g{number}", address, body, tuple(map(norm, item["with"])),
                          tuple(map(norm, item["without"]))))
    return pages


def run(system: str, pages: list[Page]) -> tuple[dict[str, str], float]:
    with tempfile.NamedTemporaryFile("wb", suffix=".jsonl", delete=False) as handle:
        for page in pages:
            handle.write(orjson.dumps({"schema_version": 1, "id": page.key, "url": page.url,
                                       "content_type": "text/html", "body": page.body}) + b"\n")
    try:
        texts, cpu = run_system(system, Path(handle.name), repeat=1)
    finally:
        Path(handle.name).unlink()
    return {key: norm(text) for key, text in texts.items()}, cpu


def score(pages: list[Page], texts: dict[str, str]) -> tuple[float, float, float]:
    """trafilatura's metric: a "with" chunk found is a true positive, a "without" chunk found
    a false positive."""
    tp = fn = fp = 0
    for page in pages:
        text = texts.get(page.key, "")
        found = sum(chunk in text for chunk in page.with_chunks)
        tp, fn = tp + found, fn + len(page.with_chunks) - found
        fp += sum(chunk in text for chunk in page.without_chunks)
    precision, recall = tp / max(1, tp + fp), tp / max(1, tp + fn)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trafilatura", type=Path, required=True,
                        help="a checkout of github.com/adbar/trafilatura")
    parser.add_argument("--out", type=Path, default=Path("eval/general.md"))
    args = parser.parse_args()
    pages = read_pages(args.trafilatura)
    table = Table("pages", "system", "precision", "recall", "F1", "docs per CPU-s")
    for system in SYSTEMS:
        texts, cpu = run(system, pages)
        for half in (0, 1, None):
            chosen = [p for p in pages if half is None or p.half == half]
            p, r, f1 = score(chosen, texts)
            table.add(f"{'all' if half is None else f'half {half}'} ({len(chosen)})", system,
                      f"{p:.3f}", f"{r:.3f}", f"{f1:.3f}",
                      f"{len(pages) / cpu:.1f}" if half is None else "")
    table.write(args.out)


if __name__ == "__main__":
    main()
