"""The stage functions the agents call (de-duplication, counting, trending), without a broker:
the agents only move their results between topics."""

from typing import Any

import orjson
import pytest

from stream.counts.apply import events_by_partition, prune_counts
from stream.counts.fold import CountFold, FlushPlan
from stream.counts.index import CountIndex
from stream.counts.keys import board_key, count_key, parse_board_key
from stream.counts.trending import TrendBoards
from stream.counts.windows import Window
from stream.dedup.decision import STREAM_TIME, deduplicate, prune
from stream.dedup.fingerprint import fingerprint
from stream.dedup.index import SimIndex
from stream.records import (
    ArticleEnvelope,
    EntityEvent,
    decode_entity_events,
    decode_envelope,
    encode,
)
from tests.support.helpers import assert_valid

TEXT = ("Presiden Joko Widodo meresmikan jalan tol baru di Jawa Tengah pada hari Senin. Jalan "
        "tol sepanjang 40 kilometer itu menghubungkan Semarang dan Demak, kata Menteri.")
OPTIONS: dict[str, Any] = {"sizes": [60, 3600], "grace_s": 120.0, "count_near": False}


def _envelope(article_id: str, url: str, event_time: float = 1000.0,
              text: str = TEXT) -> ArticleEnvelope:
    enriched = {"id": article_id, "url": url, "text": text, "entity_counts": [
        {"entity_id": "PER:joko-widodo", "name": "Joko Widodo", "label": "PER", "mentions": 1},
        {"entity_id": "LOC:semarang", "name": "Semarang", "label": "LOC", "mentions": 1}]}
    return {"enriched": enriched, "fingerprint": fingerprint(enriched, event_time).to_json()}


def test_the_envelope_crosses_the_topic_unchanged() -> None:
    envelope = _envelope("a", "https://kompas.com/read/1")
    assert decode_envelope(encode(envelope)) == envelope


def test_deduplicate_marks_copies_and_counts_first_copies_only() -> None:
    state: dict[str, Any] = {}
    near = SimIndex(4)
    first = deduplicate(state, near, _envelope("a", "https://kompas.com/read/1"), (0, 0),
                        **OPTIONS)
    assert first.enriched is not None and first.enriched["duplicate_of"] is None
    assert [e["entity_id"] for e in first.entity_events] == ["PER:joko-widodo", "LOC:semarang"]
    assert all(e["source"] == [0, 0] and e["window_sizes"] == [60, 3600]
               for e in first.entity_events)
    copy = deduplicate(state, near, _envelope("b", "https://www.kompas.com/read/1/"), (0, 1),
                       **OPTIONS)
    assert copy.enriched is not None
    assert (copy.enriched["duplicate_of"], copy.decision.reason) == ("a", "url")
    assert copy.entity_events == [] and copy.late_windows == []
    again = deduplicate(state, near, _envelope("a", "https://kompas.com/read/1"), (0, 0),
                        **OPTIONS)
    assert again.decision.replay and again.entity_events == first.entity_events


def test_a_late_article_is_counted_in_the_total_and_the_windows_still_open() -> None:
    state: dict[str, Any] = {}
    near = SimIndex(0)
    deduplicate(state, near, _envelope("new", "https://a.id/1", 10_000.0), (0, 0), **OPTIONS)
    other = "Tim nasional sepak bola Indonesia mengalahkan Vietnam di Jakarta, Kamis malam."
    late = deduplicate(state, near, _envelope("old", "https://a.id/2", 8_000.0, other), (0, 1),
                       **OPTIONS)
    # its minute closed at 8040 + 120 grace < 10000: counted in the total and its open hour
    assert late.decision.counted and late.decision.sizes == [3600]
    assert late.late_windows == ["1m"]
    assert all(e["window_sizes"] == [3600] for e in late.entity_events)
    assert state[STREAM_TIME] == 10_000.0  # a late article does not move stream time


def test_prune_forgets_what_left_the_window_and_a_copy_then_counts_again() -> None:
    state: dict[str, Any] = {}
    near = SimIndex(4)
    envelope = _envelope("a", "https://a.id/1", 1000.0)
    deduplicate(state, near, envelope, (0, 0), **OPTIONS)
    assert prune(state, near, window_s=500.0) == []
    state[STREAM_TIME] = 5000.0
    assert sorted(key.split(":")[0] for key in prune(state, near, window_s=500.0)) == [
        "body", "id", "sim", "url"]
    assert set(state) == {STREAM_TIME}
    assert near.nearest(int(envelope["fingerprint"]["simhash"] or "0", 16)) is None
    again = deduplicate(state, near, _envelope("a", "https://a.id/1", 5000.0), (0, 1),
                        **OPTIONS)
    assert again.decision.duplicate_of is None and again.decision.counted


