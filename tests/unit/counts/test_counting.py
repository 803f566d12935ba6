
import pytest

from stream.counts.apply import apply_event, count_update, entity_events, event_windows
from stream.counts.index import CountIndex
from stream.counts.keys import count_key, parse_count_key
from stream.counts.windows import (
    TOTAL,
    Window,
    horizons,
    open_sizes,
    window_name,
    window_size,
    windows_for,
)
from stream.records import EntityEvent
from stream.runtime.housekeeping import partition_of
from tests.support.helpers import assert_valid

EVENT: EntityEvent = {
    "entity_id": "PER:antony-blinken", "name": "Antony Blinken", "label": "PER", "mentions": 4,
    "article_id": "a1", "event_time": 1690620030.5, "window_sizes": [60, 3600],
    "source": [0, 10]}


def test_window_names_read_both_ways() -> None:
    for size, name in [(60, "1m"), (3600, "1h"), (86400, "1d"), (90, "90s"), (7200, "2h")]:
        assert window_name(size) == name
        assert window_size(name) == size
    assert window_size(TOTAL) is None
    for bad in ("", "h", "0m", "1w", "-1h"):
        with pytest.raises(ValueError):
            window_size(bad)


def test_windows_are_epoch_aligned_and_include_the_total() -> None:
    windows = windows_for(1690620030.5, [60, 3600])
    assert [(w.name, w.start, w.end) for w in windows] == [
        (TOTAL, None, None), ("1m", 1690620000, 1690620060), ("1h", 1690617600, 1690621200)]
    assert event_windows(EVENT) == windows


def test_count_keys_parse_back() -> None:
    for window in windows_for(1690620030.5, [60, 86400]):
        assert parse_count_key(count_key("ORG:a|b", window)) == ("ORG:a|b", window)


def test_a_window_takes_articles_until_grace_after_its_end() -> None:
    sizes = [60, 3600]
    # the minute 0-60 ended at 60: with 30 s grace it is open until stream time 90
    assert open_sizes(10.0, 90.0, sizes, 30.0) == [60, 3600]
    assert open_sizes(10.0, 90.5, sizes, 30.0) == [3600]
    assert open_sizes(10.0, 3631.0, sizes, 30.0) == []


def test_apply_adds_mentions_and_one_article_once_per_source_position() -> None:
    value = apply_event(None, EVENT)
    assert value is not None
    assert (value["mentions"], value["articles"], value["name"]) == (4, 1, "Antony Blinken")
    assert apply_event(value, EVENT) is None  # the same event again: a redelivery
    assert apply_event(value, {**EVENT, "source": [0, 9]}) is None  # older position
    later = apply_event(value, {**EVENT, "mentions": 2, "source": [0, 11]})
    assert later is not None and (later["mentions"], later["articles"]) == (6, 2)
    # positions are kept per source partition
    other = apply_event(later, {**EVENT, "mentions": 1, "source": [1, 3]})
    assert other is not None and other["applied"] == {"0": 11, "1": 3}


def test_events_of_a_log_created_again_are_not_taken_for_redeliveries() -> None:
    value = apply_event(None, {**EVENT, "log": "old"})
    assert value is not None and value["applied"] == {"old/0": 10}
    # Offset 3 of the new articles log: a new article, though below offset 10 of the old one.
    fresh = apply_event(value, {**EVENT, "source": [0, 3], "log": "new"})
    assert fresh is not None and fresh["articles"] == 2
    assert apply_event(fresh, {**EVENT, "source": [0, 3], "log": "new"}) is None
    assert apply_event(fresh, {**EVENT, "log": "old"}) is None  # the old log's, again


def test_count_update_payload_matches_its_schema() -> None:
    value = apply_event(None, EVENT)
    assert value is not None
    for window in windows_for(EVENT["event_time"], [60]):
        update = count_update(EVENT, window, value, "2023-07-29T08:00:00.000Z")
        assert_valid("entity-mention-count", update)
        assert update["entity"]["entity_id"] == "PER:antony-blinken"
    assert update["window"] == "1m"
    assert update["window_start"] == "2023-07-29T08:40:00.000Z"
    assert update["window_end"] == "2023-07-29T08:41:00.000Z"


def test_entity_events_one_per_canonical_entity_with_their_source() -> None:
    enriched = {"id": "a1", "entity_counts": [
        {"entity_id": "PER:x", "name": "X", "label": "PER", "mentions": 2},
        {"entity_id": "LOC:y", "name": "Y", "label": "LOC", "mentions": 1}]}
    events = entity_events(enriched, 10.0, [60], (0, 7))
    assert [(e["entity_id"], e["mentions"], e["article_id"], e["source"]) for e in events] == [
        ("PER:x", 2, "a1", [0, 7]), ("LOC:y", 1, "a1", [0, 7])]
    assert all(e["window_sizes"] == [60] for e in events)


