"""Enrichment of one raw record: decode → validate → clean → language → entities.

The agents and the offline commands (``newsstream process`` / ``clean`` / ``entities``) all
call :func:`enrich_record`, so what is measured offline is what runs in the stream.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from stream import __version__
from stream.boilerplate import DomainLines, registrable_domain
from stream.budget import BudgetExceeded
from stream.cleaning import CleanedArticle, clean_article
from stream.clock import from_epoch, parse_iso, to_iso, utc_now
from stream.dedup import fingerprint
from stream.entities import Entity, TokenTagger, count_entities, extract_entities
from stream.language import detect_language
from stream.payloads import RawArticle, Rejected, article_id_of, decode_raw_article
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
    # Date fields not taken as the event time: beyond the allowed skew, or unrepresentable.
    rejected_times: list[str] = field(default_factory=list)
    # De-duplication keys (stream.dedup.Fingerprint.to_json), computed with enrichment.
    fingerprint: dict[str, Any] | None = None
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


# Dead letters keep the whole payload up to this many bytes by default; past it, its head, length
# and SHA-256. Escaped as JSON, a head of control bytes grows six-fold: 64 KiB stays < 400 KB.
DEADLETTER_PAYLOAD_BYTES = 65_536
_REASON_CHARS = 2_000
_KEY_CHARS = 1_024


# Event times are kept between the epoch and this (the last representable day, less the
# largest window): a window of an article dated 9999 would end in year 10000.
LATEST_EVENT_TIME = datetime(9999, 12, 30, tzinfo=UTC).timestamp()


def event_time_limit(origin: Origin, max_skew_s: float, now: float | None = None) -> float:
    """The latest believable event time: ``max_skew_s`` past the record timestamp, and never
    more than that past this process's clock (a producer's clock can be wrong too)."""
    clock = time.time() if now is None else now
    reference = clock if origin.timestamp is None else min(origin.timestamp, clock)
    return min(reference + max_skew_s, LATEST_EVENT_TIME)


def event_time(enriched: dict[str, Any], origin: Origin, max_skew_s: float = float("inf"),
               now: float | None = None) -> tuple[float, list[str]]:
    """Event time of an article: published_at, else fetched_at, else the record timestamp,
    else the clock; a value later than :func:`event_time_limit` or before the epoch is passed
    over (named in the returned list), so that one wrong date cannot move stream time."""
    limit = event_time_limit(origin, max_skew_s, now)
    rejected: list[str] = []
    candidates = [("published_at", enriched.get("published_at")),
                  ("fetched_at", enriched.get("fetched_at"))]
    for name, value in candidates:
        moment = parse_iso(value)
        if moment is None:
            continue
        seconds = moment.timestamp()
        if 0 <= seconds <= limit:
            return seconds, rejected
        rejected.append(name)
    if origin.timestamp is not None and 0 <= origin.timestamp <= limit:
        return origin.timestamp, rejected
    if origin.timestamp is not None:
        rejected.append("timestamp")
    return min(time.time() if now is None else now, LATEST_EVENT_TIME), rejected


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
    max_words: int | None = None,
    max_event_skew_s: float = float("inf"),
    deadletter_bytes: int = DEADLETTER_PAYLOAD_BYTES,
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
        if max_words is not None:
            words = len(cleaned.text.split())
            if words > max_words:
                raise Rejected("too_large", "entities",
                               f"{words} words of text exceed the {max_words} limit", raw.id)
        entities = extract_entities(cleaned.text, language, tagger)
        watch.lap("entities")
        stage = "fingerprint"
        enriched = _enriched(raw, cleaned, language, entities, origin, received)
        result.event_time, result.rejected_times = event_time(enriched, origin, max_event_skew_s)
        result.fingerprint = fingerprint(enriched, result.event_time).to_json()
        watch.lap("fingerprint")
    except BudgetExceeded as exceeded:
        exceeded.stage, exceeded.article_id = stage, article_id
        raise
    except Rejected as rejected:
        result.reason_code = rejected.code
        result.deadletter = deadletter_record(value, origin, rejected, deadletter_bytes)
        return result
    except Exception as exc:  # a bug or a library failure must not stop the partition
        failure = Rejected("internal_error", stage, f"{type(exc).__name__}: {exc}", article_id)
        result.reason_code = failure.code
        result.deadletter = deadletter_record(value, origin, failure, deadletter_bytes)
        return result

    result.enriched = enriched
    fetched = parse_iso(raw.fetched_at)
    result.fetched_at = fetched.timestamp() if fetched else None
    return result


def _enriched(raw: RawArticle, cleaned: CleanedArticle, language: str, entities: list[Entity],
              origin: Origin, received: datetime) -> dict[str, Any]:
    fetched_at = raw.fetched_at
    if fetched_at is None and origin.timestamp is not None \
            and 0 <= origin.timestamp <= LATEST_EVENT_TIME:
        fetched_at = to_iso(from_epoch(origin.timestamp))
    return {
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


def warm_up(tagger: TokenTagger | None = None, load_entities: bool = True) -> None:
    """Load schemas and models now: a missing file fails the worker at start, not every record."""
    validator(RAW_ARTICLE)
    text = "Presiden Joko Widodo meresmikan Bandara Kertajati di Majalengka, Jawa Barat."
    language = detect_language(text)
    if load_entities:
        extract_entities(text, language, tagger)
        extract_entities("The president met the press in Washington.", "en")


def deadletter_record(value: bytes | None, origin: Origin, rejected: Rejected,
                      max_payload_bytes: int = DEADLETTER_PAYLOAD_BYTES) -> dict[str, Any]:
    """The dead letter of a record: the payload whole up to ``max_payload_bytes``, else its
    head; its length and SHA-256 always, so that nothing the dead-letter path sends can exceed
    the producer's limit and the original can still be identified."""
    payload = value or b""
    head = payload[:max_payload_bytes]
    try:
        payload.decode("utf-8")
        # A multi-byte character cut by the head loses its first bytes, nothing else.
        text, encoding = head.decode("utf-8", errors="ignore"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(head).decode("ascii"), "base64"
    key = None
    if origin.key is not None:
        key = origin.key[:_KEY_CHARS].decode("utf-8", errors="replace")
    return {
        "schema_version": 1,
        "reason": rejected.reason[:_REASON_CHARS],
        "reason_code": rejected.code,
        "stage": rejected.stage,
        "article_id": None if rejected.article_id is None else rejected.article_id[:_KEY_CHARS],
        "payload": text,
        "payload_encoding": encoding,
        "payload_bytes": len(payload),
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
        "payload_truncated": len(head) < len(payload),
        "key": key,
        "topic": origin.topic,
        "partition": origin.partition,
        "offset": origin.offset,
        "failed_at": to_iso(utc_now()),
        "pipeline_version": PIPELINE_VERSION,
    }


def failed_record(value: bytes | None, origin: Origin, code: str, stage: str, reason: str,
                  article_id: str | None = None,
                  max_payload_bytes: int = DEADLETTER_PAYLOAD_BYTES) -> Result:
    """A :class:`Result` that dead-letters the record (a failure found outside the stages)."""
    failure = Rejected(code, stage, reason, article_id or article_id_of(value))
    return Result(deadletter=deadletter_record(value, origin, failure, max_payload_bytes),
                  reason_code=code)


def too_slow_record(value: bytes | None, origin: Origin, reason: str, stage: str | None = None,
                    article_id: str | None = None,
                    max_payload_bytes: int = DEADLETTER_PAYLOAD_BYTES) -> Result:
    """The dead letter of a record whose enrichment ran past its time budget, in ``stage``
    (None: somewhere in the enrichment child, stage "enrich")."""
    where = f" in stage {stage}" if stage else ""
    return failed_record(value, origin, "too_slow", stage or "enrich",
                         f"enrichment {reason}{where}", article_id or article_id_of(value),
                         max_payload_bytes)


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
