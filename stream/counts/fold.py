"""Counting folded per key between flushes: the changes of each (entity, window) gather in
memory, and a flush writes each changed key once (one table changelog record, one
``entities.mentions`` record, one trend score), whatever the number of events that changed it.

This is the record cache of Kafka Streams (and Quix Streams' checkpoint): a key named by 40
articles in one flush interval costs what a key named once costs. The exactly-once effect is
kept by the same rule as per-event counting (:func:`stream.counts.apply.apply_event`): a value
remembers the last source offset it applied, and the worker flushes before it commits the
offsets of the events folded in (see :mod:`stream.runtime.counting`). Lose the folded changes
(a crash) and the events come again, uncommitted; write them and crash before the commit and
the events come again as redeliveries, which change nothing and publish the value again.

Emit modes of the windowed counts (the running total is always published as it changes):

- ``changes``: each changed window's latest value, at most once per flush;
- ``final``: one record per window once it has closed, i.e. once the stream time of its
  partition (the latest event time seen there) is past the window's end plus the grace
  period; no later article can be counted in it then (de-duplication decides the windows of
  an article by the same grace, and a partition receives its events in that order).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from stream.counts.apply import apply_event, baseline, count_update, event_windows
from stream.counts.keys import count_key, entity_of, parse_count_key
from stream.counts.trending import score_update
from stream.counts.windows import Window
from stream.records import CountValue, EntityEvent, EntityRef, TrendScore

EmitMode = Literal["changes", "final"]


@dataclass(slots=True)
class Change:
    """A key changed (or to be published again) since the last flush."""

    partition: int
    entity: EntityRef
    window: Window
    value: CountValue
    # The value differs from the table's (False: a redelivery, only published again).
    written: bool


@dataclass(slots=True)
class Folded:
    """What folding one entity event did: the windows it was counted in, and how many of its
    windows had applied it before (a redelivery)."""

    counted: list[str] = field(default_factory=list)
    redelivered: int = 0


@dataclass(slots=True)
class FlushPlan:
    """What one flush writes: table values (partition, key, value), ``entities.mentions``
    records (partition, key, payload) and trend scores; and the windows it closes (final
    mode), whose table value is marked ``final`` once their record is delivered."""

    writes: list[tuple[int, str, CountValue]] = field(default_factory=list)
    updates: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    scores: list[TrendScore] = field(default_factory=list)
    closed: list[tuple[int, str, CountValue]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.writes) + len(self.updates) + len(self.scores)


class _Overlay:
    """The table as it will be once ``changes`` are written (for the trend baselines)."""

    def __init__(self, changes: Mapping[str, Change], state: Mapping[str, Any]) -> None:
        self._changes, self._state = changes, state

    def get(self, key: str) -> Any:
        change = self._changes.get(key)
        return change.value if change is not None else self._state.get(key)


def _entity(event: EntityEvent) -> EntityRef:
    return {"entity_id": event["entity_id"], "name": event["name"], "label": event["label"]}


def _ref(key: str, value: Mapping[str, Any]) -> EntityRef:
    entity_id = entity_of(key)
    return {"entity_id": entity_id, "name": value.get("name", entity_id),
            "label": value.get("label", "")}


class CountFold:
    """The counts changed since the last flush, over the table they will be written to."""

    def __init__(self, state: Mapping[str, Any], emit: EmitMode = "changes") -> None:
        self._state = state
        self.emit = emit
        self._changes: dict[str, Change] = {}
        # Taken by a flush not yet done: still what the counts are until it is.
        self._flushing: dict[str, Change] = {}
        # final mode: windowed keys not yet published as final → (partition, window end)
        self._open: dict[str, tuple[int, int]] = {}

    def __len__(self) -> int:
        return len(self._changes)

    def value(self, key: str) -> CountValue | None:
        """The key's value with the folded changes."""
        change = self._changes.get(key) or self._flushing.get(key)
        if change is not None:
            return change.value
        value: CountValue | None = self._state.get(key)
        return value

    def apply(self, event: EntityEvent, partition: int
              ) -> tuple[Folded, list[tuple[str, CountValue]]]:
        """Fold one entity event into every window it counts in; with the keys whose value
        changed (for the query index)."""
        folded, changed = Folded(), []
        for window in event_windows(event):
            key = count_key(event["entity_id"], window)
            current = self.value(key)
            value = apply_event(current, event)
            if value is None:  # applied before: the table holds it, publish it again
                assert current is not None
                folded.redelivered += 1
                if key not in self._changes:
                    self._changes[key] = Change(partition, _entity(event), window, current,
                                                written=False)
                continue
            self._changes[key] = Change(partition, _entity(event), window, value, written=True)
            if self.emit == "final" and window.end is not None and not value.get("final"):
                self._open[key] = (partition, window.end)
            changed.append((key, value))
            folded.counted.append(window.name)
        return folded, changed

    def take(self) -> dict[str, Change]:
        """The changes since the last flush, for a flush: :meth:`flushed` when it is done,
        :meth:`restore` when it failed."""
        taken, self._changes = self._changes, {}
        self._flushing = taken
        return taken

    def flushed(self) -> None:
        self._flushing = {}

    def restore(self, taken: Mapping[str, Change]) -> None:
        """Put back the changes of a flush that failed; a key changed since keeps its newer
        value, which includes the older change."""
        self._flushing = {}
        for key, change in taken.items():
            newer = self._changes.get(key)
            if newer is None:
                self._changes[key] = change
            else:
                newer.written = newer.written or change.written

    def discard(self, partitions: Iterable[int]) -> int:
        """Forget the changes of ``partitions`` (revoked: their new owner counts their events
        again from the last commit); how many."""
        gone = set(partitions)
        keys = [key for key, change in self._changes.items() if change.partition in gone]
        for key in keys:
            del self._changes[key]
        for key in [key for key, (partition, _end) in self._open.items() if partition in gone]:
            del self._open[key]
        return len(keys)

    def forget(self, key: str) -> None:
        """A key dropped from the table (pruned)."""
        self._changes.pop(key, None)
        self._open.pop(key, None)

    def rebuild(self, items: Iterable[tuple[str, Any]], partition_of: Callable[[str], int],
                partitions: set[int]) -> None:
        """After a recovery (final mode): the windows of ``partitions`` not yet published as
        final."""
        self._open.clear()
        if self.emit != "final":
            return
        for key, value in items:
            if value is None or value.get("final"):
                continue
            _entity_id, window = parse_count_key(key)
            partition = partition_of(entity_of(key))
            if window.end is not None and partition in partitions:
                self._open[key] = (partition, window.end)

    def closing(self, stream_times: Mapping[int, float], grace_s: float
                ) -> list[tuple[int, str]]:
        """Final mode: the open windows (partition, key) whose partition's stream time is past
        their end plus the grace period, no longer open."""
        closed = [(partition, key) for key, (partition, end) in self._open.items()
                  if (now := stream_times.get(partition)) is not None and now > end + grace_s]
        for _partition, key in closed:
            del self._open[key]
        return closed

    def reopen(self, closed: Iterable[tuple[int, str]]) -> None:
        """Put back windows :meth:`closing` gave, for a flush that failed."""
        for partition, key in closed:
            _entity_id, window = parse_count_key(key)
            if window.end is not None:
                self._open[key] = (partition, window.end)

    def plan(self, taken: Mapping[str, Change], closing: Iterable[tuple[int, str]],
             updated_at: str, *,
             baseline_windows: int, min_mentions: int) -> FlushPlan:
        """What to write for the changes ``taken`` and the windows ``closing``."""
        plan = FlushPlan()
        overlay = _Overlay(taken, self._state)
        for key, change in taken.items():
            value, window = change.value, change.window
            if change.written:
                plan.writes.append((change.partition, key, value))
                if window.start is not None and value["mentions"] >= min_mentions:
                    plan.scores.append(score_update(
                        change.entity, window, value["mentions"],
                        baseline(overlay, change.entity["entity_id"], window, baseline_windows)))
            final = bool(value.get("final"))
            if self.emit == "changes" or window.start is None or final:
                plan.updates.append((change.partition, key, count_update(
                    change.entity, window, value, updated_at, final and self.emit == "final")))
        for partition, key in closing:
            last: CountValue | None = overlay.get(key)
            if last is None:
                continue
            _entity_id, window = parse_count_key(key)
            plan.updates.append((partition, key, count_update(
                _ref(key, last), window, last, updated_at, final=True)))
            marked: CountValue = {**last, "final": True}
            plan.closed.append((partition, key, marked))
        return plan
