"""The internal payloads that pass between the agents, each declared once and used by the side
that writes it and the side that reads it. (The public payloads are the JSON Schemas in
``schemas/``; these never leave newsstream's own topics and tables.)"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict, cast

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


class EntityBatch(TypedDict):
    """dedup → the internal entity-events topic → count: the entity events of the articles
    de-duplicated in a short interval whose counts live in one partition (the record is sent
    to that partition), in de-duplication order."""

    events: list[EntityEvent]


class CountValue(TypedDict):
    """The counts table's value for one (entity, window)."""

    name: NotRequired[str]
    label: NotRequired[str]
    mentions: int
    articles: int
    applied: dict[str, int]  # source ("<log id>/<partition>", or the partition) → last offset
    final: NotRequired[bool]  # emit mode final: the window's final record was delivered


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


class TrendScores(TypedDict):
    """count → the internal trend-scores topic → trending: the scores of one flush."""

    scores: list[TrendScore]


def encode(record: ArticleEnvelope | EntityEvent | EntityBatch | TrendScores) -> bytes:
    return orjson.dumps(record)


def decode_envelope(value: bytes) -> ArticleEnvelope:
    envelope: ArticleEnvelope = orjson.loads(value)
    return envelope


def decode_entity_events(value: bytes) -> list[EntityEvent]:
    """The entity events of one record: a batch, or one event as records written before
    batches were."""
    record: dict[str, Any] = orjson.loads(value)
    if "events" in record:
        batch = cast(EntityBatch, record)
        return batch["events"]
    return [cast(EntityEvent, record)]


def decode_trend_scores(value: bytes) -> list[TrendScore]:
    """The scores of one record: a flush's batch, or one score as written before batches."""
    record = orjson.loads(value)
    if "scores" in record:
        scores: list[TrendScore] = record["scores"]
        return scores
    return [record]
