#!/usr/bin/env python3
"""The latest mention count of every entity, from newsstream's entities.mentions topic, with
confluent-kafka (librdkafka): what a dashboard keeps.

Each record is the latest count of one key, ``entity_id|window|window_start``: keep the latest
value per key (as a compacted topic does). The topic is read from its beginning, without a
consumer group (nothing to join, nothing committed); once every partition has been read to its
end, the counts of one window are printed, most mentioned first, then again as they change
(``--once``: print once and exit).

    pip install confluent-kafka
    python latest_counts.py --brokers 127.0.0.1:9092 --window total --top 10
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition


def newest(counts: dict[str, dict[str, Any]], window: str, top: int) -> list[dict[str, Any]]:
    """The ``top`` entities of ``window``'s newest start (the total has one), most mentions
    first."""
    rows = [count for count in counts.values() if count["window"] == window]
    start = max((count["window_start"] or 0 for count in rows), default=0)
    rows = [count for count in rows if (count["window_start"] or 0) == start]
    rows.sort(key=lambda c: (-c["mentions"], -c["articles"], c["entity"]["entity_id"]))
    return rows[:top]


def show(counts: dict[str, dict[str, Any]], window: str, top: int) -> None:
    for count in newest(counts, window, top):
        entity = count["entity"]
        print(f"{count['mentions']}\t{count['articles']}\t{entity['label']}\t{entity['name']}")
    print(flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--brokers", default="127.0.0.1:9092")
    parser.add_argument("--topic", default="entities.mentions")
    parser.add_argument("--window", default="total", help="total, 1m, 1h, 1d, ...")
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--once", action="store_true", help="print once caught up, and exit")
    args = parser.parse_args()

    consumer = Consumer({"bootstrap.servers": args.brokers, "group.id": "unused",
                         "enable.auto.commit": False, "enable.partition.eof": True})
    partitions = consumer.list_topics(args.topic, timeout=10).topics[args.topic].partitions
    consumer.assign([TopicPartition(args.topic, p, OFFSET_BEGINNING) for p in partitions])
    counts: dict[str, dict[str, Any]] = {}  # key → its latest count
    at_end: set[int] = set()  # partitions read to their end (librdkafka says so)
    changed = False
    try:
        while True:
            message = consumer.poll(1.0)
            if message is None:
                continue
            error = message.error()
            if error is not None and error.code() == KafkaError._PARTITION_EOF:
                at_end.add(message.partition() or 0)
                if at_end >= set(partitions) and (changed or not counts):
                    show(counts, args.window, args.top)
                    changed = False
                    if args.once:
                        return
                continue
            if error is not None:
                raise SystemExit(f"latest_counts: {error}")
            key, value = message.key(), message.value()
            if key is not None and value is not None:
                counts[key.decode()] = json.loads(value)
                changed = True
            at_end.discard(message.partition() or 0)
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()


if __name__ == "__main__":
    main()
