"""Enrichment of one raw record: decode → validate → clean → language → entities.

The agents and the offline commands (``newsstream process`` / ``clean`` / ``entities``) all
call :func:`enrich_record`, so what is measured offline is what runs in the stream.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from stream import __version__
from stream.boilerplate import DomainLines, registrable_domain
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
    cleaned: dict[str, Any] | None = None  # what `newsstream clean` prints
    # Scraped text: the site's updated boilerplate memory, (key, state), for the caller to store.
    line_state: tuple[str, dict[str, Any]] | None = None

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
    line_memory: Mapping[str, dict[str, Any]] | None = None,
    memory_prefix: str = "",
    with_entities: bool = True,
) -> Result:
    """Run the stages on one record. ``line_memory`` maps ``memory_prefix + domain`` to each
    site's boilerplate memory (read only here; the new state comes back in ``line_state``)."""
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
        domain_lines = None
        if raw.content_type == "text/plain" and line_memory is not None:
            memory_key = memory_prefix + registrable_domain(raw.url)
            domain_lines = DomainLines(line_memory.get(memory_key))
        cleaned = clean_article(raw, domain_lines)
        if domain_lines is not None:
            result.line_state = (memory_key, domain_lines.to_state())
        watch.lap("clean")
        stage = "language"
        language = detect_language(cleaned.text, raw.lang)
        watch.lap("language")
        result.cleaned = {
            "id": raw.id, "url": raw.url, "text": cleaned.text, "title": cleaned.title,
            "author": cleaned.author, "published_at": cleaned.published_at,
            "language": language, "source": cleaned.source, "site_name": cleaned.site_name,
            "canonical_url": cleaned.canonical_url,
        }
        if not with_entities:
            return result
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


def warm_up(tagger: TokenTagger | None = None, load_entities: bool = True) -> None:
    """Load schemas and models now: a missing file fails the worker at start, not every record."""
    validator(RAW_ARTICLE)
    text = "Presiden Joko Widodo meresmikan Bandara Kertajati di Majalengka, Jawa Barat."
    language = detect_language(text)
    if load_entities:
        extract_entities(text, language, tagger)
        extract_entities("The president met the press in Washington.", "en")


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


def too_slow_record(value: bytes | None, origin: Origin, reason: str) -> Result:
    """The dead letter of a record whose enrichment ran past its time budget."""
    failure = Rejected("too_slow", "clean", f"enrichment {reason}")
    return Result(deadletter=deadletter_record(value, origin, failure), reason_code="too_slow")


def memory_slice(value: bytes | None, memory: Mapping[str, dict[str, Any]],
                 prefix: str = "") -> dict[str, dict[str, Any]]:
    """The one site's boilerplate memory a record needs, so that only it crosses to the child
    process (not the whole memory)."""
    if not value or b"text/plain" not in value:
        return {}  # HTML (or not an article): no need to parse the record here
    try:
        payload = orjson.loads(value)
        if payload.get("content_type") != "text/plain":
            return {}
        key = prefix + registrable_domain(str(payload["url"]))
    except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
        return {}
    state = memory.get(key)
    return {key: state} if state is not None else {}
