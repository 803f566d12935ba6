"""What a worker holds in memory between flushes (entity events on their way to counting, folded
counts), and the commit guard that flushes all of it before offsets are committed.

Each holder has a lock its agent takes around every record, so that a flush sees whole
records only; the guard takes every lock (always in the order they were added: no deadlock)
across the flushes and the commit, so that no record is folded in between and committed
unflushed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any, Protocol

from stream.runtime.failpoints import Failpoints


class Flusher(Protocol):
    lock: Any  # asyncio.Lock

    async def flush(self) -> bool:
        """Write what is held (the caller holds :attr:`lock`); False if that failed."""
        ...


async def flush_holding_lock(flusher: Flusher) -> bool:
    async with flusher.lock:
        return await flusher.flush()


def flush_on_revoke(app: Any, flusher: Flusher) -> None:
    """Flush ``flusher`` when partitions are revoked (one that fails there: the records'
    next owner processes them again from the last commit)."""

    async def flush_before_revoking(_app: Any, _revoked: Any, **_kwargs: Any) -> None:
        await flush_holding_lock(flusher)

    app.on_partitions_revoked.connect(flush_before_revoking)


class CommitGuard:
    def __init__(self, failpoints: Failpoints) -> None:
        self._flushers: list[Flusher] = []
        self._failpoints = failpoints

    def add(self, flusher: Flusher) -> None:
        self._flushers.append(flusher)

    async def around_commit(self, commit: Callable[[], Awaitable[bool]]) -> bool:
        """Flush everything, then commit, holding every agent off in between; no commit when
        a flush failed."""
        async with AsyncExitStack() as held:
            for flusher in self._flushers:
                await held.enter_async_context(flusher.lock)
            for flusher in self._flushers:
                if not await flusher.flush():
                    return False
            self._failpoints.reach("count-after-flush")
            return await commit()

    async def before_stop(self) -> None:
        for flusher in self._flushers:
            await flush_holding_lock(flusher)
