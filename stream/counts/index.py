"""An in-memory index over the counts table, for the query endpoints and for pruning.

The table is a flat map of ``entity|window|start`` keys; answering "top entities of the
latest hour" from it would scan every key. The index keeps the same values grouped by window
and by entity, so a top-N is one ``heapq.nlargest`` over one window's entities. It is updated
with every table write and rebuilt from the table after each recovery.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from stream.counts.keys import count_key, entity_of, parse_count_key
from stream.counts.ranking import count_rank
from stream.counts.windows import TOTAL, Window, window_size


@dataclass(frozen=True, slots=True)
class Entry:
    entity_id: str
    name: str
    label: str
    mentions: int
    articles: int
    partition: int


def _rank(entry: Entry) -> tuple[int, int, str]:
    return count_rank(entry.mentions, entry.articles, entry.entity_id)


class CountIndex:
    def __init__(self) -> None:
        # window name → window start (None for the total) → entity id → entry
        self._windows: dict[str, dict[int | None, dict[str, Entry]]] = {}
        # entity id → (window name, start) → entry
        self._entities: dict[str, dict[tuple[str, int | None], Entry]] = {}

    def __len__(self) -> int:
        return len(self._entities)

    def put(self, key: str, value: Mapping[str, Any], partition: int) -> None:
        entity_id, window = parse_count_key(key)
        entry = Entry(entity_id, value.get("name", entity_id), value.get("label", ""),
                      int(value["mentions"]), int(value["articles"]), partition)
        self._windows.setdefault(window.name, {}).setdefault(window.start, {})[entity_id] = entry
        self._entities.setdefault(entity_id, {})[(window.name, window.start)] = entry

    def remove(self, key: str) -> None:
        entity_id, window = parse_count_key(key)
        starts = self._windows.get(window.name, {})
        entities = starts.get(window.start, {})
        entities.pop(entity_id, None)
        if not entities:
            starts.pop(window.start, None)
        windows = self._entities.get(entity_id, {})
        windows.pop((window.name, window.start), None)
        if not windows:
            self._entities.pop(entity_id, None)

    def rebuild(self, items: Iterable[tuple[str, dict[str, Any]]],
                partition_of: Callable[[str], int], partitions: set[int]) -> None:
        """From the table's items, keeping the keys of ``partitions`` (the active ones)."""
        self._windows.clear()
        self._entities.clear()
        for key, value in items:
            if value is None:
                continue
            partition = partition_of(entity_of(key))
            if partition in partitions:
                self.put(key, value, partition)

    def latest_start(self, name: str) -> int | None:
        starts = [start for start in self._windows.get(name, {}) if start is not None]
        return max(starts) if starts else None

    def top(self, name: str, n: int, start: int | None = None) -> tuple[Window, list[Entry]]:
        """The ``n`` entities with the most mentions in window ``name`` starting at ``start``
        (default: the latest window of that size held here); ties by articles, then id."""
        size = window_size(name)
        if size is None:
            window = Window(TOTAL, None, None)
        else:
            start = start if start is not None else self.latest_start(name)
            window = Window(name, start, None if start is None else start + size)
        entities = self._windows.get(name, {}).get(window.start, {})
        if window.start is None and size is not None:
            return window, []
        best = heapq.nsmallest(n, entities.values(), key=_rank)
        return window, best

    def entity(self, entity_id: str) -> dict[tuple[str, int | None], Entry]:
        return dict(self._entities.get(entity_id, {}))

    def expired_keys(self, partition: int, horizons: dict[str, float]) -> list[str]:
        """Keys of ``partition`` whose window (by name) ended before its horizon."""
        keys: list[str] = []
        for name, horizon in horizons.items():
            size = window_size(name)
            if size is None:
                continue
            for start, entities in self._windows.get(name, {}).items():
                if start is None or start + size >= horizon:
                    continue
                window = Window(name, start, start + size)
                keys.extend(count_key(entity_id, window) for entity_id, entry in entities.items()
                            if entry.partition == partition)
        return keys
