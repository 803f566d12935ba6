"""``make bench``, growth: how each text stage's time grows with its input, on adversarial texts.

Each stage gets each input family at two sizes (16 KB and 128 KB by default) and the report
gives the growth exponent, log(t₁₂₈ / t₁₆) / log(8): 1 is linear, 2 quadratic. The families
are what breaks text code: one paragraph of ordinary prose, many unclosed comments and script
tags, long runs of one letter, digit or punctuation mark, dotted and hyphenated words,
repeated abbreviations, a capitalised name thousands of characters long, tables. The goal is
every stage ≤ 1.15 on every family: an input eight times the size may cost at most ~11 times.

Each time is the least of ``--repeat`` runs (noise only adds time), garbage collection off.

Usage: ``python -m evaluation.growth --data ../shared/data/clean``
"""

from __future__ import annotations

import argparse
import gc
import gzip
import math
import re
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import orjson

from evaluation.report import Table, write_report
from stream.clean.article import clean_article
from stream.clean.language import detect_language
from stream.dedup.fingerprint import fingerprint
from stream.entities.common_words import drop_common_words
from stream.entities.extract import extract_entities, known_names, normalise_mentions
from stream.entities.mentions import Mention, article_short_forms, split_mention
from stream.entities.models.registry import EntityOptions
from stream.ingest.deadletters import Rejected
from stream.ingest.payloads import RawArticle, decode_raw_article

GOAL = 1.15
SIZES = (16_000, 128_000)


