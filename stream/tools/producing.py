"""Moving records between files and topics: ``newsstream produce`` and ``newsstream tail``."""

from __future__ import annotations

import asyncio
import difflib
import itertools
import logging
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from tqdm import tqdm

from stream import SCHEMA_VERSION
from stream.config import Connection
from stream.ingest.deadletters import Rejected
from stream.ingest.payloads import article_id_of, decode_raw_article
from stream.ingest.urls import article_id_from_url
from stream.runtime import transport
from stream.runtime.connection import client_options, compression
from stream.tools.broker import within
from stream.tools.jsonl import iter_lines
from stream.tools.warc import WarcTally, is_warc, warc_articles

log = logging.getLogger(__name__)

JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
MAX_REQUEST_BYTES = 16 * 1024 * 1024

Record = tuple[bytes | None, bytes]


def _files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())
        else:
            yield path


def _key_of(line: bytes) -> bytes | None:
    """Records are keyed by article id (or URL) so that re-sends land in the same partition."""
    article_id = article_id_of(line)
    return article_id.encode() if article_id is not None else None


def article_from_file(path: Path, url_prefix: str, url: str | None = None) -> Record:
    """An HTML or text file as a raw article: its URL is ``url``, else the prefix and the
    file's name (quoted: the raw-article schema wants an http(s) URL)."""
    url = url or url_prefix + quote(path.name)
    content_type = "text/html" if path.name.lower().endswith(HTML_SUFFIXES) else "text/plain"
    body = path.read_text(encoding="utf-8", errors="replace")
    article = {"schema_version": SCHEMA_VERSION, "url": url, "content_type": content_type,
               "body": body}
    return article_id_from_url(url).encode(), orjson.dumps(article)


def records_from_paths(paths: Iterable[Path], url_prefix: str,
                       url: str | None = None) -> Iterator[Record]:
    """(key, value) of each record of ``paths``; what a WARC among them held besides
    articles is logged at the end."""
    warc = WarcTally()
    for _where, key, value in located_records(paths, url_prefix, url, warc):
        yield key, value
    for line in warc.summary():
        log.warning(line)


def located_records(paths: Iterable[Path], url_prefix: str, url: str | None,
                    warc: WarcTally) -> Iterator[tuple[str, bytes | None, bytes]]:
    """(where, key, value) of each record of ``paths``: "file line N" for JSONL, "file record
    N" for WARC (what a WARC holds besides articles is told to ``warc``)."""
    for path in _files(paths):
        if path.name.lower().endswith(JSONL_SUFFIXES):
            for number, line in enumerate(iter_lines(path, keep_blank=True), start=1):
                if line:  # blank lines are no records
                    yield f"{path} line {number}", _key_of(line), line
        elif is_warc(path.name):
            with path.open("rb") as stream:
                yield from warc_articles(stream, str(path), warc)
        else:
            yield str(path), *article_from_file(path, url_prefix, url)


@dataclass(slots=True)
class Checked:
    """The records of some files as the worker's first stage takes them, noted while they
    are sent (:func:`valid_records`)."""

    total: int = 0
    invalid: dict[int, str] = field(default_factory=dict)  # record number → where and why

    def summary(self, shown: int = 3) -> list[str]:
        """Lines for the terminal: how many are invalid, and the first few."""
        if not self.invalid:
            return []
        lines = [f"{len(self.invalid)} of {self.total} records are not valid raw articles:"]
        lines += [f"  {problem}" for problem in list(self.invalid.values())[:shown]]
        if len(self.invalid) > shown:
            lines.append(f"  … and {len(self.invalid) - shown} more")
        return lines


def valid_records(records: Iterable[tuple[str, bytes | None, bytes]], max_bytes: int,
                  checked: Checked, send_invalid: bool = False) -> Iterator[Record]:
    """The records the worker's first stage would take, in one pass (a WARC is read once);
    the others are noted in ``checked`` and left out, unless ``send_invalid``."""
    for number, (where, key, value) in enumerate(records):
        checked.total += 1
        try:
            decode_raw_article(value, max_bytes)
        except Rejected as rejected:
            checked.invalid[number] = f"{where}: {rejected.code}: {rejected.reason[:200]}"
            if not send_invalid:
                continue
        yield key, value


