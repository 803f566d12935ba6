"""The trending boards' table writes, once per publish and before every commit: the ranking
agent changes a board in memory for every trend score, and :class:`BoardsFlusher` writes each
changed board once (:meth:`stream.counts.trending.TrendBoards.flush`)."""

from __future__ import annotations

import asyncio
from typing import Any

from stream.counts.trending import TrendBoards
from stream.runtime.batches import send_batched
from stream.runtime.context import WorkerContext
from stream.runtime.faust_internals import PartitionedTable, kafka_producer


class BoardsFlusher:
    def __init__(self, ctx: WorkerContext, boards: TrendBoards) -> None:
        self.ctx = ctx
        self.boards = boards
        self.lock = asyncio.Lock()
        # The ranking table has one partition.
        self.table = PartitionedTable(ctx.trends_table, lambda _key: 0)
        self._unsent: list[tuple[int, bytes, bytes | None]] = []

    async def flush(self) -> bool:
        """Write the changed boards (the caller holds :attr:`lock`); False if their changelog
        records were not delivered (sent again with the next flush)."""
        self.boards.flush(self.table)
        queued, self._unsent = self._unsent + self.table.changelog(), []
        if not queued:
            return True
        try:
            await asyncio.gather(*await send_batched(
                kafka_producer(self.ctx.app), self.table.changelog_topic, queued))
        except Exception as error:
            self._unsent = queued
            self.ctx.metrics.publish_failed(self.table.changelog_topic, error)
            return False
        return True

    @classmethod
    def installed(cls, ctx: WorkerContext, boards: TrendBoards) -> BoardsFlusher:
        flusher = cls(ctx, boards)
        ctx.commit_guard.add(flusher)

        async def flush_before_revoking(_app: Any, _revoked: Any, **_kwargs: Any) -> None:
            async with flusher.lock:
                await flusher.flush()

        ctx.app.on_partitions_revoked.connect(flush_before_revoking)
        return flusher
