"""The dashboard in a real browser (Debian's headless Chromium, driven by Selenium), fed by a
real worker on the embedded broker: the page a newsroom keeps open."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from evaluation.browser import chromium
from stream.config import Settings
from stream.tools.broker import EmbeddedBroker, free_port
from stream.tools.processes import stop_process
from stream.tools.producing import produce_records, records_from_paths
from tests.conftest import Worker, start_dashboard, start_worker, unique_settings
from tests.support.paths import EXAMPLES, ROOT

pytestmark = pytest.mark.integration

ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", ROOT / "test-artifacts"))
SAMPLE_ENTITIES = ["PER:antony-blinken", "PER:sergei-shoigu", "LOC:korea-utara", "LOC:rusia"]
WAIT_S = 60.0


@dataclass
class Newsroom:
    settings: Settings
    worker: Worker
    dashboard: subprocess.Popen[bytes]
    dashboard_log: Path
    enriched: dict[str, dict[str, Any]]  # article id → record, read off the topic

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.dashboard_port}/"

    def api(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=5) as response:
            return orjson.loads(response.read())

    def worker_top(self, window: str) -> list[tuple[str, int, int]]:
        status, body = self.worker.get(f"/entities/top?window={window}&n=25")
        assert status == 200, body
        return [(e["entity"]["entity_id"], e["mentions"], e["articles"])
                for e in json.loads(body)["entities"]]


async def read_enriched(settings: Settings, n: int) -> dict[str, dict[str, Any]]:
    consumer = AIOKafkaConsumer(settings.enriched_topic, group_id=None,
                                bootstrap_servers=settings.connection.bootstrap_servers,
                                auto_offset_reset="earliest")
    await consumer.start()
    found: dict[str, dict[str, Any]] = {}
    try:
        deadline = time.monotonic() + WAIT_S
        while len(found) < n and time.monotonic() < deadline:
            for messages in (await consumer.getmany(timeout_ms=500)).values():
                for message in messages:
                    record = orjson.loads(message.value)
                    found[record["id"]] = record
    finally:
        await consumer.stop()
    assert len(found) >= n, f"{len(found)} of {n} enriched articles"
    return found


@pytest.fixture(scope="module")
def newsroom(broker: EmbeddedBroker,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Newsroom]:
    folder = tmp_path_factory.mktemp("dashboard")
    settings = unique_settings(broker, folder / "data", dashboard_port=free_port(),
                               trending_topic=f"trending-{free_port()}",
                               trend_min_mentions=1, dashboard_update_interval_s=0.25)
    worker = start_worker(settings, folder / "worker.log")
    log = folder / "dashboard.log"
    dashboard = start_dashboard(settings, log)
    try:
        worker.wait_ready()
        sent = asyncio.run(produce_records(settings.connection, settings.input_topics[0],
                                           records_from_paths([EXAMPLES], ""), progress=False))
        enriched = asyncio.run(read_enriched(settings, sent))
        room = Newsroom(settings, worker, dashboard, log, enriched)
        # The worker's counts settle: the page must then show exactly them.
        deadline = time.monotonic() + WAIT_S
        while not (settled := _settled(room)) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert settled, f"dashboard never matched the worker:\n{log.read_text()[-2000:]}"
        yield room
    finally:
        stop_process(dashboard, 10.0)
        worker.stop()


def _settled(room: Newsroom) -> bool:
    try:
        page = room.api("api/home?window=total&n=25")
    except OSError:
        return False
    shown = [(e["entity_id"], e["mentions"], e["articles"]) for e in page["top"]["entities"]]
    return bool(shown) and shown == room.worker_top("total") and \
        all(e in {s[0] for s in shown} for e in SAMPLE_ENTITIES)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    driver = chromium()
    try:
        yield driver
    finally:
        driver.quit()


def rows(browser: Any, table: str) -> list[tuple[str, int, int]]:
    found = []
    for row in browser.find_elements(By.CSS_SELECTOR, f"#{table} tbody tr"):
        cells = row.find_elements(By.TAG_NAME, "td")
        found.append((row.get_attribute("data-entity"), int(cells[2].text.replace(",", "")),
                      int(cells[3].text.replace(",", ""))))
    return found


def wait(browser: Any, condition: Any, what: str) -> Any:
    # The page redraws its tables on every update: an element read mid-redraw is stale.
    return WebDriverWait(browser, WAIT_S, poll_frequency=0.1,
                         ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda driver: condition(driver), message=what)


def kompas(room: Newsroom) -> dict[str, Any]:
    return next(r for r in room.enriched.values() if r["source"] == "kompas.com")


def test_the_page_shows_the_worker_counts_and_the_sample_entities(newsroom: Newsroom,
                                                                  browser: Any) -> None:
    browser.get(newsroom.url)
    wait(browser, lambda d: {r[0] for r in rows(d, "top")} >= set(SAMPLE_ENTITIES),
         "the top table lists the sample article's entities")
    assert rows(browser, "top") == newsroom.worker_top("total")
    assert browser.find_element(By.CSS_SELECTOR, "#status").text == "live"
    feed = browser.find_elements(By.CSS_SELECTOR, "#feed > li")
    assert {item.get_attribute("data-id") for item in feed} == set(newsroom.enriched)
    assert browser.execute_script("return window.newsstream.firstRender") > 0
    # On a wide screen every section shows at once, without the phone's tab bar.
    assert not browser.find_element(By.ID, "sections").is_displayed()
    assert browser.find_element(By.ID, "feed-panel").is_displayed()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "dashboard-home.png"))
    assert (ARTIFACTS / "dashboard-home.png").stat().st_size > 10_000

    # Another window: the table follows, with the worker's counts of its latest window.
    browser.find_element(By.CSS_SELECTOR, '#windows button[data-window="1d"]').click()
    wait(browser, lambda d: rows(d, "top") == newsroom.worker_top("1d"),
         "the 1 d window's counts, as the worker has them")
    selected = browser.find_element(By.CSS_SELECTOR, "#windows button[aria-selected=true]")
    assert selected.get_attribute("data-window") == "1d"
    # And a label filter: people only.
    browser.find_element(By.CSS_SELECTOR, '#label option[value="PER"]').click()
    wait(browser, lambda d: rows(d, "top") and all(r[0].startswith("PER:") for r in rows(d, "top")),
         "people only")
    assert rows(browser, "top") == [r for r in newsroom.worker_top("1d")
                                    if r[0].startswith("PER:")][:25]


def test_an_entity_page_has_its_chart_outlets_and_the_sample_article(newsroom: Newsroom,
                                                                     browser: Any) -> None:
    browser.get(newsroom.url)
    link = wait(browser, lambda d: d.find_elements(
        By.CSS_SELECTOR, '#top a.entity[data-entity="PER:antony-blinken"]'), "Blinken listed")
    link[0].click()
    wait(browser, lambda d: d.find_element(By.ID, "entity-name").text == "Antony Blinken",
         "the entity page")
    chart = wait(browser, lambda d: (d.find_element(By.ID, "chart")
                                     if int(d.find_element(By.ID, "chart")
                                            .get_attribute("data-points")) > 0 else None),
                 "the chart has points")
    assert chart.find_elements(By.TAG_NAME, "canvas"), "uPlot drew the chart"
    article = kompas(newsroom)
    ids = [li.get_attribute("data-id")
           for li in browser.find_elements(By.CSS_SELECTOR, "#entity-articles > li")]
    assert ids == [article["id"]]
    outlets = browser.find_element(By.ID, "outlets").text
    assert "kompas.com" in outlets
    neighbours = {a.get_attribute("data-entity") for a in
                  browser.find_elements(By.CSS_SELECTOR, "#cooccurring a.entity")}
    assert {"PER:sergei-shoigu", "LOC:korea-utara", "LOC:rusia"} <= neighbours
    mentions = browser.find_elements(
        By.CSS_SELECTOR, '#entity-articles a.mention[data-entity="PER:antony-blinken"]')
    assert mentions and mentions[0].text == "Antony Blinken"
    browser.save_screenshot(str(ARTIFACTS / "dashboard-entity.png"))


def test_every_highlight_is_the_mention_at_its_offsets(newsroom: Newsroom,
                                                       browser: Any) -> None:
    for record in newsroom.enriched.values():
        open_article(browser, newsroom, record["id"])
        shown = [(a.get_attribute("data-entity"), a.text) for a in
                 browser.find_elements(By.CSS_SELECTOR, "#article .text a.mention")]
        expected = [(e["entity_id"], record["text"][e["start"]:e["end"]])
                    for e in record["entities"]]
        assert [text for _, text in shown] == [text for _, text in expected], record["source"]
        assert shown == expected
        # Only elements under the article: no stray text such as "null" for a part not shown.
        assert browser.execute_script(
            "return [...document.getElementById('article').childNodes]"
            ".filter((n) => n.nodeType === Node.TEXT_NODE).length") == 0


def open_article(browser: Any, room: Newsroom, article_id: str) -> None:
    """The article's page, once it shows that article (the page before may still show the
    previous one: the view is drawn when its data has come)."""
    browser.get(room.url + "#/article/" + urllib.parse.quote(article_id, safe=""))
    selector = f'#article[data-id="{article_id}"] h1'
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, selector), "the article")


def open_entity(browser: Any, room: Newsroom, entity_id: str) -> None:
    browser.get(room.url + "#/entity/" + urllib.parse.quote(entity_id, safe=""))
    selector = f'#entity-view[data-id="{entity_id}"]'
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, selector), "the entity page")


async def test_an_article_sent_again_keeps_its_pages_whole(newsroom: Newsroom,
                                                           browser: Any) -> None:
    # A crawler fetching the page again: the same id is the same article, never a copy of
    # itself (its page used to link to itself as its "first copy", and its entities lost it).
    settings, record = newsroom.settings, kompas(newsroom)
    raw = next(orjson.loads(line) for line in EXAMPLES.read_bytes().splitlines()
               if b"kompas.com" in line)
    counts = newsroom.worker_top("total")
    await produce_records(settings.connection, settings.input_topics[0],
                          [(None, orjson.dumps(raw))],
                          progress=False)
    deadline = time.monotonic() + WAIT_S
    while resent(newsroom, "unchanged") < 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert resent(newsroom, "unchanged") == 1
    # ...and again with a corrected text: the article is updated, as itself.
    corrected = {**raw, "body": raw["body"].replace("pembicaraan yang bersahabat.",
                                                    "pembicaraan yang bersahabat dan hangat.")}
    await produce_records(settings.connection, settings.input_topics[0],
                          [(None, orjson.dumps(corrected))], progress=False)
    deadline = time.monotonic() + WAIT_S
    while "hangat" not in shown_text(newsroom, record["id"]) and time.monotonic() < deadline:
        time.sleep(0.2)

    open_article(browser, newsroom, record["id"])
    article = browser.find_element(By.ID, "article")
    assert "bersahabat dan hangat" in article.text
    assert not article.find_elements(By.CSS_SELECTOR, ".dup")
    assert article.find_elements(By.CSS_SELECTOR, f'a[href="{record["url"]}"]')
    open_entity(browser, newsroom, "PER:antony-blinken")
    wait(browser, lambda d: "kompas.com" in d.find_element(By.ID, "outlets").text, "outlets")
    items = browser.find_elements(By.CSS_SELECTOR, "#entity-articles > li")
    assert [li.get_attribute("data-id") for li in items] == [record["id"]]
    assert not items[0].find_elements(By.CSS_SELECTOR, ".dup")
    assert "from the 1 of the latest articles" in browser.find_element(
        By.ID, "entity-scope").text
    assert newsroom.worker_top("total") == counts  # counted once, as first sent


async def test_dead_letters_are_shown_with_their_reasons(newsroom: Newsroom,
                                                         browser: Any) -> None:
    browser.get(newsroom.url)
    wait(browser, lambda d: rows(d, "top"), "the page")
    assert not browser.find_element(By.ID, "deadletters").is_displayed()  # none yet
    await produce_records(newsroom.settings.connection, newsroom.settings.input_topics[0],
                          [(b"broken", b'{"url": "https://x.id/1", "body": '), (b"broken", b"[]")],
                          progress=False)
    summary = wait(browser, lambda d: d.find_element(By.ID, "deadletters-summary")
                   if d.find_element(By.ID, "deadletters-summary").text.startswith("2 ")
                   else None, "both dead letters")
    assert summary.is_displayed()
    assert summary.text == "2 dead letters: invalid_json 1, not_an_object 1"
    summary.click()
    latest = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#deadletters-latest li")]
    assert len(latest) == 2 and latest[0].startswith("not_an_object ")
    assert "expected a JSON object" in latest[0] and "not valid JSON" in latest[1]


def shown_text(room: Newsroom, article_id: str) -> str:
    """The article's text as the dashboard serves it (in segments, mentions apart)."""
    article = room.api(f"api/article/{urllib.parse.quote(article_id, safe='')}")
    return "".join(segment["t"] for segment in article.get("segments", []))


