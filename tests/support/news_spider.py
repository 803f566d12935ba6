"""A Scrapy spider as a crawler team writes one: the front page's links, one item per article
page, with the raw-article fields; run by tests/integration/test_crawlers.py with
``scrapy runspider`` and newsstream's item pipeline."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import scrapy


class NewsSpider(scrapy.Spider):  # type: ignore[misc]  # Scrapy ships partial types
    name = "news"
    custom_settings = {  # noqa: RUF012  # Scrapy reads a plain dict here
        "ITEM_PIPELINES": {"stream.tools.scrapy_pipeline.NewsstreamPipeline": 800},
        "ROBOTSTXT_OBEY": False,
    }

    def __init__(self, site: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_urls = [site + "/"]

    def parse(self, response: Any) -> Iterator[Any]:
        for href in response.css("a::attr(href)").getall():
            yield response.follow(href, self.article)
        # An item that is no raw article (not an http(s) page): counted, never sent.
        yield {"url": "ftp://example.id/listing", "body": "not a page"}

    def article(self, response: Any) -> Iterator[dict[str, Any]]:
        media = response.headers.get("Content-Type", b"text/html").decode().split(";")[0]
        yield {"url": response.url, "body": response.text, "content_type": media}
