"""The pipeline end to end: a real worker process against the embedded broker."""

from __future__ import annotations

import re
import uuid
from typing import Any

import orjson
import pytest

from stream.counts.windows import window_name
from stream.tools.producing import consume_topic, produce_records
from tests.conftest import Worker
from tests.support.helpers import SAMPLE_BOILERPLATE, assert_valid, raw_bytes

pytestmark = pytest.mark.integration


async def _collect(worker: Worker, topic: str, predicate: Any, count: int,
                   timeout: float = 60.0) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    async for value in consume_topic(worker.settings.connection, topic, idle_timeout=timeout):
        if predicate(value):
            found.append(value)
            if len(found) >= count:
                break
    return found


async def _send(worker: Worker, *values: bytes, key: bytes | None = None) -> None:
    records = [(key, value) for value in values]
    await produce_records(worker.settings.connection, worker.settings.input_topics[0], records,
                          progress=False)


def _metric(text: str, name: str, labels: str) -> float:
    match = re.search(rf"^{name}{{{labels}}} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def test_article_comes_out_enriched_and_counted(worker: Worker) -> None:
    article_id = f"sample-{uuid.uuid4().hex[:6]}"
    await _send(worker, raw_bytes(id=article_id, fetched_at="2023-07-29T08:30:00Z"))

    [enriched] = await _collect(worker, worker.settings.enriched_topic,
                                lambda v: v["id"] == article_id, 1)
    assert_valid("enriched-article", enriched)
    assert enriched["language"] == "id"
    assert all(line not in enriched["text"] for line in SAMPLE_BOILERPLATE)
    assert enriched["origin"]["topic"] == worker.settings.input_topics[0]
    names = {(e["name"], e["label"]) for e in enriched["entities"]}
    assert {("Antony Blinken", "PER"), ("Korea Utara", "LOC"), ("KCNA", "ORG")} <= names

    blinken = next(c for c in enriched["entity_counts"] if c["entity_id"] == "PER:antony-blinken")
    windows = {"total", *(window_name(s) for s in worker.settings.count_windows_s)}
    updates = await _collect(
        worker, worker.settings.mentions_topic,
        lambda v: v["entity"]["entity_id"] == "PER:antony-blinken", len(windows))
    for update in updates:
        assert_valid("entity-mention-count", update)
    assert {u["window"] for u in updates} == windows
    assert all(u["mentions"] == blinken["mentions"] and u["articles"] == 1 for u in updates)
    minute = next(u for u in updates if u["window"] == "1m")
    assert minute["window_start"] == "2023-07-29T00:00:00.000Z"  # published_at is the event time


async def test_malformed_message_goes_to_dead_letter_and_the_next_is_processed(
        worker: Worker) -> None:
    good_id = f"after-bad-{uuid.uuid4().hex[:6]}"
    marker = uuid.uuid4().hex
    await _send(worker, b'{"url": "' + marker.encode() + b'", oops', raw_bytes(id=good_id))

    [letter] = await _collect(worker, worker.settings.deadletter_topic,
                              lambda v: marker in v["payload"], 1)
    assert_valid("dead-letter", letter)
    assert letter["reason_code"] == "invalid_json"
    assert letter["payload"] == '{"url": "' + marker + '", oops'
    assert letter["topic"] == worker.settings.input_topics[0]
    assert letter["offset"] is not None

    [enriched] = await _collect(worker, worker.settings.enriched_topic,
                                lambda v: v["id"] == good_id, 1)
    assert enriched["entities"]
    assert worker.process.poll() is None  # still running


async def test_every_kind_of_bad_input_is_dead_lettered(worker: Worker) -> None:
    tag = uuid.uuid4().hex[:6]
    bad = {
        "schema": orjson.dumps({"id": f"{tag}-1", "url": "https://a.example/1",
                                "content_type": "text/plain"}),
        "empty_body": raw_bytes(id=f"{tag}-2", body="   "),
        "not_text": raw_bytes(id=f"{tag}-3", body="\x00\x01binary"),
        "oversize": raw_bytes(id=f"{tag}-4",
                              body="kata " * (worker.settings.max_payload_bytes // 5)),
    }
    await _send(worker, *bad.values(), key=tag.encode())
    letters = await _collect(worker, worker.settings.deadletter_topic,
                             lambda v: v["key"] == tag, len(bad))
    assert sorted(letter["reason_code"] for letter in letters) == sorted(bad)


async def test_metrics_report_processed_articles(worker: Worker) -> None:
    status, before = worker.get("/metrics")
    assert status == 200
    ok_before = _metric(before, "newsstream_articles_processed_total", 'outcome="ok"')
    ids = [f"metrics-{uuid.uuid4().hex[:6]}-{i}" for i in range(3)]
    await _send(worker, *(raw_bytes(id=i) for i in ids))
    await _collect(worker, worker.settings.enriched_topic, lambda v: v["id"] in ids, 3)

    _, after = worker.get("/metrics")
    assert _metric(after, "newsstream_articles_processed_total", 'outcome="ok"') == (
        ok_before + 3)
    for stage in ("decode", "clean", "entities", "publish"):
        assert _metric(after, "newsstream_stage_duration_seconds_count",
                       f'stage="{stage}"') >= 3
    assert _metric(after, "newsstream_entities_extracted_total", 'label="PER"') > 0
    assert "newsstream_consumer_lag_records{" in after
    assert _metric(after, "newsstream_end_to_end_latency_seconds_count",
                   'since="produced"') >= 3


def test_health_and_readiness(worker: Worker) -> None:
    assert worker.get("/healthz") == (200, '{"status":"ok"}')
    status, body = worker.get("/readyz")
    assert status == 200 and orjson.loads(body)["ready"] is True


async def test_the_worker_learns_a_sites_boilerplate_lines(worker: Worker) -> None:
    """Scraped text of one site: a footer seen in two earlier articles is left out of the third
    (the per-site line memory lives in a faust table, per partition: one key, one partition)."""
    tag = uuid.uuid4().hex[:6]
    footer = "Semua isi situs ini dikelola redaksi kami di Jakarta, diperbarui setiap hari kerja."

    def page(n: int) -> bytes:
        body = "\n".join([
            "Beranda", f"Warga desa {tag} nomor {n} merayakan panen raya dengan pesta rakyat.",
            f"Kepala desa nomor {n} mengatakan hasil panen tahun ini jauh lebih baik.", footer])
        return raw_bytes(id=f"{tag}-{n}", url=f"https://berita-{tag}.example.co.id/{n}",
                         body=body)

    for n in range(3):  # one at a time: the memory is read before and written after each
        await _send(worker, page(n), key=tag.encode())
        await _collect(worker, worker.settings.enriched_topic,
                       lambda v, n=n: v["id"] == f"{tag}-{n}", 1)
    texts = {}
    async for value in consume_topic(worker.settings.connection, worker.settings.enriched_topic,
                                     idle_timeout=2):
        if value["id"].startswith(tag):
            texts[value["id"]] = value["text"]
    assert footer in texts[f"{tag}-0"]
    assert footer not in texts[f"{tag}-2"]
    assert f"Warga desa {tag} nomor 2" in texts[f"{tag}-2"]
