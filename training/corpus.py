"""Reading the NER corpora (``{"tokens": [...], "spans": [[start, end, label], ...]}`` JSONL)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from stream.entities.tagger import LABELS, Span


@dataclass(frozen=True, slots=True)
class Sentence:
    tokens: list[str]
    spans: list[Span]


def read_corpus(path: Path, labels: Sequence[str] = LABELS) -> Iterator[Sentence]:
    # Imported here: this module is also used by the training script on machines with only
    # numpy and torch.
    import orjson

    with path.open("rb") as handle:
        for line in handle:
            if not line.strip():
                continue
            record = orjson.loads(line)
            spans = [(int(s), int(e), str(lab)) for s, e, lab in record["spans"] if lab in labels]
            yield Sentence(list(record["tokens"]), spans)


def spans_to_bio(length: int, spans: Sequence[Span]) -> list[str]:
    tags = ["O"] * length
    for start, end, label in spans:
        tags[start] = "B-" + label
        for i in range(start + 1, end):
            tags[i] = "I-" + label
    return tags


def prf(gold: Sequence[set[Span]], predicted: Sequence[set[Span]]) -> tuple[float, float, float]:
    """Entity-level micro precision, recall and F1 (exact span and label)."""
    tp = sum(len(g & p) for g, p in zip(gold, predicted, strict=True))
    n_pred = sum(len(p) for p in predicted)
    n_gold = sum(len(g) for g in gold)
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1
