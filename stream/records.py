"""The internal payloads that pass between the agents, each declared once and used by the side
that writes it and the side that reads it. (The public payloads are the JSON Schemas in
``schemas/``; these never leave newsstream's own topics and tables.)"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

import orjson


class FingerprintJson(TypedDict):
    """De-duplication keys of an article (:class:`stream.dedup.fingerprint.Fingerprint`)."""

    id: str
    url: str  # digest of the normal URL
    body: str | None  # digest of the text
    simhash: str | None  # 16 hex digits
    event_time: float


class ArticleEnvelope(TypedDict):
    """enrich → the internal articles topic → dedup: the enriched article (the public payload,
    ``enriched-article`` less ``duplicate_of``) and its fingerprint."""

    enriched: dict[str, Any]
    fingerprint: FingerprintJson


class EntityRef(TypedDict):
    """An entity as the payloads name it."""

    entity_id: str
    name: str
    label: str


class EntityEvent(EntityRef):
    """dedup → the internal entity-events topic → count: one entity of one counted article."""

    mentions: int
    article_id: str
    event_time: float
    window_sizes: list[int]  # the windows it is counted in, besides the running total
    source: list[int]  # [partition, offset] of the article on the internal articles topic
    log: NotRequired[str]  # that topic's id, where the broker has topic ids


class CountValue(TypedDict):
    """The counts table's value for one (entity, window)."""

    name: NotRequired[str]
    label: NotRequired[str]
    mentions: int
    articles: int
    applied: dict[str, int]  # source ("<log id>/<partition>", or the partition) → last offset


class TrendScore(TypedDict):
    """count → the internal trend-scores topic → trending: one (entity, window)'s score."""

    entity_id: str
    name: str
    label: str
    window: str
    start: int | None
    end: int | None
    mentions: int
    baseline: float
    score: float


def encode(record: ArticleEnvelope | EntityEvent | TrendScore) -> bytes:
    return orjson.dumps(record)


def decode_envelope(value: bytes) -> ArticleEnvelope:
    envelope: ArticleEnvelope = orjson.loads(value)
    return envelope


def decode_entity_event(value: bytes) -> EntityEvent:
    event: EntityEvent = orjson.loads(value)
    return event


def decode_trend_score(value: bytes) -> TrendScore:
    score: TrendScore = orjson.loads(value)
    return score
