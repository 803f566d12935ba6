"""The fault suite: real worker processes on the embedded broker, with the faults a deployment
meets in its first week — compressed input from another client, hostile input, a killed
enrichment child, a frozen broker, a broker that restarts empty or with its topics created
again, an input topic deleted and created again, a worker started before its broker, an agent
failing on a record. After each, every input offset is accounted for and the
counts equal one clean pass. (SIGKILL and SIGTERM mid-stream are in test_exact_counts.)"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from confluent_kafka import Producer

from stream.config import Settings
from stream.tools.broker import EmbeddedBroker, create_newsstream_topics, free_port
from stream.tools.producing import consume_topic
from tests.conftest import Worker, start_worker, unique_settings
from tests.support.fuzz import corpus
from tests.support.helpers import assert_valid
from tests.support.streams import (
    MentionsWatcher,
    expected_counts,
    make_articles,
    processed,
    produce,
    wait_until,
    write_jsonl,
)

pytestmark = pytest.mark.integration
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
BOMB_RECORDS = 20


def librdkafka_producer(settings: Settings, codec: str) -> Producer:
    """The independent client: librdkafka, as many crawlers use."""
    return Producer({"bootstrap.servers": settings.connection.bootstrap_servers,
                     "compression.codec": codec, "linger.ms": 5,
                     "message.max.bytes": 20_000_000, "api.version.request": True})


def produce_with_codecs(settings: Settings, values: list[bytes | None], seed: int = 1) -> None:
    """Each record compressed with a codec chosen at random (one producer per codec)."""
    rng = random.Random(seed)
    producers = {codec: librdkafka_producer(settings, codec) for codec in CODECS}
    topic = settings.input_topics[0]
    for value in values:
        producers[rng.choice(CODECS)].produce(topic, value=value)
        for producer in producers.values():
            producer.poll(0)
    for producer in producers.values():
        assert producer.flush(60) == 0


async def outcomes(settings: Settings, expected: int, timeout: float
                   ) -> tuple[dict[tuple[int, int], list[str]], list[dict[str, Any]]]:
    """Raw (partition, offset) → what came out for it ("enriched" or a dead-letter reason),
    until ``expected`` offsets are accounted for or ``timeout``; and the enriched articles."""
    seen: dict[tuple[int, int], list[str]] = defaultdict(list)
    enriched: list[dict[str, Any]] = []
    raw = settings.input_topics[0]
    deadline = time.monotonic() + timeout

    async def drain(topic: str) -> None:
        async for value in consume_topic(settings.connection, topic, idle_timeout=2):
            if topic == settings.enriched_topic:
                origin = value["origin"]
                if origin["topic"] == raw:
                    seen[(origin["partition"], origin["offset"])].append("enriched")
                    enriched.append(value)
            elif value.get("topic") == raw:
                seen[(value["partition"], value["offset"])].append(value["reason_code"])

    while time.monotonic() < deadline:
        seen.clear()
        enriched.clear()
        await drain(settings.enriched_topic)
        await drain(settings.deadletter_topic)
        if len(seen) >= expected:
            break
        await asyncio.sleep(2)
    return seen, enriched


async def raw_offsets(settings: Settings, timeout: float = 120) -> set[tuple[int, int]]:
    """Every (partition, offset) of the raw topic, read with the transport guard (an
    undecodable record still has its offset), up to each partition's high watermark."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(settings.input_topics[0],
                                bootstrap_servers=settings.connection.bootstrap_servers,
                                auto_offset_reset="earliest", enable_auto_commit=False,
                                max_partition_fetch_bytes=32 * 2**20, fetch_max_bytes=64 * 2**20)
    await consumer.start()
    found: set[tuple[int, int]] = set()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=1000)
            for messages in batches.values():
                found.update((m.partition, m.offset) for m in messages)
            behind = [tp for tp in consumer.assignment() if consumer.highwater(tp) is None
                      or await consumer.position(tp) < consumer.highwater(tp)]
            if consumer.assignment() and not behind:
                break
        return found
    finally:
        await consumer.stop()


