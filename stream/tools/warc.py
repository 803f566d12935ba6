"""WARC files (WARC/1.0 and 1.1, whole or gzip per record) as raw articles, for
``newsstream produce`` and ``newsstream process``: what Heritrix, StormCrawler, Browsertrix,
``wget --warc-file`` and Common Crawl's CC-NEWS write.

Each ``response`` record with a 2xx HTTP answer of HTML or plain text becomes one raw article:
``url`` from ``WARC-Target-URI``, ``fetched_at`` from ``WARC-Date``, the HTTP body de-chunked and
decompressed (warcio) and decoded as a browser would (w3lib: byte-order mark, the HTTP charset,
the page's own ``<meta>`` declaration, else UTF-8 when it is valid and windows-1252 when not),
and an ``id`` from the ``WARC-Record-ID`` (so the same capture sent twice is one article).
Other records are skipped and counted by kind; a truncated or corrupt record is one line in
:attr:`WarcTally.problems` and the file goes on where it can. One record is in memory at a time.
"""

from __future__ import annotations

import hashlib
import sys
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import orjson
from tqdm import tqdm
from w3lib.encoding import html_to_unicode
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from stream import SCHEMA_VERSION
from stream.ingest.urls import url_problem

WARC_SUFFIXES = (".warc", ".warc.gz")
# The media types that are articles, and the raw-article content type each becomes.
ARTICLE_TYPES = {"text/html": "text/html", "application/xhtml+xml": "text/html",
                 "text/plain": "text/plain"}

Located = tuple[str, bytes | None, bytes]  # where, key, value (as stream.tools.producing)


def is_warc(name: str) -> bool:
    return name.lower().endswith(WARC_SUFFIXES)


@dataclass
class WarcTally:
    """What the WARC files held besides the articles: records skipped by kind, and problems
    (truncated or corrupt records), one line each."""

    skipped: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def summary(self) -> list[str]:
        lines = list(self.problems)
        if self.skipped:
            kinds = ", ".join(f"{count} {kind}" for kind, count in self.skipped.most_common())
            lines.append(f"WARC records skipped (not articles): {kinds}")
        return lines


class _Counting:
    """The file as warcio reads it, counting bytes: for the progress bar, and to see a tail
    that made no record."""

    def __init__(self, raw: BinaryIO, bar: tqdm[Any]) -> None:
        self.raw, self.bar, self.offset = raw, bar, 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(size)
        self.offset += len(chunk)
        self.bar.update(len(chunk))
        return chunk

    def tell(self) -> int:
        return self.offset


def article_id_of_record(record_id: str) -> str:
    """A stable article id for a WARC record: 16 hex digits of the SHA-1 of its record id."""
    return hashlib.sha1(record_id.encode("utf-8")).hexdigest()[:16]


def _browser_default(body: bytes) -> str:
    """The encoding of a page that declares none: UTF-8 when it decodes as such, else
    windows-1252 (what browsers fall back to for Western pages)."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def decode_body(content_type: str | None, body: bytes) -> str:
    """The HTTP body as text, decoded as a browser would (see the module's docstring)."""
    _encoding, text = html_to_unicode(content_type, body, default_encoding="utf-8",
                                      auto_detect_fun=_browser_default)
    return str(text)


def raw_article(url: str, warc_date: str | None, record_id: str, content_type: str,
                text: str) -> dict[str, Any]:
    """The raw-article payload of one response record."""
    article: dict[str, Any] = {"schema_version": SCHEMA_VERSION,
                               "id": article_id_of_record(record_id), "url": url,
                               "content_type": content_type, "body": text}
    if warc_date:
        article["fetched_at"] = warc_date
    return article


def _media_type(content_type: str | None) -> str:
    """``text/html`` of ``text/html; charset=utf-8``."""
    return (content_type or "").split(";")[0].strip().lower()


def _skip_reason(record: Any) -> str | None:
    """Why a record is no article (None: it is one)."""
    if record.rec_type != "response":
        return f"{record.rec_type} records"
    url = record.rec_headers.get_header("WARC-Target-URI") or ""
    if not url.startswith(("http://", "https://")) or url_problem(url):
        return "non-http(s) responses"
    http = record.http_headers
    status = (http.get_statuscode() if http is not None else "") or ""
    if not status.startswith("2"):
        return f"HTTP {status or 'status-less'} responses"
    if _media_type(http.get_header("Content-Type")) not in ARTICLE_TYPES:
        return "responses that are not HTML or text"
    return None


def warc_articles(stream: BinaryIO, where: str, tally: WarcTally) -> Iterator[Located]:
    """The raw articles of one WARC stream, as (where, key, value); what is skipped and what is
    wrong goes to ``tally``."""
    with tqdm(desc=f"⇐ {where}", unit="B", unit_scale=True, unit_divisor=1024,
              disable=None, file=sys.stderr, leave=False) as bar:
        counting = _Counting(stream, bar)
        records = ArchiveIterator(counting)
        number = 0
        try:
            for record in records:
                number += 1
                located = _article(record, f"{where} record {number}", tally)
                if located is not None:
                    yield located
        except (ArchiveLoadFailed, OSError, EOFError, ValueError, zlib.error) as error:
            # the message may quote the corrupt bytes: printable ones only reach the terminal
            shown = "".join(c if c.isprintable() else "?" for c in str(error))[:160]
            tally.problems.append(f"{where}: corrupt after record {number} (offset "
                                  f"{records.offset}): {shown}; the rest of the file is skipped")
            return
        left = counting.offset - records.offset
        if left > 0:
            tally.problems.append(f"{where}: the file ends in an incomplete record (offset "
                                  f"{records.offset}, {left} bytes): skipped")


def _article(record: Any, where: str, tally: WarcTally) -> Located | None:
    reason = _skip_reason(record)
    if reason is not None:  # warcio reads past it to the next record
        tally.skipped[reason] += 1
        return None
    headers = record.rec_headers
    url = headers.get_header("WARC-Target-URI")
    body = record.content_stream().read()
    cut = headers.get_header("WARC-Truncated")
    if record.raw_stream.limit > 0 or cut:
        why = f"truncated by the crawler ({cut})" if cut else (
            f"truncated: {record.raw_stream.limit} of its {record.length} bytes are missing")
        tally.problems.append(f"{where} ({url}): {why}; skipped")
        return None
    if not body:
        tally.skipped["responses with an empty body"] += 1
        return None
    content_type = record.http_headers.get_header("Content-Type")
    article = raw_article(url, headers.get_header("WARC-Date"),
                          headers.get_header("WARC-Record-ID") or url,
                          ARTICLE_TYPES[_media_type(content_type)],
                          decode_body(content_type, body))
    return where, article["id"].encode(), orjson.dumps(article)
