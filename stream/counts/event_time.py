"""The event time of an article, which places it in the count windows: its publication date
when that is believable, else the next best field. One wrong date must not move stream time."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from stream.clock import parse_iso
from stream.ingest.deadletters import Origin

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
