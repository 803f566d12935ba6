"""Entity mention counting: entity events, idempotent count updates, trend scores.

Pure functions over a key-value state (the faust Table in a worker, a dict in tests) keyed by
:func:`~stream.counts.keys.count_key`; :mod:`stream.counts.fold` folds events with them between
flushes.

Exactly-once effect on at-least-once delivery: every entity event carries the position
(partition, offset) of the de-duplication record it came from. Events for one key arrive in
the order of that log, so a count value remembers, per source partition, the last offset it
has applied, and an event at or below it is a redelivery that changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from typing import Any, Protocol

from stream import SCHEMA_VERSION
from stream.counts.index import CountIndex
from stream.counts.keys import count_key
from stream.counts.windows import Window, horizons, window_json, windows_for
from stream.records import CountValue, EntityEvent, EntityRef


def entity_events(enriched: Mapping[str, Any], event_time: float, sizes: list[int],
                  source: tuple[int, int], log: str = "") -> list[EntityEvent]:
    """One event per canonical entity of a counted article, for the internal entity-events
    topic: counted in the running total and in the windows of ``sizes``. ``source`` is the
    article's position in the articles log whose id is ``log`` ("" where the broker has no
    topic ids)."""
    partition, offset = source
    events: list[EntityEvent] = []
    for count in enriched["entity_counts"]:
        event: EntityEvent = {
            "entity_id": count["entity_id"],
            # One name per entity in every window, whichever language the article was in.
            "name": count.get("canonical_name") or count["name"],
            "label": count["label"],
            "mentions": count["mentions"],
            "article_id": enriched["id"],
            "event_time": event_time,
            "window_sizes": sizes,
            "source": [partition, offset],
        }
        if log:
            event["log"] = log
        events.append(event)
    return events


def events_by_partition(events: list[EntityEvent], partition_of: Callable[[str], int]
                        ) -> list[tuple[int, list[EntityEvent]]]:
    """Entity events grouped by the partition of their entity's counts, in partition order and
    in their own order within each."""
    grouped: dict[int, list[EntityEvent]] = {}
    for event in events:
        grouped.setdefault(partition_of(event["entity_id"]), []).append(event)
    return sorted(grouped.items())


def _source_key(event: EntityEvent) -> str:
    """Where a count remembers the last offset applied from the event's source: its partition,
    prefixed with the log's id where known (a log created again starts at offset 0, and its
    events must not pass for redeliveries of the old log's)."""
    partition = str(event["source"][0])
    log = event.get("log")
    return f"{log}/{partition}" if log else partition


def event_windows(event: EntityEvent) -> list[Window]:
    return windows_for(event["event_time"], event["window_sizes"])


def apply_event(current: CountValue | None, event: EntityEvent) -> CountValue | None:
    """A window's counts with one article's mentions of the entity added, or None when the
    event was applied before (a redelivery)."""
    offset, source = event["source"][1], _source_key(event)
    value: CountValue = current or {"mentions": 0, "articles": 0, "applied": {}}
    applied = value.get("applied", {})
    if offset <= applied.get(source, -1):
        return None
    return {"name": event["name"], "label": event["label"],
            "mentions": value["mentions"] + int(event["mentions"]),
            "articles": value["articles"] + 1,
            "applied": {**applied, source: offset}}


def count_update(entity: EntityRef, window: Window, value: Mapping[str, Any],
                 updated_at: str, final: bool = False) -> dict[str, Any]:
    """The ``entities.mentions`` payload for one (entity, window); ``final`` marks the one
    record of a closed window (emit mode ``final``)."""
    record = {
        "schema_version": SCHEMA_VERSION,
        "entity": {"entity_id": entity["entity_id"], "name": entity["name"],
                   "label": entity["label"]},
        **window_json(window),
        "mentions": value["mentions"],
        "articles": value["articles"],
        "updated_at": updated_at,
    }
    if final:
        record["final"] = True
    return record


class _Reads(Protocol):
    def get(self, key: str) -> Any: ...


def baseline(state: _Reads, entity_id: str, window: Window,
             windows: int) -> list[int]:
    """The entity's mentions in the ``windows`` windows of the same size before ``window``
    (0 where it has none)."""
    size = window.size or 0
    start = window.start or 0
    values = (state.get(count_key(entity_id, Window(window.name, begin, begin + size)))
              for begin in (start - k * size for k in range(1, windows + 1)))
    return [value["mentions"] if value else 0 for value in values]


def prune_counts(state: MutableMapping[str, Any], index: CountIndex, partition: int,
                 stream_time: float, retention_s: Mapping[str, float]) -> list[str]:
    """Drop the windows of ``partition`` that ended more than their retention (by window name)
    before ``stream_time``; their keys."""
    keys = index.expired_keys(partition, horizons(stream_time, retention_s))
    for key in keys:
        del state[key]
        index.remove(key)
    return keys