def metric(worker: Worker, name: str) -> float:
    _, text = worker.get("/metrics")
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def wait_status(worker: Worker, path: str, status: int, timeout: float) -> float | None:
    """Seconds until ``path`` answers ``status``, or None."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if worker.get(path)[0] == status:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.1)
    return None


def totals(enriched: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """Running-total (mentions, articles) per entity of the counted articles: each id once,
    as its first version that is not a copy of another article."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    counted: set[str] = set()
    for article in enriched:
        if article.get("duplicate_of") is None and article["id"] not in counted:
            counted.add(article["id"])
            for count in article["entity_counts"]:
                counts[count["entity_id"]][0] += count["mentions"]
                counts[count["entity_id"]][1] += 1
    return {entity: (m, a) for entity, (m, a) in counts.items()}


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A broker of the test's own: these tests freeze, stop and restart it."""
    with EmbeddedBroker(log_path=tmp_path / "tansu.log") as running:
        yield running


@pytest.fixture
def worker_on(tmp_path: Path) -> Iterator[Any]:
    started: list[Worker] = []

    def start(broker: EmbeddedBroker, **overrides: Any) -> Worker:
        settings = unique_settings(broker, tmp_path / f"data{len(started)}", **overrides)
        worker = start_worker(settings, tmp_path / f"worker{len(started)}.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


async def test_records_of_every_codec_are_enriched(broker: EmbeddedBroker, worker_on: Any
                                                   ) -> None:
    worker = worker_on(broker)
    worker.wait_ready()
    articles = make_articles(25, seed=31)
    for i, codec in enumerate(CODECS):
        producer = librdkafka_producer(worker.settings, codec)
        for article in articles[i * 5:(i + 1) * 5]:
            producer.produce(worker.settings.input_topics[0], value=orjson.dumps(article))
        assert producer.flush(30) == 0

    seen, enriched = await outcomes(worker.settings, 25, timeout=90)
    assert sorted(outcome for outs in seen.values() for outcome in outs) == ["enriched"] * 25
    assert {a["url"] for a in enriched} == {a["url"] for a in articles}
    # `newsstream tail` (the same consumer code) reads every codec too.
    tailed = [v async for v in consume_topic(worker.settings.connection,
                                             worker.settings.input_topics[0],
                                             idle_timeout=2)]
    assert sorted(v["url"] for v in tailed) == sorted(a["url"] for a in articles)


async def test_a_decompression_bomb_is_dead_lettered_oversize_and_the_partition_goes_on(
        broker: EmbeddedBroker, worker_on: Any) -> None:
    """A zstd batch from librdkafka, a small fraction of its decompressed size: past the cap,
    each of its records is dead-lettered oversize with its offset (each record alone is under
    the payload limit: only the batch is over), and the records after it are enriched."""
    worker = worker_on(broker, max_batch_bytes=2_000_000, partitions=1)
    worker.wait_ready()
    topic = worker.settings.input_topics[0]
    bomb = Producer({"bootstrap.servers": worker.settings.connection.bootstrap_servers,
                     "compression.codec": "zstd", "linger.ms": 1000,
                     "batch.size": 50_000_000, "message.max.bytes": 50_000_000})
    for _ in range(BOMB_RECORDS):  # 150 KB of valid JSON each, 3 MB in the batch
        bomb.produce(topic, value=b"{" + b" " * 150_000 + b"}")
    assert bomb.flush(30) == 0
    articles = make_articles(3, seed=41)
    good = librdkafka_producer(worker.settings, "zstd")
    for article in articles:
        good.produce(topic, value=orjson.dumps(article))
    assert good.flush(30) == 0

    seen, enriched = await outcomes(worker.settings, BOMB_RECORDS + 3, timeout=90)
    assert {article["url"] for article in enriched} == {article["url"] for article in articles}
    assert seen == {**{(0, offset): ["oversize"] for offset in range(BOMB_RECORDS)},
                    **{(0, BOMB_RECORDS + i): ["enriched"] for i in range(3)}}
    letters = [letter async for letter in consume_topic(
        worker.settings.connection, worker.settings.deadletter_topic, idle_timeout=2)]
    assert sorted(letter["offset"] for letter in letters) == list(range(BOMB_RECORDS))
    assert all("2,000,000-byte limit" in letter["reason"] for letter in letters)
    assert worker.process.poll() is None and worker.get("/healthz")[0] == 200


async def test_hostile_input_every_offset_once_and_the_counts_of_a_clean_pass(
        broker: EmbeddedBroker, worker_on: Any) -> None:
    worker = worker_on(broker)
    # FUZZ_HOSTILE=3000 FUZZ_GOOD=200 for the acceptance run (~4 minutes).
    hostile, good = int(os.environ.get("FUZZ_HOSTILE", 900)), int(os.environ.get("FUZZ_GOOD", 90))
    records: list[bytes | None] = [value for _, value in corpus(hostile, good, seed=5)]
    records += [None, None]  # tombstones
    records.append(b'{"url": "https://big.example/x", "content_type": "text/plain", '
                   b'"body": "' + b"kata " * 2_400_000 + b'"}')  # 12 MB: over every limit
    worker.wait_ready()
    produce_with_codecs(worker.settings, records)

    offsets = await raw_offsets(worker.settings)
    assert len(offsets) == len(records)
    seen, enriched = await outcomes(worker.settings, len(offsets), timeout=120 + len(offsets) / 4)
    assert set(seen) == offsets, (len(seen), sorted(offsets - set(seen))[:20])
    twice = {key: outs for key, outs in seen.items() if len(outs) != 1}
    assert twice == {}  # each exactly once
    reasons = {outs[0] for outs in seen.values()}
    print(f"{len(offsets)} offsets:", Counter(outs[0] for outs in seen.values()).most_common())
    assert "internal_error" not in reasons
    assert {"enriched", "invalid_json", "schema", "oversize", "empty_body"} <= reasons
    assert worker.process.poll() is None and worker.get("/healthz")[0] == 200
    for article in enriched[:50]:
        assert_valid("enriched-article", article)

    # Counts: the running totals equal those of the enriched articles, counted once each.
    async with MentionsWatcher(worker.settings) as watcher:
        want = totals(enriched)

        async def settled() -> bool:
            await watcher.poll()
            got = {k[0]: v for k, v in watcher.latest.items() if k[1] == "total"}
            return got == want

        assert await wait_until(settled, timeout=120)
    # An article dated 2999 did not move stream time: the latest 1h window is of this era.
    _, body = worker.get("/entities/top?window=1h&n=3")
    assert orjson.loads(body)["window_start"] < "2100"


async def test_a_killed_child_is_replaced_and_readiness_says_so(broker: EmbeddedBroker,
                                                                worker_on: Any) -> None:
    worker = worker_on(broker)
    worker.wait_ready()
    child = enrichment_child(worker.process.pid)
    os.kill(child, signal.SIGKILL)
    down = wait_status(worker, "/readyz", 503, timeout=10)
    assert down is not None and down < 10
    assert wait_status(worker, "/readyz", 200, timeout=60) is not None
    assert metric(worker, 'newsstream_enrichment_child_restarts_total{reason="crash"}') == 1
    assert enrichment_child(worker.process.pid) != child

    articles = make_articles(10, seed=41)
    await produce(worker.settings, articles)
    seen, _ = await outcomes(worker.settings, 10, timeout=60)
    assert sorted(o for outs in seen.values() for o in outs) == ["enriched"] * 10


def enrichment_child(worker_pid: int) -> int:
    """The pool process: a child of the worker's fork server."""
    def children(pid: int) -> list[int]:
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as stat:
                        if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                            found.append(int(entry))
                except OSError:
                    continue
        return found

    grandchildren = [g for c in children(worker_pid) for g in children(c)]
    assert len(grandchildren) == 1, grandchildren
    return grandchildren[0]


async def test_a_frozen_broker_makes_the_worker_unready_and_counts_stay_exact(
        own_broker: EmbeddedBroker, worker_on: Any, tmp_path: Path) -> None:
    worker = worker_on(own_broker)
    articles = make_articles(120, seed=51)
    expected = expected_counts(processed(write_jsonl(articles, tmp_path / "in.jsonl"),
                                         worker.settings), worker.settings.count_windows_s)
    worker.wait_ready()
    await produce(worker.settings, articles[:60])
    assert own_broker.pid is not None
    os.kill(own_broker.pid, signal.SIGSTOP)
    try:
        unready = wait_status(worker, "/readyz", 503, timeout=15)
        assert unready is not None and unready < 10, unready
        assert metric(worker, "newsstream_broker_up") == 0
        time.sleep(8)
    finally:
        os.kill(own_broker.pid, signal.SIGCONT)
    assert wait_status(worker, "/readyz", 200, timeout=60) is not None
    await produce(worker.settings, articles[60:])
    async with MentionsWatcher(worker.settings) as watcher:
        assert await watcher.wait_for(expected, timeout=180) == expected
    assert worker.get("/healthz")[0] == 200


async def test_a_broker_that_restarts_empty_is_rejoined(own_broker: EmbeddedBroker,
                                                        worker_on: Any, tmp_path: Path) -> None:
    worker = worker_on(own_broker)
    worker.wait_ready()
    await produce(worker.settings, make_articles(20, seed=61))
    assert len((await outcomes(worker.settings, 20, timeout=60))[0]) == 20
    pid = worker.process.pid

    own_broker.stop()
    assert wait_status(worker, "/readyz", 503, timeout=10) is not None
    # Same port, memory storage: every topic and offset is gone. (start() runs its own loop.)
    await asyncio.to_thread(own_broker.start)
    assert wait_status(worker, "/readyz", 200, timeout=90) is not None
    assert worker.process.pid == pid and worker.process.poll() is None
    assert "the broker lost its state" in worker.log.read_text()

    await every_article_enriched_and_counted(worker, make_articles(100, seed=62), tmp_path)

    own_broker.stop()  # gone again: SIGTERM still ends the worker promptly
    time.sleep(2)
    started = time.monotonic()
    worker.process.terminate()
    worker.process.wait(60)
    assert time.monotonic() - started < 15  # the consumer thread gives up after 5 s


async def every_article_enriched_and_counted(worker: Worker, articles: list[dict[str, Any]],
                                             tmp_path: Path) -> None:
    """Produce ``articles`` to a worker whose broker has just started over: each is enriched
    once, and the counts are those of a clean pass over them."""
    expected = expected_counts(processed(write_jsonl(articles, tmp_path / "in.jsonl"),
                                         worker.settings), worker.settings.count_windows_s)
    await produce(worker.settings, articles)
    seen, _ = await outcomes(worker.settings, len(articles), timeout=120)
    assert sorted(o for outs in seen.values() for o in outs) == ["enriched"] * len(articles)
    async with MentionsWatcher(worker.settings) as watcher:
        assert await watcher.wait_for(expected, timeout=120) == expected


def wait_logged(worker: Worker, text: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in worker.log.read_text():
            return True
        time.sleep(0.2)
    return False


@contextmanager
def frozen(worker: Worker) -> Iterator[None]:
    """The worker stopped (SIGSTOP) for what happens inside: it sees the result at once, as
    one whose probe came just after. Kept short: its group session outlives it."""
    os.kill(worker.process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(worker.process.pid, signal.SIGCONT)


async def test_a_broker_restarted_with_its_topics_created_again_is_noticed(
        own_broker: EmbeddedBroker, worker_on: Any, tmp_path: Path) -> None:
    # `newsstream broker` on the old port: the topics are there again, empty, offsets from 0.
    # The worker must not take its old positions for the new logs' (it used to skip every
    # article below them, ready all along).
    worker = worker_on(own_broker)
    worker.wait_ready()
    await produce(worker.settings, make_articles(20, seed=63))
    assert len((await outcomes(worker.settings, 20, timeout=60))[0]) == 20
    pid = worker.process.pid
    with frozen(worker):
        own_broker.stop()
        await asyncio.to_thread(own_broker.start)
        own = worker.settings
        await create_newsstream_topics(own.connection, own.topics, own.limits)
    assert wait_logged(worker, "log reset:", timeout=30), worker.log.read_text()[-3000:]
    assert wait_status(worker, "/readyz", 200, timeout=90) is not None
    assert worker.process.pid == pid and worker.process.poll() is None
    assert metric(worker, "newsstream_log_resets_total") >= 1

    await every_article_enriched_and_counted(worker, make_articles(60, seed=64), tmp_path)


async def test_an_input_topic_deleted_and_created_again_is_read_from_its_start(
        broker: EmbeddedBroker, worker_on: Any, tmp_path: Path) -> None:
    worker = worker_on(broker)
    settings = worker.settings
    before = make_articles(30, seed=91)
    after = [{**a, "url": a["url"].replace("/read/", "/read/later-")}
             for a in make_articles(40, seed=92)]
    expected = expected_counts(processed(write_jsonl(before + after, tmp_path / "in.jsonl"),
                                         settings), settings.count_windows_s)
    worker.wait_ready()
    await produce(settings, before)
    assert len(await enriched_ids(settings, 30, timeout=60)) == 30
    raw = settings.input_topics[0]
    with frozen(worker):
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.connection.bootstrap_servers)
        await admin.start()
        try:
            await admin.delete_topics([raw])
        finally:
            await admin.close()
        await create_newsstream_topics(settings.connection, settings.topics, settings.limits)
    assert wait_logged(worker, f"log reset: {raw}", timeout=30), worker.log.read_text()[-3000:]
    await produce(settings, after)
    assert len(await enriched_ids(settings, 70, timeout=120)) == 70
    async with MentionsWatcher(settings) as watcher:
        assert await watcher.wait_for(expected, timeout=120) == expected
    assert wait_status(worker, "/readyz", 200, timeout=30) is not None
    assert metric(worker, f'newsstream_log_resets_total{{topic="{raw}"}}') == 1
    # Only positions referred to the input log: resumed in place, tables kept.
    assert "restarting the worker" not in worker.log.read_text()


async def enriched_ids(settings: Settings, expected: int, timeout: float) -> set[str]:
    """The ids on the enriched topic, once there are ``expected`` of them or at ``timeout``."""
    deadline = time.monotonic() + timeout
    ids: set[str] = set()
    while len(ids) < expected and time.monotonic() < deadline:
        ids = {value["id"] async for value in consume_topic(settings.connection,
                                                             settings.enriched_topic,
                                                             idle_timeout=2)}
    return ids


async def test_a_worker_started_before_its_broker_waits_for_it(tmp_path: Path,
                                                               worker_on: Any) -> None:
    port = free_port()
    early = EmbeddedBroker(port, log_path=tmp_path / "tansu.log")  # not started yet
    worker = worker_on(early)
    time.sleep(4)
    assert worker.process.poll() is None  # waiting, not exited
    assert "retrying in" in worker.log.read_text()
    await asyncio.to_thread(early.start)  # it runs its own event loop
    try:
        worker.wait_ready(90)
        await produce(worker.settings, make_articles(3, seed=71))
        seen, _ = await outcomes(worker.settings, 3, timeout=60)
        assert len(seen) == 3
        worker.stop()
    finally:
        early.stop()


async def test_an_agent_failing_on_a_record_dead_letters_it_and_goes_on(
        broker: EmbeddedBroker, worker_on: Any) -> None:
    worker = worker_on(broker)
    worker.wait_ready()
    settings = worker.settings
    # A record on the internal articles topic that the de-duplication agent cannot use.
    producer = librdkafka_producer(settings, "none")
    producer.produce(settings.articles_topic, value=b'{"enriched": {}, "fingerprint": 1}')
    assert producer.flush(10) == 0
    await produce(settings, make_articles(5, seed=81))

    letters = [v async for v in consume_topic(settings.connection, settings.deadletter_topic,
                                              idle_timeout=15)
               if v.get("topic") == settings.articles_topic]
    assert [(v["reason_code"], v["stage"]) for v in letters] == [("internal_error", "dedup")]
    seen, _ = await outcomes(settings, 5, timeout=60)
    assert len(seen) == 5
    assert metric(worker, 'newsstream_agent_errors_total{stage="dedup"}') == 1
    started = time.monotonic()
    worker.process.send_signal(signal.SIGTERM)
    worker.process.wait(60)
    assert time.monotonic() - started < 20


def test_debug_pages_are_off(broker: EmbeddedBroker, worker_on: Any) -> None:
    worker = worker_on(broker)
    worker.wait_ready()
    assert worker.get("/router/")[0] == 404
    assert worker.get("/table/entity-counts/")[0] == 404


def test_the_worker_exits_2_on_a_bad_setting(tmp_path: Path) -> None:
    env = {**os.environ, "NEWSSTREAM_SESSION_TIMEOUT_S": "soon"}
    done = subprocess.run([sys.executable, "-m", "stream.tools.cli", "worker"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "newsstream: NEWSSTREAM_SESSION_TIMEOUT_S='soon': Input should be a valid number, "
        "unable to parse string as a number"]
