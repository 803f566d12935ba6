"""Offset commits that never get ahead of the work: none while the worker shuts down, and
none before the changelog writes of the acknowledged events are on their way.

Measured on faust 0.15.3 (a worker stopped mid-stream, `test_exact_counts`): while stopping,
faust drops the events still buffered in its streams, waits for the unacknowledged ones by
garbage collection (`Consumer.wait_empty`), and commits in between — the offsets of events that
were never processed got committed and the next owner of the partition skipped them. Here,
once the worker starts to stop, commits are refused: the next owner starts from the last
commit taken while running, and re-processes a little (the stages are idempotent).

The periodic commit flushes the producer first, but faust's `ProducerBuffer.flush` (the queue of
table changelog writes) gives up after 0.1 s without a message sent; the commit then goes
ahead while changelog writes are still queued. :meth:`commit` drains that queue first.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import faust
from faust.transport.drivers.aiokafka import Consumer as AIOKafkaConsumer

log = logging.getLogger(__name__)
DRAIN_TIMEOUT_S = 30.0


class WorkAlignedConsumer(AIOKafkaConsumer):  # type: ignore[misc]  # faust has no types
    stopping = False

    async def commit(self, topics: Any = None, start_new_transaction: bool = True) -> bool:
        if self.stopping:
            return False
        if not await _drain_changelog_queue(self.app):
            log.warning("changelog writes still queued after %.0f s: commit postponed",
                        DRAIN_TIMEOUT_S)
            return False
        if self.stopping:  # the worker began to stop while the queue drained
            return False
        committed: bool = await super().commit(topics, start_new_transaction)
        return committed


async def _drain_changelog_queue(app: Any) -> bool:
    buffer = app.producer.buffer
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while buffer.size:
        if time.monotonic() > deadline:
            return False
        await buffer.flush_atmost(buffer.max_messages)
        await asyncio.sleep(0)
    return True


class NewsstreamApp(faust.App):  # type: ignore[misc]
    """faust.App whose consumer commits only work that is done (see the module docstring)."""

    def _new_transport(self) -> Any:
        transport = super()._new_transport()
        transport.Consumer = WorkAlignedConsumer
        return transport

    async def on_stop(self) -> None:
        consumer = self._consumer
        if isinstance(consumer, WorkAlignedConsumer):
            consumer.stopping = True
        await super().on_stop()
