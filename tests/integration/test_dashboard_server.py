"""`newsstream dashboard` as a process: health that tells the truth, records off the schema
counted and skipped, a broker that vanishes, a log that starts over."""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from confluent_kafka import Producer

from stream.config import Settings
from stream.tools.broker import EmbeddedBroker, create_newsstream_topics, free_port
from stream.tools.processes import stop_process
from tests.conftest import start_dashboard, unique_settings

pytestmark = pytest.mark.integration


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except urllib.error.URLError:  # not listening yet
        return 0, b""


def until(predicate: Any, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def produce(settings: Settings, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = Producer({"bootstrap.servers": settings.connection.bootstrap_servers})
    for key, value in records:
        producer.produce(topic, value=value, key=key)
    assert producer.flush(30) == 0


@pytest.fixture()
def dashboard(broker: EmbeddedBroker, tmp_path: Path) -> Iterator[tuple[Settings, str]]:
    settings = unique_settings(broker, tmp_path / "data", dashboard_port=free_port(),
                               trending_topic=f"trending-{free_port()}")
    process = start_dashboard(settings, tmp_path / "dashboard.log")
    try:
        yield settings, f"http://127.0.0.1:{settings.dashboard_port}"
    finally:
        stop_process(process, 10.0)


def test_records_off_the_schema_are_counted_and_the_rest_shown(
        dashboard: tuple[Settings, str]) -> None:
    settings, url = dashboard
    good = {"schema_version": 1, "entity": {"entity_id": "LOC:rusia", "name": "Rusia",
                                            "label": "LOC"},
            "window": "total", "window_start": None, "window_end": None, "mentions": 6,
            "articles": 1, "updated_at": "2023-07-29T00:00:00Z"}
    produce(settings, settings.mentions_topic, [
        (b"x", b"\x00\xff not json"), (b"y", orjson.dumps({**good, "mentions": "six"})),
        (b"LOC:rusia||", orjson.dumps(good))])
    assert until(lambda: get(url + "/readyz")[0] == 200), get(url + "/readyz")
    _, body = get(url + "/api/home")
    top = orjson.loads(body)["top"]["entities"]
    assert [(e["entity_id"], e["mentions"]) for e in top] == [("LOC:rusia", 6)]
    _, metrics = get(url + "/metrics")
    line = f'newsstream_dashboard_invalid_records_total{{topic="{settings.mentions_topic}"}} 2.0'
    assert line.encode() in metrics
    assert b"newsstream_dashboard_lag_records 0.0" in metrics


def test_a_broker_that_vanishes_turns_readiness_off_and_the_page_says_so(
        tmp_path: Path) -> None:
    with EmbeddedBroker(log_path=tmp_path / "tansu.log") as own:
        settings = unique_settings(own, tmp_path / "data", dashboard_port=free_port(),
                                   trending_topic="trending", broker_timeout_s=2.0)
        produce(settings, settings.enriched_topic, [(b"a", orjson.dumps({"id": "a",
                                                                          "text": "t"}))])
        process = start_dashboard(settings, tmp_path / "dashboard.log")
        url = f"http://127.0.0.1:{settings.dashboard_port}"
        try:
            assert until(lambda: get(url + "/readyz")[0] == 200), get(url + "/readyz")
            own.stop()
            assert until(lambda: get(url + "/readyz")[0] == 503), get(url + "/readyz")
            status = orjson.loads(get(url + "/api/home")[1])["status"]
            assert status["broker_ok"] is False and status["broker_error"]
            assert get(url + "/healthz")[0] == 200  # alive: it keeps serving what it holds
            assert orjson.loads(get(url + "/api/home")[1])["held"]["articles"] == 1
        finally:
            stop_process(process, 10.0)


def test_a_log_that_starts_over_is_read_from_its_start(tmp_path: Path) -> None:
    # A broker with memory storage restarted with its topics created again: the new records
    # sit below the positions read to in the old log, and were never shown.
    with EmbeddedBroker(log_path=tmp_path / "tansu.log") as own:
        settings = unique_settings(own, tmp_path / "data", dashboard_port=free_port(),
                                   trending_topic="trending", partitions=1)
        asyncio.run(create_newsstream_topics(settings.connection, settings.topics, settings.limits))
        produce(settings, settings.enriched_topic,
                [(f"old-{n}".encode(), orjson.dumps(article(f"old-{n}"))) for n in range(5)])
        process = start_dashboard(settings, tmp_path / "dashboard.log")
        url = f"http://127.0.0.1:{settings.dashboard_port}"
        try:
            assert until(lambda: held(url) == 5), get(url + "/api/home")
            own.stop()
            own.start()
            asyncio.run(create_newsstream_topics(settings.connection, settings.topics,
                                                 settings.limits))
            produce(settings, settings.enriched_topic, [(b"new-0", orjson.dumps(article("new-0")))])
            assert until(lambda: "new-0" in feed_ids(url), timeout=60), get(url + "/api/home")
            _, metrics = get(url + "/metrics")
            line = (f'newsstream_dashboard_log_resets_total{{topic="{settings.enriched_topic}"}}'
                    f" 1.0")
            assert line.encode() in metrics
        finally:
            stop_process(process, 10.0)


def article(article_id: str) -> dict[str, Any]:
    return {"schema_version": 1, "id": article_id, "url": f"https://x.id/{article_id}",
            "text": f"Teks {article_id}.", "language": "id", "entities": [],
            "entity_counts": []}


def held(url: str) -> int:
    status, body = get(url + "/api/home")
    return int(orjson.loads(body)["held"]["articles"]) if status == 200 else -1


def feed_ids(url: str) -> set[str]:
    status, body = get(url + "/api/home")
    return {item["id"] for item in orjson.loads(body)["feed"]} if status == 200 else set()
