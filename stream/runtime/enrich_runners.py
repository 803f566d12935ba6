"""The three ways the Enricher runs one record's enrichment, behind one interface:

- :class:`AlarmRunner`: in this, the main, thread, stopped past the budget by a timer signal
  (the offline commands; ``run_async`` keeps the budget too, blocking the loop, which is all
  an offline command has to do);
- :class:`ChildRunner`: in a child process that is killed past the budget or its memory limit
  and replaced (the worker), which reports each stage as it starts;
- :class:`ThreadRunner`: no budget (``NEWSSTREAM_ARTICLE_BUDGET_S=0``), off the event loop in
  one thread, so heartbeats and the web server go on.

Each raises what :data:`FAILURES` names for a call that did not finish; the Enricher turns that
into the record's dead letter.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Protocol

from stream.pipeline import STAGE_NAMES, BudgetExceeded, Result
from stream.runtime.budget import BudgetedExecutor, ChildCrashed, MemoryExceeded, alarm_budget

# A call that did not finish: past its time or memory, or the child died.
FAILURES = (BudgetExceeded, ChildCrashed, MemoryExceeded)
Call = Callable[..., Result]

# In the enrichment child: the shared value its parent reads the current stage from.
_child_stage: Any = None


class Runner(Protocol):
    def run(self, call: Call) -> Result: ...

    async def run_async(self, call: Call) -> Result: ...

    def stopped_in(self) -> str | None:
        """The stage the last stopped call was in, where only the runner knows it."""
        ...

    @property
    def ready(self) -> bool: ...

    async def supervise(self) -> bool: ...

    def child_pid(self) -> int | None: ...

    def child_rss(self) -> int: ...

    def terminate(self) -> None: ...

    def close(self) -> None: ...


class _InProcess:
    """What the runners without a child share."""

    def stopped_in(self) -> str | None:
        return None  # the pipeline names the stage itself (BudgetExceeded.stage)

    @property
    def ready(self) -> bool:
        return True

    async def supervise(self) -> bool:
        return False

    def child_pid(self) -> int | None:
        return None

    def child_rss(self) -> int:
        return 0

    def terminate(self) -> None:
        pass

    def close(self) -> None:
        pass


class AlarmRunner(_InProcess):
    def __init__(self, budget_s: float, load: Callable[[], None]) -> None:
        load()
        self.budget_s = budget_s

    def run(self, call: Call) -> Result:
        with alarm_budget(self.budget_s):
            return call()

    async def run_async(self, call: Call) -> Result:
        return self.run(call)  # the alarm needs the main thread: the budget is kept


class ThreadRunner(_InProcess):
    def __init__(self, load: Callable[[], None]) -> None:
        load()
        self._threads = ThreadPoolExecutor(1, thread_name_prefix="enrich")

    def run(self, call: Call) -> Result:
        return call()

    async def run_async(self, call: Call) -> Result:
        return await asyncio.get_running_loop().run_in_executor(self._threads, call)

    def close(self) -> None:
        self._threads.shutdown(wait=False)


def _start_child(load: Callable[[], None] | None, stage: Any) -> None:
    """The enrichment child's start: keep ``stage`` (shared memory the parent reads when it
    has to stop a record) for :func:`_in_child` to report each stage into, then load the
    models."""
    global _child_stage
    _child_stage = stage
    if load is not None:
        load()


def _in_child(call: Call) -> Result:
    """One record's enrichment in the child, each stage reported as it starts."""
    report = None if _child_stage is None else partial(setattr, _child_stage, "value")
    return call(on_stage=report)


class ChildRunner:
    def __init__(self, budget_s: float, start_method: str, load: Callable[[], None],
                 check: Callable[[], None], memory_bytes: int,
                 on_restart: Callable[[str], None] | None) -> None:
        # A forked child inherits what this process loaded; any other child loads the models
        # itself, and this process only checks what it can (the schemas load).
        if start_method == "fork":
            load()
        else:
            check()
        self._stage: Any = multiprocessing.get_context(start_method).Value("b", -1, lock=False)
        self._budgeted = BudgetedExecutor(
            budget_s, start_method,
            initializer=partial(_start_child, None if start_method == "fork" else load,
                                self._stage),
            memory_bytes=memory_bytes, on_restart=on_restart)
        # Start (and warm) the child now, not against the first record's budget.
        self._budgeted.start()

    def run(self, call: Call) -> Result:
        self._stage.value = -1  # no stage yet: the child reports each as it starts
        return self._budgeted.run(partial(_in_child, call))

    async def run_async(self, call: Call) -> Result:
        self._stage.value = -1
        return await self._budgeted.run_async(partial(_in_child, call))

    def stopped_in(self) -> str | None:
        """The stage the child was in when it was stopped (when it told), read once."""
        index, self._stage.value = int(self._stage.value), -1
        return STAGE_NAMES[index] if 0 <= index < len(STAGE_NAMES) else None

    @property
    def ready(self) -> bool:
        return self._budgeted.ready

    async def supervise(self) -> bool:
        return await self._budgeted.supervise()

    def child_pid(self) -> int | None:
        pids = self._budgeted.child_pids()
        return pids[0] if pids else None

    def child_rss(self) -> int:
        return self._budgeted.child_rss()

    def terminate(self) -> None:
        self._budgeted.terminate()

    def close(self) -> None:
        self._budgeted.close()
