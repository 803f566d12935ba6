"""The tagger interface: a model that tags sentences of words with entity token spans, and
the spans themselves. Which model tags which language is the registry's
(:mod:`stream.entities.models.registry`), beside the models, which import this module."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

LABELS = ("PER", "ORG", "LOC")
Span = tuple[int, int, str]  # (first token, end token exclusive, label)


class TokenTagger(Protocol):
    """Tags sentences of words. A tagger trained on English tokens (possessives and hyphens
    apart: "Jupiter" "’s", "US" "-" "China") also sets ``english_tokens = True``; the others
    need not say so."""

    name: str

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[Span]]:
        """Entity token spans ``(start, end_exclusive, label)`` for each sentence."""
        ...


def bio_to_spans(tags: Sequence[str]) -> list[Span]:
    """BIO (or IO) tags to token spans; a stray I- starts a new span."""
    spans: list[Span] = []
    start: int | None = None
    label = ""
    for i, tag in enumerate([*tags, "O"]):
        kind, _, tag_label = tag.partition("-")
        if start is not None and (kind != "I" or tag_label != label):
            spans.append((start, i, label))
            start = None
        if kind == "B" or (kind == "I" and start is None):
            start, label = i, tag_label
    return spans
