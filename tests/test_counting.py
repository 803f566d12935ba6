from stream.counting import (
    TOTAL,
    apply_event,
    count_key,
    count_update,
    entity_events,
    expired,
    windows_for,
)
from stream.retention import WindowPruner, partition_of
from tests.helpers import assert_valid

EVENT = {"entity_id": "PER:antony-blinken", "name": "Antony Blinken", "label": "PER",
         "mentions": 4, "article_id": "a1", "event_time": 1690620030.5}


def test_windows_are_epoch_aligned_and_include_the_total() -> None:
    windows = windows_for(1690620030.5, [60, 3600])
    assert [(w.name, w.start, w.end) for w in windows] == [
        (TOTAL, None, None), ("60s", 1690620000, 1690620060), ("3600s", 1690617600, 1690621200)]


def test_apply_adds_mentions_and_one_article() -> None:
    value = apply_event(None, EVENT)
    assert value == {"mentions": 4, "articles": 1}
    assert apply_event(value, {**EVENT, "mentions": 2}) == {"mentions": 6, "articles": 2}


def test_count_update_payload_matches_its_schema() -> None:
    for window in windows_for(EVENT["event_time"], [60]):
        update = count_update(EVENT, window, {"mentions": 4, "articles": 1},
                              "2023-07-29T08:00:00.000Z")
        assert_valid("entity-mention-count", update)
        assert update["entity"]["entity_id"] == "PER:antony-blinken"
    assert update["window_start"] == "2023-07-29T08:40:00.000Z"
    assert update["window_end"] == "2023-07-29T08:41:00.000Z"


def test_entity_events_one_per_canonical_entity() -> None:
    enriched = {"id": "a1", "entity_counts": [
        {"entity_id": "PER:x", "name": "X", "label": "PER", "mentions": 2},
        {"entity_id": "LOC:y", "name": "Y", "label": "LOC", "mentions": 1}]}
    events = entity_events(enriched, 10.0)
    assert [(e["entity_id"], e["mentions"], e["article_id"]) for e in events] == [
        ("PER:x", 2, "a1"), ("LOC:y", 1, "a1")]


def test_expiry_and_pruning_by_partition() -> None:
    total, minute = windows_for(1000.0, [60])
    assert not expired(count_key("PER:x", total), 10**12)
    assert expired(count_key("PER:x", minute), 1021.0)
    assert not expired(count_key("PER:x", minute), 1020.0)

    pruner = WindowPruner(retention_s=100, partitions=4)
    keys = [count_key(f"PER:{i}", minute) for i in range(20)]
    partition = partition_of("PER:0", 4)
    assert pruner.expired_keys(partition, keys) == []  # no stream time yet
    pruner.observe(partition, 5000.0)
    pruned = pruner.expired_keys(partition, keys)
    assert keys[0] in pruned
    assert all(partition_of(k.split("|")[0], 4) == partition for k in pruned)
    assert pruner.due(partition, now=0.0) and not pruner.due(partition, now=1.0)
