"""Per-domain boilerplate memory for scraped text: a line seen in several articles of the same
site is navigation, a footer or a promotion, not article text (the line-frequency signal that
C4, CCNet and RefinedWeb use to dedupe lines).

State per domain is a plain dict (JSON-serialisable, so it lives in a faust Table), bounded in
size, and decays: counts fade by ``DECAY`` per article, so lines a site stopped printing are
forgotten and the least-seen lines are evicted first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

DECAY = 0.98  # per article of the same domain: a line unseen for ~35 articles halves its weight
MAX_LINES = 1500  # lines remembered per domain
MIN_ARTICLES = 1.5  # boilerplate once seen in two earlier articles (decay lowers 2 a little)
RECENT_ARTICLES = 256  # article ids remembered, so that a re-sent article is not counted again
# An article whose prose is mostly known already is a copy of one seen before (a re-publication
# under another URL): counting it would turn the story itself into "boilerplate".
NEAR_DUPLICATE = 0.5




def line_key(line: str) -> str:
    normal = " ".join(line.lower().split())
    return hashlib.blake2b(normal.encode("utf-8"), digest_size=6).hexdigest()


class DomainLines:
    """Decayed counts of the articles each line appeared in, for one domain."""

    def __init__(self, state: dict[str, Any] | None = None) -> None:
        state = state or {}
        self.articles: int = int(state.get("n", 0))
        # line key -> [count, article index of the last update]
        self._lines: dict[str, list[float]] = dict(state.get("lines", {}))
        self._recent: list[str] = list(state.get("recent", []))

    def weight(self, key: str) -> float:
        entry = self._lines.get(key)
        if entry is None:
            return 0.0
        count, seen = entry
        return float(count * DECAY ** (self.articles - seen))

    def is_boilerplate(self, line: str) -> bool:
        return self.weight(line_key(line)) >= MIN_ARTICLES

    def observe(self, lines: Iterable[str], article_id: str,
                prose: Iterable[str] = ()) -> None:
        """Count one article's distinct lines, once per article id, and not at all when its
        ``prose`` lines were mostly seen before (a copy of an earlier article)."""
        if article_id in self._recent:
            return
        self._recent = [*self._recent[-(RECENT_ARTICLES - 1):], article_id]
        prose_keys = {line_key(line) for line in prose}
        known = sum(1 for key in prose_keys if self.weight(key) > 0.5)
        if prose_keys and known > NEAR_DUPLICATE * len(prose_keys):
            return
        self.articles += 1
        for key in {line_key(line) for line in lines}:
            self._lines[key] = [self.weight(key) + 1.0, float(self.articles)]
        if len(self._lines) > MAX_LINES:
            ranked = sorted(self._lines, key=self.weight, reverse=True)
            self._lines = {key: self._lines[key] for key in ranked[:MAX_LINES]}

    def to_state(self) -> dict[str, Any]:
        return {"n": self.articles, "lines": self._lines, "recent": self._recent}
