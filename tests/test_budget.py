import subprocess
import sys
import time

import pytest

from stream.budget import BudgetedExecutor, BudgetExceeded, process_gone


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
from stream.budget import BudgetedExecutor
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
