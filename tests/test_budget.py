import time

import pytest

from stream.budget import BudgetedExecutor, BudgetExceeded


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
