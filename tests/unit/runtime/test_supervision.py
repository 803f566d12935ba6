"""The worker's self-repair of a partition that stopped with records to process."""

from typing import Any

from stream.config import Settings
from stream.runtime.health import Progress
from stream.runtime.housekeeping import Pacer
from stream.runtime.metrics import Metrics
from stream.runtime.supervision import refetch_after_s, refetch_stalled


class TP:
    def __init__(self, topic: str, partition: int) -> None:
        self.topic, self.partition = topic, partition

    def __repr__(self) -> str:
        return f"{self.topic}/{self.partition}"


class Consumer:
    def __init__(self, highwaters: dict[Any, int]) -> None:
        self.highwaters = highwaters
        self.seeks: list[tuple[Any, int]] = []

    def highwater(self, tp: Any) -> int | None:
        return self.highwaters.get(tp)

    async def seek_wait(self, offsets: dict[Any, int]) -> None:
        self.seeks.extend(offsets.items())


class Ctx:
    def __init__(self, consumer: Consumer, progress: Progress) -> None:
        settings = Settings(article_budget_s=20.0, stall_ready_s=60.0)
        self.worker, self.limits = settings.worker, settings.limits
        self.app = type("App", (), {"consumer": consumer})()
        self.progress = progress
        self.metrics = Metrics()


async def test_a_partition_stopped_with_records_to_process_is_fetched_again() -> None:
    stuck, idle, busy = TP("articles", 0), TP("raw", 1), TP("raw", 2)
    consumer = Consumer({stuck: 120, idle: 40, busy: 90})
    progress = Progress()
    progress.assigned([stuck, idle, busy], now=0.0, committed=lambda tp: 0)
    progress.finished(stuck, 99, now=1.0)  # next: 100, 20 records waiting
    progress.finished(idle, 39, now=1.0)  # caught up: nothing to process
    progress.finished(busy, 50, now=60.0)  # made progress recently
    ctx: Any = Ctx(consumer, progress)
    pacer = Pacer(refetch_after_s(ctx.worker, ctx.limits))
    assert refetch_after_s(ctx.worker, ctx.limits) == 30.0
    assert await refetch_stalled(ctx, pacer, now=20.0) == []  # not long enough yet
    assert await refetch_stalled(ctx, pacer, now=45.0) == [stuck]
    assert consumer.seeks == [(stuck, 100)]
    assert await refetch_stalled(ctx, pacer, now=50.0) == []  # once per interval
    assert await refetch_stalled(ctx, pacer, now=76.0) == [stuck]
    assert ctx.metrics.refetches._value.get() == 2


async def test_a_refetch_that_fails_is_logged_and_the_others_go_on() -> None:
    gone, stuck = TP("raw", 0), TP("raw", 1)

    class Revoking(Consumer):
        async def seek_wait(self, offsets: dict[Any, int]) -> None:
            if gone in offsets:
                raise RuntimeError("partition not assigned")
            await super().seek_wait(offsets)

    consumer = Revoking({gone: 10, stuck: 10})
    progress = Progress()
    progress.assigned([gone, stuck], now=0.0, committed=lambda tp: 3)
    ctx: Any = Ctx(consumer, progress)
    assert await refetch_stalled(ctx, Pacer(30.0), now=40.0) == [stuck]
    assert consumer.seeks == [(stuck, 3)]