async def topic_exists(connection: Connection, topic: str, what: str) -> tuple[bool, str | None]:
    """Whether ``topic`` exists on the broker, and if not the closest name that does; ``what``
    the command is about to do, for the error that says the broker cannot be had."""
    admin = AIOKafkaAdminClient(**client_options(connection))
    try:
        await within(connection, admin.start(), what)
        names = await within(connection, admin.list_topics(), what)
    finally:
        await admin.close()
    if topic in names:
        return True, None
    close = difflib.get_close_matches(topic, [n for n in names if not n.startswith("__")],
                                      n=1, cutoff=0.6)
    return False, close[0] if close else None


async def read_ahead(records: Iterable[Record], size: int = 64) -> AsyncIterator[list[Record]]:
    """``records`` in lists of ``size``, the next list read in a thread while the caller sends
    this one: reading a file (a WARC's gzip, the checks) and sending then overlap instead of
    taking turns on the event loop."""
    loop = asyncio.get_running_loop()
    iterator = iter(records)

    def take() -> list[Record]:
        return list(itertools.islice(iterator, size))

    upcoming = loop.run_in_executor(None, take)
    while batch := await upcoming:
        upcoming = loop.run_in_executor(None, take)
        yield batch


async def produce_records(connection: Connection, topic: str, records: Iterable[Record],
                          progress: bool = True,
                          partition_of: Callable[[bytes | None], int] | None = None) -> int:
    """Send ``records`` (key, value) to ``topic``; ``partition_of`` picks each record's
    partition from its key (default: the producer's partitioner)."""
    producer = AIOKafkaProducer(
        **client_options(connection),
        compression_type=compression(connection),
        linger_ms=int(connection.linger_s * 1000),
        max_request_size=MAX_REQUEST_BYTES,
        acks="all",
    )
    try:
        await within(connection, producer.start(), f"send to {topic}")
    except BaseException:
        await producer.stop()
        raise
    sent = 0
    try:
        pending = []
        with tqdm(desc=f"→ {topic}", unit="rec", disable=None if progress else True,
                  file=sys.stderr) as bar:
            async for batch in read_ahead(records):
                for key, value in batch:
                    partition = partition_of(key) if partition_of is not None else None
                    pending.append(await producer.send(topic, value=value, key=key,
                                                       partition=partition))
                sent += len(batch)
                bar.update(len(batch))
                if len(pending) >= 500:
                    await asyncio.gather(*pending)
                    pending.clear()
            await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent


def _decode(message: Any) -> Any:
    undecodable = transport.undecodable_reason(message.headers)
    if undecodable is not None:
        return {"undecodable": undecodable, "topic": message.topic,
                "partition": message.partition, "offset": message.offset}
    value = message.value
    if value is None:
        return None
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return value.decode("utf-8", errors="replace")


async def consume_topic(connection: Connection, topic: str, from_beginning: bool = True,
                        max_records: int | None = None,
                        idle_timeout: float | None = None) -> Any:
    """Yield decoded values of ``topic`` (an async generator; no consumer group)."""
    transport.install()
    consumer = AIOKafkaConsumer(
        topic,
        **client_options(connection),
        group_id=None,
        auto_offset_reset="earliest" if from_beginning else "latest",
        enable_auto_commit=False,
        fetch_max_bytes=MAX_REQUEST_BYTES * 4,
        max_partition_fetch_bytes=MAX_REQUEST_BYTES,
    )
    try:
        await within(connection, consumer.start(), f"read {topic}")
    except BaseException:
        await consumer.stop()
        raise
    count = 0
    last = time.monotonic()
    try:
        while max_records is None or count < max_records:
            batches = await consumer.getmany(timeout_ms=200)
            if not batches:
                if idle_timeout is not None and time.monotonic() - last > idle_timeout:
                    return
                continue
            last = time.monotonic()
            for messages in batches.values():
                for message in messages:
                    yield _decode(message)
                    count += 1
                    if max_records is not None and count >= max_records:
                        return
    finally:
        await consumer.stop()


async def tail_topic(connection: Connection, topic: str, from_beginning: bool,
                     max_records: int | None, idle_timeout: float | None) -> None:
    out = sys.stdout.buffer
    async for value in consume_topic(connection, topic, from_beginning, max_records,
                                     idle_timeout):
        out.write(orjson.dumps(value) + b"\n")
        out.flush()
