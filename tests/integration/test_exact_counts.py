"""Exact counts whatever happens to workers: kill -9 mid-stream, a worker leaving, every article
sent twice, syndicated copies, late articles. Real worker processes on the embedded broker; the
expected counts come from `newsstream process` output, aggregated here, not from the agents."""

from __future__ import annotations

import random
import re
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest

from stream.config import Settings
from stream.tools.broker import EmbeddedBroker, create_newsstream_topics, free_port
from stream.tools.producing import consume_topic, produce_records
from tests.conftest import Worker, start_worker, unique_settings
from tests.integration.test_faults import metric
from tests.support.helpers import assert_valid
from tests.support.streams import (
    BASE_TIME,
    CountKey,
    MentionsWatcher,
    article,
    expected_counts,
    make_articles,
    processed,
    produce,
    write_jsonl,
)

pytestmark = pytest.mark.integration
SETTLE_TIMEOUT_S = 180.0


def _settings(broker: EmbeddedBroker, tmp_path: Path, **overrides: Any) -> Settings:
    return unique_settings(broker, tmp_path / "data", partitions=4, **overrides)


async def _all_produced(broker: EmbeddedBroker, tmp_path: Path, articles: list[dict[str, Any]],
                        **overrides: Any) -> tuple[Settings, dict[CountKey, tuple[int, int]]]:
    """Settings of a fresh stream with ``articles`` produced to it, and their expected counts."""
    settings = _settings(broker, tmp_path, **overrides)
    expected = expected_counts(processed(write_jsonl(articles, tmp_path / "a.jsonl"), settings),
                               settings.count_windows_s)
    await create_newsstream_topics(settings.connection, settings.topics, settings.limits)
    await produce(settings, articles)
    return settings, expected


def _another(settings: Settings) -> Settings:
    return settings.model_copy(update={"web_port": free_port()})


def _diff(expected: dict[CountKey, Any], actual: dict[CountKey, Any]) -> str:
    keys = sorted(set(expected) | set(actual), key=str)
    wrong = [(k, expected.get(k), actual.get(k)) for k in keys if expected.get(k) != actual.get(k)]
    return f"{len(wrong)} of {len(keys)} counts differ, e.g. {wrong[:5]}"


