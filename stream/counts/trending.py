"""Trending entities: mentions in a window against the entity's own recent baseline.

Score of entity *e* in window *w* (documented in docs/architecture.md and the trending schema):

    baseline  μ, σ² = mean and variance of e's mentions in the N previous windows of that size
                      (a window without mentions counts as 0)
    score         = (mentions − μ) / √(σ² + μ + 1)

a z-score whose variance also holds Poisson noise (μ) plus one, so that an entity never seen
before gets a finite score: 0 → 10 mentions scores 10; a steady 10 → 20 scores 10/√11 ≈ 3.
Entities below the minimum count (``trend_min_mentions``) are not ranked.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, MutableMapping, Sequence
from typing import Any

from stream import SCHEMA_VERSION
from stream.counts.keys import board_key, parse_board_key
from stream.counts.ranking import trend_rank
from stream.counts.windows import Window, window_json, window_size
from stream.records import EntityRef, TrendScore


def _by_rank(item: tuple[str, dict[str, Any]]) -> tuple[float, int, str]:
    entity_id, entry = item
    return trend_rank(entry["score"], entry["mentions"], entity_id)


def trend_score(mentions: int, baseline: Sequence[int]) -> tuple[float, float]:
    """(baseline mean, score)."""
    n = len(baseline)
    mean = sum(baseline) / n if n else 0.0
    variance = sum((x - mean) ** 2 for x in baseline) / n if n else 0.0
    return mean, (mentions - mean) / math.sqrt(variance + mean + 1.0)


def score_update(entity: EntityRef, window: Window, mentions: int,
                 baseline: Sequence[int]) -> TrendScore:
    """What the counting agent sends to the ranking partition for one (entity, window)."""
    mean, score = trend_score(mentions, baseline)
    return {"entity_id": entity["entity_id"], "name": entity["name"], "label": entity["label"],
            "window": window.name, "start": window.start, "end": window.end,
            "mentions": mentions, "baseline": round(mean, 3), "score": round(score, 4)}


def expired_boards(keys: Iterable[str], latest_end: Mapping[str, int],
                   retention_s: Mapping[int, float]) -> list[str]:
    """Board keys whose window ended more than its size's retention before the latest window
    end ranked for that size (``latest_end``, by window name)."""
    expired = []
    for key in keys:
        name, start = parse_board_key(key)
        size = window_size(name)
        if size is None or name not in latest_end:
            continue
        if start + size < latest_end[name] - retention_s.get(size, 0):
            expired.append(key)
    return expired


def merge(board: dict[str, Any] | None, update: TrendScore, keep: int) -> dict[str, Any]:
    """A window's board (entity id → latest score) with ``update`` in, cut to the ``keep``
    best: an entity's score only grows within a window (its baseline is fixed, its count
    rises), so one cut off never needed to come back except through a new update."""
    entries = dict(board or {})
    entries[update["entity_id"]] = {k: update[k] for k in
                                    ("name", "label", "mentions", "baseline", "score")}
    if len(entries) > keep:
        best = sorted(entries.items(), key=_by_rank)[:keep]
        entries = dict(best)
    return entries


def trending_payload(key: str, board: dict[str, Any], top_n: int,
                     updated_at: str) -> dict[str, Any]:
    """The ``entities.trending`` record of one window: its top ``top_n`` entities."""
    name, start = parse_board_key(key)
    ranked = sorted(board.items(), key=_by_rank)
    entries = [
        {"rank": rank, "entity": {"entity_id": entity_id, "name": entry["name"],
                                  "label": entry["label"]},
         "mentions": entry["mentions"], "baseline": entry["baseline"], "score": entry["score"]}
        for rank, (entity_id, entry) in enumerate(ranked[:top_n], start=1)
    ]
    size = window_size(name) or 0
    return {"schema_version": SCHEMA_VERSION, **window_json(Window(name, start, start + size)),
            "entities": entries, "updated_at": updated_at}


class TrendBoards:
    """The ranking partition's state: a board per window in ``table`` (board key → entity id
    → its latest score, cut to the ``keep`` best), which boards changed since they were last
    published, and per window size the latest window end ranked (what expiry counts from).

    A changed board is held here and written to ``table`` by :meth:`flush`, once however many
    scores changed it (a board is a few KB: written per score, the boards' changelog was the
    largest topic per article after the counts were folded)."""

    def __init__(self, table: MutableMapping[str, Any], keep: int,
                 retention_s: Mapping[int, float]) -> None:
        self.table = table
        self.keep = keep
        self.retention_s = retention_s
        self.changed: set[str] = set()
        self.latest_end: dict[str, int] = {}
        self._unwritten: dict[str, dict[str, Any]] = {}

    def board(self, key: str) -> dict[str, Any] | None:
        held = self._unwritten.get(key)
        return held if held is not None else self.table.get(key)

    def add(self, update: TrendScore) -> None:
        key = board_key(update["window"], update["start"])
        self._unwritten[key] = merge(self.board(key), update, self.keep)
        self.changed.add(key)
        end = update["end"] or 0
        self.latest_end[update["window"]] = max(self.latest_end.get(update["window"], 0), end)

    def flush(self, table: MutableMapping[str, Any] | None = None) -> int:
        """Write the changed boards to ``table`` (default: the one given at start); how many."""
        target = self.table if table is None else table
        written = len(self._unwritten)
        for key, board in self._unwritten.items():
            target[key] = board
        self._unwritten.clear()
        return written

    def prune(self, table: MutableMapping[str, Any] | None = None) -> list[str]:
        """Drop the boards of windows past their retention (from ``table``, default the one
        given at start); their keys."""
        target = self.table if table is None else table
        keys = set(self.table.keys()) | set(self._unwritten)
        old = expired_boards(sorted(keys), self.latest_end, self.retention_s)
        for key in old:
            self._unwritten.pop(key, None)
            if key in self.table:
                del target[key]
            self.changed.discard(key)
        return old

    def publishable(self, top_n: int,
                    updated_at: str) -> Iterator[tuple[str, dict[str, Any] | Exception]]:
        """Each changed board's ``entities.trending`` payload (or why it cannot be built: one
        bad board must not keep the others back), marked as published."""
        for key in sorted(self.changed):
            self.changed.discard(key)
            board = self.board(key)
            if not board:
                continue
            payload: dict[str, Any] | Exception
            try:
                payload = trending_payload(key, board, top_n, updated_at)
            except Exception as error:
                payload = error
            yield key, payload
