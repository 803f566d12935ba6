"""Entity mention counting: per-article entity events, tumbling windows, count updates.

Pure functions; the counting agent keeps the values in a faust Table keyed by
:func:`count_key` and calls :func:`apply_event`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from stream.clock import from_epoch, to_iso

TOTAL = "total"


@dataclass(frozen=True, slots=True)
class Window:
    name: str  # "total" or "<size>s"
    start: int | None  # epoch seconds, None for the running total
    end: int | None


def window_name(size_s: int) -> str:
    return f"{size_s}s"


def windows_for(event_time: float, sizes: Iterable[int]) -> list[Window]:
    """The running total plus, for each size, the epoch-aligned tumbling window of the event."""
    windows = [Window(TOTAL, None, None)]
    for size in sizes:
        start = int(event_time // size) * size
        windows.append(Window(window_name(size), start, start + size))
    return windows


def count_key(entity_id: str, window: Window) -> str:
    return f"{entity_id}|{window.name}|{window.start if window.start is not None else ''}"


def entity_events(enriched: dict[str, Any], event_time: float) -> list[dict[str, Any]]:
    """One event per canonical entity of an article, for the internal entity-events topic."""
    return [
        {
            "entity_id": count["entity_id"],
            "name": count["name"],
            "label": count["label"],
            "mentions": count["mentions"],
            "article_id": enriched["id"],
            "event_time": event_time,
        }
        for count in enriched["entity_counts"]
    ]


def apply_event(current: dict[str, int] | None, event: dict[str, Any]) -> dict[str, int]:
    """Add one article's mentions of an entity to a window's counts."""
    value = current or {"mentions": 0, "articles": 0}
    return {"mentions": value["mentions"] + int(event["mentions"]),
            "articles": value["articles"] + 1}


def count_update(
    event: dict[str, Any], window: Window, value: dict[str, int], updated_at: str
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
    _entity, window, start = key.rsplit("|", 2)
    if window == TOTAL or not start:
        return False
    size = int(window.removesuffix("s"))
    return int(start) + size < horizon
