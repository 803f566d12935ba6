"""Near-copies found fast: SimHash band buckets in memory (Manku et al.: two hashes within d
differing bits agree on at least one of d + 1 bands)."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise
from typing import Any

from stream.dedup.keys import SIM


def bands(value: int, distance: int) -> list[tuple[int, int]]:
    """``distance + 1`` disjoint bit ranges of a 64-bit hash, as (band, bits): two hashes
    within ``distance`` differing bits agree on at least one band (pigeonhole)."""
    count = distance + 1
    edges = [round(64 * i / count) for i in range(count + 1)]
    return [(i, (value >> lo) & ((1 << (hi - lo)) - 1))
            for i, (lo, hi) in enumerate(pairwise(edges))]


def _hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


class SimIndex:
    """SimHash band buckets in memory: (band, bits) → {article id: hash}."""

    def __init__(self, distance: int) -> None:
        self.distance = distance
        self._buckets: dict[tuple[int, int], dict[str, int]] = {}

    def add(self, article_id: str, value: int) -> None:
        for band in bands(value, self.distance):
            self._buckets.setdefault(band, {})[article_id] = value

    def remove(self, article_id: str, value: int) -> None:
        for band in bands(value, self.distance):
            bucket = self._buckets.get(band)
            if bucket is not None:
                bucket.pop(article_id, None)
                if not bucket:
                    del self._buckets[band]

    def nearest(self, value: int, besides: str | None = None) -> str | None:
        """The closest article within the distance (ties: the smaller id), other than
        ``besides``, or None."""
        best: tuple[int, str] | None = None
        for band in bands(value, self.distance):
            for article_id, other in self._buckets.get(band, {}).items():
                if article_id == besides:
                    continue
                distance = _hamming(value, other)
                if distance <= self.distance and (best is None or (distance, article_id) < best):
                    best = (distance, article_id)
        return best[1] if best else None

    def rebuild(self, items: Iterable[tuple[str, Any]]) -> None:
        """From the state's ``sim:`` entries."""
        self._buckets.clear()
        for key, value in items:
            if key.startswith(SIM) and value is not None:
                self.add(key[4:], int(value["hash"], 16))
