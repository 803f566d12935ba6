"""Logs that started over: how a worker tells that a log it holds positions or state in is not
the log the broker has now, and what it does about it. Pure bookkeeping; the supervision feeds
it what the broker and the consumer say.

A log starts over when a broker with memory storage restarts (empty, or with the topics created
again by ``newsstream broker``), when a topic is deleted and created again under the same name,
or when a log is cut below a consumer's position. Kept positions then point past the new log's
records, which would be skipped as done. The signs, any one enough:

- a topic the worker created is gone, or a one-partition topic has other than one;
- the topic's id changed (a broker with topic ids: Kafka 2.8+, Tansu): it is a new topic under
  the old name, however far it has grown;
- a partition's log ends (the Fetch high watermark) below the next offset the worker expects:
  a log only grows, and the worker never expects past its end.

(A log whose start moved past the expected offset, records deleted by retention before they
were read, is found where records are read: ``stream.runtime.events``.)

What is done depends on what refers to the log. Only positions refer to an input topic's log,
so its partitions resume at the new log's start, in place. Tables and the positions kept in
them (de-duplication, counts) refer to the internal topics and the changelogs: their log
starting over means the worker's state is gone, and the worker starts afresh in place. An
output topic the worker only writes is noted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import Any

from stream.config import Topics
from stream.runtime.tables import changelog_partitions

TP = Any  # a (topic, partition) pair as the consumer names it
# The resets counted before this process started again in place (JSON: topic → count).
CARRIED_RESETS = "_NEWSSTREAM_LOG_RESETS"


class Remedy(Enum):
    REWIND = "rewind"  # the partitions resume at the new log's start, in place
    RESTART = "restart"  # the worker's state went with the log: start afresh, in place
    NOTE = "note"  # nothing here refers to the log: logged and counted only


class Sign(Enum):
    GONE = "gone"  # the topic is gone, or is not one partition: the broker lost its state
    NEW = "new"  # the topic's id changed
    SHORT = "short"  # the partition's log ends below the next offset expected


@dataclass(frozen=True)
class LogReset:
    topic: str
    partition: int | None  # None: every partition of the topic
    sign: Sign
    reason: str

    @property
    def where(self) -> str:
        return self.topic if self.partition is None else f"{self.topic}/{self.partition}"


def lost_topics(topics: Topics, partitions: Mapping[str, int],
                known: Mapping[str, str] = MappingProxyType({})) -> list[LogReset]:
    """The topics the worker created that are gone, and topics with other partitions than
    their data needs (one-partition topics, changelogs as their tables): the broker lost its
    state (an embedded broker with memory storage restarts empty, and may create a topic a
    client names with its own default partitions). ``known``: the topics seen before (a
    changelog seen and now gone went with its table's state)."""
    needed = {topic: 1 for topic in topics.single_partition}
    needed.update(changelog_partitions(topics))
    missing = [topic for topic in topics.all if topic not in partitions]
    missing += [topic for topic in changelog_partitions(topics)
                if topic in known and topic not in partitions]
    found = [LogReset(topic, None, Sign.GONE, f"topic {topic} is gone") for topic in missing]
    found += [LogReset(topic, None, Sign.GONE,
                       f"topic {topic} has {partitions[topic]} partitions, not {wanted}")
              for topic, wanted in needed.items()
              if topic in partitions and partitions[topic] != wanted]
    return found


def new_topics(known: Mapping[str, str], ids: Mapping[str, str]) -> list[LogReset]:
    """Topics whose id is not the one first seen: deleted and created again."""
    return [LogReset(topic, None, Sign.NEW, f"topic {topic} is new under the same name "
                                  f"(id {known[topic][:8]}… is now {topic_id[:8]}…)")
            for topic, topic_id in sorted(ids.items())
            if topic in known and known[topic] != topic_id]


def short_logs(expected: Mapping[TP, int], ends: Mapping[TP, int | None]) -> list[LogReset]:
    """Partitions whose log ends below the next offset the worker expects."""
    return [LogReset(tp.topic, tp.partition, Sign.SHORT,
                     f"the log ends at offset {ends[tp]}, below the next offset {offset}")
            for tp, offset in sorted(expected.items(), key=lambda item: str(item[0]))
            if ends.get(tp) is not None and ends[tp] < offset]  # type: ignore[operator]


def remedy(topics: Topics, reset: LogReset) -> Remedy:
    """What a reset calls for (see the module's docstring)."""
    if reset.sign is Sign.GONE:
        return Remedy.RESTART  # the broker lost its state: the topics are created again
    if reset.topic in topics.inputs:
        return Remedy.REWIND
    if reset.topic in topics.outputs:
        return Remedy.NOTE
    return Remedy.RESTART


def carry(counts: Mapping[str, int]) -> str:
    return json.dumps(dict(counts), sort_keys=True)


def carried(value: str | None) -> dict[str, int]:
    """The counts a previous run of this process handed over (empty when there are none or
    the value is unreadable: a count is not worth a failed start)."""
    try:
        counts = json.loads(value or "{}")
    except ValueError:
        return {}
    if not isinstance(counts, dict):
        return {}
    return {str(topic): int(n) for topic, n in counts.items() if isinstance(n, int)}
