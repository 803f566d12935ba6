"""What crawlers write, into a real worker: WARC files through `newsstream produce` (written
here by warcio, and by GNU Wget crawling a local server), and a Scrapy spider with
newsstream's item pipeline."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pytest

from stream.tools.producing import consume_topic
from stream.tools.warc import article_id_of_record
from tests.conftest import Worker, settings_env
from tests.support.paths import EXAMPLES
from tests.support.warcs import Page, WarcFile

SPIDER = Path(__file__).parents[1] / "support" / "news_spider.py"

pytestmark = pytest.mark.integration

# Set by the stream, not by the page: where and when it was read, and the first copy's id.
STREAM_FIELDS = ("processed_at", "received_at", "origin", "duplicate_of")


def _newsstream(*args: str, worker: Worker | None = None,
                cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    env = settings_env(worker.settings) if worker else dict(os.environ)
    return subprocess.run([sys.executable, "-m", "stream.tools.cli", *args], env=env, cwd=cwd,
                          capture_output=True, timeout=300)


def _examples() -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in EXAMPLES.read_bytes().splitlines() if line.strip()]


def _without_stream_fields(article: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in article.items() if key not in STREAM_FIELDS}


async def _enriched(worker: Worker, ids: set[str], timeout: float = 120) -> dict[str, Any]:
    found: dict[str, Any] = {}
    async for value in consume_topic(worker.settings.connection,
                                     worker.settings.enriched_topic, idle_timeout=timeout):
        if value["id"] in ids:
            found[value["id"]] = value
            if set(found) == ids:
                break
    return found


def test_a_warc_through_produce_gives_the_articles_process_gives_for_the_same_pages(
        worker: Worker, tmp_path: Path) -> None:
    warc, pages = WarcFile(), []
    for article in _examples():
        latin = "republika" in article["url"]  # one page served as Latin-1 (windows-1252)
        media = article["content_type"]
        page = Page(article["url"], article["body"], content_type=media, chunked=True,
                    charset="ISO-8859-1" if latin else "utf-8",
                    encoding="cp1252" if latin else "utf-8", date="2023-07-29T08:30:00Z")
        record_id = warc.response(page)
        pages.append({"schema_version": 1, "id": article_id_of_record(record_id),
                      "url": page.url, "content_type": media, "body": page.body,
                      "fetched_at": page.date})
    warc.response(Page("https://example.id/cut-short", pages[0]["body"], chunked=True))
    path = warc.save(tmp_path / "crawl.warc.gz", cut_tail=200)
    jsonl = tmp_path / "pages.jsonl"
    jsonl.write_bytes(b"".join(orjson.dumps(page) + b"\n" for page in pages))

    sent = _newsstream("produce", str(path), worker=worker)
    lines = sent.stderr.decode().strip().splitlines()
    assert sent.returncode == 0, lines
    assert [line for line in lines if "truncated" in line] == [
        f"newsstream: {path} record 7 (https://example.id/cut-short): truncated: "
        f"{lines[0].split('truncated: ')[1]}"] and len(lines) == 2
    assert lines[-1] == f"sent 6 records to {worker.settings.input_topics[0]}"

    offline = _newsstream("process", str(jsonl))
    assert offline.returncode == 0, offline.stderr.decode()[-2000:]
    expected = {a["id"]: a for a in map(orjson.loads, offline.stdout.splitlines())}
    assert len(expected) == 6 and all("entities" in a for a in expected.values())
    streamed = asyncio.run(_enriched(worker, set(expected)))
    assert {key: _without_stream_fields(value) for key, value in streamed.items()} == \
        {key: _without_stream_fields(value) for key, value in expected.items()}

    # `newsstream process` reads the WARC itself the same way, and says what it skipped.
    direct = _newsstream("process", str(path))
    assert [_without_stream_fields(orjson.loads(line)) for line in direct.stdout.splitlines()] \
        == [_without_stream_fields(expected[page["id"]]) for page in pages]
    assert "record 7 (https://example.id/cut-short): truncated" in direct.stderr.decode()


class _Site(BaseHTTPRequestHandler):
    """The example pages at their paths, with links from the front page, as a news site."""

    pages: ClassVar[dict[str, tuple[str, bytes]]] = {}

    def do_GET(self) -> None:
        if self.path == "/":
            links = "".join(f'<a href="{path}">{path}</a>' for path in self.pages)
            self._answer("text/html; charset=utf-8", f"<html><body>{links}</body></html>".encode())
        elif self.path in self.pages:
            self._answer(*self.pages[self.path])
        else:
            self.send_error(404)

    def _answer(self, content_type: str, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


@pytest.fixture
def news_site() -> Iterator[str]:
    _Site.pages = {f"/read/{number}.html": (f"{a['content_type']}; charset=utf-8",
                                            a["body"].encode())
                   for number, a in enumerate(_examples())}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_wget_crawl_of_a_site_reaches_the_worker(worker: Worker, news_site: str,
                                                   tmp_path: Path) -> None:
    crawled = subprocess.run(["wget", "--recursive", "--level=1", "--no-verbose",
                              "--warc-file=site", "--delete-after", "--no-directories",
                              news_site + "/"], cwd=tmp_path, capture_output=True, timeout=120)
    assert crawled.returncode == 0, crawled.stderr.decode()[-2000:]
    sent = _newsstream("produce", "site.warc.gz", worker=worker, cwd=tmp_path)
    assert sent.returncode == 0, sent.stderr.decode()
    # the front page is an article too (HTML); wget's request and metadata records are not
    assert sent.stderr.decode().strip().splitlines()[-1] == \
        f"sent {len(_Site.pages) + 1} records to {worker.settings.input_topics[0]}"
    expected = {news_site + path for path in _Site.pages}
    found: set[str] = set()

    async def read() -> None:
        async for value in consume_topic(worker.settings.connection,
                                         worker.settings.enriched_topic, idle_timeout=120):
            if value["url"] in expected:
                found.add(value["url"])
                assert value["fetched_at"] is not None
                if found == expected:
                    return

    asyncio.run(read())
    assert found == expected


def test_a_scrapy_spider_with_the_pipeline_feeds_the_worker(worker: Worker, news_site: str,
                                                           tmp_path: Path) -> None:
    settings = worker.settings
    started = time.time()
    crawled = subprocess.run(
        [sys.executable, "-m", "scrapy", "runspider", str(SPIDER), "-a", f"site={news_site}",
         "-s", f"NEWSSTREAM_BROKER_URL={settings.broker_url}",
         "-s", f"NEWSSTREAM_INPUT_TOPICS={settings.input_topics[0]}", "-s", "LOG_LEVEL=INFO"],
        cwd=tmp_path, capture_output=True, text=True, timeout=180,
        env={k: v for k, v in os.environ.items() if not k.startswith("NEWSSTREAM_")})
    log = crawled.stderr
    assert crawled.returncode == 0, log[-3000:]
    finished = time.time()
    assert f"'newsstream/sent': {len(_Site.pages)}," in log, log[-3000:]
    assert "'newsstream/invalid': 1," in log and "'newsstream/invalid/schema': 1," in log
    assert "item not sent, not a valid raw article (schema:" in log
    expected = {news_site + path for path in _Site.pages}
    found: dict[str, Any] = {}

    async def read() -> None:
        async for value in consume_topic(settings.connection, settings.enriched_topic,
                                         idle_timeout=120):
            if value["url"] in expected and value["origin"]["topic"] == settings.input_topics[0]:
                found[value["url"]] = value
                if set(found) == expected:
                    return

    asyncio.run(read())
    assert set(found) == expected
    for article in found.values():  # dated when the spider scraped it
        fetched = datetime.fromisoformat(article["fetched_at"]).timestamp()
        assert started - 1 <= fetched <= finished + 1
        assert article["entities"], article["url"]
