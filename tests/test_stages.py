"""The stage functions the agents call (de-duplication, counting, trending), without a broker:
the agents only move their results between topics."""

from typing import Any

import orjson
import pytest

from stream.counts.apply import count_event, prune_counts
from stream.counts.index import CountIndex
from stream.counts.keys import board_key, count_key, parse_board_key
from stream.counts.trending import TrendBoards
from stream.counts.windows import Window
from stream.dedup.decision import STREAM_TIME, deduplicate, prune
from stream.dedup.fingerprint import fingerprint
from stream.dedup.index import SimIndex
from stream.records import ArticleEnvelope, EntityEvent, decode_envelope, encode
from tests.helpers import assert_valid

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
    assert late.decision.counted and late.decision.sizes == [3600]
    assert late.late_windows == ["1m"]
    assert all(e["window_sizes"] == [3600] for e in late.entity_events)


def test_prune_forgets_what_left_the_window() -> None:
    state: dict[str, Any] = {}
    near = SimIndex(4)
    deduplicate(state, near, _envelope("a", "https://a.id/1", 1000.0), (0, 0), **OPTIONS)
    assert prune(state, near, window_s=500.0) == []
    state[STREAM_TIME] = 5000.0
    assert sorted(key.split(":")[0] for key in prune(state, near, window_s=500.0)) == [
        "body", "id", "sim", "url"]
    assert set(state) == {STREAM_TIME}


def _event(offset: int, mentions: int = 2, event_time: float = 3_700.0) -> EntityEvent:
    return {"entity_id": "PER:x", "name": "X", "label": "PER", "mentions": mentions,
            "article_id": f"a{offset}", "event_time": event_time, "window_sizes": [3600],
            "source": [0, offset]}


def test_count_event_counts_each_window_once_and_republishes_on_redelivery() -> None:
    state: dict[str, Any] = {}
    index = CountIndex()
    counted = count_event(state, index, _event(1), 3, "2026-01-01T00:00:00.000Z",
                          baseline_windows=3, min_mentions=1)
    assert counted.counted == ["total", "1h"] and counted.redelivered == 0
    keys = [key for key, _update in counted.updates]
    assert keys == [count_key("PER:x", Window("total", None, None)),
                    count_key("PER:x", Window("1h", 3600, 7200))]
    for _key, update in counted.updates:
        assert_valid("entity-mention-count", update)
        assert (update["mentions"], update["articles"]) == (2, 1)
    assert [(s["window"], s["mentions"], s["baseline"]) for s in counted.scores] == [
        ("1h", 2, 0.0)]
    assert index.top("1h", 5)[1][0].partition == 3
    again = count_event(state, index, _event(1), 3, "2026-01-01T00:00:01.000Z",
                        baseline_windows=3, min_mentions=1)
    assert again.redelivered == 2 and again.counted == [] and again.scores == []
    assert [u["mentions"] for _k, u in again.updates] == [2, 2]  # the current value, again


def test_trend_scores_take_the_previous_windows_as_baseline() -> None:
    state: dict[str, Any] = {}
    index = CountIndex()
    for offset, hour in enumerate(range(1, 4)):
        count_event(state, index, _event(offset, 4, hour * 3600 + 10.0), 0, "t",
                    baseline_windows=3, min_mentions=10)
    counted = count_event(state, index, _event(9, 12, 4 * 3600 + 10.0), 0, "t",
                          baseline_windows=3, min_mentions=10)
    assert [(s["start"], s["mentions"], s["baseline"]) for s in counted.scores] == [
        (4 * 3600, 12, 4.0)]


def test_prune_counts_drops_windows_past_their_retention() -> None:
    state: dict[str, Any] = {}
    index = CountIndex()
    count_event(state, index, _event(1), 0, "t", baseline_windows=1, min_mentions=99)
    assert prune_counts(state, index, 0, 7200.0 + 100, {"1h": 3600.0}) == []
    dropped = prune_counts(state, index, 0, 7200.0 + 3601, {"1h": 3600.0})
    assert dropped == [count_key("PER:x", Window("1h", 3600, 7200))]
    assert list(state) == [count_key("PER:x", Window("total", None, None))]


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