def _repeated(unit: str) -> Callable[[int], str]:
    return lambda size: (unit * (size // len(unit) + 1))[:size]


def _framed(head: str, unit: str, tail: str) -> Callable[[int], str]:
    fill = _repeated(unit)
    return lambda size: head + fill(max(0, size - len(head) - len(tail))) + tail


def _prose(texts: list[str]) -> Callable[[int], str]:
    """Real news prose as one paragraph: the articles' paragraphs joined by spaces."""
    return _repeated(" ".join(" ".join(text.split()) for text in texts) + " ")


def families(data: Path) -> dict[str, Callable[[int], str]]:
    """Text of about ``size`` characters, by family."""
    english, indonesian = _gold_texts(data / "aeb"), _gold_texts(data / "idnews")
    return {
        "prose, one paragraph (en)": _prose(english),
        "prose, one paragraph (id)": _prose(indonesian),
        "prose, paragraphs (id)": _repeated("\n\n".join(indonesian) + "\n\n"),
        "unclosed <!-- and <script": _framed("Berita hari ini. ", "<!-- x <script a <style ", ""),
        "tags, unclosed": _repeated("<div><p>Hello world. "),
        "one letter": _framed("The start. ", "a", " end."),
        "one digit": _framed("The start. ", "1", " end."),
        "one full stop": _framed("The start. ", ".", " end."),
        "punctuation mix": _framed("The start. ", "!?.-|(),", " end."),
        "brackets opened": _framed("The Company ", "(", " said."),
        "spaces": _framed("The Company ", " ", " said."),
        "dotted letters": _framed("The start. ", "ab.", " end."),
        "dotted capitals": _framed("The ", "U.S.", " deal."),
        "address-like": _framed("The start. ", "a.b@", " end."),
        "hyphenated capitals": _framed("The ", "US-China-", "x deal."),
        "abbreviations": _repeated("Mr. Dr. Prof. A. B. Smith met Gov. Noem. "),
        "capitalised name": _framed("The company ", "Sierra Nevada ",
                                    "Corporation said on Monday that it would grow."),
        "capitalised name, brackets": _framed("Kata ", "Sierra (Nevada ", "(SNC) kemarin."),
        "names joined by dashes": _framed("Kata ", "Joko Widodo - ", "Jusuf Kalla kemarin."),
        "capitalised words": _repeated("Alpha Beta Gamma Delta "),
        "table rows": _repeated("| Mata uang | Jual | Beli |\n| USD | 15.000 | 14.900 |\n"),
    }


def _gold_texts(folder: Path) -> list[str]:
    """The gold texts of a cleaning set without an e-mail address or copyright line: one of
    those in a paragraph marks it as site furniture, and the stage would drop the family."""
    texts = []
    with gzip.open(folder / "gold.jsonl.gz") as handle:
        for line in handle:
            text = orjson.loads(line)["text"]
            if not re.search(r"@|©|copyright|hak cipta|all rights reserved", text, re.I):
                texts.append(text)
    return texts


def _raw(text: str, content_type: str) -> RawArticle:
    return RawArticle(id="growth", url="https://example.com/news/growth", body=text,
                      content_type=content_type)


def _clean(text: str, content_type: str) -> None:
    # No article text in it: what it cost to find that out is what counts.
    with suppress(Rejected):
        clean_article(_raw(text, content_type))


def _mention(text: str) -> None:
    """The whole text as one mention of each label, through every mention-level step (a
    mention is a span of words: no blank at either end)."""
    text = text.strip()
    for label in ("PER", "ORG", "LOC"):
        mention = Mention(text, label, 0, len(text))
        split_mention(mention, opens_sentence=True)
        found = drop_common_words(text, [mention], "en", known_names())
        article_short_forms(text, found)
        normalise_mentions([mention], language="en")


ACCURATE = EntityOptions(tier="accurate")


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[[str], object]
    # A slow stage (seconds per 128 KB) runs once per size, on the families that feed its
    # model the most words; the others everywhere, the least of ``--repeat`` runs.
    only: tuple[str, ...] | None = None


# What the accurate tier's transformer reads most of: prose and runs of capitalised words.
_MODEL_FAMILIES = ("prose, one paragraph (id)", "one full stop", "capitalised name, brackets",
                   "names joined by dashes", "table rows")


STAGES = (
    Stage("decode", lambda text: decode_raw_article(orjson.dumps(
        {"url": "https://example.com/a", "content_type": "text/plain", "body": text}),
        10 ** 9)),
    Stage("clean (text)", lambda text: _clean(text, "text/plain")),
    Stage("clean (HTML)", lambda text: _clean(
        f"<html><body><article><p>{text}</p></article></body></html>", "text/html")),
    Stage("language", detect_language),
    Stage("entities (id, fast)", lambda text: extract_entities(text, "id")),
    Stage("entities (id, accurate)", lambda text: extract_entities(text, "id", None, ACCURATE),
          only=_MODEL_FAMILIES),
    Stage("entities (en)", lambda text: extract_entities(text, "en")),
    Stage("one long mention", _mention),
    Stage("fingerprint", lambda text: fingerprint(
        {"id": "growth", "url": "https://example.com/a", "text": text}, 0.0)),
)


def least_seconds(run: Callable[[str], object], text: str, repeat: int) -> float:
    best = math.inf
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeat):
            started = time.perf_counter()
            run(text)
            best = min(best, time.perf_counter() - started)
    finally:
        gc.enable()
    return best


def exponent(small: float, large: float, ratio: float) -> float:
    return math.log(max(large, 1e-9) / max(small, 1e-9)) / math.log(ratio)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/clean"))
    parser.add_argument("--out", type=Path, default=Path("eval/growth.md"))
    parser.add_argument("--sizes", type=int, nargs=2, default=SIZES)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--stage", action="append", choices=[s.name for s in STAGES],
                        help="only these stages (default: all)")
    parser.add_argument("--family", action="append", help="only these families")
    args = parser.parse_args()
    small, large = args.sizes
    texts = {name: make for name, make in families(args.data).items()
             if not args.family or name in args.family}
    stages = [stage for stage in STAGES if not args.stage or stage.name in args.stage]
    for stage in stages:  # models loaded and caches warm before anything is timed
        stage.run(next(iter(texts.values()))(1000))
    table = Table("family", *(stage.name for stage in stages))
    worst: dict[str, tuple[float, str, float, float]] = {}
    for family, make in texts.items():
        cells = []
        for stage in stages:
            if stage.only is not None and family not in stage.only:
                cells.append("–")
                continue
            repeat = 1 if stage.only is not None else args.repeat
            took_small, took_large = (least_seconds(stage.run, make(size), repeat)
                                      for size in (small, large))
            growth = exponent(took_small, took_large, large / small)
            cells.append(f"{growth:.2f}" + ("" if growth <= GOAL else " ✗"))
            if stage.name not in worst or growth > worst[stage.name][0]:
                worst[stage.name] = (growth, family, took_small, took_large)
        table.add(family, *cells)
    summary = Table("stage", "worst exponent", "on", f"ms at {small // 1000} KB",
                    f"ms at {large // 1000} KB", f"≤ {GOAL}")
    for stage in (stage for stage in stages if stage.name in worst):
        growth, family, seconds_small, seconds_large = worst[stage.name]
        summary.add(stage.name, f"{growth:.2f}", family, f"{1000 * seconds_small:,.1f}",
                    f"{1000 * seconds_large:,.1f}", "yes" if growth <= GOAL else "**no**")
    write_report(
        args.out,
        f"Growth of each text stage from {small // 1000} KB to {large // 1000} KB of "
        f"adversarial text (`make bench`): the exponent log(t{large // 1000} / "
        f"t{small // 1000}) / log({large / small:g}), 1 linear, 2 quadratic; each time the "
        f"least of {args.repeat} runs (the accurate tier: one run, on the families that give "
        f"its model the most words to read). Goal: ≤ {GOAL} everywhere.",
        "Each stage's worst family:", summary.markdown, "Every family:", table.markdown)


if __name__ == "__main__":
    main()
