"""Duplicate articles: the same URL, the same body, or a near-copy (SimHash).

A crawler re-sends pages, sites syndicate each other's stories with small edits, and the stream
itself redelivers records after a crash or a rebalance. Counting must see each story once.

:func:`fingerprint` runs with enrichment (in parallel, per partition). :func:`decide` runs in
one ordered log (the internal articles topic has one partition) against a key-value state —
the faust table in the worker, a dict in tests — so that "the first copy" is well defined.

Determinism on replay: the state remembers, under the article's URL key, the log position of
the record that first stored it and the decision taken then. A record seen again *at the same
position* is a redelivery of the same record and gets the same decision (its count events carry
the same position, so the counting table ignores them where they were applied); a record at
another position with the same URL or body is a second copy.

State keys (values are JSON-able):
- ``url:<hash>`` / ``body:<hash>``: ``{"id", "at": [partition, offset], "seen": t,
  "duplicate_of", "reason", "counted", "sizes"}``;
- ``sim:<id>``: ``{"hash": SimHash in hex, "seen": t}`` of each first copy; the band buckets
  that find near-copies (:class:`SimIndex`) live in memory and are rebuilt from these keys
  after a recovery, so that an insert writes one small record to the changelog;
- ``stream-time``: the latest event time decided (for late articles).
``seen`` is the stream time when the entry was written; entries older than the
de-duplication window are pruned (:func:`expired_keys`).
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any

from stream.counts.apply import entity_events
from stream.counts.windows import open_sizes, window_name
from stream.dedup.fingerprint import Fingerprint
from stream.dedup.index import SimIndex
from stream.records import ArticleEnvelope, EntityEvent

STREAM_TIME = "stream-time"


@dataclass(frozen=True, slots=True)
class Decision:
    duplicate_of: str | None  # id of the first copy; None for a first copy
    reason: str | None  # "url", "body" or "near"
    counted: bool
    sizes: list[int]  # the window sizes it is counted in (besides the running total)
    replay: bool = False


def decide(state: MutableMapping[str, Any], near: SimIndex, item: Fingerprint,
           at: tuple[int, int], *, sizes: Iterable[int], grace_s: float,
           count_near: bool) -> Decision:
    """Whether the article at log position ``at`` is a copy, and where it is counted; records
    it in ``state`` (and its SimHash in ``near``; a distance of 0 turns near-copies off)."""
    url_key = f"url:{item.url}"
    own = state.get(url_key)
    if own is not None and own["at"] == list(at):
        return Decision(own["duplicate_of"], own["reason"], own["counted"], list(own["sizes"]),
                        replay=True)
    previous = state.get(STREAM_TIME)
    stream_time = max(item.event_time, previous if previous is not None else item.event_time)
    duplicate_of, reason = None, None
    body_key = f"body:{item.body}" if item.body else None
    first_body = state.get(body_key) if body_key else None
    use_near = item.simhash is not None and near.distance > 0
    if own is not None:
        duplicate_of, reason = own["id"], "url"
    elif first_body is not None:
        duplicate_of, reason = first_body["id"], "body"
    elif use_near:
        duplicate_of = near.nearest(item.simhash)  # type: ignore[arg-type]
        reason = "near" if duplicate_of else None
    counted = duplicate_of is None or (reason == "near" and count_near)
    counted_sizes = open_sizes(item.event_time, stream_time, sizes, grace_s) if counted else []
    entry = {"id": item.article_id, "at": list(at), "seen": stream_time,
             "duplicate_of": duplicate_of, "reason": reason, "counted": counted,
             "sizes": counted_sizes}
    if own is None:
        state[url_key] = entry
    if body_key and first_body is None:
        state[body_key] = entry
    if duplicate_of is None and use_near:
        state[f"sim:{item.article_id}"] = {"hash": f"{item.simhash:016x}", "seen": stream_time}
        near.add(item.article_id, item.simhash)  # type: ignore[arg-type]
    if previous is None or stream_time > previous:
        state[STREAM_TIME] = stream_time
    return Decision(duplicate_of, reason, counted, counted_sizes)


def expired_keys(items: Iterable[tuple[str, Any]], horizon: float) -> list[str]:
    """The entries last written before ``horizon``."""
    return [key for key, value in items
            if key.startswith(("url:", "body:", "sim:")) and value["seen"] < horizon]


def forget(state: MutableMapping[str, Any], near: SimIndex, keys: Iterable[str]) -> None:
    for key in keys:
        value = state.pop(key, None)
        if key.startswith("sim:") and value is not None:
            near.remove(key[4:], int(value["hash"], 16))


@dataclass(frozen=True, slots=True)
class Deduplicated:
    """What de-duplicating one article gives: the article for ``articles.enriched`` (marked
    with the id of its first copy), the entity events to count, and for the metrics the
    window sizes it came too late for."""

    enriched: dict[str, Any]
    decision: Decision
    entity_events: list[EntityEvent]
    late_windows: list[str]


def deduplicate(state: MutableMapping[str, Any], near: SimIndex, envelope: ArticleEnvelope,
                at: tuple[int, int], *, sizes: list[int], grace_s: float,
                count_near: bool) -> Deduplicated:
    """The de-duplication stage for the article at log position ``at`` (see :func:`decide`)."""
    item = Fingerprint.from_json(envelope["fingerprint"])
    decision = decide(state, near, item, at, sizes=sizes, grace_s=grace_s,
                      count_near=count_near)
    enriched = {**envelope["enriched"], "duplicate_of": decision.duplicate_of}
    late = [] if decision.replay or not decision.counted else \
        [window_name(size) for size in set(sizes) - set(decision.sizes)]
    events = entity_events(enriched, item.event_time, decision.sizes, at) \
        if decision.counted else []
    return Deduplicated(enriched, decision, events, late)


def prune(state: MutableMapping[str, Any], near: SimIndex, window_s: float) -> list[str]:
    """Forget the entries last written more than ``window_s`` of stream time ago; their keys."""
    stream_time = state.get(STREAM_TIME)
    if stream_time is None:
        return []
    keys = expired_keys(list(state.items()), stream_time - window_s)
    forget(state, near, keys)
    return keys
