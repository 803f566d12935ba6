"""A Scrapy item pipeline that publishes each scraped item to newsstream's raw topic as a
raw article, so that existing spiders feed newsstream with two lines of settings::

    # settings.py of the Scrapy project
    ITEM_PIPELINES = {"stream.tools.scrapy_pipeline.NewsstreamPipeline": 800}
    NEWSSTREAM_BROKER_URL = "kafka://broker-1:9092;broker-2:9092"

Every ``NEWSSTREAM_*`` setting (TLS, SASL, compression, the input topic, the record size
limit; docs/configuration.md) is read from the Scrapy settings, else from the environment,
as the worker reads it. An item (a dict, a ``scrapy.Item``, a dataclass: anything
``itemadapter`` reads) carries the raw-article fields: ``url`` and ``body`` (the page's HTML,
e.g. ``response.text``), and optionally ``content_type`` (``text/html`` unless given),
``id``, ``fetched_at`` (when the item was scraped unless given), ``lang``, ``title``,
``published_at``, ``source``; other fields stay in Scrapy. Each record is checked against the
raw-article schema before it is sent: an invalid item is logged and counted
(``newsstream/invalid`` in the crawl's stats), never sent. Records are keyed by article id (the
item's, else derived from its URL), so that re-sends of one article stay in order in one
partition. The item goes on to the next pipeline either way.

Importing this module loads neither faust nor the NLP models: a crawler needs only aiokafka,
orjson and pydantic-settings at run time. It runs on Scrapy's asyncio reactor (the default
since Scrapy 2.13; ``TWISTED_REACTOR =
"twisted.internet.asyncioreactor.AsyncioSelectorReactor"`` before that).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from stream import SCHEMA_VERSION
from stream.clock import to_iso, utc_now
from stream.config import Connection, Limits, Settings
from stream.ingest.deadletters import Rejected
from stream.ingest.payloads import decode_raw_article
from stream.runtime.connection import client_options, compression

log = logging.getLogger(__name__)

OPTIONAL_FIELDS = ("id", "fetched_at", "lang", "title", "published_at", "source")


def raw_article_of(fields: Mapping[str, Any], scraped_at: datetime) -> dict[str, Any]:
    """The raw-article payload of an item's fields (dates become ISO 8601 text)."""
    article: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "url": fields.get("url"),
                               "content_type": fields.get("content_type") or "text/html",
                               "body": fields.get("body")}
    for name in OPTIONAL_FIELDS:
        value = fields.get(name)
        if isinstance(value, datetime | date):
            value = value.isoformat()
        if value is not None:
            article[name] = value
    article.setdefault("fetched_at", to_iso(scraped_at))
    return article


class NewsstreamPipeline:
    """Publishes items as raw articles (see the module's docstring)."""

    def __init__(self, connection: Connection, limits: Limits, topic: str, stats: Any) -> None:
        self.connection, self.limits, self.topic, self.stats = connection, limits, topic, stats
        self.producer: AIOKafkaProducer | None = None
        self.pending: set[asyncio.Future[Any]] = set()

    @classmethod
    def from_crawler(cls, crawler: Any) -> NewsstreamPipeline:
        given = {name.removeprefix("NEWSSTREAM_").lower(): value
                 for name, value in crawler.settings.items()
                 if name.startswith("NEWSSTREAM_")}
        settings = Settings(**given)
        return cls(settings.connection, settings.limits, settings.topics.inputs[0],
                   crawler.stats)

    async def open_spider(self, spider: Any = None) -> None:
        self.producer = AIOKafkaProducer(
            **client_options(self.connection), compression_type=compression(self.connection),
            linger_ms=int(self.connection.linger_s * 1000), acks="all",
            max_request_size=max(1 << 20, 2 * self.limits.max_payload_bytes))
        await self.producer.start()
        log.info("newsstream: publishing items to %s at %s", self.topic,
                 self.connection.bootstrap_servers)

    async def process_item(self, item: Any, spider: Any = None) -> Any:
        from itemadapter import ItemAdapter  # Scrapy's own: there whenever this runs

        value = orjson.dumps(raw_article_of(ItemAdapter(item).asdict(), utc_now()),
                             default=str)
        try:
            article_id = decode_raw_article(value, self.limits.max_payload_bytes).id
        except Rejected as rejected:
            self.stats.inc_value("newsstream/invalid")
            self.stats.inc_value(f"newsstream/invalid/{rejected.code}")
            log.warning("newsstream: item not sent, not a valid raw article (%s: %s): %s",
                        rejected.code, rejected.reason[:300], value[:200])
            return item
        assert self.producer is not None, "open_spider starts the producer"
        try:
            sent = await self.producer.send(self.topic, value=value, key=article_id.encode())
        except KafkaError as error:  # no metadata in time, a record the broker cannot take
            self.stats.inc_value("newsstream/failed")
            log.error("newsstream: an item could not be sent to %s: %r", self.topic, error)
            return item
        self.pending.add(sent)
        sent.add_done_callback(self._delivered)
        return item

    def _delivered(self, sent: asyncio.Future[Any]) -> None:
        self.pending.discard(sent)
        if sent.cancelled() or sent.exception() is not None:
            self.stats.inc_value("newsstream/failed")
            log.error("newsstream: an item could not be sent to %s: %s", self.topic,
                      "cancelled" if sent.cancelled() else sent.exception())
        else:
            self.stats.inc_value("newsstream/sent")

    async def close_spider(self, spider: Any = None) -> None:
        if self.producer is None:
            return
        if self.pending:
            await asyncio.gather(*self.pending, return_exceptions=True)
        await self.producer.stop()
