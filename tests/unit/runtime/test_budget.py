import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stream.pipeline import BudgetExceeded
from stream.runtime.budget import BudgetedExecutor, ChildCrashed, MemoryExceeded, process_gone


def _sleep_then(value: int, seconds: float) -> int:
    time.sleep(seconds)
    return value


def test_a_record_past_its_budget_is_stopped_and_the_next_one_runs() -> None:
    executor = BudgetedExecutor(0.5, "fork")
    try:
        assert executor.run(_sleep_then, 1, 0.0) == 1
        started = time.monotonic()
        with pytest.raises(BudgetExceeded):
            executor.run(_sleep_then, 2, 30.0)
        assert time.monotonic() - started < 5
        assert executor.run(_sleep_then, 3, 0.0) == 3
    finally:
        executor.close()


async def test_the_async_path_keeps_the_same_budget() -> None:
    executor = BudgetedExecutor(0.5, "fork")
    try:
        with pytest.raises(BudgetExceeded):
            await executor.run_async(_sleep_then, 1, 30.0)
        assert await executor.run_async(_sleep_then, 2, 0.0) == 2
    finally:
        executor.close()


OWNER = """
import os, time
from stream.runtime.budget import BudgetedExecutor
executor = BudgetedExecutor(5.0, "forkserver")
print(executor.run(os.getpid), flush=True)
time.sleep(60)
"""


def test_the_child_does_not_outlive_an_owner_killed_outright() -> None:
    owner = subprocess.Popen([sys.executable, "-c", OWNER], stdout=subprocess.PIPE)
    try:
        assert owner.stdout is not None
        child = int(owner.stdout.readline())
        assert not process_gone(child)
    finally:
        owner.kill()
        owner.wait()
    deadline = time.monotonic() + 10
    while not process_gone(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert process_gone(child)


def _die_once(marker: str) -> str:
    """Kills its process the first time (as the OOM killer would), answers the second."""
    if not os.path.exists(marker):
        open(marker, "w").close()
        os.kill(os.getpid(), signal.SIGKILL)
    return "done"


def _die(**_told: object) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _allocate(megabytes: int) -> int:
    block = bytearray(megabytes * 2**20)
    time.sleep(5)
    return len(block)


def test_a_child_killed_under_a_call_is_replaced_and_said_so(tmp_path: Path) -> None:
    restarts: list[str] = []
    executor = BudgetedExecutor(10, "fork", on_restart=restarts.append)
    try:
        with pytest.raises(ChildCrashed):
            executor.run(_die_once, str(tmp_path / "marker"))
        assert executor.run(_die_once, str(tmp_path / "marker")) == "done"
        assert restarts == ["crash"]
    finally:
        executor.close()


async def test_a_child_that_died_while_idle_is_replaced_by_supervision() -> None:
    restarts: list[str] = []
    executor = BudgetedExecutor(10, "fork", on_restart=restarts.append)
    try:
        await executor.start_async()
        assert executor.ready
        [pid] = executor.child_pids()
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while executor.ready and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert not executor.ready
        assert await executor.supervise() is True
        assert executor.ready and executor.child_pids() != [pid]
        assert restarts == ["crash"]
        assert await executor.run_async(_sleep_then, 7, 0.0) == 7
    finally:
        executor.close()


async def test_a_child_past_its_memory_limit_is_stopped() -> None:
    restarts: list[str] = []
    executor = BudgetedExecutor(20, "fork", memory_bytes=200 * 2**20, on_restart=restarts.append)
    try:
        started = time.monotonic()
        with pytest.raises(MemoryExceeded):
            await executor.run_async(_allocate, 400)
        assert time.monotonic() - started < 4  # stopped, not waited for
        assert restarts == ["memory"]
        assert await executor.run_async(_sleep_then, 1, 0.0) == 1
    finally:
        executor.close()


async def test_a_record_that_kills_every_child_is_a_worker_crash_dead_letter() -> None:
    from stream.config import Settings
    from stream.ingest.deadletters import Origin
    from stream.runtime.enricher import Enricher
    from tests.support.helpers import raw_bytes

    enricher = Enricher(Settings(article_budget_s=10).limits, Settings().entities,
                        with_entities=False, start_method="fork")
    try:
        enricher._call = lambda *args: _die  # type: ignore[method-assign, assignment]
        result = await enricher.run_async(b'{"id": "pill"}', {}, Origin("raw", 0, 7))
        assert result.reason_code == "worker_crash"
        assert result.deadletter is not None
        assert (result.deadletter["stage"], result.deadletter["article_id"]) == ("enrich", "pill")
        del enricher._call  # the real enrichment again: the next record goes through
        after = await enricher.run_async(raw_bytes(), {}, Origin("raw", 0, 8))
        assert after.deadletter is None and after.cleaned is not None
    finally:
        enricher.close()
