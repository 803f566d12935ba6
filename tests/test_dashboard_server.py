"""`newsstream dashboard` as a process: health that tells the truth, records off the schema
counted and skipped, a broker that vanishes."""

from __future__ import annotations

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
from stream.tools.broker import EmbeddedBroker, free_port
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
    producer = Producer({"bootstrap.servers": settings.bootstrap_servers})
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
