"""The Scrapy item pipeline's pure parts: items as raw articles, its settings, and that a
crawler importing it loads none of the worker's heavy dependencies."""

import subprocess
import sys
from datetime import UTC, date, datetime
from typing import Any

import orjson
import pytest

from stream.ingest.payloads import decode_raw_article
from stream.tools.scrapy_pipeline import NewsstreamPipeline, raw_article_of

SCRAPED = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)


def test_an_item_becomes_a_raw_article_with_defaults_and_dates_as_text() -> None:
    article = raw_article_of({"url": "https://kompas.com/read/1", "body": "<p>Teks</p>",
                              "published_at": date(2023, 7, 29), "price": 3, "lang": None},
                             SCRAPED)
    assert article == {"schema_version": 1, "url": "https://kompas.com/read/1",
                       "content_type": "text/html", "body": "<p>Teks</p>",
                       "published_at": "2023-07-29", "fetched_at": "2026-12-05T09:30:00.000Z"}
    decode_raw_article(orjson.dumps(article), 5_000_000)
    given = raw_article_of({"url": "https://a.id/1", "body": "x", "content_type": "text/plain",
                            "fetched_at": "2026-01-01T00:00:00Z", "id": "a-1"}, SCRAPED)
    assert (given["content_type"], given["fetched_at"], given["id"]) == (
        "text/plain", "2026-01-01T00:00:00Z", "a-1")


class _Crawler:
    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings, self.stats = settings, object()


def test_its_settings_come_from_scrapy_then_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSSTREAM_PRODUCER_COMPRESSION", "lz4")
    monkeypatch.setenv("NEWSSTREAM_INPUT_TOPICS", "from-env")
    pipeline = NewsstreamPipeline.from_crawler(_Crawler({
        "NEWSSTREAM_BROKER_URL": "kafka://k1:9092;k2:9092", "NEWSSTREAM_INPUT_TOPICS": "crawl",
        "BOT_NAME": "news"}))
    assert pipeline.topic == "crawl"
    assert pipeline.connection.bootstrap_servers == "k1:9092,k2:9092"
    assert pipeline.connection.compression == "lz4"


def test_importing_it_loads_no_stream_processor_or_model() -> None:
    probe = ("import sys, stream.tools.scrapy_pipeline; print(sorted(m for m in ('faust', "
             "'mode', 'spacy', 'trafilatura', 'onnxruntime', 'numpy', 'rocksdict', 'lxml') "
             "if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True, timeout=60).stdout.strip()
    assert loaded == "[]"
