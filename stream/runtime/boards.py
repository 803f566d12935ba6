"""The trending boards' table writes, once per publish and before every commit: the ranking
agent changes a board in memory for every trend score, and :class:`BoardsFlusher` writes each
changed board once (:meth:`stream.counts.trending.TrendBoards.flush`)."""

from __future__ import annotations

import asyncio

from stream.counts.trending import TrendBoards
from stream.runtime.context import WorkerContext
from stream.runtime.faust_internals import PartitionedTable
from stream.runtime.flushing import flush_on_revoke


class BoardsFlusher:
    def __init__(self, ctx: WorkerContext, boards: TrendBoards) -> None:
        self.ctx = ctx
        self.boards = boards
        self.lock = asyncio.Lock()
        # The ranking table has one partition.
        self.table = PartitionedTable(ctx.trends_table, lambda _key: 0)

    async def flush(self) -> bool:
        """Write the changed boards (the caller holds :attr:`lock`); False if their changelog
        records were not delivered (sent again with the next flush)."""
        self.boards.flush(self.table)
        try:
            await self.table.send_changelog(self.ctx.app)
        except Exception as error:
            self.ctx.metrics.publish_failed(self.ctx.trends_table.changelog_topic.get_topic_name(),
                                            error)
            return False
        return True

    @classmethod
    def installed(cls, ctx: WorkerContext, boards: TrendBoards) -> BoardsFlusher:
        flusher = cls(ctx, boards)
        ctx.commit_guard.add(flusher)
        flush_on_revoke(ctx.app, flusher)
        return flusher
