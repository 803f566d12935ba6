"""Which partition holds a count key, and when a window may be dropped.

A faust table writes a deletion to the changelog partition of the event being processed, so a
key may only be deleted while processing an event of the partition the key belongs to. Every
count key starts with its entity id, and entity events are keyed by entity id, so the
partition of a key is the producer's partition of its entity id (murmur2, as in Kafka).
"""

from __future__ import annotations

from functools import lru_cache

from aiokafka.partitioner import murmur2

PRUNE_EVERY_S = 30.0


@lru_cache(maxsize=65536)
def partition_of(entity_id: str, partitions: int) -> int:
    hashed: int = murmur2(entity_id.encode("utf-8"))
    return (hashed & 0x7FFFFFFF) % partitions


class Pacer:
    """Whether periodic work (pruning) is due again, per key: at most once every ``every_s``,
    the first time ``every_s`` after ``started`` (default: at once)."""

    def __init__(self, every_s: float, started: float = float("-inf")) -> None:
        self.every_s = every_s
        self._started = started
        self._last: dict[object, float] = {}

    def due(self, now: float, key: object = None) -> bool:
        if now - self._last.get(key, self._started) < self.every_s:
            return False
        self._last[key] = now
        return True


class StreamClock:
    """Stream time per partition (the latest event time seen in it) and when to prune next."""

    def __init__(self) -> None:
        self._stream_time: dict[int, float] = {}
        self._pruning = Pacer(PRUNE_EVERY_S)

    def observe(self, partition: int, event_time: float) -> None:
        if event_time > self._stream_time.get(partition, float("-inf")):
            self._stream_time[partition] = event_time

    def time(self, partition: int) -> float | None:
        return self._stream_time.get(partition)

    def times(self) -> dict[int, float]:
        return dict(self._stream_time)

    def due(self, partition: int, now: float) -> bool:
        return self._pruning.due(now, partition)