def _event(offset: int, mentions: int = 2, event_time: float = 3_700.0) -> EntityEvent:
    return {"entity_id": "PER:x", "name": "X", "label": "PER", "mentions": mentions,
            "article_id": f"a{offset}", "event_time": event_time, "window_sizes": [3600],
            "source": [0, offset]}


def _flush(fold: CountFold, state: dict[str, Any], stream_times: dict[int, float] | None = None,
           grace_s: float = 0.0, min_mentions: int = 1) -> FlushPlan:
    """One flush into a dict table, as the worker's flusher writes it."""
    plan = fold.plan(fold.take(), fold.closing(stream_times or {}, grace_s), "t",
                     baseline_windows=3, min_mentions=min_mentions)
    for _partition, key, value in [*plan.writes, *plan.closed]:
        state[key] = value
    fold.flushed()
    return plan


def test_a_flush_writes_each_changed_key_once_whatever_the_events_folded_into_it() -> None:
    state: dict[str, Any] = {}
    fold = CountFold(state)
    for offset in range(40):
        folded, changed = fold.apply(_event(offset), 3)
        assert folded.counted == ["total", "1h"] and folded.redelivered == 0
        assert [key for key, _value in changed] == [
            count_key("PER:x", Window("total", None, None)),
            count_key("PER:x", Window("1h", 3600, 7200))]
    assert state == {} and len(fold) == 2  # nothing written before the flush
    plan = _flush(fold, state)
    assert [key for _p, key, _v in plan.writes] == [key for _p, key, _u in plan.updates] == [
        count_key("PER:x", Window("total", None, None)),
        count_key("PER:x", Window("1h", 3600, 7200))]
    for partition, _key, update in plan.updates:
        assert partition == 3
        assert_valid("entity-mention-count", update)
        assert (update["mentions"], update["articles"]) == (80, 40)
    assert [(s["window"], s["mentions"], s["baseline"]) for s in plan.scores] == [
        ("1h", 80, 0.0)]
    assert len(fold) == 0 and len(_flush(fold, state)) == 0  # nothing changed since


def test_events_redelivered_after_a_flush_change_nothing_and_publish_the_value_again() -> None:
    state: dict[str, Any] = {}
    fold = CountFold(state)
    for offset in range(3):
        fold.apply(_event(offset), 0)
    _flush(fold, state)
    folded, changed = fold.apply(_event(1), 0)  # a redelivery (the commit did not happen)
    assert folded.redelivered == 2 and folded.counted == [] and changed == []
    plan = _flush(fold, state)
    assert plan.writes == [] and plan.scores == []
    assert [(u["mentions"], u["articles"]) for _p, _k, u in plan.updates] == [(6, 3), (6, 3)]


def test_trend_scores_take_the_previous_windows_as_baseline() -> None:
    state: dict[str, Any] = {}
    fold = CountFold(state)
    for offset, hour in enumerate(range(1, 4)):
        fold.apply(_event(offset, 4, hour * 3600 + 10.0), 0)
    _flush(fold, state, min_mentions=10)
    fold.apply(_event(9, 12, 4 * 3600 + 10.0), 0)
    plan = _flush(fold, state, min_mentions=10)
    assert [(s["start"], s["mentions"], s["baseline"]) for s in plan.scores] == [
        (4 * 3600, 12, 4.0)]


def test_a_failed_flush_keeps_its_changes_under_the_newer_ones() -> None:
    state: dict[str, Any] = {}
    fold = CountFold(state)
    fold.apply(_event(0), 0)
    taken = fold.take()  # the flush fails after taking them
    fold.apply(_event(1), 0)
    fold.restore(taken)
    plan = _flush(fold, state)
    assert [(u["mentions"], u["articles"]) for _p, _k, u in plan.updates] == [(4, 2), (4, 2)]


def test_revoked_partitions_forget_their_changes() -> None:
    fold = CountFold({})
    fold.apply(_event(0), 0)
    fold.apply({**_event(0), "entity_id": "PER:y"}, 1)
    assert fold.discard({1}) == 2 and len(fold) == 2