async def _wait_progress(watcher: MentionsWatcher, updates: int, worker: Worker,
                         timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while watcher.updates < updates:
        assert time.monotonic() < deadline, f"no progress:\n{worker.log.read_text()[-2000:]}"
        assert worker.process.poll() is None, worker.log.read_text()[-3000:]
        await watcher.poll()


def _metric(worker: Worker, name: str, labels: str = "") -> float:
    _, text = worker.get("/metrics")
    pattern = rf"^{name}{{{labels}}} (\S+)$" if labels else rf"^{name} (\S+)$"
    match = re.search(pattern, text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


@asynccontextmanager
async def _taking_over(settings: Settings, log: Path, watcher: MentionsWatcher,
                       expected: dict[CountKey, tuple[int, int]]) -> AsyncIterator[Worker]:
    """A second worker that takes over from one that died: ready, and the counts end exact
    (then yielded, for more checks, and stopped)."""
    second = start_worker(_another(settings), log)
    try:
        second.wait_ready()
        final = await watcher.wait_for(expected, SETTLE_TIMEOUT_S)
        assert final == expected, _diff(expected, final)
        yield second
    finally:
        second.stop()


async def test_counts_are_exact_after_kill_9_mid_stream(broker: EmbeddedBroker,
                                                        tmp_path: Path) -> None:
    settings, expected = await _all_produced(broker, tmp_path, make_articles(2000))
    log = tmp_path / "worker.log"
    first = start_worker(settings, log)
    async with MentionsWatcher(settings) as watcher:
        first.wait_ready()
        await _wait_progress(watcher, 3000, first)
        first.process.kill()  # SIGKILL: no flush, no commit, no goodbye to the group
        first.process.wait()
        assert watcher.latest != expected  # it really died mid-stream
        async with _taking_over(settings, log, watcher, expected) as second:
            # the restarted worker answers from its recovered table, exactly
            entity_id, _, _ = max(expected, key=lambda k: expected[k])
            status, body = second.get(f"/entities/{entity_id}")
            assert status == 200
            total = expected[(entity_id, "total", None)]
            assert orjson.loads(body)["total"] == {"mentions": total[0], "articles": total[1]}


async def _exact_after_dying_at(broker: EmbeddedBroker, tmp_path: Path, failpoint: str) -> None:
    """A worker that kills itself (SIGKILL) at ``failpoint`` mid-stream, and a second worker
    that takes over: the counts end exact."""
    settings, expected = await _all_produced(broker, tmp_path, make_articles(1500, seed=17))
    log = tmp_path / "worker.log"
    dying = start_worker(settings.model_copy(update={"failpoint": failpoint}), log)
    async with MentionsWatcher(settings) as watcher:
        assert dying.process.wait(timeout=SETTLE_TIMEOUT_S) == -signal.SIGKILL, \
            log.read_text()[-3000:]
        assert f"failpoint {failpoint.split(':')[0]}: killing the worker" in log.read_text()
        await watcher.poll()
        assert watcher.latest != expected  # it really died mid-stream
        async with _taking_over(settings, log, watcher, expected):
            pass


async def test_counts_are_exact_after_a_kill_between_changelog_and_mentions(
        broker: EmbeddedBroker, tmp_path: Path) -> None:
    """The flush wrote the counts' changelog and died before their entities.mentions records:
    the next owner recovers the counts, and the redelivered events publish them."""
    await _exact_after_dying_at(broker, tmp_path, "count-after-changelog:4")


async def test_counts_are_exact_after_a_kill_between_flush_and_commit(
        broker: EmbeddedBroker, tmp_path: Path) -> None:
    await _exact_after_dying_at(broker, tmp_path, "count-after-flush:4")


async def test_counts_are_exact_when_a_worker_joins_before_any_commit_with_changes_unflushed(
        broker: EmbeddedBroker, tmp_path: Path) -> None:
    """A second worker joins a new stream while the first holds folded changes and has
    committed nothing (long flush and commit intervals): the changes are flushed as the
    partitions are revoked, or counted again by their new owner, never lost or doubled; every
    article is processed (the first worker had fetched its partitions' whole backlog, and with
    no commit to seek back to, the records dropped at the rebalance were never fetched again);
    and no worker reports lag for a partition it gave away."""
    articles = make_articles(1200, seed=19)
    settings, expected = await _all_produced(broker, tmp_path, articles, count_flush_s=60.0,
                                             commit_interval_s=60.0)
    first = start_worker(settings, tmp_path / "first.log")
    joining: Worker | None = None
    try:
        first.wait_ready()
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        while _metric(first, "newsstream_count_pending_keys") < 20:
            assert time.monotonic() < deadline, first.log.read_text()[-3000:]
            time.sleep(0.1)
        assert _metric(first, "newsstream_count_flushes_total", 'outcome="ok"') == 0
        joining = start_worker(_another(settings), tmp_path / "joining.log")
        joining.wait_ready()
        async with MentionsWatcher(settings) as watcher:
            final = await watcher.wait_for(expected, SETTLE_TIMEOUT_S)
            assert final == expected, _diff(expected, final)
        assert _metric(first, "newsstream_count_flushes_total", 'outcome="ok"') >= 1
        assert _metric(first, "newsstream_count_flushes_total", 'outcome="failed"') == 0
        urls = {record["url"] async for record in consume_topic(
            settings.connection, settings.enriched_topic, idle_timeout=3)}
        assert urls == {article["url"] for article in articles}
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        while metric(first, "newsstream_consumer_lag_records") \
                + metric(joining, "newsstream_consumer_lag_records") > 0:
            assert time.monotonic() < deadline, "lag reported after everything was processed"
            time.sleep(0.2)
    finally:
        if joining is not None:
            joining.stop()
        first.stop()


async def test_tables_come_back_whole_after_a_restart(broker: EmbeddedBroker,
                                                     tmp_path: Path) -> None:
    """The changelog's last batch holds many records; the embedded broker reports its end short
    (ListOffsets), and a table recovered only that far would lose the batch's updates."""
    settings = _settings(broker, tmp_path)
    articles = make_articles(360, seed=13)
    enriched = processed(write_jsonl(articles, tmp_path / "a.jsonl"), settings)
    first_part = expected_counts(enriched[:300], settings.count_windows_s)
    expected = expected_counts(enriched, settings.count_windows_s)
    await create_newsstream_topics(settings.connection, settings.topics, settings.limits)
    await produce(settings, articles[:300])
    log = tmp_path / "worker.log"
    worker = start_worker(settings, log)
    async with MentionsWatcher(settings) as watcher:
        try:
            worker.wait_ready()
            assert await watcher.wait_for(first_part, SETTLE_TIMEOUT_S) == first_part
        finally:
            worker.stop()  # a clean stop: every offset committed
        again = start_worker(_another(settings), log)
        try:
            again.wait_ready()
            await produce(settings, articles[300:])
            final = await watcher.wait_for(expected, SETTLE_TIMEOUT_S)
            assert final == expected, _diff(expected, final)
        finally:
            again.stop()


async def test_counts_are_exact_when_a_worker_leaves_mid_stream(broker: EmbeddedBroker,
                                                                tmp_path: Path) -> None:
    settings, expected = await _all_produced(broker, tmp_path, make_articles(1200, seed=11))
    staying = start_worker(settings, tmp_path / "staying.log")
    leaving = start_worker(_another(settings), tmp_path / "leaving.log")
    try:
        async with MentionsWatcher(settings) as watcher:
            staying.wait_ready()
            leaving.wait_ready()
            await _wait_progress(watcher, 1500, staying)
            leaving.stop()  # leaves the group; its partitions move to the other worker
            assert watcher.latest != expected
            final = await watcher.wait_for(expected, SETTLE_TIMEOUT_S)
            assert final == expected, _diff(expected, final)
    finally:
        leaving.stop()
        staying.stop()


async def test_articles_sent_twice_and_copies_are_counted_once(broker: EmbeddedBroker,
                                                               tmp_path: Path) -> None:
    settings = _settings(broker, tmp_path)
    articles = make_articles(300, seed=3)
    originals = processed(write_jsonl(articles, tmp_path / "a.jsonl"), settings)
    expected = expected_counts(originals, settings.count_windows_s)
    # Syndicated copies: another site, the same story with its punctuation edited.
    copies = [{**a, "url": a["url"].replace("example.id", "mirror.id"),
               "body": a["body"].replace(".", " .")} for a in articles[::30]]
    await create_newsstream_topics(settings.connection, settings.topics, settings.limits)
    await produce(settings, articles)
    await produce(settings, [*articles, *copies])  # the whole stream again, then the copies
    worker = start_worker(settings, tmp_path / "worker.log")
    try:
        async with MentionsWatcher(settings) as watcher:
            worker.wait_ready()
            final = await watcher.wait_for(expected, SETTLE_TIMEOUT_S)
            assert final == expected, _diff(expected, final)
        enriched = [v async for v in consume_topic(settings.connection, settings.enriched_topic,
                                                   max_records=2 * len(articles) + len(copies),
                                                   idle_timeout=10)]
        first_ids = {record["id"] for record in originals}
        copy_of = {f"{c['url']}": a for c, a in zip(copies, articles[::30], strict=True)}
        by_url: dict[str, list[Any]] = {}
        for record in enriched:
            assert_valid("enriched-article", record)
            by_url.setdefault(record["url"], []).append(record["duplicate_of"])
        for original in originals:  # sent again unchanged: the article again, not a copy
            assert by_url[original["url"]] == [None, None]
        for url, source in copy_of.items():
            [duplicate_of] = by_url[url]
            assert duplicate_of in first_ids
            assert duplicate_of == next(o["id"] for o in originals if o["url"] == source["url"])
        assert _metric(worker, "newsstream_resent_articles_total", 'outcome="unchanged"') == 300
        assert _metric(worker, "newsstream_duplicate_articles_total", 'reason="url"') == 0
        assert _metric(worker, "newsstream_duplicate_articles_total", 'reason="near"') == len(
            copies)
    finally:
        worker.stop()


async def test_final_mode_publishes_each_closed_window_once_with_its_exact_count(
        broker: EmbeddedBroker, tmp_path: Path) -> None:
    """NEWSSTREAM_COUNT_EMIT=final: nothing for a window while it is open, then one record,
    marked final, with its exact count; the running total as it changes."""
    settings = _settings(broker, tmp_path, count_windows_s=[60], count_grace_s=30.0,
                         count_emit="final")
    articles = make_articles(600, seed=23)
    expected = expected_counts(processed(write_jsonl(articles, tmp_path / "a.jsonl"), settings),
                               settings.count_windows_s)
    await create_newsstream_topics(settings.connection, settings.topics, settings.limits)
    # One raw partition: the articles reach de-duplication in event-time order, so none is
    # late for its window (parallel partitions would make some late, and not counted there).
    await produce_records(settings.connection, settings.input_topics[0],
                          [(None, orjson.dumps(a)) for a in articles], progress=False,
                          partition_of=lambda _key: 0)
    totals = {key: value for key, value in expected.items() if key[1] == "total"}
    worker = start_worker(settings, tmp_path / "worker.log")
    finals: list[dict[str, Any]] = []
    try:
        async with MentionsWatcher(settings) as watcher:
            worker.wait_ready()
            deadline = time.monotonic() + SETTLE_TIMEOUT_S
            while {k: v for k, v in watcher.latest.items() if k[1] == "total"} != totals:
                assert time.monotonic() < deadline, worker.log.read_text()[-2000:]
                await watcher.poll()
        async for record in consume_topic(settings.connection, settings.mentions_topic,
                                          idle_timeout=2.0):
            assert_valid("entity-mention-count", record)
            if record["window"] != "total":
                finals.append(record)
    finally:
        worker.stop()
    assert finals and all(record.get("final") for record in finals)
    keys = [(r["entity"]["entity_id"], r["window"], r["window_start"]) for r in finals]
    assert len(keys) == len(set(keys)), "a window published more than once"
    for record, key in zip(finals, keys, strict=True):
        assert (record["mentions"], record["articles"]) == expected[key], key
    # 600 articles, 0.5 s apart: five minutes of event time, most of them closed by the end
    assert len({key[2] for key in keys}) >= 3


async def test_late_articles_miss_closed_windows_only(broker: EmbeddedBroker,
                                                      tmp_path: Path) -> None:
    settings = _settings(broker, tmp_path, count_windows_s=[60], count_grace_s=60.0)
    start = BASE_TIME - BASE_TIME % 60
    rng = random.Random(5)
    leader = article(0, rng, start + 600)  # moves stream time to start + 600
    late = article(1, rng, start + 0)  # its minute closed at start + 60 + 60 grace
    in_grace = article(2, rng, start + 500)  # minute 480-540, open until 540 + 60 = 600
    enriched = processed(write_jsonl([leader, late, in_grace], tmp_path / "a.jsonl"), settings)
    late_id = next(r["id"] for r in enriched if r["url"] == late["url"])
    expected = expected_counts(enriched, [60], late={late_id: {60}})
    await create_newsstream_topics(settings.connection, settings.topics, settings.limits)
    worker = start_worker(settings, tmp_path / "worker.log")
    try:
        async with MentionsWatcher(settings) as watcher:
            worker.wait_ready()
            await produce(settings, [leader])
            first = expected_counts(enriched[:1], [60])
            assert await watcher.wait_for(first, 60.0, settle_s=0.5) == first
            await produce(settings, [late, in_grace])
            final = await watcher.wait_for(expected, 60.0)
            assert final == expected, _diff(expected, final)
        assert _metric(worker, "newsstream_late_articles_total", 'window="1m"') == 1
    finally:
        worker.stop()


async def test_queries_and_trending_across_two_workers(broker: EmbeddedBroker,
                                                       tmp_path: Path) -> None:
    settings, expected = await _all_produced(broker, tmp_path,
                                             make_articles(400, seed=21, step_s=0.2),
                                             trend_min_mentions=2)
    one = start_worker(settings, tmp_path / "one.log")
    two = start_worker(_another(settings), tmp_path / "two.log")
    try:
        async with MentionsWatcher(settings) as watcher:
            one.wait_ready()
            two.wait_ready()
            final = await watcher.wait_for(expected, SETTLE_TIMEOUT_S)
            assert final == expected, _diff(expected, final)
        totals = {k[0]: v for k, v in expected.items() if k[1] == "total"}
        # ranked by mentions, then articles, then entity id (the documented order for ties)
        best = sorted(totals.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))[:5]
        for worker in (one, two):
            status, body = worker.get("/entities/top?window=total&n=5")
            assert status == 200
            answer = orjson.loads(body)
            assert "incomplete" not in answer
            assert [(e["entity"]["entity_id"], (e["mentions"], e["articles"]))
                    for e in answer["entities"]] == best
            for entity_id, (mentions, articles_) in totals.items():
                status, body = worker.get(f"/entities/{entity_id}")
                assert status == 200, body
                assert orjson.loads(body)["total"] == {"mentions": mentions,
                                                       "articles": articles_}
        hour = orjson.loads(one.get("/entities/top?window=1h&n=3")[1])
        latest_hour = max(k[2] or "" for k in expected if k[1] == "1h")
        assert hour["window_start"] == latest_hour
        assert one.get("/entities/top?window=1w")[0] == 400
        assert one.get("/entities/PER:nobody-at-all")[0] == 404

        boards = [v async for v in consume_topic(settings.connection, settings.trending_topic,
                                                 idle_timeout=3)]
        assert boards
        for board in boards:
            assert_valid("entity-trending", board)
        minute = [b for b in boards if b["window"] == "1m"][-1]
        assert minute["entities"] and minute["entities"][0]["mentions"] >= 2
    finally:
        one.stop()
        two.stop()
