"""A time budget per record: enrichment runs in a child process that is killed when a record
takes longer than the budget (a pathological page: deep nesting, megabytes of markup).

Threads cannot be stopped from outside, and lxml holds the interpreter while it parses, so a
separate process is the only way to bound the work. The child is started once and reused; the
per-record cost is pickling the record in and the result out.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")


class BudgetExceeded(Exception):
    pass


@contextlib.contextmanager
def alarm_budget(seconds: float) -> Iterator[None]:
    """Main thread only: interrupt the block with :class:`BudgetExceeded` after ``seconds``.

    The cheap watchdog of the offline commands (no child process, no copying). A single long
    C call (lxml parsing megabytes) finishes before the interrupt lands; the payload size cap
    bounds those.
    """
    def expired(signum: int, frame: Any) -> None:
        raise BudgetExceeded(f"took longer than the {seconds:g} s budget")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def process_gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie not yet reaped counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    with (contextlib.suppress(OSError, IndexError),
          open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat):
        return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    return False


def _follow_owner(owner: int, initializer: Callable[[], None] | None,
                  every_s: float = 1.0) -> None:
    """Child-side start: exit when the process that owns the pool is gone.

    A pool worker never sees its owner die: it holds both ends of its own call queue, and
    under forkserver its parent is the fork server, which in turn stays up while the worker
    does. A worker SIGKILLed mid-stream would leave both behind for good.
    """
    def watch() -> None:
        while not process_gone(owner):
            time.sleep(every_s)
        os._exit(0)

    threading.Thread(target=watch, name="follow-owner", daemon=True).start()
    if initializer is not None:
        initializer()


class BudgetedExecutor:
    def __init__(self, budget_s: float, start_method: str = "forkserver",
                 initializer: Callable[[], None] | None = None) -> None:
        self.budget_s = budget_s
        self._context = multiprocessing.get_context(start_method)
        self._initializer = initializer
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        if self._context.get_start_method() == "fork":
            # Objects that exist now are never collected in the child, so its garbage collector
            # does not write to (and so copy) every page it shares with this process.
            gc.freeze()
        return ProcessPoolExecutor(1, mp_context=self._context,
                                   initializer=partial(_follow_owner, os.getpid(),
                                                       self._initializer))

    def _restart(self) -> None:
        pool, self._pool = self._pool, self._new_pool()
        # No public API kills a busy worker; its processes are what we must stop.
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    def start(self) -> None:
        """Start the child now (with its initializer) instead of on the first record."""
        self._pool.submit(int).result()

    def _submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        return self._pool.submit(fn, *args, **kwargs)

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        future = self._submit(fn, *args, **kwargs)
        try:
            return future.result(timeout=self.budget_s)
        except FutureTimeout:
            self._restart()
            raise BudgetExceeded(f"took longer than the {self.budget_s:g} s budget") from None

    async def run_async(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        import asyncio  # only the worker's path needs it

        future = asyncio.wrap_future(self._submit(fn, *args, **kwargs))
        try:
            return await asyncio.wait_for(future, self.budget_s)
        except TimeoutError:
            self._restart()
            raise BudgetExceeded(f"took longer than the {self.budget_s:g} s budget") from None

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