def test_final_mode_publishes_each_window_once_when_it_closes() -> None:
    state: dict[str, Any] = {}
    fold = CountFold(state, emit="final")
    for offset in range(3):
        fold.apply(_event(offset), 0)
    plan = _flush(fold, state, {0: 3_700.0}, grace_s=60.0)
    assert [u["window"] for _p, _k, u in plan.updates] == ["total"]  # the window is open
    fold.apply({**_event(3), "event_time": 7_300.0}, 0)  # the next hour
    plan = _flush(fold, state, {0: 7_200.0 + 61}, grace_s=60.0)
    finals = [u for _p, _k, u in plan.updates if u.get("final")]
    assert [(u["window_start"], u["mentions"], u["articles"]) for u in finals] == [
        ("1970-01-01T01:00:00.000Z", 6, 3)]
    for update in finals:
        assert_valid("entity-mention-count", update)
    assert state[count_key("PER:x", Window("1h", 3600, 7200))]["final"] is True
    # Closed once: later flushes do not publish it again; after a recovery neither.
    assert not [u for _p, _k, u in _flush(fold, state, {0: 9_999.0}).updates if u.get("final")]
    fold.rebuild(state.items(), lambda entity: 0, {0})
    assert [key for _p, key in fold.closing({0: 99_999.0}, 60.0)] == [
        count_key("PER:x", Window("1h", 7200, 10800))]


def test_prune_counts_drops_windows_past_their_retention() -> None:
    state: dict[str, Any] = {}
    index = CountIndex()
    fold = CountFold(state)
    _folded, changed = fold.apply(_event(1), 0)
    for key, value in changed:
        index.put(key, value, 0)
    _flush(fold, state)
    assert prune_counts(state, index, 0, 7200.0 + 100, {"1h": 3600.0}) == []
    dropped = prune_counts(state, index, 0, 7200.0 + 3601, {"1h": 3600.0})
    assert dropped == [count_key("PER:x", Window("1h", 3600, 7200))]
    assert list(state) == [count_key("PER:x", Window("total", None, None))]


def test_entity_events_travel_as_one_record_per_partition_in_their_order() -> None:
    events: list[EntityEvent] = [{**_event(offset), "entity_id": f"PER:{name}", "log": "L"}
                                 for offset, name in enumerate("abcdefab")]
    grouped = events_by_partition(events, lambda entity: ord(entity[-1]) % 2)
    assert [partition for partition, _events in grouped] == [0, 1]
    decoded = [event for _p, batch in grouped
               for event in decode_entity_events(encode({"events": batch}))]
    assert sorted(decoded, key=lambda e: (e["entity_id"], e["source"])) == \
        sorted(events, key=lambda e: (e["entity_id"], e["source"]))
    for _partition, batch in grouped:  # each partition's events in de-duplication order
        assert [e["source"] for e in batch] == sorted(e["source"] for e in batch)
    assert decode_entity_events(encode(events[0])) == [events[0]]  # written before batches


def _score(entity: str, score: float, start: int = 0) -> Any:
    return {"entity_id": entity, "name": entity, "label": "PER", "window": "1m",
            "start": start, "end": start + 60, "mentions": 5, "baseline": 1.0, "score": score}


def test_trend_boards_publish_what_changed_once_and_drop_old_windows() -> None:
    table: dict[str, Any] = {}
    boards = TrendBoards(table, keep=2, retention_s={60: 120.0})
    for entity, score in [("PER:a", 1.0), ("PER:b", 3.0), ("PER:c", 2.0)]:
        boards.add(_score(entity, score))
    published = list(boards.publishable(top_n=5, updated_at="2026-01-01T00:00:00.000Z"))
    assert [key for key, _payload in published] == [board_key("1m", 0)]
    payload = published[0][1]
    assert isinstance(payload, dict)
    assert_valid("entity-trending", payload)
    assert [e["entity"]["entity_id"] for e in payload["entities"]] == ["PER:b", "PER:c"]
    assert list(boards.publishable(top_n=5, updated_at="x")) == []  # nothing changed since
    boards.add(_score("PER:a", 1.0, start=600))
    assert boards.prune() == ["1m|0"] and parse_board_key("1m|600") == ("1m", 600)


def test_a_board_that_cannot_be_built_is_reported_and_the_others_go_on() -> None:
    table: dict[str, Any] = {"1m|0": {"PER:a": {"name": "A"}}}  # no score: broken
    boards = TrendBoards(table, keep=5, retention_s={})
    boards.changed.add("1m|0")
    boards.add(_score("PER:b", 2.0, start=60))
    results = dict(boards.publishable(top_n=5, updated_at="2026-01-01T00:00:00.000Z"))
    assert isinstance(results["1m|0"], Exception)
    assert isinstance(results["1m|60"], dict)


def test_records_are_plain_json() -> None:
    event = _event(4)
    assert orjson.loads(encode(event)) == event
    with pytest.raises(orjson.JSONDecodeError):
        decode_envelope(b"not json")
