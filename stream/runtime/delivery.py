"""Sending records so that none is lost silently.

- :func:`deliver` waits until the broker has the record (dead letters). A retriable failure
  (the broker gone, a leader moving, a timeout) is retried with back-off for as long as it
  takes: the record stays unacknowledged and its partition waits, which is what an operator
  wants while the broker is away. A failure that no retry can fix (the record too large for the
  broker, an invalid record) raises :class:`Undeliverable`, for the caller to dead-letter.
- :func:`send_then_check` (enriched articles) enqueues the same way but does not wait per
  record; a refusal that comes later runs a callback that dead-letters the record.
- :func:`send_watched` (the per-entity updates, thousands a second) counts and logs a failed
  delivery instead of letting it pass unseen.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka.errors import KafkaError, MessageSizeTooLargeError

from stream.ingest.deadletters import ReasonCode

log = logging.getLogger(__name__)
BACKOFF_S = (0.5, 1.0, 2.0, 5.0)


class Undeliverable(Exception):
    def __init__(self, code: ReasonCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def describe(error: BaseException) -> str:
    """``Type: message`` once (aiokafka's messages often start with their type already)."""
    name, text = type(error).__name__, str(error)
    return text if text.startswith(name) else f"{name}: {text}".rstrip(": ")


def kafka_cause(error: BaseException) -> BaseException:
    """The KafkaError behind a wrapped send error (faust wraps them in ProducerSendError)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, KafkaError):
            found: BaseException = seen
            return found
        seen = seen.__cause__ or seen.__context__
    return error


def classify(error: BaseException) -> tuple[bool, ReasonCode]:
    """(retriable, reason code) of a failed send."""
    cause = kafka_cause(error)
    if isinstance(cause, MessageSizeTooLargeError) or "too large" in str(cause).lower():
        return False, "too_large"
    if isinstance(cause, KafkaError):
        return bool(getattr(cause, "retriable", False)) or _is_timeout(cause), "internal_error"
    if isinstance(cause, (OSError, TimeoutError)):
        return True, "internal_error"
    return False, "internal_error"


def _is_timeout(error: KafkaError) -> bool:
    return type(error).__name__ in ("KafkaTimeoutError", "KafkaConnectionError",
                                    "RequestTimedOutError", "NodeNotReadyError")


async def _send_retrying(topic: Any, key: bytes | None, value: bytes,
                         stopping: Callable[[], bool], wait: bool) -> Any:
    """Send (and with ``wait``, wait for the broker), retrying retriable failures with back-off
    for as long as it takes; :class:`Undeliverable` for a failure no retry can fix. Returns the
    pending delivery."""
    attempt = 0
    while True:
        try:
            pending = await topic.send(key=key, value=value)
            if wait:
                await pending
            return pending
        except asyncio.CancelledError:
            raise
        except Exception as error:
            retriable, code = classify(error)
            if not retriable:
                raise Undeliverable(code, _reason(error)) from error
            if stopping():
                raise
            delay = BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]
            attempt += 1
            log.warning("sending to %s failed (%s); retrying in %.1f s", topic.get_topic_name(),
                        error, delay)
            await asyncio.sleep(delay)


async def deliver(topic: Any, key: bytes | None, value: bytes,
                  stopping: Callable[[], bool] = lambda: False) -> None:
    """Send and wait for the broker's acknowledgement; see the module docstring."""
    await _send_retrying(topic, key, value, stopping, wait=True)


async def send_then_check(topic: Any, key: bytes | None, value: bytes,
                          on_refused: Callable[[Undeliverable], Awaitable[None]],
                          stopping: Callable[[], bool] = lambda: False) -> None:
    """Send without waiting for the broker: ``on_refused`` runs (as a task) if the broker
    refuses the record for good. Nothing waits per record, and nothing is lost: faust flushes
    the producer before it commits offsets, so a record in flight holds its offset back, and
    the producer retries retriable failures itself (for ``producer_request_timeout``, 20 min).
    Failures when enqueueing are handled as :func:`deliver` does."""
    try:
        pending = await _send_retrying(topic, key, value, stopping, wait=False)
    except Undeliverable as refused:
        await on_refused(refused)
        return

    def done(future: Any) -> None:
        if future.cancelled() or future.exception() is None:
            return
        error = future.exception()
        refused = Undeliverable(classify(error)[1], _reason(error))
        _background.add(task := asyncio.ensure_future(on_refused(refused)))
        task.add_done_callback(_background.discard)

    pending.add_done_callback(done)


def _reason(error: BaseException) -> str:
    cause = kafka_cause(error)
    return f"{type(cause).__name__}: {cause}"


# Tasks started from delivery callbacks, kept until done (asyncio keeps only weak references).
_background: set[Any] = set()


async def send_watched(topic: Any, key: bytes | None, value: bytes,
                       on_failure: Callable[[str, BaseException], None]) -> None:
    """Send without waiting for delivery; ``on_failure(topic, error)`` if it fails."""
    name = topic.get_topic_name()
    try:
        pending = await topic.send(key=key, value=value)
    except asyncio.CancelledError:
        raise
    except Exception as error:
        on_failure(name, error)
        return

    def done(future: Any) -> None:
        if not future.cancelled() and future.exception() is not None:
            on_failure(name, future.exception())

    pending.add_done_callback(done)
