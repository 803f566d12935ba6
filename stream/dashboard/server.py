"""``newsstream dashboard``: reads the public output topics from the beginning into a bounded
:class:`DashboardState` and serves the page, its JSON and a WebSocket that tells the page when
something changed.

It is a client of the topic contract and nothing else: it never calls a worker. Each instance
reads every partition itself (assigned, not balanced by a consumer group, which would give each
replica a part of the entities); its positions are committed under its own group id
(``<app_id>-dashboard``) only so that Kafka's tools show how far behind it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from stream.config import Connection, Settings, Topics, Web, views
from stream.dashboard.state import TOTAL, DashboardState, Invalid, Limits
from stream.runtime import transport
from stream.runtime.connection import client_options
from stream.runtime.web_guard import add_security_headers, auth_middleware, same_origin

log = logging.getLogger("newsstream.dashboard")

STATIC = Path(str(resources.files("stream.dashboard") / "static"))
FETCH_MS = 500
# How often the broker is asked for the topics' partitions: new ones are picked up, and a
# broker that does not answer shows on the page and in /readyz.
PARTITIONS_EVERY_S = 5.0
COMMIT_EVERY_S = 10.0
KEEPALIVE_S = 15.0
FEED_ITEMS = 30
# Caps on what one request may ask for: the page asks for 25 entities and types search terms.
MAX_TOP = 100
MAX_QUERY_CHARS = 200
MAX_ID_CHARS = 512
# The page sends nothing but the WebSocket's close.
MAX_SOCKET_MESSAGE_BYTES = 1024


class DashboardMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.records = Counter("newsstream_dashboard_records", "Records read, by topic",
                               ["topic"], registry=self.registry)
        self.invalid = Counter(
            "newsstream_dashboard_invalid_records",
            "Records skipped because they do not follow their topic's schema, by topic",
            ["topic"], registry=self.registry)
        self.lag = Gauge("newsstream_dashboard_lag_records",
                         "Records on the output topics not read yet", registry=self.registry)
        self.held = Gauge("newsstream_dashboard_state", "What the dashboard holds, by kind",
                          ["kind"], registry=self.registry)
        self.clients = Gauge("newsstream_dashboard_clients", "Pages connected for updates",
                             registry=self.registry)
        self.log_resets = Counter(
            "newsstream_dashboard_log_resets",
            "Partitions whose log started over (it ended below the position read to), read "
            "again from their start, by topic", ["topic"], registry=self.registry)
        self.apply_seconds = Histogram(
            "newsstream_dashboard_apply_seconds", "Time to apply one fetched batch",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
            registry=self.registry)


@dataclass
class ReadStatus:
    """What the page's status line and the health endpoints say."""
    caught_up: bool = False  # has read everything that was there when it started
    lag: int | None = None
    broker_ok: bool = False
    broker_error: str | None = None
    last_contact: float | None = None  # monotonic
    consumer_failed: str | None = None

    def as_json(self) -> dict[str, Any]:
        since = None if self.last_contact is None else time.monotonic() - self.last_contact
        return {"caught_up": self.caught_up, "lag": self.lag, "broker_ok": self.broker_ok,
                "broker_error": self.broker_error,
                "seconds_since_broker": None if since is None else round(since, 1),
                "consumer_failed": self.consumer_failed}


