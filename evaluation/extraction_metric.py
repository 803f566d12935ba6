"""Main-text extraction quality: the ScrapingHub article-extraction-benchmark metric.

Word 4-gram shingles (``\\w+`` tokens, case kept) of the extracted body against the gold body;
per page, TP/FP/FN are normalised to sum to one; precision and recall are averaged over pages
and F1 is their harmonic mean — as the benchmark's evaluate.py computes it.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence

from stream.clean.lexicon import WORD

Counts = tuple[float, float, float]


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = WORD.findall(text or "")
    grams = [tuple(tokens[i:i + n]) for i in range(max(1, len(tokens) - n + 1))]
    return Counter(gram for gram in grams if gram)


def match(gold: str, predicted: str, n: int = 4) -> Counts:
    true, pred = shingles(gold, n), shingles(predicted, n)
    tp = fp = fn = 0.0
    for key in true.keys() | pred.keys():
        t, p = true.get(key, 0), pred.get(key, 0)
        tp += min(t, p)
        fp += max(0, p - t)
        fn += max(0, t - p)
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def _precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fp == 0 else tp / (tp + fp)


def _recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fn == 0 else tp / (tp + fn)


def scores(counts: Sequence[Counts]) -> tuple[float, float, float]:
    """(precision, recall, F1) over pages."""
    precision = statistics.mean([_precision(*c) for c in counts if c[0] + c[1] > 0] or [0.0])
    recall = statistics.mean([_recall(*c) for c in counts if c[0] + c[2] > 0] or [0.0])
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1