def resent(room: Newsroom, outcome: str) -> float:
    _, text = room.worker.get("/metrics")
    prefix = f'newsstream_resent_articles_total{{outcome="{outcome}"}} '
    return sum(float(line[len(prefix):]) for line in text.splitlines()
               if line.startswith(prefix))


def test_search_finds_an_entity_and_opens_it(newsroom: Newsroom, browser: Any) -> None:
    browser.get(newsroom.url)
    box = wait(browser, lambda d: d.find_element(By.ID, "q"), "the search box")
    box.send_keys("shoigu")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR,
                                            '#suggestions a[data-entity="PER:sergei-shoigu"]'),
         "Sergei Shoigu suggested")
    box.submit()
    wait(browser, lambda d: d.find_element(By.ID, "entity-name").text == "Sergei Shoigu",
         "his entity page")


async def test_the_page_updates_live_and_fits_a_phone(newsroom: Newsroom,
                                                      browser: Any) -> None:
    browser.get(newsroom.url)
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#feed > li")) >= 6, "feed")
    late = {"schema_version": 1, "id": "live-update-1",
            "url": "https://news.example.org/live-update-1", "content_type": "text/plain",
            "body": "Menteri Luar Negeri Amerika Serikat Antony Blinken kembali ke Jakarta "
                    "pada Senin. Blinken bertemu Presiden Joko Widodo di Istana Merdeka.",
            "fetched_at": "2023-07-30T08:00:00Z"}
    producer = AIOKafkaProducer(bootstrap_servers=newsroom.settings.connection.bootstrap_servers)
    await producer.start()
    try:
        await producer.send_and_wait(newsroom.settings.input_topics[0], orjson.dumps(late),
                                     key=b"live-update-1")
    finally:
        await producer.stop()
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#feed > li:first-child")
         .get_attribute("data-id") == "live-update-1", "the new article on top, no reload")
    # A copy of the sample (same body, another URL) is marked, with a link to the first copy.
    raw = next(orjson.loads(line) for line in EXAMPLES.read_bytes().splitlines()
               if b"kompas.com" in line)
    copy = {**raw, "id": "copy-of-kompas", "url": "https://mirror.example.org/kompas-copy"}
    await produce_records(newsroom.settings.connection, newsroom.settings.input_topics[0],
                          [(b"copy-of-kompas", orjson.dumps(copy))], progress=False)
    marked = wait(browser, lambda d: d.find_elements(
        By.CSS_SELECTOR, '#feed > li[data-id="copy-of-kompas"] .dup a.first-copy'),
        "the copy, marked")
    assert marked[0].get_attribute("href").endswith(
        "#/article/" + urllib.parse.quote(kompas(newsroom)["id"], safe=""))
    newest = browser.find_element(By.CSS_SELECTOR, '#feed > li[data-id="live-update-1"]')
    assert "Blinken" in newest.text
    assert {a.text for a in newest.find_elements(By.CSS_SELECTOR, "a.mention")} >= {
        "Antony Blinken", "Jakarta"}
    assert len(browser.find_elements(By.CSS_SELECTOR, "#feed > li")) == len(newsroom.enriched) + 2
    assert browser.execute_script("return window.newsstream.updates") >= 1
    # The counts moved with it, still as the worker has them.
    wait(browser, lambda d: rows(d, "top") == newsroom.worker_top("total"), "live counts")

    browser.set_window_size(390, 844)
    try:
        browser.get(newsroom.url)
        wait(browser, lambda d: rows(d, "top"), "the table on a phone")
        assert_fits(browser, "home")
        browser.save_screenshot(str(ARTIFACTS / "dashboard-phone.png"))
        # The feed is a tap away, at the top of the screen, not below the rankings.
        browser.find_element(By.CSS_SELECTOR, '#sections button[data-window="feed"]').click()
        feed = wait(browser, lambda d: [li for li in d.find_elements(By.CSS_SELECTOR,
                                                                     "#feed > li")
                                        if li.is_displayed()], "the feed on a phone")
        top = browser.execute_script("return arguments[0].getBoundingClientRect().top", feed[0])
        assert top < 844 / 2, top  # on the first screen, in its upper half
        assert not browser.find_element(By.ID, "top").is_displayed()
        assert_fits(browser, "feed")
        open_entity(browser, newsroom, "PER:antony-blinken")
        assert_fits(browser, "entity")
        open_article(browser, newsroom, kompas(newsroom)["id"])  # a long URL under its title
        assert_fits(browser, "article")
        browser.get(newsroom.url)
        box = wait(browser, lambda d: d.find_element(By.ID, "q"), "the search box")
        box.send_keys("a")
        wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#suggestions a[data-entity]"),
             "suggestions")
        assert_fits(browser, "search")
    finally:
        browser.set_window_size(1366, 900)


def assert_fits(browser: Any, page: str) -> None:
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 390, f"the {page} page scrolls sideways on a phone: {width} px"