def test_counts_carry_the_entitys_one_name_whatever_the_articles_language() -> None:
    english = {"id": "en1", "entity_counts": [
        {"entity_id": "LOC:amerika-serikat", "name": "United States",
         "canonical_name": "Amerika Serikat", "label": "LOC", "mentions": 2}]}
    before = {"id": "old", "entity_counts": [  # written before canonical_name existed
        {"entity_id": "LOC:jakarta", "name": "Jakarta", "label": "LOC", "mentions": 1}]}
    assert [e["name"] for e in entity_events(english, 10.0, [60], (0, 1))] == ["Amerika Serikat"]
    assert [e["name"] for e in entity_events(before, 10.0, [60], (0, 2))] == ["Jakarta"]


def test_each_window_size_expires_its_retention_behind_stream_time() -> None:
    assert horizons(5000.0, {"1m": 600.0}) == {"1m": 4400.0}


def _value(mentions: int, name: str = "X") -> dict[str, object]:
    return {"name": name, "label": "PER", "mentions": mentions, "articles": 1, "applied": {}}


def test_index_ranks_the_latest_window_and_lists_an_entity() -> None:
    index = CountIndex()
    old, new = Window("1m", 0, 60), Window("1m", 60, 120)
    index.put(count_key("PER:a", old), _value(50, "A"), 0)
    index.put(count_key("PER:a", new), _value(1, "A"), 0)
    index.put(count_key("PER:b", new), _value(7, "B"), 1)
    index.put(count_key("PER:a", Window(TOTAL, None, None)), _value(51, "A"), 0)
    window, top = index.top("1m", 5)
    assert (window.start, [(e.entity_id, e.mentions) for e in top]) == (
        60, [("PER:b", 7), ("PER:a", 1)])
    _, total = index.top(TOTAL, 1)
    assert [(e.entity_id, e.mentions) for e in total] == [("PER:a", 51)]
    assert set(index.entity("PER:a")) == {("1m", 0), ("1m", 60), (TOTAL, None)}
    assert index.top("1h", 3)[1] == []


def test_index_prunes_by_partition_and_rebuilds_from_the_table() -> None:
    index = CountIndex()
    table = {}
    for entity in ("PER:a", "PER:b", "PER:c", "PER:d"):
        for window in windows_for(30.0, [60]):
            key = count_key(entity, window)
            table[key] = _value(2)
            index.put(key, table[key], partition_of(entity, 2))
    partition = partition_of("PER:a", 2)
    expired_keys = index.expired_keys(partition, {"1m": 1000.0})
    assert expired_keys and all(key.endswith("|1m|0") for key in expired_keys)
    assert all(partition_of(key.split("|")[0], 2) == partition for key in expired_keys)
    assert index.expired_keys(partition, {"1m": 60.0}) == []  # ended at 60, not before
    for key in expired_keys:
        index.remove(key)
    assert count_key("PER:a", Window("1m", 0, 60)) not in {
        count_key(e.entity_id, Window("1m", 0, 60)) for e in index.top("1m", 10)[1]}

    rebuilt = CountIndex()
    rebuilt.rebuild(table.items(), lambda entity: partition_of(entity, 2), {partition})
    entities = {e.entity_id for e in rebuilt.top(TOTAL, 10)[1]}
    assert entities == {e for e in ("PER:a", "PER:b", "PER:c", "PER:d")
                        if partition_of(e, 2) == partition}


def test_ties_rank_by_articles_then_entity_id_on_a_worker_and_merged() -> None:
    from stream.counts.queries import local_top, merge_top

    one, two = CountIndex(), CountIndex()
    total = Window(TOTAL, None, None)
    one.put(count_key("PER:b", total), {**_value(5, "B"), "articles": 2}, 0)
    one.put(count_key("PER:c", total), {**_value(5, "C"), "articles": 3}, 0)
    two.put(count_key("PER:a", total), {**_value(5, "A"), "articles": 2}, 1)
    assert [e.entity_id for e in one.top(TOTAL, 5)[1]] == ["PER:c", "PER:b"]
    merged = merge_top([local_top(one, TOTAL, 5), local_top(two, TOTAL, 5)], 5)
    assert [e["entity"]["entity_id"] for e in merged["entities"]] == ["PER:c", "PER:a", "PER:b"]


def test_pacer_is_due_once_per_interval_and_key() -> None:
    from stream.runtime.housekeeping import Pacer

    pacer = Pacer(30.0)
    assert pacer.due(0.0) and not pacer.due(10.0) and pacer.due(30.0)
    assert pacer.due(10.0, key=1)  # keys are paced apart
    waiting = Pacer(30.0, started=100.0)
    assert not waiting.due(110.0) and waiting.due(130.0)
