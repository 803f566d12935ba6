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
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import Any, TypeVar

from stream.pipeline import BudgetExceeded

T = TypeVar("T")


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


def pool_processes(pool: ProcessPoolExecutor) -> list[Any]:
    """The processes of ``pool`` (its private ``_processes``: no public API lists them, and
    only they can be killed when a call runs past its budget)."""
    return list((getattr(pool, "_processes", None) or {}).values())


def pool_broken(pool: ProcessPoolExecutor) -> bool:
    """Whether ``pool`` is broken (its private ``_broken``: a worker died), before a submit
    would say so."""
    return bool(getattr(pool, "_broken", False))


class ChildCrashed(Exception):
    """The child process died while it held the record (the OOM killer, a native crash)."""


class MemoryExceeded(Exception):
    """The child's resident memory passed its limit while it held the record."""


def resident_bytes(pid: int) -> int:
    """Resident set size of ``pid`` (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class BudgetedExecutor:
    """One child process that runs calls under a time budget and a resident-memory limit.

    The child is replaced when a call runs past the budget (:class:`BudgetExceeded`), passes the
    memory limit (:class:`MemoryExceeded`), or when it dies (:class:`ChildCrashed`, also found
    by :meth:`supervise` while idle); ``on_restart(reason)`` is told each time."""

    POLL_S = 0.1

    def __init__(self, budget_s: float, start_method: str = "forkserver",
                 initializer: Callable[[], None] | None = None, *, memory_bytes: int = 0,
                 on_restart: Callable[[str], None] | None = None) -> None:
        self.budget_s = budget_s
        self.memory_bytes = memory_bytes
        self._context = multiprocessing.get_context(start_method)
        self._initializer = initializer
        self._on_restart = on_restart
        self._pool = self._new_pool()
        self._warm = False  # the current child has run its initializer
        self._async_lock: Any = None  # one call or supervision at a time (made in the loop)

    def _new_pool(self) -> ProcessPoolExecutor:
        if self._context.get_start_method() == "fork":
            # Objects that exist now are never collected in the child, so its garbage collector
            # does not write to (and so copy) every page it shares with this process.
            gc.freeze()
        return ProcessPoolExecutor(1, mp_context=self._context,
                                   initializer=partial(_follow_owner, os.getpid(),
                                                       self._initializer))

    def _children(self) -> list[Any]:
        return self._children_of(self._pool)

    @classmethod
    def _kill(cls, pool: ProcessPoolExecutor) -> None:
        # No public API kills a busy worker; its processes are what we must stop.
        for process in cls._children_of(pool):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    def _restart(self, reason: str) -> None:
        pool, self._pool = self._pool, self._new_pool()
        self._warm = False
        self._kill(pool)
        if self._on_restart is not None:
            self._on_restart(reason)

    @staticmethod
    def _children_of(pool: ProcessPoolExecutor) -> list[Any]:
        return pool_processes(pool)

    @property
    def ready(self) -> bool:
        """A warm child is alive to take the next call."""
        children = self._children()
        return (self._warm and bool(children) and not pool_broken(self._pool)
                and all(process.is_alive() for process in children))

    def child_pids(self) -> list[int]:
        return [process.pid for process in self._children() if process.pid is not None]

    def child_rss(self) -> int:
        return sum(resident_bytes(pid) for pid in self.child_pids())

    def start(self) -> None:
        """Start the child now (with its initializer) instead of on the first record."""
        self._pool.submit(int).result()
        self._warm = True

    async def start_async(self) -> None:
        import asyncio

        await asyncio.wrap_future(self._pool.submit(int))
        self._warm = True

    def _lock(self) -> Any:
        import asyncio

        if self._async_lock is None:
            self._async_lock = asyncio.Lock()
        return self._async_lock

    async def supervise(self) -> bool:
        """Replace a child that died while idle, and start (warm) a child that is not running;
        True when a dead one was replaced. Waits for a call in progress to finish first."""
        if self._lock().locked():
            return False  # a call is running: it replaces a child that dies under it
        async with self._lock():
            if self.ready:
                return False
            dead = bool(self._children()) or pool_broken(self._pool)
            if dead:
                self._restart("crash")
            try:
                await self.start_async()
            except BrokenProcessPool:  # died while loading: the next check starts another
                self._restart("crash")
            return bool(dead)

    def _submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        try:
            return self._pool.submit(fn, *args, **kwargs)
        except BrokenProcessPool:  # the child died while idle
            self._restart("crash")
            return self._pool.submit(fn, *args, **kwargs)

    def _over_memory(self) -> bool:
        return self.memory_bytes > 0 and self.child_rss() > self.memory_bytes

    def _failed(self, error: BaseException) -> Exception:
        """Replace the child after a failed call; the exception to raise."""
        if isinstance(error, BrokenProcessPool):
            self._restart("crash")
            return ChildCrashed(f"the enrichment child died: {error}")
        if isinstance(error, MemoryExceeded):
            self._restart("memory")
            return error
        self._restart("too_slow")
        return BudgetExceeded(f"took longer than the {self.budget_s:g} s budget")

    def _polls(self) -> Iterator[float]:
        """How long to wait for the child's answer each time, until the budget is spent: the
        child's memory and the deadline are checked between waits (raising past either)."""
        deadline = time.monotonic() + self.budget_s
        while True:
            yield min(self.POLL_S, max(0.0, deadline - time.monotonic()))
            self._check(deadline)

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        future = self._submit(fn, *args, **kwargs)
        try:
            for wait_s in self._polls():
                with contextlib.suppress(FutureTimeout):
                    return future.result(timeout=wait_s)
        except (BrokenProcessPool, MemoryExceeded, BudgetExceeded) as error:
            raise self._failed(error) from None
        raise AssertionError("the polls end by raising")

    def _check(self, deadline: float) -> None:
        if self._over_memory():
            limit = self.memory_bytes // 2**20
            raise MemoryExceeded(f"the enrichment child passed its {limit} MB memory limit")
        if time.monotonic() >= deadline:
            raise BudgetExceeded

    async def run_async(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        async with self._lock():
            return await self._run_async(fn, *args, **kwargs)

    async def _run_async(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        import asyncio  # only the worker's path needs it

        future: Any = None
        try:
            if not self._warm:  # a replaced child loads its models before the budget runs
                await self.start_async()
            future = asyncio.wrap_future(self._submit(fn, *args, **kwargs))
            for wait_s in self._polls():
                done, _ = await asyncio.wait({future}, timeout=wait_s)
                if done:
                    result: T = future.result()
                    return result
        except (BrokenProcessPool, MemoryExceeded, BudgetExceeded) as error:
            if future is not None:
                future.cancel()
            raise self._failed(error) from None
        raise AssertionError("the polls end by raising")

    def terminate(self) -> None:
        self._kill(self._pool)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
