"""Enrichment of one raw record, as a sequence of named stages:

    decode → clean → language → entities → assemble → fingerprint

The agents and the offline commands (``newsstream process`` / ``clean`` / ``entities``) all
call :func:`enrich_record`, so what is measured offline is what runs in the stream. Each stage
reads and writes one :class:`_Work`; a stage that raises :class:`Rejected` (or fails) ends the
record as a dead letter naming that stage, and a record past its time budget names the stage
that was running (``on_stage`` tells a caller each stage as it starts: the enrichment child
reports it to its parent, which names the stage of a record it had to stop).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from stream import PIPELINE_VERSION, SCHEMA_VERSION
from stream.clean.article import CleanedArticle, clean_article
from stream.clean.boilerplate import DomainLines
from stream.clean.language import detect_language
from stream.clock import from_epoch, parse_iso, to_iso, utc_now
from stream.costs import section
from stream.counts.event_time import LATEST_EVENT_TIME, event_time
from stream.dedup.fingerprint import fingerprint
from stream.entities.extract import Entity, count_entities, extract_entities
from stream.entities.models.registry import DEFAULT_OPTIONS, EntityOptions, tagger_for
from stream.entities.tagger import TokenTagger
from stream.ingest.deadletters import (
    DEADLETTER_PAYLOAD_BYTES,
    Origin,
    Rejected,
    deadletter_record,
)
from stream.ingest.payloads import RawArticle, article_id_of, decode_raw_article
from stream.ingest.urls import registrable_domain
from stream.records import FingerprintJson

if TYPE_CHECKING:
    from stream.config import Entities, Limits

__all__ = [
    "PIPELINE_VERSION",
    "STAGE_NAMES",
    "BudgetExceeded",
    "Cleaned",
    "EnrichOptions",
    "Origin",
    "Result",
    "enrich_record",
]


class BudgetExceeded(Exception):
    """Past the time budget; ``stage`` and ``article_id`` when they are known (the stage that
    was running, told by the stages themselves or by the child process that ran them)."""

    stage: str | None = None
    article_id: str | None = None


@dataclass(frozen=True, slots=True)
class Cleaned:
    """What the cleaning stages found in one record (``newsstream clean`` prints it)."""

    id: str
    url: str
    article: CleanedArticle
    language: str


@dataclass(slots=True)
class Result:
    """One record's enrichment: the enriched article, or its dead letter."""

    enriched: dict[str, Any] | None = None
    deadletter: dict[str, Any] | None = None
    reason_code: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    event_time: float | None = None
    # Date fields not taken as the event time: beyond the allowed skew, or unrepresentable.
    rejected_times: list[str] = field(default_factory=list)
    # De-duplication keys (stream.dedup.fingerprint.Fingerprint.to_json), with enrichment.
    fingerprint: FingerprintJson | None = None
    fetched_at: float | None = None  # the crawler's fetched_at, epoch seconds
    cleaned: Cleaned | None = None  # the cleaning stages' findings (`newsstream clean` only)
    # Scraped text: the site's updated boilerplate memory, (key, state), for the caller to store.
    line_state: tuple[str, dict[str, Any]] | None = None

    @property
    def ok(self) -> bool:
        return self.enriched is not None

    @classmethod
    def rejected(cls, value: bytes | None, origin: Origin, rejected: Rejected,
                 max_payload_bytes: int = DEADLETTER_PAYLOAD_BYTES) -> Result:
        """The dead letter of a record (:func:`stream.ingest.deadletters.deadletter_record`),
        with the article id read from the payload where the rejection has none."""
        if rejected.article_id is None:
            rejected.article_id = article_id_of(value)
        return cls(deadletter=deadletter_record(value, origin, rejected, max_payload_bytes),
                   reason_code=rejected.code)


@dataclass(frozen=True, slots=True)
class EnrichOptions:
    """What a process decides once for every record it enriches (from the settings, at the
    edge): the limits, the entity model, whether to tag entities at all."""

    max_bytes: int = 5_000_000  # larger raw records: oversize
    tagger: TokenTagger | None = None  # None: the registry's model for each language
    entity_options: EntityOptions = DEFAULT_OPTIONS
    with_entities: bool = True  # False: `newsstream clean`, the stages up to the language
    max_words: int | None = None  # longer texts: too_large before tagging
    max_event_skew_s: float = float("inf")
    deadletter_bytes: int = DEADLETTER_PAYLOAD_BYTES

    @classmethod
    def from_views(cls, limits: Limits, entities: Entities, *, with_entities: bool = True,
                   threads: int = 1) -> EnrichOptions:
        return cls(max_bytes=limits.max_payload_bytes,
                   entity_options=EntityOptions.from_view(entities, threads),
                   with_entities=with_entities, max_words=limits.max_article_words,
                   max_event_skew_s=limits.max_event_time_skew_s,
                   deadletter_bytes=limits.deadletter_payload_bytes)


DEFAULT_ENRICH = EnrichOptions()


@dataclass(slots=True)
class _Work:
    """One record on its way through the stages: what was asked, and what is known so far."""

    value: bytes | None
    origin: Origin
    received: datetime
    options: EnrichOptions
    line_memory: Mapping[str, dict[str, Any]] | None
    memory_prefix: str
    result: Result
    raw: RawArticle | None = None
    cleaned: CleanedArticle | None = None
    language: str = ""
    entities: list[Entity] = field(default_factory=list)
    entities_model: str = ""
    assembled: dict[str, Any] | None = None

    @property
    def article(self) -> RawArticle:
        assert self.raw is not None, "a stage ran before decode"
        return self.raw

    @property
    def text(self) -> CleanedArticle:
        assert self.cleaned is not None, "a stage ran before clean"
        return self.cleaned


