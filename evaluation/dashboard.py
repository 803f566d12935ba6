"""``make bench`` (dashboard): the page's first load and its live updates in headless Chromium
with ``--entities`` entities and ``--articles`` articles in the dashboard's state, and the
process's memory as the topics grow past its bounds.

Everything goes through the real path: the records are produced to the output topics of an
embedded broker, a ``newsstream dashboard`` process reads them, Chromium loads the page. The
baselines, in the same run: the same browser loading the page's stylesheet (no data, no
script) for the first load, and the state's own apply time for an update.

Usage: ``python -m evaluation.dashboard --entities 10000 --articles 5000``
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from evaluation.browser import chromium
from evaluation.report import Table
from stream.config import Settings
from stream.runtime.budget import resident_bytes
from stream.tools.broker import EmbeddedBroker, create_newsstream_topics, free_port
from stream.tools.processes import settings_environment, stop_process
from stream.tools.producing import produce_records

BASE_TIME = 1_790_000_000
WINDOWS = {"1m": 60, "1h": 3600, "1d": 86400}
LABELS = ("PER", "ORG", "LOC")
SYLLABLES = ["ka", "ri", "mo", "ta", "su", "ne", "lo", "di", "ra", "wi", "an", "to", "ba",
             "se", "yu", "ha", "pe", "gu", "ni", "zo"]
FILLER = ["menurut", "laporan", "pada", "hari", "ini", "pemerintah", "mengatakan", "bahwa",
          "kebijakan", "baru", "akan", "diumumkan", "minggu", "depan", "setelah", "rapat",
          "dengan", "para", "menteri", "di", "ibu", "kota"]


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _name(i: int) -> str:
    rng = random.Random(i)
    return " ".join("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).title()
                    for _ in range(2))


def _entity(i: int) -> dict[str, str]:
    name = _name(i) + f" {i}"
    label = LABELS[i % 3]
    return {"entity_id": f"{label}:{name.lower().replace(' ', '-')}", "name": name,
            "label": label}


def _article(i: int, entities: int, rng: random.Random) -> bytes:
    mentions: list[dict[str, Any]] = []
    counts: dict[str, dict[str, Any]] = {}
    text = ""
    for _ in range(18):
        filler = " ".join(rng.choice(FILLER) for _ in range(rng.randint(8, 20)))
        text += filler + " "
        entity = _entity(min(int(rng.paretovariate(1.1)) - 1, entities - 1)
                         if rng.random() < 0.5 else rng.randrange(entities))
        start = len(text)
        text += entity["name"]
        mentions.append({"text": entity["name"], "label": entity["label"], "start": start,
                         "end": len(text), "name": entity["name"],
                         "entity_id": entity["entity_id"]})
        entry = counts.setdefault(entity["entity_id"], {**entity, "mentions": 0})
        entry["mentions"] += 1
        text += ". "
    stamp = _iso(BASE_TIME + i)
    return orjson.dumps({
        "schema_version": 1, "id": f"bench-{i}", "url": f"https://bench.example/{i}",
        "source": f"outlet{i % 40}.example", "title": f"Bench article {i}", "author": None,
        "published_at": stamp, "language": "id" if i % 3 else "en", "text": text,
        "entities": mentions, "entity_counts": list(counts.values()), "fetched_at": stamp,
        "received_at": stamp, "processed_at": stamp, "pipeline_version": "bench",
        "duplicate_of": None})


def _counts(first: int, entities: int, starts: int, rng: random.Random, later: int = 0
            ) -> Iterator[tuple[bytes, bytes]]:
    """A running total for each entity, and windowed counts: every entity in the latest
    window of each size (``later`` windows after the first round's), a tenth of them in each
    of the ``starts`` - 1 earlier ones."""
    for i in range(first, first + entities):
        entity = _entity(i)
        mentions = max(1, int(2000 / (i + 1)) + rng.randint(0, 3))
        value = {"schema_version": 1, "entity": entity, "window": "total",
                 "window_start": None, "window_end": None, "mentions": mentions,
                 "articles": max(1, mentions // 2), "updated_at": _iso(BASE_TIME)}
        yield f"{entity['entity_id']}|total|".encode(), orjson.dumps(value)
        for window, size in WINDOWS.items():
            latest = (BASE_TIME // size + later) * size
            for back in range(starts):
                if back and rng.random() > 0.1:
                    continue
                start = latest - back * size
                windowed = {**value, "window": window, "window_start": _iso(start),
                            "window_end": _iso(start + size),
                            "mentions": max(1, mentions // (back + 2))}
                yield (f"{entity['entity_id']}|{window}|{start}".encode(),
                       orjson.dumps(windowed))


def _trending(starts: int) -> Iterator[tuple[bytes, bytes]]:
    for window, size in WINDOWS.items():
        latest = (BASE_TIME // size) * size
        for back in range(starts):
            start = latest - back * size
            board = {"schema_version": 1, "window": window, "window_start": _iso(start),
                     "window_end": _iso(start + size), "updated_at": _iso(BASE_TIME),
                     "entities": [{"rank": r + 1, "entity": _entity(r), "mentions": 40 - r,
                                   "baseline": 3.5, "score": 9.0 - r / 2} for r in range(10)]}
            yield f"{window}|{start}".encode(), orjson.dumps(board)


def _json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return orjson.loads(response.read())


def _rss_mib(pid: int) -> float:
    return resident_bytes(pid) / 2**20


def _wait_read(url: str, articles: int, timeout: float = 600.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            home = _json(url + "api/home?n=1")
            if home["status"]["caught_up"] and home["status"]["lag"] == 0 \
                    and home["held"]["articles"] >= articles:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.25)
    raise TimeoutError("the dashboard did not catch up")


def _first_load(driver: Any, url: str) -> float:
    driver.get("about:blank")
    driver.get(url)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        value = driver.execute_script("return window.newsstream && window.newsstream.firstRender")
        if value:
            return float(value)
        time.sleep(0.02)
    raise TimeoutError("the page never drew")


def _static_load(driver: Any, url: str) -> float:
    driver.get("about:blank")
    driver.get(url)
    value = driver.execute_script(
        "const t = performance.getEntriesByType('navigation')[0]; return t.loadEventEnd")
    return float(value)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--articles", type=int, default=5_000)
    parser.add_argument("--starts", type=int, default=30, help="window starts per size")
    parser.add_argument("--loads", type=int, default=7)
    parser.add_argument("--updates", type=int, default=30)
    parser.add_argument("--growth", type=int, default=5,
                        help="rounds of as many new articles and entities again, for memory")
    parser.add_argument("--out", type=Path, default=Path("eval/dashboard.md"))
    args = parser.parse_args()
    rng = random.Random(5)
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as data:
        settings = Settings(broker_url=broker.url, app_id=f"bench-d-{uuid.uuid4().hex[:6]}",
                            data_dir=data, log_level="warning", dashboard_port=free_port(),
                            dashboard_articles=args.articles,
                            dashboard_entities=2 * args.entities,
                            dashboard_windows=args.starts)
        asyncio.run(create_newsstream_topics(settings.connection, settings.topics, settings.limits))
        asyncio.run(produce_records(settings.connection, settings.mentions_topic,
                                    _counts(0, args.entities, args.starts, rng), progress=False))
        asyncio.run(produce_records(settings.connection, settings.trending_topic,
                                    _trending(args.starts),
                                    progress=False))
        asyncio.run(produce_records(settings.connection, settings.enriched_topic,
                                    ((f"bench-{i}".encode(), _article(i, args.entities, rng))
                                     for i in range(args.articles)), progress=False))
        url = f"http://127.0.0.1:{settings.dashboard_port}/"
        process = subprocess.Popen([sys.executable, "-m", "stream.tools.cli", "dashboard"],
                                   env=settings_environment(settings),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        driver = None
        try:
            catch_up = _wait_read(url, args.articles)
            held = _json(url + "api/home?n=1")["held"]
            driver = chromium()
            cold = _first_load(driver, url)  # a new browser: nothing cached yet
            loads = [_first_load(driver, url) for _ in range(args.loads)]
            statics = [_static_load(driver, url + "static/app.css") for _ in range(args.loads)]
            api = [_timed_get(url + "api/home?window=1h&n=25") for _ in range(50)]
            driver.get(url)
            _first_load(driver, url)
            updates_before = driver.execute_script("return window.newsstream.updates")
            for i in range(args.updates):
                asyncio.run(produce_records(
                    settings.connection, settings.enriched_topic,
                    [(f"live-{i}".encode(), _article(args.articles + i, args.entities, rng))],
                    progress=False))
                time.sleep(0.4)
            time.sleep(1.0)
            update_ms = driver.execute_script("return window.newsstream.updateMs")
            updates = driver.execute_script("return window.newsstream.updates") - updates_before
            apply_ms = _apply_ms(url)
            memory = [(args.articles, args.entities, held, _rss_mib(process.pid))]
            for round_ in range(1, args.growth + 1):
                first = args.articles * round_ + args.updates
                # New entities, in windows that move on as a long-running stream's do.
                asyncio.run(produce_records(settings.connection, settings.mentions_topic, _counts(
                    args.entities * round_, args.entities, 10, rng, later=10 * round_),
                    progress=False))
                asyncio.run(produce_records(
                    settings.connection, settings.enriched_topic,
                    ((f"bench-{first + i}".encode(), _article(first + i, args.entities, rng))
                     for i in range(args.articles)), progress=False))
                _wait_read(url, args.articles)
                time.sleep(1.0)
                memory.append((args.articles * (round_ + 1) + args.updates,
                               args.entities * (round_ + 1),
                               _json(url + "api/home?n=1")["held"], _rss_mib(process.pid)))
            driver.get(url)
            _first_load(driver, url)
            driver.save_screenshot(str(args.out.with_suffix(".png")))
        finally:
            if driver is not None:
                driver.quit()
            stop_process(process, 10.0)
    table = Table("measure", f"{args.entities:,} entities, {args.articles:,} articles held",
                  "baseline (same run)", "goal")
    table.add("first load, navigation to the drawn page (browser cache warm; median of "
              f"{len(loads)}; max)", f"{statistics.median(loads):.0f} ms; "
              f"{max(loads):.0f} ms", f"stylesheet alone: {statistics.median(statics):.0f} ms",
              "< 1000 ms")
    table.add("first load in a new browser (nothing cached: fonts, uPlot, script)",
              f"{cold:.0f} ms", "", "< 1000 ms")
    table.add(f"live update, event to redrawn page (p50 / p95 / max of {len(update_ms)})",
              f"{_percentile(update_ms, 0.5):.0f} / {_percentile(update_ms, 0.95):.0f} / "
              f"{max(update_ms):.0f} ms",
              f"applying a fetched batch: p50 ≤ {apply_ms:.1f} ms", "< 100 ms")
    table.add("`/api/home?window=1h` (top 25 + trending + feed), server (p50 / p95)",
              f"{statistics.median(api):.1f} / {_percentile(api, 0.95):.1f} ms", "", "")
    table.add("catching up from the beginning (records read)",
              f"{catch_up:.1f} s", "", "")
    table.add("updates the page drew for the records sent", f"{updates} for {args.updates}",
              "", "")
    table.write(args.out)
    growth = Table("articles on the topic", "entities on the topic", "articles held",
                   "entities held", "window entries held", "RSS MiB")
    for articles, entities, kept, rss in memory:
        growth.add(f"{articles:,}", f"{entities:,}", f"{kept['articles']:,}",
                   f"{kept['entities']:,}", f"{kept['window_entries']:,}", f"{rss:.0f}")
    with args.out.open("a", encoding="utf-8") as out:
        out.write("\nMemory as the topics grow (bounds: "
                  f"{args.articles:,} articles, {2 * args.entities:,} entities in total and "
                  f"{2 * args.entities // 4:,} per window, {args.starts} windows per size):"
                  "\n\n" + "\n".join(growth.rows) + "\n")
    print(f"appended the memory table to {args.out}")


def _timed_get(url: str) -> float:
    started = time.perf_counter()
    _json(url)
    return (time.perf_counter() - started) * 1000


def _apply_ms(url: str) -> float:
    """The median time the dashboard took to apply one fetched batch, from its histogram."""
    with urllib.request.urlopen(url + "metrics", timeout=10) as response:
        text = response.read().decode()
    buckets = []
    count = 0.0
    for line in text.splitlines():
        if line.startswith("newsstream_dashboard_apply_seconds_bucket"):
            bound = line.split('le="')[1].split('"')[0]
            buckets.append((float("inf") if bound == "+Inf" else float(bound),
                            float(line.rsplit(" ", 1)[1])))
        elif line.startswith("newsstream_dashboard_apply_seconds_count"):
            count = float(line.rsplit(" ", 1)[1])
    for bound, seen in buckets:
        if seen >= count / 2:
            return bound * 1000
    return float("nan")


if __name__ == "__main__":
    main()
