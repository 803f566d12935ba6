"""``make eval-ner``: `newsstream entities` on the NER dev splits, as a user would run it.

Each sentence becomes ``{"id", "text"}`` with the tokens joined by single spaces; predicted
character spans map back to tokens; entity-level micro precision/recall/F1 over PER/ORG/LOC
(exact span and label). Speed, start-up included: words per second of wall time (the
accurate tier takes every core in a one-off run) and per CPU-second of the `entities` process.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import NamedTuple

from evaluation.english import CharSpan, read_set, score, spacy_alone, timed_spans
from evaluation.english_speed import ENGLISH_TIERS, speed_table
from evaluation.report import Table, run_entities, tier_env
from stream.entities.tagger import LABELS, Span
from training.corpus import prf, read_corpus

DEV_SPLITS = ("idner2k-dev", "nergrit-dev", "nerp-dev")
# (label, NEWSSTREAM_NER_MODEL, NEWSSTREAM_NER_INT8)
TIERS = (("fast (CRF)", "fast", False), ("accurate (e5-small)", "accurate", False),
         ("accurate int8 (e5-small)", "accurate", True))


def token_spans(tokens: list[str], entities: list[dict[str, object]]) -> set[Span]:
    starts, ends, position = {}, {}, 0
    for index, token in enumerate(tokens):
        starts[position] = index
        ends[position + len(token)] = index + 1
        position += len(token) + 1
    spans: set[Span] = set()
    for entity in entities:
        label = str(entity["label"])
        start, end = starts.get(int(str(entity["start"]))), ends.get(int(str(entity["end"])))
        if label in LABELS and start is not None and end is not None:
            spans.add((start, end, label))
    return spans


class Scores(NamedTuple):
    precision: float
    recall: float
    f1: float
    words: int
    per_cpu_second: float  # words per CPU-second of the process, every thread's
    per_second: float  # words per second of wall time


def evaluate(split: Path, language: str, tier: str, repeat: int = 1,
             int8: bool = False) -> Scores:
    """Scores of one run; speeds from the least CPU and wall times over ``repeat`` runs
    (machine noise only ever adds time)."""
    sentences = list(read_corpus(split))
    found, cpu, wall = run_entities(
        [" ".join(sentence.tokens) for sentence in sentences], language,
        env=tier_env(tier, int8), repeat=repeat)
    predicted = [token_spans(sentence.tokens, entities)
                 for sentence, entities in zip(sentences, found, strict=True)]
    words = sum(len(s.tokens) for s in sentences)
    precision, recall, f1 = prf([set(s.spans) for s in sentences], predicted)
    return Scores(precision, recall, f1, words, words / cpu, words / wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/ner"))
    parser.add_argument("--out", type=Path, default=Path("eval/ner.md"))
    parser.add_argument("--repeat", type=int, default=3, help="runs per split; least CPU wins")
    args = parser.parse_args()
    table = Table("split", "model", "precision", "recall", "F1", "words", "words per s (wall)",
                  "words per CPU-s")
    for label, tier, int8 in TIERS:
        for name in DEV_SPLITS:
            got = evaluate(args.data / f"{name}.jsonl", "id", tier, args.repeat, int8)
            table.add(name, label, f"{100 * got.precision:.1f}", f"{100 * got.recall:.1f}",
                      f"{100 * got.f1:.1f}", got.words, f"{got.per_second:,.0f}",
                      f"{got.per_cpu_second:,.0f}")
    table.write(args.out)
    english = english_table()
    with args.out.open("a", encoding="utf-8") as out:
        out.write("\n" + english)


def english_table() -> str:
    """English on the hand-written regression set: each tier through `newsstream entities
    --language en`, overall and per label, each sentence alone and the sentences of each
    article read together as newsstream reads an article; next to ``en_core_web_sm`` alone as
    a user would run it. Words per second of wall time, start-up included (one run each)."""
    sentences = read_set()
    entities = sum(len(s.spans) for s in sentences)
    words = sum(len(s.text.split()) for s in sentences)
    lines = [f"English regression set ({len(sentences)} sentences, {words:,} words, "
             f"{entities} entities, rules in eval/english-regression.md): F1 by exact span "
             "and label; words per second of wall time, start-up included.", "",
             "| model | read as | all | PER | ORG | LOC | precision | recall "
             "| words per s (wall) |", "|---|---|---|---|---|---|---|---|---|"]

    def add(name: str, mode: str, predicted: list[set[CharSpan]], wall: float) -> None:
        p, r, f1 = score(sentences, predicted)
        per_label = [f"{100 * score(sentences, predicted, label)[2]:.1f}" for label in LABELS]
        lines.append(f"| {name} | {mode} | **{100 * f1:.1f}** | {' | '.join(per_label)} | "
                     f"{100 * p:.1f} | {100 * r:.1f} | {words / wall:,.0f} |")

    add("`en_core_web_sm` alone", "sentences", *spacy_alone(sentences))
    for name, tier, int8 in ENGLISH_TIERS:
        for mode, by_article in (("sentences", False), ("articles", True)):
            add(name, mode, *timed_spans(sentences, by_article, tier_env(tier, int8)))
    lines += ["", speed_table()]
    text = "\n".join(lines) + "\n"
    print(text, flush=True)
    return text


if __name__ == "__main__":
    main()
