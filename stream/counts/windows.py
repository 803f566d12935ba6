"""Count windows: the running total and epoch-aligned tumbling windows of each size, named
``1m``, ``1h``, ``1d``, ``90s``; which still take updates, and when one may be dropped."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from stream.clock import from_epoch, to_iso

K = TypeVar("K")
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


@lru_cache(maxsize=256)
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


def horizons(stream_time: float, retention_s: Mapping[K, float]) -> dict[K, float]:
    """Per window size: windows that ended before this moment may be dropped."""
    return {size: stream_time - keep for size, keep in retention_s.items()}


def window_json(window: Window) -> dict[str, Any]:
    """A window as the payloads carry it: name, start and end (RFC 3339, None for the total)."""
    return {
        "window": window.name,
        "window_start": None if window.start is None else to_iso(from_epoch(window.start)),
        "window_end": None if window.end is None else to_iso(from_epoch(window.end)),
    }
