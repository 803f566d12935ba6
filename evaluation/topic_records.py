"""What a streamed run wrote: records and bytes (key and value, before compression) on every
topic of the broker, read back from the start of each partition once the pipeline is quiet
(the counts flushed, the trending boards published).

Read rather than taken from ListOffsets, which the embedded broker can answer short of the
true end.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

from evaluation.report import Table
from stream.config import Settings
from stream.runtime.connection import client_options
from stream.tools.broker import within


async def topic_names(settings: Settings) -> list[str]:
    consumer = AIOKafkaConsumer(**client_options(settings.connection), group_id=None)
    await within(settings.connection, consumer.start(), "list topics")
    try:
        return sorted(await consumer.topics())
    finally:
        await consumer.stop()


async def every_record(settings: Settings, topics: list[str], idle_s: float = 1.0
                       ) -> dict[str, tuple[int, int]]:
    """Per topic: its records and their bytes (key and value), read from the start of every
    partition until nothing more comes for ``idle_s``."""
    consumer = AIOKafkaConsumer(**client_options(settings.connection), group_id=None,
                                enable_auto_commit=False, auto_offset_reset="earliest")
    await within(settings.connection, consumer.start(), "read topics")
    counts = {topic: (0, 0) for topic in topics}
    try:
        partitions = [TopicPartition(topic, p) for topic in topics
                      for p in sorted(consumer.partitions_for_topic(topic) or [])]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        last = time.monotonic()
        while time.monotonic() - last < idle_s:
            batches = await consumer.getmany(timeout_ms=200, max_records=10_000)
            for tp, messages in batches.items():
                last = time.monotonic()
                records, size = counts[tp.topic]
                counts[tp.topic] = (records + len(messages), size + sum(
                    len(m.key or b"") + len(m.value or b"") for m in messages))
    finally:
        await consumer.stop()
    return counts


QUIET_S = 3.0  # no new record on any topic for this long: the run is done writing


@dataclass
class Written:
    records: Counter[str]
    payload_bytes: Counter[str]


async def written_when_quiet(settings: Settings) -> Written:
    """Every topic's records, once a read finds no more than the read before it and
    :data:`QUIET_S` has passed between them."""
    before = await _read_all(settings)
    while True:
        await asyncio.sleep(QUIET_S)
        now = await _read_all(settings)
        if now.records == before.records:
            return now
        before = now


async def _read_all(settings: Settings) -> Written:
    written = Written(Counter(), Counter())
    topics = [topic for topic in await topic_names(settings) if not topic.startswith("__")]
    for topic, (records, size) in (await every_record(settings, topics)).items():
        written.records[topic] = records
        written.payload_bytes[topic] = size
    return written


def per_article(written: Written, articles: int, input_topics: list[str]) -> Table:
    """Records and bytes per article on each topic newsstream writes (the input topics are
    the crawlers'), and all of them together."""
    table = Table("topic", "records", "records per article", "bytes per article")
    ours = sorted(t for t in written.records if t not in input_topics)
    for topic in ours:
        table.add(f"`{topic}`", written.records[topic],
                  f"{written.records[topic] / articles:.2f}",
                  f"{written.payload_bytes[topic] / articles:,.0f}")
    records = sum(written.records[t] for t in ours)
    size = sum(written.payload_bytes[t] for t in ours)
    table.add("**all topics newsstream writes**", records, f"**{records / articles:.2f}**",
              f"{size / articles:,.0f}")
    return table
