"""An article's text cut into plain and entity segments, from its mentions' offsets.

The offsets of ``articles.enriched`` count Unicode code points, as Python's do; JavaScript's
strings count UTF-16 units, so the page gets the text already cut and never slices it itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypedDict


class Segment(TypedDict, total=False):
    t: str  # the text
    e: str  # entity id (mentions only)
    l: str  # label  # noqa: E741 - the page's one-letter keys keep the feed small
    n: str  # canonical name


def excerpt_end(text: str, limit: int) -> int:
    """Where an excerpt of at most ``limit`` characters ends: at the last blank before it,
    so that no word is cut (or at ``limit`` when there is none)."""
    if len(text) <= limit:
        return len(text)
    cut = text.rfind(" ", 0, limit + 1)
    newline = text.rfind("\n", 0, limit + 1)
    cut = max(cut, newline)
    return cut if cut > limit // 2 else limit


def segments(text: str, mentions: Iterable[Mapping[str, Any]],
             limit: int | None = None) -> list[Segment]:
    """``text`` (up to ``limit`` characters, cut between words) as segments; each mention
    inside it becomes an entity segment. Mentions that overlap an earlier one, fall outside the
    text or straddle the cut are left as plain text: the page never shows a wrong highlight."""
    end_of_text = len(text) if limit is None else excerpt_end(text, limit)
    out: list[Segment] = []
    position = 0
    for mention in sorted(mentions, key=lambda m: (m["start"], -m["end"])):
        start, end = mention["start"], mention["end"]
        if not isinstance(start, int) or not isinstance(end, int):
            continue
        if start < position or end > end_of_text or start >= end:
            continue
        if start > position:
            out.append({"t": text[position:start]})
        out.append({"t": text[start:end], "e": str(mention["entity_id"]),
                    "l": str(mention["label"]), "n": str(mention["name"])})
        position = end
    if position < end_of_text:
        out.append({"t": text[position:end_of_text]})
    return out
