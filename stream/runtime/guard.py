"""No record stops its partition: a failure while an agent handles a record dead-letters that
record, with the stage and the cause, and the agent goes on with the next one.

An agent that raised would be restarted by faust's supervisor, but the record it held would stay
unacknowledged: records are processed strictly in log order (``stream.runtime.events``), so its
partition would wait at that record for good while the rest of the worker looked healthy.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson

from stream.ingest.deadletters import ReasonCode, Rejected
from stream.pipeline import Origin, Result
from stream.runtime.context import WorkerContext
from stream.runtime.delivery import Undeliverable, deliver

log = logging.getLogger(__name__)


def origin_of(message: Any) -> Origin:
    """The record's place; a missing timestamp (-1 on the wire) is None."""
    timestamp = message.timestamp
    return Origin(message.topic, message.partition, message.offset,
                  timestamp if timestamp is not None and timestamp > 0 else None, message.key)


def stopping(ctx: WorkerContext) -> bool:
    return bool(getattr(ctx.app, "should_stop", False))


async def send_deadletter(ctx: WorkerContext, message: Any, result: Result) -> None:
    """Deliver the dead letter of ``result`` (bounded in size, so it fits the producer)."""
    try:
        await deliver(ctx.deadletter_topic, message.key, orjson.dumps(result.deadletter),
                      lambda: stopping(ctx))
    except Undeliverable as error:  # only a broker that rejects small records gets here
        ctx.metrics.publish_failures.labels(ctx.topics.deadletter).inc()
        log.error("dead letter of %s/%s@%s not delivered: %s", message.topic,
                  message.partition, message.offset, error)


async def dead_letter(ctx: WorkerContext, message: Any, code: ReasonCode, stage: str, reason: str,
                      article_id: str | None = None) -> None:
    result = Result.rejected(message.value, origin_of(message),
                             Rejected(code, stage, reason, article_id),
                             ctx.limits.deadletter_payload_bytes)
    ctx.metrics.deadletters.labels(code).inc()
    await send_deadletter(ctx, message, result)


@asynccontextmanager
async def guarded(ctx: WorkerContext, message: Any, stage: str) -> AsyncIterator[None]:
    """Dead-letter ``message`` when the block fails, with ``stage``, and go on."""
    try:
        yield
    except asyncio.CancelledError:
        raise
    except Exception as error:
        if stopping(ctx):
            raise  # a send cut short by shutdown: the next owner processes the record again
        log.exception("%s failed on %s/%s@%s", stage, message.topic, message.partition,
                      message.offset)
        ctx.metrics.agent_errors.labels(stage).inc()
        code = error.code if isinstance(error, Undeliverable) else "internal_error"
        await dead_letter(ctx, message, code, stage, f"{type(error).__name__}: {error}")
