"""Baseline extractors for ``make eval-clean``, run as their own process like ``newsstream
clean`` so that both are timed the same way: raw-article JSONL in, ``{"id", "text"}`` out.

Usage: ``python -m evaluation.baselines NAME FILE``.
"""

from __future__ import annotations

import html
import sys

import orjson

from stream.tools.jsonl import iter_lines


def _trafilatura(body: str, **options: object) -> str:
    import trafilatura

    return trafilatura.extract(body, **options) or ""  # type: ignore[arg-type]


def _lines_as_paragraphs(body: str) -> str:
    page = "".join(f"<p>{html.escape(line)}</p>" for line in body.splitlines() if line.strip())
    return _trafilatura(f"<html><body>{page}</body></html>")


BASELINES = {
    "trafilatura": lambda body: _trafilatura(body),
    "trafilatura-precision": lambda body: _trafilatura(body, favor_precision=True),
    "unchanged": lambda body: body,
    "trafilatura-lines": _lines_as_paragraphs,
}


def main() -> None:
    name, path = sys.argv[1], sys.argv[2]
    extract = BASELINES[name]
    out = sys.stdout.buffer
    for line in iter_lines(path):
        record = orjson.loads(line)
        out.write(orjson.dumps({"id": record.get("id"), "text": extract(record["body"])}) + b"\n")


if __name__ == "__main__":
    main()
