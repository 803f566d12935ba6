"""Entity mention counting: windows, entity events, idempotent count updates.

Pure functions; the counting agent keeps the values in a faust Table keyed by :func:`count_key`
and calls :func:`apply_event`.

Exactly-once effect on at-least-once delivery: every entity event carries the position
(partition, offset) of the de-duplication record it came from. Events for one key arrive in
the order of that log, so a count value remembers, per source partition, the last offset it
has applied, and an event at or below it is a redelivery that changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from stream.clock import from_epoch, to_iso

TOTAL = "total"
_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


@dataclass(frozen=True, slots=True)
class Window:
    name: str  # "total", or the size: "1m", "1h", "1d", "90s"
    start: int | None  # epoch seconds, None for the running total
    end: int | None

    @property
    def size(self) -> int | None:
        return None if self.start is None or self.end is None else self.end - self.start


def window_name(size_s: int) -> str:
    """``60`` → ``"1m"``, ``3600`` → ``"1h"``, ``86400`` → ``"1d"``, ``90`` → ``"90s"``."""
    for unit, seconds in _UNITS:
        if size_s % seconds == 0:
            return f"{size_s // seconds}{unit}"
    raise ValueError(f"window size must be a positive number of seconds: {size_s}")


def window_size(name: str) -> int | None:
    """Inverse of :func:`window_name`; None for the running total. Raises ValueError."""
    if name == TOTAL:
        return None
    seconds = dict(_UNITS).get(name[-1:])
    if seconds is None or not name[:-1].isdigit() or int(name[:-1]) <= 0:
        raise ValueError(f"unknown window {name!r}: use total, or e.g. 1m, 1h, 1d, 90s")
    return int(name[:-1]) * seconds


def window_at(event_time: float, size: int) -> Window:
    start = int(event_time // size) * size
    return Window(window_name(size), start, start + size)


def windows_for(event_time: float, sizes: Iterable[int]) -> list[Window]:
    """The running total plus, for each size, the epoch-aligned tumbling window of the event."""
    return [Window(TOTAL, None, None), *(window_at(event_time, size) for size in sizes)]


def open_sizes(event_time: float, stream_time: float, sizes: Iterable[int],
               grace_s: float) -> list[int]:
    """The window sizes whose window of ``event_time`` still takes updates: it ended no more
    than ``grace_s`` before ``stream_time`` (the latest event time seen)."""
    return [size for size in sizes
            if window_at(event_time, size).end + grace_s >= stream_time]  # type: ignore[operator]


def count_key(entity_id: str, window: Window) -> str:
    return f"{entity_id}|{window.name}|{window.start if window.start is not None else ''}"


def parse_count_key(key: str) -> tuple[str, Window]:
    entity_id, name, start = key.rsplit("|", 2)
    if not start:
        return entity_id, Window(TOTAL, None, None)
    size = window_size(name) or 0
    return entity_id, Window(name, int(start), int(start) + size)


def entity_events(enriched: dict[str, Any], event_time: float, sizes: list[int],
                  source: tuple[int, int]) -> list[dict[str, Any]]:
    """One event per canonical entity of a counted article, for the internal entity-events
    topic: counted in the running total and in the windows of ``sizes``."""
    partition, offset = source
    return [
        {
            "entity_id": count["entity_id"],
            "name": count["name"],
            "label": count["label"],
            "mentions": count["mentions"],
            "article_id": enriched["id"],
            "event_time": event_time,
            "window_sizes": sizes,
            "source": [partition, offset],
        }
        for count in enriched["entity_counts"]
    ]


def event_windows(event: dict[str, Any]) -> list[Window]:
    return windows_for(event["event_time"], event["window_sizes"])


def apply_event(current: dict[str, Any] | None, event: dict[str, Any]) -> dict[str, Any] | None:
    """A window's counts with one article's mentions of the entity added, or None when the
    event was applied before (a redelivery)."""
    partition, offset = event["source"]
    value = current or {"mentions": 0, "articles": 0, "applied": {}}
    applied = value.get("applied", {})
    if offset <= applied.get(str(partition), -1):
        return None
    return {"name": event["name"], "label": event["label"],
            "mentions": value["mentions"] + int(event["mentions"]),
            "articles": value["articles"] + 1,
            "applied": {**applied, str(partition): offset}}


def count_update(
    event: dict[str, Any], window: Window, value: dict[str, Any], updated_at: str
) -> dict[str, Any]:
    """The ``entities.mentions`` payload for one (entity, window)."""
    return {
        "schema_version": 1,
        "entity": {"entity_id": event["entity_id"], "name": event["name"],
                   "label": event["label"]},
        "window": window.name,
        "window_start": None if window.start is None else to_iso(from_epoch(window.start)),
        "window_end": None if window.end is None else to_iso(from_epoch(window.end)),
        "mentions": value["mentions"],
        "articles": value["articles"],
        "updated_at": updated_at,
    }


def expired(key: str, horizon: float) -> bool:
    """Whether a windowed key's window ended before ``horizon`` (the running total never does)."""
    _entity, window = parse_count_key(key)
    return window.end is not None and window.end < horizon
