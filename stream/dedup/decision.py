"""Duplicate articles: the same URL, the same body, or a near-copy (SimHash); and the same
article sent again.

A crawler re-sends pages, sites syndicate each other's stories with small edits, and the stream
itself redelivers records after a crash or a rebalance. Counting must see each story once.

:func:`fingerprint` runs with enrichment (in parallel, per partition). :func:`decide` runs in
one ordered log (the internal articles topic has one partition) against a key-value state —
the faust table in the worker, a dict in tests — so that "the first copy" is well defined.

**The same id is the same article**, never a copy of itself. Sent again with the same text (a
crawler fetching the page again), it changes nothing: it is published as it was (every input
record ends as one output record) and not counted again. Sent again with another text (the
site corrected or extended it), it updates the article: the new version is published under
the same id, as the article (``duplicate_of`` is about other articles only). An article is
counted once, with the first of its versions that is not a copy of another article: later
versions do not change the counts, so counts never double, and an article first fetched as a
copy of another (a placeholder page) is counted once it is one of its own.

Determinism on replay: the state remembers, under the article's id, the log position of its
latest version and of the version it was counted with. A record seen again *at the same
position* is a redelivery of the same record and gets the same decision (its count events
carry the same position, so the counting table ignores them where they were applied); a record
older than the article's latest version is a redelivery that publishes nothing new (unless it
is the version the article was counted with: its counts are sent again); a record at another
position with the same URL or body and another id is a second copy.

State keys (values are JSON-able):
- ``id:<article id>``: ``{"id", "at": [partition, offset], "log", "seen", "duplicate_of",
  "reason", "body", "resent", "count": {"at", "log", "sizes"} or None}``, the article as last
  seen (``log``: the articles topic's id, where the broker has topic ids, so that positions of
  a log created again are not taken for the old one's);
- ``url:<hash>`` / ``body:<hash>``: ``{"id", "seen"}`` of the first article with that URL or
  body (entries written by earlier versions carry the whole decision, as id entries did not
  exist: they are read as such);
- ``sim:<id>``: ``{"hash": SimHash in hex, "seen": t}`` of each first copy; the band buckets
  that find near-copies (:class:`SimIndex`) live in memory and are rebuilt from these keys
  after a recovery, so that an insert writes one small record to the changelog;
- ``stream-time``: the latest event time decided (for late articles).
``seen`` is the stream time when the entry was written; entries older than the
de-duplication window are pruned (:func:`expired_keys`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from stream.counts.apply import entity_events
from stream.counts.windows import open_sizes, window_name
from stream.dedup.fingerprint import Fingerprint
from stream.dedup.index import SimIndex
from stream.dedup.keys import PREFIXES, SIM, body_key, id_key, sim_key, url_key
from stream.records import ArticleEnvelope, EntityEvent

STREAM_TIME = "stream-time"


@dataclass(frozen=True, slots=True)
class Decision:
    duplicate_of: str | None  # id of the first copy; None for a first copy
    reason: str | None  # "url", "body" or "near"
    counted: bool
    sizes: list[int]  # the window sizes it is counted in (besides the running total)
    replay: bool = False
    # The same article sent again: "unchanged" (the same text: published as it was, counted
    # no more), "updated" (another text: published as the article), "stale" (an older
    # version redelivered after a newer one: nothing published, the newer one stands); None
    # for an article's first record.
    resent: str | None = None

    @property
    def publishes(self) -> bool:
        return self.resent != "stale"


Position = tuple[str, int, int]  # the articles log's id ("" where unknown), partition, offset


def _position(entry: Mapping[str, Any]) -> Position:
    partition, offset = entry["at"]
    return entry.get("log", ""), int(partition), int(offset)


def _at(position: Position) -> dict[str, Any]:
    log, partition, offset = position
    return {"at": [partition, offset], **({"log": log} if log else {})}


def _replayed(entry: Mapping[str, Any], here: Position) -> Decision | None:
    """The decision taken for the record at ``here``, if ``entry`` holds it."""
    if _position(entry) != here:
        return None
    if "count" not in entry:  # an entry written before articles were kept by id
        return Decision(entry["duplicate_of"], entry["reason"], entry["counted"],
                        list(entry["sizes"]), replay=True)
    count = entry["count"]
    counted = count is not None and _position(count) == here
    return Decision(entry["duplicate_of"], entry["reason"], counted,
                    list(count["sizes"]) if counted else [], replay=True,
                    resent=entry.get("resent"))


def _article(state: Mapping[str, Any], item: Fingerprint) -> dict[str, Any] | None:
    """This article as last seen: its id entry, or an entry written before articles were kept
    by id (the decision under its URL), read as one."""
    mine: dict[str, Any] | None = state.get(id_key(item.article_id))
    if mine is not None:
        return mine
    legacy = state.get(url_key(item.url))
    if legacy is None or "counted" not in legacy or legacy["id"] != item.article_id:
        return None
    body = state.get(body_key(item.body)) if item.body else None
    return {**legacy, "body": item.body if body and body["id"] == item.article_id else None,
            "count": {**_at(_position(legacy)), "sizes": legacy["sizes"]}
            if legacy["counted"] else None}


def _copy_of(state: Mapping[str, Any], near: SimIndex, item: Fingerprint
             ) -> tuple[str | None, str | None]:
    """The first copy of another article that this one copies, and how (URL, body, near)."""
    for key, reason in ((url_key(item.url), "url"),
                        (body_key(item.body) if item.body else None, "body")):
        first = state.get(key) if key else None
        if first is not None and first["id"] != item.article_id:
            return first["id"], reason
    if item.simhash is not None and near.distance > 0:
        nearest = near.nearest(item.simhash, besides=item.article_id)
        if nearest is not None:
            return nearest, "near"
    return None, None


def decide(state: MutableMapping[str, Any], near: SimIndex, item: Fingerprint,
           at: tuple[int, int], *, sizes: Iterable[int], grace_s: float,
           count_near: bool, log: str = "") -> Decision:
    """Whether the article at log position ``at`` (of the log with id ``log``) is a copy, or
    the same article again, and where it is counted; records it in ``state`` (and its SimHash
    in ``near``; a distance of 0 turns near-copies off)."""
    here: Position = (log, *at)
    for key in (id_key(item.article_id), url_key(item.url)):
        entry = state.get(key)  # (URL entries hold a decision only as earlier versions wrote)
        if entry is not None and ("count" in entry or "counted" in entry) \
                and (replayed := _replayed(entry, here)) is not None:
            return replayed
    mine = _article(state, item)
    if mine is not None:
        count = mine["count"]
        if mine.get("log", "") == log and _position(mine)[1:] > tuple(at):
            # An older version, redelivered: its counts go again if it was the one counted.
            counted = count is not None and _position(count) == here
            return Decision(mine["duplicate_of"], mine["reason"], counted,
                            list(count["sizes"]) if counted else [], replay=True,
                            resent="stale")
        if item.body is not None and mine.get("body") == item.body:
            return Decision(mine["duplicate_of"], mine["reason"], False, [],
                            resent="unchanged")
    previous = state.get(STREAM_TIME)
    stream_time = max(item.event_time, previous if previous is not None else item.event_time)
    duplicate_of, reason = _copy_of(state, near, item)
    counted = (mine is None or mine["count"] is None) and (
        duplicate_of is None or (reason == "near" and count_near))
    counted_sizes = open_sizes(item.event_time, stream_time, sizes, grace_s) if counted else []
    count = {**_at(here), "sizes": counted_sizes} if counted else (mine or {}).get("count")
    state[id_key(item.article_id)] = {
        "id": item.article_id, **_at(here), "seen": stream_time, "duplicate_of": duplicate_of,
        "reason": reason, "body": item.body, "resent": "updated" if mine else None,
        "count": count}
    for key in [url_key(item.url), *([body_key(item.body)] if item.body else [])]:
        if key not in state:
            state[key] = {"id": item.article_id, "seen": stream_time}
    if mine is not None:
        forget(state, near, [sim_key(item.article_id)])  # the text it had
    if duplicate_of is None and item.simhash is not None and near.distance > 0:
        state[sim_key(item.article_id)] = {"hash": f"{item.simhash:016x}", "seen": stream_time}
        near.add(item.article_id, item.simhash)
    if previous is None or stream_time > previous:
        state[STREAM_TIME] = stream_time
    return Decision(duplicate_of, reason, counted, counted_sizes,
                    resent="updated" if mine else None)


def expired_keys(items: Iterable[tuple[str, Any]], horizon: float) -> list[str]:
    """The entries last written before ``horizon``."""
    return [key for key, value in items
            if key.startswith(PREFIXES) and value["seen"] < horizon]


def forget(state: MutableMapping[str, Any], near: SimIndex, keys: Iterable[str]) -> None:
    for key in keys:
        value = state.pop(key, None)
        if key.startswith(SIM) and value is not None:
            near.remove(key[4:], int(value["hash"], 16))


@dataclass(frozen=True, slots=True)
class Deduplicated:
    """What de-duplicating one article gives: the article for ``articles.enriched`` (marked
    with the id of its first copy; None when a newer version of it stands: an older one
    redelivered), the entity events to count, and for the metrics the window sizes it came too
    late for."""

    enriched: dict[str, Any] | None
    decision: Decision
    entity_events: list[EntityEvent]
    late_windows: list[str]


def deduplicate(state: MutableMapping[str, Any], near: SimIndex, envelope: ArticleEnvelope,
                at: tuple[int, int], *, sizes: Sequence[int], grace_s: float,
                count_near: bool, log: str = "") -> Deduplicated:
    """The de-duplication stage for the article at log position ``at`` (see :func:`decide`)."""
    item = Fingerprint.from_json(envelope["fingerprint"])
    decision = decide(state, near, item, at, sizes=sizes, grace_s=grace_s,
                      count_near=count_near, log=log)
    enriched = {**envelope["enriched"], "duplicate_of": decision.duplicate_of} \
        if decision.publishes else None
    late = [] if decision.replay or not decision.counted else \
        [window_name(size) for size in set(sizes) - set(decision.sizes)]
    events = entity_events(envelope["enriched"], item.event_time, decision.sizes, at, log) \
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
