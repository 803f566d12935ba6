"""Log-order delivery (stream.runtime.events.finished_events) over a scripted stand-in for faust's
stream: what the consumer hands over, and what the agent gets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiokafka.structs import TopicPartition

import stream.runtime.events
from stream.runtime.events import finished_events

TP = TopicPartition("raw", 0)


@dataclass
class Message:
    tp: TopicPartition
    offset: int


@dataclass
class Event:
    message: Message


@dataclass
class Consumer:
    committed: int
    earliest: int
    log_end: int
    delivered: list[int]  # the first fetch: what the consumer hands over before any seek
    seeks: list[int] = field(default_factory=list)
    _committed_offset: dict[TopicPartition, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._committed_offset[TP] = self.committed

    def assignment(self) -> set[TopicPartition]:
        return {TP}

    async def earliest_offsets(self, *tps: TopicPartition) -> dict[TopicPartition, int]:
        return {tp: self.earliest for tp in tps}

    async def seek_wait(self, offsets: dict[TopicPartition, int]) -> None:
        for offset in offsets.values():
            self.seeks.append(offset)
            self.delivered += list(range(offset, self.log_end))


@dataclass
class App:
    consumer: Consumer
    consumer_generation_id: int = 1


class Stream:
    def __init__(self, app: App) -> None:
        self.app = app
        self.acked: list[int] = []

    def noack(self) -> Stream:
        return self

    async def events(self) -> AsyncIterator[Event]:
        position = 0
        while position < len(self.app.consumer.delivered):
            yield Event(Message(TP, self.app.consumer.delivered[position]))
            position += 1

    async def ack(self, event: Event) -> None:
        self.acked.append(event.message.offset)


async def _run(consumer: Consumer) -> tuple[list[int], list[int]]:
    stream = Stream(App(consumer))
    processed = [event.message.offset async for event in finished_events(stream)]
    return processed, stream.acked


async def test_a_stale_batch_ahead_of_the_committed_offset_waits_for_its_turn() -> None:
    consumer = Consumer(committed=5, earliest=0, log_end=9, delivered=[7, 8, 5, 6, 7, 8])
    processed, _ = await _run(consumer)
    assert processed == [5, 6, 7, 8] and consumer.seeks == []


async def test_a_committed_offset_out_of_retention_resumes_at_the_log_start(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream.runtime.events, "OUT_OF_RANGE_CHECK_S", 0.0)
    # The broker dropped offsets 0-9; the consumer reset to the earliest offset and fetched.
    consumer = Consumer(committed=5, earliest=10, log_end=14, delivered=[10, 11, 12, 13])
    processed, acked = await _run(consumer)
    assert processed == [10, 11, 12, 13]  # each once, in order, none passed over
    assert acked == [10, 11, 12, 13]
    assert consumer.seeks == [10]


async def test_records_ahead_are_not_mistaken_for_lost_ones_before_the_check() -> None:
    consumer = Consumer(committed=5, earliest=10, log_end=14, delivered=[10, 11])
    processed, _ = await _run(consumer)
    assert processed == [] and consumer.seeks == []  # within OUT_OF_RANGE_CHECK_S: waits
