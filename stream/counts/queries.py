"""Answers of the query endpoints, from one worker's count index, and their merge across
workers (each worker holds the entities of its partitions)."""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Any

from stream.counts.index import CountIndex, Entry
from stream.counts.ranking import count_rank
from stream.counts.windows import TOTAL, Window, window_json, window_name, window_size


class QueryError(ValueError):
    """A request the endpoints answer with 400."""


def parse_window(name: str, sizes: Sequence[int]) -> str:
    """The window name of a request (``total``, ``1h``, ``3600s``), if the worker counts it."""
    try:
        size = window_size(name)
    except ValueError as error:
        raise QueryError(str(error)) from None
    if size is None:
        return TOTAL
    if size not in sizes:
        known = ", ".join([TOTAL, *(window_name(s) for s in sizes)])
        raise QueryError(f"window {name!r} is not counted; counted: {known}")
    return window_name(size)


def parse_n(text: str | None, default: int = 20, most: int = 1000) -> int:
    try:
        n = int(text) if text is not None else default
    except ValueError:
        raise QueryError(f"n must be a whole number, not {text!r}") from None
    if not 1 <= n <= most:
        raise QueryError(f"n must be between 1 and {most}")
    return n


def _entry_json(entry: Entry) -> dict[str, Any]:
    return {"entity": {"entity_id": entry.entity_id, "name": entry.name, "label": entry.label},
            "mentions": entry.mentions, "articles": entry.articles}


def local_top(index: CountIndex, name: str, n: int) -> dict[str, Any]:
    window, entries = index.top(name, n)
    return {**window_json(window), "entities": [_entry_json(e) for e in entries]}


def merge_top(answers: list[dict[str, Any]], n: int) -> dict[str, Any]:
    """One answer from the workers' answers: the latest window any of them holds, its
    entities ranked by mentions, then articles, then entity id (as each worker ranks them)."""
    with_data = [a for a in answers if a["entities"]]
    if not with_data:
        return answers[0] if answers else {"entities": []}
    latest = max((a["window_start"] or "") for a in with_data)
    chosen = [a for a in with_data if (a["window_start"] or "") == latest]
    entities = heapq.nsmallest(n, (e for a in chosen for e in a["entities"]),
                               key=lambda e: count_rank(e["mentions"], e["articles"],
                                                         e["entity"]["entity_id"]))
    return {**{k: chosen[0][k] for k in ("window", "window_start", "window_end")},
            "entities": entities}


def entity_detail(index: CountIndex, entity_id: str) -> dict[str, Any] | None:
    """An entity's running total and every window held for it, newest first."""
    windows = index.entity(entity_id)
    if not windows:
        return None
    any_entry = next(iter(windows.values()))
    answer: dict[str, Any] = {
        "entity": {"entity_id": entity_id, "name": any_entry.name, "label": any_entry.label},
        "total": None, "windows": {}}
    for (name, start), entry in sorted(windows.items(), key=lambda kv: -(kv[0][1] or 0)):
        counts = {"mentions": entry.mentions, "articles": entry.articles}
        if start is None:
            answer["total"] = counts
            continue
        size = window_size(name) or 0
        window = Window(name, start, start + size)
        answer["windows"].setdefault(name, []).append(
            {k: v for k, v in window_json(window).items() if k != "window"} | counts)
    return answer
