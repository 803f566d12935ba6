"""The one order of each ranking, ties included, wherever it is computed (one worker's index,
the merge of several workers' answers, the trending boards)."""

from __future__ import annotations


def count_rank(mentions: int, articles: int, entity_id: str) -> tuple[int, int, str]:
    """Most mentions first, then most articles, then the entity id."""
    return -mentions, -articles, entity_id


def trend_rank(score: float, mentions: int, entity_id: str) -> tuple[float, int, str]:
    """Highest score first, then most mentions, then the entity id."""
    return -score, -mentions, entity_id
