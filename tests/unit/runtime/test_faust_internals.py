"""Each use of faust's internals (stream/runtime/faust_internals.py) on its own, without a broker:
a faust release that renames one fails here, in seconds, not in the 4-minute stream tests."""

from collections import Counter
from typing import Any

import pytest
from faust.tables.recovery import Recovery
from faust.types import TP as FaustTP

from stream.config import Settings
from stream.runtime import faust_internals
from stream.runtime.faust_internals import (
    VERIFIED_FAUST,
    NewsstreamApp,
    NewsstreamTableManager,
    TrueEndRecovery,
    WorkAlignedConsumer,
    check_faust_version,
    committed_offset,
    start_offset,
)
from stream.runtime.transport import check_aiokafka_version
from stream.runtime.versions import UnverifiedLibrary


@pytest.fixture(scope="module")
def app() -> Any:
    return NewsstreamApp("t-internals", broker="kafka://127.0.0.1:1", store="memory://",
                         autodiscover=False, TableManager=NewsstreamTableManager)


class TP:
    def __init__(self, topic: str, partition: int = 0) -> None:
        self.topic, self.partition = topic, partition


def test_the_installed_faust_and_aiokafka_are_verified_ones() -> None:
    check_faust_version()
    check_aiokafka_version()


def test_another_faust_is_refused_with_both_versions_named() -> None:
    with pytest.raises(UnverifiedLibrary) as refused:
        check_faust_version("0.16.0")
    assert "0.16.0" in str(refused.value) and VERIFIED_FAUST[-1] in str(refused.value)
    with pytest.raises(UnverifiedLibrary, match=r"0\.15\.0 is installed"):
        check_aiokafka_version("0.15.0")


def test_the_app_builds_its_transport_with_the_work_aligned_consumer(app: Any) -> None:
    assert app._new_transport().Consumer is WorkAlignedConsumer
    assert isinstance(app.consumer, WorkAlignedConsumer)


def test_the_worker_consumer_fetches_with_the_configured_wait(app: Any) -> None:
    import asyncio

    app.newsstream_fetch_max_wait_s = 0.05

    async def create() -> Any:  # aiokafka builds its consumer inside a running loop
        return app.consumer._new_consumer_thread()._create_consumer(
            loop=asyncio.get_running_loop())

    consumer = asyncio.run(create())
    assert consumer._fetch_max_wait_ms == 50  # faust's own is 1,500


def test_read_offsets_are_off_for_agent_topics_and_kept_for_changelogs(app: Any) -> None:
    offsets = app.consumer._read_offset
    changelog, raw = TP("newsstream-entity-counts-changelog"), TP("articles.raw")
    offsets[changelog] = 41
    offsets[raw] = 17
    assert offsets[changelog] == 41  # a changelog record is never applied twice
    assert offsets[raw] is None  # every fetched message of an agent's topic is delivered


def test_committed_offsets_are_read_where_faust_keeps_them(app: Any) -> None:
    tp = TP("articles.raw", 2)
    app.consumer._committed_offset[tp] = 12
    assert committed_offset(app.consumer, tp) == 12
    assert committed_offset(app.consumer, TP("other")) is None


