"""Logs that started over, told from what the broker and the consumer say (no broker here; the
fault suite runs them against real workers), and the bookkeeping of resuming on the new log."""

from __future__ import annotations

from aiokafka.structs import TopicPartition

from stream.config import Settings
from stream.runtime.health import Progress, readiness
from stream.runtime.resets import (
    LogReset,
    Remedy,
    Sign,
    carried,
    carry,
    lost_topics,
    new_topics,
    remedy,
    short_logs,
)

TOPICS = Settings(input_topics=["raw"], app_id="app").topics
A, B = TopicPartition("raw", 0), TopicPartition("raw", 1)


def _topics() -> dict[str, int]:
    topics = {name: 4 for name in TOPICS.all}
    topics.update({name: 1 for name in TOPICS.single_partition})
    return topics


def test_a_broker_without_the_workers_topics_has_lost_its_state() -> None:
    assert lost_topics(TOPICS, _topics()) == []
    gone = lost_topics(TOPICS, {k: v for k, v in _topics().items() if k != "raw"})
    assert [(r.topic, r.sign, r.reason) for r in gone] == [
        ("raw", Sign.GONE, "topic raw is gone")]
    split = lost_topics(TOPICS, {**_topics(), "app.articles": 4})
    assert [r.reason for r in split] == ["topic app.articles has 4 partitions, not 1"]


def test_a_topic_with_another_id_is_new_under_the_same_name() -> None:
    known = {"raw": "0a" * 16, "app.articles": "0b" * 16}
    assert new_topics(known, known) == []
    assert new_topics(known, {"other": "0c" * 16}) == []  # seen for the first time
    found = new_topics(known, {**known, "raw": "0d" * 16})
    assert [(r.topic, r.partition, r.sign) for r in found] == [("raw", None, Sign.NEW)]
    assert found[0].reason == ("topic raw is new under the same name "
                               "(id 0a0a0a0a… is now 0d0d0d0d…)")


def test_a_log_that_ends_below_the_next_offset_started_over() -> None:
    expected = {A: 120, B: 7}
    assert short_logs(expected, {A: 120, B: None}) == []  # at the end; not fetched yet
    found = short_logs(expected, {A: 5, B: 9})
    assert [(r.where, r.sign) for r in found] == [("raw/0", Sign.SHORT)]
    assert found[0].reason == "the log ends at offset 5, below the next offset 120"


def test_an_input_log_rewinds_and_state_logs_restart_the_worker() -> None:
    def of(topic: str, sign: Sign) -> Remedy:
        return remedy(TOPICS, LogReset(topic, None, sign, ""))

    assert of("raw", Sign.NEW) is Remedy.REWIND
    assert of("raw", Sign.SHORT) is Remedy.REWIND
    assert of("raw", Sign.GONE) is Remedy.RESTART  # created again at the restart
    assert of("app.articles", Sign.NEW) is Remedy.RESTART
    assert of("app-entity-counts-changelog", Sign.NEW) is Remedy.RESTART
    assert of(TOPICS.enriched, Sign.NEW) is Remedy.NOTE


def test_a_rewound_partition_is_unready_until_it_resumes_on_the_new_log() -> None:
    progress = Progress()
    progress.assigned([A, B], now=0.0, committed={A: 120}.get)
    progress.rewind(A, 0, now=1.0)
    assert progress.next_offset[A] == 0 and progress.take_rewind(A) == 0
    assert progress.take_rewind(A) is None  # the reader takes it once
    verdict = readiness(processing=True, rebalancing=False, recovering=False,
                        inputs_assigned=True, broker_reachable=True, broker_error="",
                        child_ready=True, stalled=[], resuming=progress.resuming)
    assert (verdict.ok, verdict.status) == (
        False, "log started over: resuming raw/0 on the new log")
    progress.resumed({A: 3}.get)  # records to read on the new log: not yet
    assert A in progress.resuming
    progress.finished(A, 0, now=2.0)
    assert not progress.resuming


def test_a_rewound_partition_on_an_empty_new_log_has_resumed() -> None:
    progress = Progress()
    progress.assigned([A], now=0.0, committed={A: 120}.get)
    progress.rewind(A, 0, now=1.0)
    progress.resumed({A: 0}.get)
    assert not progress.resuming


def test_reset_counts_survive_a_restart_in_place() -> None:
    assert carried(carry({"raw": 2, "app.articles": 1})) == {"raw": 2, "app.articles": 1}
    assert carried(None) == {} and carried("not json") == {} and carried("[1]") == {}


def test_a_changelog_with_other_partitions_than_its_table_or_gone_is_lost_state() -> None:
    changelogs = {"app-entity-counts-changelog": 4, "app-domain-lines-changelog": 4,
                  "app-article-fingerprints-changelog": 1, "app-trending-boards-changelog": 1}
    assert lost_topics(TOPICS, {**_topics(), **changelogs}) == []
    # Not yet created (faust creates them as it starts): nothing lost.
    assert lost_topics(TOPICS, _topics()) == []
    wrong = {**changelogs, "app-article-fingerprints-changelog": 4}
    assert [r.reason for r in lost_topics(TOPICS, {**_topics(), **wrong})] == [
        "topic app-article-fingerprints-changelog has 4 partitions, not 1"]
    seen = {name: "0a" * 16 for name in changelogs}
    without = {k: v for k, v in changelogs.items() if k != "app-trending-boards-changelog"}
    assert [r.reason for r in lost_topics(TOPICS, {**_topics(), **without}, seen)] == [
        "topic app-trending-boards-changelog is gone"]