class Dashboard:
    """The dashboard's reading of the output topics and its page. ``config``: its own settings;
    ``web``: the token its pages need, the workers' own."""

    def __init__(self, config: views.Dashboard, topics: Topics, connection: Connection,
                 web: Web, state: DashboardState | None = None) -> None:
        self.config, self.connection, self.web = config, connection, web
        self.enriched_topic = topics.enriched
        self.state = state or DashboardState(Limits(
            articles=config.articles, windows=config.windows, entities=config.entities))
        self.metrics = DashboardMetrics()
        self.status = ReadStatus()
        self.topics = {topics.enriched: self.state.apply_article,
                       topics.mentions: self.state.apply_count,
                       topics.trending: self.state.apply_trending,
                       topics.deadletter: self.state.apply_deadletter}
        self._tick = asyncio.Event()
        self._changed = asyncio.Event()  # replaced after each announcement
        self._announced = -1
        self._tasks: list[asyncio.Task[None]] = []
        self._clients = 0  # pages connected for updates

    # ---- reading the topics -----------------------------------------------------------------

    def apply(self, topic: str, key: bytes | None, value: bytes | None) -> None:
        """One record in (the wiring's only call into the state)."""
        self.metrics.records.labels(topic).inc()
        if value is None:
            if topic == self.enriched_topic and key:
                self.state.forget_article(key.decode("utf-8", "replace"))
            return
        try:
            self.topics[topic](orjson.loads(value))
        except (orjson.JSONDecodeError, Invalid, TypeError, ValueError, AttributeError) as error:
            self.metrics.invalid.labels(topic).inc()
            log.warning("skipped a record of %s that does not follow its schema: %s",
                        topic, error)

    async def consume(self) -> None:
        transport.install(self.connection.max_batch_bytes)
        consumer = AIOKafkaConsumer(**client_options(self.connection), group_id=self.config.group,
                                    enable_auto_commit=False, auto_offset_reset="earliest")
        # Topic metadata (every topic, no auto-creation) comes from the admin client: the
        # consumer's own metadata covers only the partitions it already reads.
        admin = AIOKafkaAdminClient(**client_options(self.connection))
        try:
            await admin.start()
            await consumer.start()
            await self._read(consumer, admin)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.status.consumer_failed = type(error).__name__
            log.exception("the dashboard's consumer failed")
            raise
        finally:
            await consumer.stop()
            await admin.close()

    async def _read(self, consumer: AIOKafkaConsumer, admin: AIOKafkaAdminClient) -> None:
        assigned: set[TopicPartition] = set()
        ends: dict[TopicPartition, int] = {}
        next_check = next_commit = 0.0
        while True:
            now = time.monotonic()
            if now >= next_check:
                next_check = now + PARTITIONS_EVERY_S
                assigned = await self._assign(consumer, admin, assigned, ends)
            if not assigned:  # no output topic yet: nothing to read is all read
                self.status.caught_up = self.status.broker_ok
                self.status.lag = 0
                await asyncio.sleep(0.5)
                continue
            try:
                batches = await consumer.getmany(timeout_ms=FETCH_MS, max_records=2000)
            except KafkaError as error:
                self._broker_failed(error)
                continue
            started = time.perf_counter()
            for tp, messages in batches.items():
                for message in messages:
                    if transport.undecodable_reason(message.headers) is not None:
                        self.metrics.invalid.labels(tp.topic).inc()  # the batch was logged
                        continue
                    self.apply(tp.topic, message.key, message.value)
            if batches:
                self.metrics.apply_seconds.observe(time.perf_counter() - started)
                self._tick.set()
            await self._observe_lag(consumer, assigned, ends)
            if now >= next_commit:
                next_commit = now + COMMIT_EVERY_S
                await self._commit(consumer)

    async def _assign(self, consumer: AIOKafkaConsumer, admin: AIOKafkaAdminClient,
                      assigned: set[TopicPartition],
                      ends: dict[TopicPartition, int]) -> set[TopicPartition]:
        """Every partition of the output topics it reads; new ones are read from their beginning."""
        try:
            described = await asyncio.wait_for(admin.describe_topics(),
                                               self.connection.timeout_s)
        except (KafkaError, TimeoutError, OSError) as error:
            self._broker_failed(error)
            return assigned
        self.status.broker_ok, self.status.broker_error = True, None
        self.status.last_contact = time.monotonic()
        wanted = {TopicPartition(topic["topic"], partition["partition"]) for topic in described
                  if topic["topic"] in self.topics and not topic.get("error_code")
                  for partition in topic["partitions"]}
        new = wanted - assigned
        if not new:
            return assigned
        positions = {tp: await consumer.position(tp) for tp in assigned}
        consumer.assign(sorted(wanted))
        for tp, position in positions.items():
            consumer.seek(tp, position)
        await consumer.seek_to_beginning(*new)
        # What "caught up" means: everything there when the partition was first seen. The
        # high watermark of a fetch is right where ListOffsets may be short (Tansu), so both.
        for tp, end in (await consumer.end_offsets(list(new))).items():
            ends[tp] = end
        log.info("reading %d partitions of %s", len(wanted), ", ".join(sorted(self.topics)))
        return wanted

    async def _observe_lag(self, consumer: AIOKafkaConsumer, assigned: set[TopicPartition],
                           ends: dict[TopicPartition, int]) -> None:
        lag = 0
        for tp in assigned:
            highwater = consumer.highwater(tp)
            position = await consumer.position(tp)
            if highwater is not None and highwater < position:
                # The log started over (a broker with memory storage restarted, the topic was
                # created again): its records would all sit below this position, unread.
                log.warning("log reset: %s/%s ends at %d, below the position %d: reading the "
                            "new log from its start", tp.topic, tp.partition, highwater,
                            position)
                self.metrics.log_resets.labels(tp.topic).inc()
                await consumer.seek_to_beginning(tp)
                ends[tp] = highwater
                position = await consumer.position(tp)
            if highwater is not None:
                ends[tp] = max(ends.get(tp, 0), highwater)
            lag += max(ends.get(tp, 0) - position, 0)
        self.status.lag = lag
        self.metrics.lag.set(lag)
        if lag == 0:
            self.status.caught_up = True

    def _broker_failed(self, error: BaseException) -> None:
        # The page and the health endpoints say what kind of failure; the log says the rest
        # (broker addresses and messages stay off unauthenticated responses).
        if self.status.broker_ok or self.status.broker_error != type(error).__name__:
            log.warning("broker: %s: %s", type(error).__name__, error)
        self.status.broker_ok = False
        self.status.broker_error = type(error).__name__

    async def _commit(self, consumer: AIOKafkaConsumer) -> None:
        with contextlib.suppress(KafkaError, OSError, TimeoutError):
            await asyncio.wait_for(consumer.commit(), self.connection.timeout_s)

    # ---- serving -----------------------------------------------------------------------------

    async def announce(self) -> None:
        """Tells the connected pages that something changed, at most once per update interval
        however many records came (the page then asks for what it shows)."""
        while True:
            await self._tick.wait()
            self._tick.clear()
            held = self.state.sizes()
            for kind, size in held.items():
                self.metrics.held.labels(kind).set(size)
            self._announced = self.state.version
            self._changed.set()
            self._changed = asyncio.Event()
            await asyncio.sleep(self.config.update_interval_s)

    def web_app(self) -> web.Application:
        app = web.Application(middlewares=[auth_middleware(self.web.secret)],
                              client_max_size=64 * 1024)
        app.on_response_prepare.append(add_security_headers)
        app.add_routes([
            web.get("/", self.index), web.get("/api/home", self.home),
            web.get("/api/entity/{entity_id}", self.entity),
            web.get("/api/article/{article_id}", self.article),
            web.get("/api/search", self.search), web.get("/api/updates", self.updates),
            web.get("/healthz", self.healthz), web.get("/readyz", self.readyz),
            web.get("/metrics", self.prometheus),
        ])
        app.router.add_static("/static/", STATIC)
        app.on_startup.append(self._start_tasks)
        app.on_cleanup.append(self._stop_tasks)
        return app

    async def _start_tasks(self, app: web.Application) -> None:
        self._tasks = [asyncio.create_task(self._keep_consuming()),
                       asyncio.create_task(self.announce())]

    async def _keep_consuming(self) -> None:
        """The consumer, restarted after a failure (a broker that vanished and came back)."""
        while True:
            try:
                await self.consume()
            except asyncio.CancelledError:
                raise
            except Exception:  # logged by consume(); the page and /healthz say it
                await asyncio.sleep(2.0)

    async def _stop_tasks(self, app: web.Application) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def home(self, request: web.Request) -> web.Response:
        query = request.query
        window = query.get("window") or TOTAL
        n = min(max(_int(query.get("n")) or 25, 1), MAX_TOP)
        top = self.state.top(window, _int(query.get("start")), query.get("label") or None,
                             query.get("language") or None, n=n)
        feed = self.state.feed(FEED_ITEMS, since=_int(query.get("since")))
        return _json({"version": self.state.version, "windows": self.state.window_names(),
                      "languages": self.state.language_names(),
                      "top": top, "trending": self.state.trending_board(
                          query.get("trending") or (None if window == TOTAL else window)),
                      "feed": feed, "status": self.status.as_json(),
                      "deadletters": self.state.deadletters(),
                      "held": self.state.sizes()})

    async def entity(self, request: web.Request) -> web.Response:
        entity_id = request.match_info["entity_id"]
        found = None if len(entity_id) > MAX_ID_CHARS else self.state.entity(entity_id)
        if found is None:
            return _json({"error": "no such entity in the dashboard's state"}, status=404)
        return _json(found)

    async def article(self, request: web.Request) -> web.Response:
        article_id = request.match_info["article_id"]
        found = None if len(article_id) > MAX_ID_CHARS else self.state.article(article_id)
        if found is None:
            return _json({"error": "article not (or no longer) held: the dashboard keeps the "
                                   f"latest {self.state.limits.articles}"}, status=404)
        return _json(found)

    async def search(self, request: web.Request) -> web.Response:
        return _json({"entities": self.state.search(request.query.get("q", "")[:MAX_QUERY_CHARS])})

    async def updates(self, request: web.Request) -> web.StreamResponse:
        """A WebSocket that says "changed" (with the version and the read status) at most once
        per update interval. A WebSocket, not server-sent events: those hold one of the
        browser's six HTTP/1.1 connections per host for as long as the page is open, so a
        seventh tab (or a page kept in the back-forward cache) would wait for a free one."""
        if not same_origin(request.headers.get("Origin"), request.host):
            # Another site's page in the user's browser (which would send the user's
            # credentials along): refused.
            return _json({"error": "cross-origin WebSocket refused"}, status=403)
        if self._clients >= self.config.max_clients:
            return _json({"error": "too many pages connected"}, status=503)
        socket = web.WebSocketResponse(heartbeat=KEEPALIVE_S,
                                       max_msg_size=MAX_SOCKET_MESSAGE_BYTES)
        await socket.prepare(request)
        self._clients += 1
        self.metrics.clients.inc()
        closed = asyncio.create_task(_drain(socket))  # reads the close (and ignores the rest)
        try:
            await socket.send_bytes(_event(self.state.version, self.status))
            while not closed.done():
                changed = self._changed
                waiting = asyncio.create_task(changed.wait())
                await asyncio.wait({waiting, closed}, timeout=KEEPALIVE_S,
                                   return_when=asyncio.FIRST_COMPLETED)
                waiting.cancel()
                if changed.is_set() and not socket.closed:
                    await socket.send_bytes(_event(self._announced, self.status))
        except (ConnectionResetError, RuntimeError):  # the page went away mid-send
            pass
        finally:
            closed.cancel()
            self._clients -= 1
            self.metrics.clients.dec()
            await socket.close()
        return socket

    async def healthz(self, request: web.Request) -> web.Response:
        alive = all(not task.done() for task in self._tasks)
        return _json({"alive": alive, **self.status.as_json()}, status=200 if alive else 503)

    async def readyz(self, request: web.Request) -> web.Response:
        ready = self.status.caught_up and self.status.broker_ok
        reason = None if ready else ("broker unreachable" if not self.status.broker_ok
                                     else "still reading the topics")
        return _json({"ready": ready, "reason": reason, **self.status.as_json()},
                     status=200 if ready else 503)

    async def prometheus(self, request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(self.metrics.registry),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})


def _json(value: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(value), status=status,
                        content_type="application/json")


def _event(version: int, status: ReadStatus) -> bytes:
    return orjson.dumps({"version": version, "status": status.as_json()})


async def _drain(socket: web.WebSocketResponse) -> None:
    async for _ in socket:
        pass


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def serve(settings: Settings) -> None:
    """Run the dashboard until SIGINT/SIGTERM."""
    config = settings.dashboard
    dashboard = Dashboard(config, settings.topics, settings.connection, settings.web)
    log.info("dashboard on http://%s:%d/", config.host, config.port)
    web.run_app(dashboard.web_app(), host=config.host, port=config.port, print=None,
                access_log=None)