async def test_partitions_with_no_commit_are_sought_to_their_log_start(
        app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    consumer = app.consumer
    committed, fresh = FaustTP("articles.raw", 0), FaustTP("articles.raw", 1)
    changelog = FaustTP("x-changelog", 0)
    sought: list[tuple[Any, int]] = []
    rewound: list[Any] = []

    async def seek_to_committed() -> dict[Any, int | None]:
        return {committed: 5, fresh: None, changelog: None}

    async def earliest_offsets(*tps: Any) -> dict[Any, int]:
        return {tp: 3 for tp in tps}

    async def seek_wait(offsets: dict[Any, int]) -> None:
        sought.extend(offsets.items())

    async def seek_to_log_start(tps: list[Any]) -> None:
        rewound.extend(tps)

    monkeypatch.setattr(consumer, "seek_to_committed", seek_to_committed)
    monkeypatch.setattr(consumer, "assignment", lambda: {committed, fresh, changelog})
    monkeypatch.setattr(consumer, "_is_changelog_tp", lambda tp: tp == changelog)
    monkeypatch.setattr(consumer, "earliest_offsets", earliest_offsets)
    monkeypatch.setattr(consumer, "seek_wait", seek_wait)
    monkeypatch.setattr(consumer, "seek_to_log_start", seek_to_log_start)
    await consumer.perform_seek()
    # faust's own seek left the partition with no commit where its fetch had got to
    assert sought == [(fresh, 3)]
    assert start_offset(consumer, committed) == 5 and start_offset(consumer, fresh) == 3
    assert start_offset(consumer, changelog) is None  # recovery places changelogs

    async def unreachable(*tps: Any) -> dict[Any, int]:
        raise OSError("broker gone")

    monkeypatch.setattr(consumer, "earliest_offsets", unreachable)
    await consumer.perform_seek()
    assert rewound == [fresh] and start_offset(consumer, fresh) is None


async def test_no_commit_once_the_worker_stops(app: Any) -> None:
    class Stopping:
        stopping = True

    stopping: Any = Stopping()
    assert await WorkAlignedConsumer.commit(stopping) is False


async def test_a_commit_waits_for_queued_changelog_writes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    class Buffer:
        max_messages = 10

        def __init__(self, size: int, drains: bool) -> None:
            self.size, self.drains = size, drains

        async def flush_atmost(self, n: int) -> int:
            if self.drains:
                self.size = max(0, self.size - n)
            return n

    class App:
        def __init__(self, buffer: Buffer) -> None:
            self.producer = type("Producer", (), {"buffer": buffer})()

    drains = Buffer(25, drains=True)
    assert await faust_internals.drain_changelog_queue(App(drains)) is True
    assert drains.size == 0
    monkeypatch.setattr(faust_internals, "DRAIN_TIMEOUT_S", 0.05)
    assert await faust_internals.drain_changelog_queue(App(Buffer(5, drains=False))) is False


def test_tables_recover_with_the_true_end_recovery(app: Any) -> None:
    assert isinstance(app.tables, NewsstreamTableManager)
    assert isinstance(app.tables.recovery, TrueEndRecovery)
    assert app.tables.recovery is app.tables.recovery  # built once, cached where faust does


async def test_recovery_reads_changelogs_to_the_end_that_fetch_reports(
        monkeypatch: pytest.MonkeyPatch) -> None:
    short, empty = TP("counts-changelog", 0), TP("counts-changelog", 1)

    async def listed(self: Any, consumer: Any, tps: Any, destination: Counter[Any],
                     title: str) -> None:
        destination[short] = 4  # ListOffsets: last record at 4 (end 5), one batch short
        destination[empty] = -1

    async def fetched(bootstrap: str, reported: dict[Any, int]) -> dict[Any, int]:
        assert reported == {short: 5, empty: 0}
        return {short: 9, empty: 0}

    monkeypatch.setattr(Recovery, "_build_highwaters", listed)
    monkeypatch.setattr(faust_internals, "true_end_offsets", fetched)
    recovery = TrueEndRecovery.__new__(TrueEndRecovery)
    recovery.app = type("App", (), {"newsstream": type("Ctx", (), {
        "connection": Settings(broker_url="kafka://127.0.0.1:1").connection})()})()
    destination: Counter[Any] = Counter()
    await recovery._build_highwaters(None, [short, empty], destination, "table")
    assert destination == {short: 8, empty: -1}


def test_a_worker_at_warning_builds_no_debug_records() -> None:
    import logging
    import sys

    import faust

    from stream.runtime.app import faust_worker

    root = logging.getLogger()
    level, handlers, switch = root.level, list(root.handlers), sys.getswitchinterval()
    try:
        worker = faust_worker(faust.App("logging-check"), "warning")
        worker._setup_logging()
        assert root.level == logging.WARNING
        assert not logging.getLogger("aiokafka.producer.producer").isEnabledFor(logging.DEBUG)
        # the threads that carry records to the enrichment child get the GIL within 0.5 ms
        assert sys.getswitchinterval() <= 0.0005
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers
        sys.setswitchinterval(switch)
