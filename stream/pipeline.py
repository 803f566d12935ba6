"""Enrichment of one raw record: decode → validate → clean → language → entities.

The agents and the offline commands (``newsstream process`` / ``clean`` / ``entities``) all
call :func:`enrich_record`, so what is measured offline is what runs in the stream.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from stream import __version__
from stream.cleaning import clean_article
from stream.clock import from_epoch, parse_iso, to_iso, utc_now
from stream.entities import TokenTagger, count_entities, extract_entities
from stream.language import detect_language
from stream.payloads import Rejected, decode_raw_article
from stream.schemas import RAW_ARTICLE, validator

PIPELINE_VERSION = f"newsstream/{__version__}"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a record came from; all None for offline input."""

    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    timestamp: float | None = None  # Kafka record timestamp, epoch seconds
    key: bytes | None = None


@dataclass(slots=True)
class Result:
    enriched: dict[str, Any] | None = None
    deadletter: dict[str, Any] | None = None
    reason_code: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    event_time: float | None = None
    fetched_at: float | None = None  # the crawler's fetched_at, epoch seconds

    @property
    def ok(self) -> bool:
        return self.enriched is not None


class _Stopwatch:
    def __init__(self, timings: dict[str, float]) -> None:
        self._timings = timings
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self._timings[stage] = now - self._last
        self._last = now


def event_time(enriched: dict[str, Any], origin: Origin) -> float | None:
    """Event time of an article: published_at, else fetched_at, else the record timestamp."""
    for value in (enriched.get("published_at"), enriched.get("fetched_at")):
        moment = parse_iso(value)
        if moment is not None:
            return moment.timestamp()
    return origin.timestamp


def enrich_record(
    value: bytes | None,
    origin: Origin | None = None,
    *,
    max_bytes: int,
    tagger: TokenTagger | None = None,
    received_at: datetime | None = None,
) -> Result:
    origin = origin or Origin()
    received = received_at or utc_now()
    result = Result()
    watch = _Stopwatch(result.timings)
    stage = "decode"
    article_id: str | None = None
    try:
        raw = decode_raw_article(value, max_bytes)
        article_id = raw.id
        watch.lap("decode")
        stage = "clean"
        cleaned = clean_article(raw)
        watch.lap("clean")
        stage = "language"
        language = detect_language(cleaned.text, raw.lang)
        watch.lap("language")
        stage = "entities"
        entities = extract_entities(cleaned.text, language, tagger)
        watch.lap("entities")
    except Rejected as rejected:
        result.reason_code = rejected.code
        result.deadletter = deadletter_record(value, origin, rejected)
        return result
    except Exception as exc:  # a bug or a library failure must not stop the partition
        failure = Rejected("internal_error", stage, f"{type(exc).__name__}: {exc}", article_id)
        result.reason_code = failure.code
        result.deadletter = deadletter_record(value, origin, failure)
        return result

    fetched_at = raw.fetched_at
    if fetched_at is None and origin.timestamp is not None:
        fetched_at = to_iso(from_epoch(origin.timestamp))
    result.enriched = {
        "schema_version": 1,
        "id": raw.id,
        "url": raw.url,
        "source": cleaned.source,
        "title": cleaned.title,
        "author": cleaned.author,
        "published_at": cleaned.published_at,
        "language": language,
        "text": cleaned.text,
        "entities": [entity.as_dict() for entity in entities],
        "entity_counts": [count.as_dict() for count in count_entities(entities)],
        "fetched_at": fetched_at,
        "received_at": to_iso(received),
        "processed_at": to_iso(utc_now()),
        "pipeline_version": PIPELINE_VERSION,
        "origin": None if origin.topic is None else {
            "topic": origin.topic, "partition": origin.partition, "offset": origin.offset,
        },
    }
    result.event_time = event_time(result.enriched, origin)
    fetched = parse_iso(raw.fetched_at)
    result.fetched_at = fetched.timestamp() if fetched else None
    return result


def warm_up(tagger: TokenTagger | None = None) -> None:
    """Load schemas and models now: a missing file fails the worker at start, not every record."""
    validator(RAW_ARTICLE)
    text = "Presiden Joko Widodo meresmikan Bandara Kertajati di Majalengka, Jawa Barat."
    extract_entities(text, detect_language(text), tagger)


def deadletter_record(value: bytes | None, origin: Origin, rejected: Rejected) -> dict[str, Any]:
    payload = value or b""
    try:
        text, encoding = payload.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(payload).decode("ascii"), "base64"
    key = None
    if origin.key is not None:
        key = origin.key.decode("utf-8", errors="replace")
    return {
        "schema_version": 1,
        "reason": rejected.reason,
        "reason_code": rejected.code,
        "stage": rejected.stage,
        "article_id": rejected.article_id,
        "payload": text,
        "payload_encoding": encoding,
        "key": key,
        "topic": origin.topic,
        "partition": origin.partition,
        "offset": origin.offset,
        "failed_at": to_iso(utc_now()),
        "pipeline_version": PIPELINE_VERSION,
    }