def _decode(work: _Work) -> None:
    work.raw = decode_raw_article(work.value, work.options.max_bytes)


def _clean(work: _Work) -> None:
    raw = work.article
    domain_lines = None
    if raw.content_type == "text/plain" and work.line_memory is not None:
        memory_key = work.memory_prefix + registrable_domain(raw.url)
        domain_lines = DomainLines(work.line_memory.get(memory_key))
    work.cleaned = clean_article(raw, domain_lines)
    if domain_lines is not None:
        work.result.line_state = (memory_key, domain_lines.to_state())


def _language(work: _Work) -> None:
    raw, cleaned = work.article, work.text
    work.language = detect_language(cleaned.text, raw.lang)
    if not work.options.with_entities:  # `newsstream clean`: this is its answer
        work.result.cleaned = Cleaned(raw.id, raw.url, cleaned, work.language)


def _entities(work: _Work) -> None:
    text, options = work.text.text, work.options
    if options.max_words is not None:
        words = len(text.split())
        if words > options.max_words:
            raise Rejected("too_large", "entities",
                           f"{words} words of text exceed the {options.max_words} limit",
                           work.article.id)
    tagger = options.tagger or tagger_for(work.language, options.entity_options)
    work.entities_model = tagger.name
    work.entities = extract_entities(text, work.language, tagger, options.entity_options)


def _assemble(work: _Work) -> None:
    """The enriched article's payload, and the event time it is counted at."""
    result = work.result
    enriched = _enriched(work.article, work.text, work.language, work.entities,
                         work.entities_model, work.origin, work.received)
    result.event_time, result.rejected_times = event_time(enriched, work.origin,
                                                          work.options.max_event_skew_s)
    fetched = parse_iso(work.article.fetched_at)
    result.fetched_at = fetched.timestamp() if fetched else None
    work.assembled = enriched


def _fingerprint(work: _Work) -> None:
    result = work.result
    assert work.assembled is not None and result.event_time is not None, \
        "fingerprint ran before assemble"
    result.fingerprint = fingerprint(work.assembled, result.event_time).to_json()
    result.enriched = work.assembled


Stage = Callable[[_Work], None]
STAGES: tuple[tuple[str, Stage], ...] = (
    ("decode", _decode),
    ("clean", _clean),
    ("language", _language),
    ("entities", _entities),
    ("assemble", _assemble),
    ("fingerprint", _fingerprint),
)
STAGE_NAMES = tuple(name for name, _stage in STAGES)
# `newsstream clean` stops after the language.
CLEANING_STAGES = STAGES[:STAGE_NAMES.index("language") + 1]

def enrich_record(
    value: bytes | None,
    origin: Origin | None = None,
    options: EnrichOptions = DEFAULT_ENRICH,
    *,
    received_at: datetime | None = None,
    line_memory: Mapping[str, dict[str, Any]] | None = None,
    memory_prefix: str = "",
    on_stage: Callable[[int], None] | None = None,
) -> Result:
    """Run the stages on one record. ``line_memory`` maps ``memory_prefix + domain`` to each
    site's boilerplate memory (read only here; the new state comes back in ``line_state``).
    ``on_stage`` is told the index (in :data:`STAGE_NAMES`) of each stage as it starts."""
    origin = origin or Origin()
    result = Result()
    work = _Work(value, origin, received_at or utc_now(), options, line_memory, memory_prefix,
                 result)
    stages = STAGES if options.with_entities else CLEANING_STAGES
    deadletter_bytes = options.deadletter_bytes
    stage = STAGE_NAMES[0]
    try:
        last = time.perf_counter()
        for index, (stage, run) in enumerate(stages):
            if on_stage is not None:
                on_stage(index)
            with section(stage):
                run(work)
            now = time.perf_counter()
            result.timings[stage] = now - last
            last = now
    except BudgetExceeded as exceeded:
        exceeded.stage, exceeded.article_id = stage, work.raw.id if work.raw else None
        raise
    except Rejected as rejected:
        result.enriched = None
        result.reason_code = rejected.code
        result.deadletter = deadletter_record(value, origin, rejected, deadletter_bytes)
    except Exception as exc:  # a bug or a library failure must not stop the partition
        failure = Rejected("internal_error", stage, f"{type(exc).__name__}: {exc}",
                           work.raw.id if work.raw else None)
        result.enriched = None
        result.reason_code = failure.code
        result.deadletter = deadletter_record(value, origin, failure, deadletter_bytes)
    return result


def _enriched(raw: RawArticle, cleaned: CleanedArticle, language: str, entities: list[Entity],
              entities_model: str, origin: Origin, received: datetime) -> dict[str, Any]:
    fetched_at = raw.fetched_at
    if fetched_at is None and origin.timestamp is not None \
            and 0 <= origin.timestamp <= LATEST_EVENT_TIME:
        fetched_at = to_iso(from_epoch(origin.timestamp))
    return {
        "schema_version": SCHEMA_VERSION,
        "id": raw.id,
        "url": raw.url,
        "source": cleaned.source,
        "title": cleaned.title,
        "author": cleaned.author,
        "published_at": cleaned.published_at,
        "language": language,
        "entities_model": entities_model,
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
