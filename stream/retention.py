"""Dropping closed windows from the counts table, one partition at a time.

A faust table writes a deletion to the changelog partition of the event being processed, so a
key may only be deleted while processing an event of the partition the key belongs to. Every
count key starts with its entity id, and entity events are keyed by entity id, so the
partition of a key is the producer's partition of its entity id (murmur2, as in Kafka).
"""

from __future__ import annotations

from aiokafka.partitioner import murmur2

from stream.counting import expired

PRUNE_EVERY_S = 30.0


def partition_of(entity_id: str, partitions: int) -> int:
    hashed: int = murmur2(entity_id.encode("utf-8"))
    return (hashed & 0x7FFFFFFF) % partitions


class WindowPruner:
    def __init__(self, retention_s: float, partitions: int) -> None:
        self.retention_s = retention_s
        self.partitions = partitions
        self._stream_time: dict[int, float] = {}
        self._last_prune: dict[int, float] = {}

    def observe(self, partition: int, event_time: float) -> None:
        """Stream time of a partition: the latest event time seen in it."""
        if event_time > self._stream_time.get(partition, float("-inf")):
            self._stream_time[partition] = event_time

    def due(self, partition: int, now: float) -> bool:
        if now - self._last_prune.get(partition, float("-inf")) < PRUNE_EVERY_S:
            return False
        self._last_prune[partition] = now
        return True

    def expired_keys(self, partition: int, keys: list[str]) -> list[str]:
        horizon = self._stream_time.get(partition)
        if horizon is None:
            return []
        horizon -= self.retention_s
        return [
            key for key in keys
            if expired(key, horizon)
            and partition_of(key.split("|", 1)[0], self.partitions) == partition
        ]
