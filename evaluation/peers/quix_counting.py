"""Quix Streams counting the counting bench's entity events, as a user choosing a stream library
would write it: the running total with ``.apply(stateful=True)`` and one
``tumbling_window(...).agg(Sum, Count).current()`` branch per window size, one output record
per change, RocksDB state with changelog topics, at-least-once.

Run by :mod:`evaluation.counting` with the Python of the Quix environment
(``.venv-quix``: quixstreams pins confluent-kafka < 2.13 and pydantic < 2.14, older than
newsstream's); it imports nothing of newsstream. Prints one JSON line: the events processed
and the seconds from the first processed to the last (start-up excluded, as the newsstream
figure excludes the worker's start).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from typing import Any

from quixstreams import Application
from quixstreams.dataframe.windows import Count, Sum
from quixstreams.models.topics.manager import TopicManager

_derive = TopicManager.derive_topic_config.__func__  # type: ignore[attr-defined]


def _derive_with_retention(cls: Any, topics: Any) -> Any:
    # The embedded broker's DescribeConfigs omits retention.ms, which Quix requires of the
    # input topic to size its changelogs: unlimited, as the broker keeps everything.
    for topic in topics:
        topic.broker_config.extra_config.setdefault("retention.ms", "-1")
    return _derive(cls, topics)


TopicManager.derive_topic_config = classmethod(_derive_with_retention)  # type: ignore[assignment]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--broker", required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--windows", default="60,3600,86400")
    args = parser.parse_args()
    processed = 0
    first = last = 0.0

    def on_processed(_topic: str, _partition: int, _offset: int) -> None:
        nonlocal processed, first, last
        now = time.perf_counter()
        processed += 1
        if processed == 1:
            first = now
        last = now
        if processed == args.events:
            app.stop()

    with tempfile.TemporaryDirectory() as state_dir:
        app = Application(
            broker_address=args.broker, consumer_group=f"quix-{args.input}",
            auto_offset_reset="earliest", processing_guarantee="at-least-once",
            state_dir=state_dir, on_message_processed=on_processed,
            consumer_extra_config={"session.timeout.ms": 6000})
        source = app.topic(args.input, key_deserializer="str", value_deserializer="json",
                           timestamp_extractor=lambda value, *_: int(value["event_time"] * 1000))
        output = app.topic(args.output, value_serializer="json")
        events = app.dataframe(source)

        def total(value: dict[str, Any], state: Any) -> dict[str, Any]:
            mentions = state.get("mentions", 0) + value["mentions"]
            articles = state.get("articles", 0) + 1
            state.set("mentions", mentions)
            state.set("articles", articles)
            return {"entity_id": value["entity_id"], "window": "total", "mentions": mentions,
                    "articles": articles}

        events.apply(total, stateful=True).to_topic(output)
        for size in (int(size) for size in args.windows.split(",")):
            events.tumbling_window(duration_ms=size * 1000).agg(
                mentions=Sum("mentions"), articles=Count()).current().to_topic(output)
        app.run()
    json.dump({"events": processed, "seconds": last - first}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
