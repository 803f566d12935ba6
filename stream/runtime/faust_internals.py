"""Every use of faust-streaming's private names, behind one door, and the check that the
installed faust-streaming is a version they were verified against.

faust gives no public hook for what newsstream needs to change, so these subclass or read its
internals. Each is named here with why, and has a unit test of its own
(tests/unit/runtime/test_faust_internals.py):

- ``App._new_transport``: the transport's Consumer class is :class:`WorkAlignedConsumer`;
- ``Consumer._read_offset`` replaced, ``Consumer._new_consumer_thread`` wrapped, ``commit``
  gated: see "Commits" below;
- ``AIOKafkaConsumerThread._create_consumer`` wrapped to set aiokafka's
  ``_fetch_max_wait_ms`` before the consumer starts: faust passes a fixed 1,500 ms, and the
  embedded broker answers a waiting fetch only when that wait ends (measured ~450 ms a hop);
  ``NEWSSTREAM_CONSUMER_FETCH_MAX_WAIT_S`` decides it;
- ``Consumer._committed_offset``: the committed offset of a partition as faust last sought it
  (:func:`committed_offset`), where ordered processing resumes after a rebalance; with
  ``_acked``, ``_acked_index`` and ``_gap``, forgotten for a partition whose log started over
  (:func:`forget_positions`);
- ``Consumer.perform_seek`` extended, and ``Consumer._thread.seek_to_beginning`` called: a
  partition with no committed offset is sought to the
  start of its log at every assignment (see "Partitions with no commit" below);
- ``Recovery._build_highwaters`` extended and ``TableManager.recovery`` (its body copied, to
  build :class:`TrueEndRecovery`): changelog end offsets from Fetch, see
  :mod:`stream.runtime.recovery`;
- ``TableManager._recovery``: the attribute that property caches in;
- ``Collection.data`` (the table's store), ``Collection.changelog_topic`` and its
  serialisation (JSON keys and values, faust's for a table of ``key_type=str``): a table
  written outside the processing of an event (the counts, at a flush), its changelog records
  sent in batches to the partitions the caller names (:class:`PartitionedTable`); faust's own
  ``table[key] = value`` takes the partition of the event being processed and sends each
  record on its own;
- ``Producer._ensure_producer``: the aiokafka producer under faust's, for batches
  (:func:`kafka_producer`).

Commits (measured on faust 0.15.3, a worker stopped mid-stream, `test_exact_counts`):
while stopping,
faust drops the events still buffered in its streams, waits for the unacknowledged ones by
garbage collection (`Consumer.wait_empty`), and commits in between — the offsets of events that
were never processed got committed and the next owner of the partition skipped them. Here,
once the worker starts to stop, commits are refused: the next owner starts from the last
commit taken while running, and re-processes a little (the stages are idempotent).

faust's fetch loop drops a message whose offset is below the partition's "read offset", and
advances that offset for every message of a fetched batch, also for messages it did not deliver
because a rebalance had stopped the flow, and also from a batch fetched before the rebalance
but iterated after the partition was sought back to its committed offset. Measured: the next 5
to 9 records of a partition were never processed, in about 1 of 8 runs of a worker leaving the
group. Here the read offsets are switched off for the topics agents read (not for table
changelogs), so every fetched message is delivered. A
message delivered twice is processed twice, and the stages are idempotent (de-duplication by
URL and by log position, counts by log position). The offsets of the topics newsstream reads
have no gaps (no compaction, no transaction markers), which that bookkeeping was for.

Partitions with no commit: at a rebalance faust drops the records it had fetched but not yet
delivered, and seeks each partition back to its committed offset so that they come again.
aiokafka seeks only partitions whose committed offset is past 0; one with none keeps its fetch
position, past the dropped records, and nothing brings them again. Measured: a worker that
held the whole backlog of a new stream lost its partitions' records to a second worker joining
before the first commit, and both then waited, ready and idle, with records left. Here such a
partition is sought to the start of its log (what ``auto_offset_reset=earliest`` means for it
anyway), and ordered processing resumes there (:func:`start_offset`); what this worker had
already done is done again, and the stages are idempotent.

Before a commit, the commit guard runs (:attr:`NewsstreamApp.newsstream_commit_guard`, the
counting's flush: the folded counts of the events whose offsets are committed must be
written first); a guard that cannot do its part holds the commit back.

The periodic commit flushes the producer first, but faust's `ProducerBuffer.flush` (the queue of
table changelog writes) gives up after 0.1 s without a message sent; the commit then goes
ahead while changelog writes are still queued. :meth:`commit` drains that queue first.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any

import faust
import orjson
from faust.tables.manager import TableManager
from faust.tables.recovery import Recovery
from faust.transport.drivers.aiokafka import Consumer as AIOKafkaConsumer
from faust.transport.drivers.aiokafka import ensure_aiokafka_TP

from stream.runtime.batches import send_batched
from stream.runtime.connection import client_options
from stream.runtime.delivery import describe
from stream.runtime.recovery import FETCH_TIMEOUT_S, true_end_offsets
from stream.runtime.versions import require_verified

log = logging.getLogger(__name__)
# The faust-streaming releases whose internals this module was read against and tested on.
VERIFIED_FAUST = ("0.15.3",)


def check_faust_version(installed: str | None = None) -> None:
    """Refuse to run on a faust-streaming whose internals were not checked: a renamed private
    attribute would fail silently (a commit ahead of the work, a table recovered short)."""
    require_verified("faust-streaming", VERIFIED_FAUST, "stream/runtime/faust_internals.py",
                     installed)


def committed_offset(consumer: Any, tp: Any) -> int | None:
    """The committed offset of ``tp`` as faust last sought or committed it (None if none)."""
    offsets = getattr(consumer, "_committed_offset", None) or {}
    offset = offsets.get(tp)
    return None if offset is None else int(offset)


def start_offset(consumer: Any, tp: Any) -> int | None:
    """Where ``tp`` was sought to at its assignment: its committed offset, or for one with no
    commit the start of its log (None: not known, the broker did not answer)."""
    committed = committed_offset(consumer, tp)
    if committed is not None:
        return committed
    starts = getattr(consumer, "newsstream_log_starts", None) or {}
    start = starts.get(tp)
    return None if start is None else int(start)


def forget_positions(consumer: Any, tp: Any) -> None:
    """Forget what faust holds of ``tp``'s log: its committed offset and the acknowledged and
    skipped offsets not yet committed. For a partition whose log started over: offsets of the
    old log would hold commits back (faust commits only past its committed offset), or join
    up with the new log's and commit records never processed."""
    consumer._committed_offset[tp] = None
    consumer._acked.pop(tp, None)
    consumer._acked_index.pop(tp, None)
    consumer._gap.pop(tp, None)


DRAIN_TIMEOUT_S = 30.0
SHUTDOWN_TIMEOUT_S = 5.0


class _StreamReadOffsets(dict[Any, Any]):
    """faust's per-partition read offsets, switched off for the topics agents read: every
    fetched message of those is delivered. Table changelogs keep them (a changelog record
    applied out of order would put an older value back)."""

    def __getitem__(self, tp: Any) -> Any:
        if str(tp.topic).endswith("-changelog"):
            return self.get(tp)
        return None


class WorkAlignedConsumer(AIOKafkaConsumer):  # type: ignore[misc]  # faust has no types
    stopping = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_offset = _StreamReadOffsets()
        # Partitions with no committed offset → the log start they were sought to.
        self.newsstream_log_starts: dict[Any, int] = {}

    async def perform_seek(self) -> None:
        await super().perform_seek()
        self.newsstream_log_starts = {}
        uncommitted = [tp for tp in self.assignment()
                       if not self._is_changelog_tp(tp) and not self._committed_offset.get(tp)]
        if not uncommitted:
            return
        try:
            starts = await self.earliest_offsets(*uncommitted)
        except Exception as error:  # Kafka errors have no common base below Exception
            # The partitions are still sought to their start; ordered processing then begins
            # at the first record that comes, as it did before this seek existed.
            log.warning("log starts of %d partitions not read: %s", len(uncommitted),
                        describe(error))
            await self.seek_to_log_start(uncommitted)
            return
        # In the consumer's own thread (faust's seek_wait): ``seek`` calls aiokafka from this
        # one, and its fetcher then failed with "invalid state" (measured, a worker restarted
        # after a kill: the fetcher crashed and the worker stopped consuming).
        await self.seek_wait(dict(starts))
        self.newsstream_log_starts = {tp: int(start) for tp, start in starts.items()}

    async def seek_to_log_start(self, tps: list[Any]) -> None:
        await self._thread.seek_to_beginning(*(ensure_aiokafka_TP(tp) for tp in tps))

    def _new_consumer_thread(self) -> Any:
        thread = super()._new_consumer_thread()
        # Stopping the consumer thread leaves the group and closes connections; with the broker
        # gone those calls wait out their timeouts. Nothing is committed while stopping, so
        # there is nothing to wait for: give up after a few seconds, not mode's 60.
        thread.shutdown_timeout = SHUTDOWN_TIMEOUT_S
        create = thread._create_consumer
        wait_ms = int(1000 * self.app.newsstream_fetch_max_wait_s)

        def create_consumer(loop: Any) -> Any:
            consumer = create(loop=loop)
            consumer._fetch_max_wait_ms = wait_ms  # read by start(), which builds the fetcher
            return consumer

        thread._create_consumer = create_consumer
        return thread

    async def commit(self, topics: Any = None, start_new_transaction: bool = True) -> bool:
        if self.stopping:
            return False
        guard = getattr(self.app, "newsstream_commit_guard", None)
        if guard is None:
            return await self._commit_drained(topics, start_new_transaction)
        committed: bool = await guard(
            lambda: self._commit_drained(topics, start_new_transaction))
        return committed

    async def _commit_drained(self, topics: Any, start_new_transaction: bool) -> bool:
        if self.stopping:
            return False
        if not await drain_changelog_queue(self.app):
            log.warning("changelog writes still queued after %.0f s: commit postponed",
                        DRAIN_TIMEOUT_S)
            return False
        if self.stopping:  # the worker began to stop while the queue drained
            return False
        committed: bool = await super().commit(topics, start_new_transaction)
        return committed


async def drain_changelog_queue(app: Any) -> bool:
    """Hand every queued table changelog record to the producer (False: still queued after
    :data:`DRAIN_TIMEOUT_S`)."""
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

    newsstream_fetch_max_wait_s = 1.5  # faust's own; create_app sets the configured one
    # Runs each commit (given as the callable), e.g. after a flush; returns whether committed.
    newsstream_commit_guard: Callable[[Callable[[], Awaitable[bool]]], Awaitable[bool]] | None \
        = None
    # Awaited (bounded) when the worker begins to stop, before commits are refused.
    newsstream_before_stop: Callable[[], Awaitable[Any]] | None = None

    def _new_transport(self) -> Any:
        transport = super()._new_transport()
        transport.Consumer = WorkAlignedConsumer
        return transport

    async def on_stop(self) -> None:
        if self.newsstream_before_stop is not None:
            try:
                await asyncio.wait_for(self.newsstream_before_stop(), SHUTDOWN_TIMEOUT_S)
            except Exception as error:  # the next owner counts those events again
                log.warning("work before stopping not done: %s", describe(error))
        consumer = self._consumer
        if isinstance(consumer, WorkAlignedConsumer):
            consumer.stopping = True
        await super().on_stop()


class TrueEndRecovery(Recovery):  # type: ignore[misc]  # faust ships no type information
    async def _build_highwaters(self, consumer: Any, tps: Any, destination: Counter[Any],
                                title: str) -> None:
        await super()._build_highwaters(consumer, tps, destination, title)
        # faust keeps end - 1 (the offset of the last record); -1 for an empty partition.
        reported = {tp: last + 1 for tp, last in destination.items()}
        options = client_options(self.app.newsstream.connection)
        try:
            ends = await asyncio.wait_for(true_end_offsets(options, reported),
                                          FETCH_TIMEOUT_S + 5)
        except (TimeoutError, OSError) as error:
            log.warning("could not check changelog end offsets: %s", error)
            return
        for tp, end in ends.items():
            if end != reported[tp]:
                log.info("changelog %s: ListOffsets said %d, the log ends at %d",
                         tp, reported[tp], end)
            destination[tp] = end - 1


class NewsstreamTableManager(TableManager):  # type: ignore[misc]
    _recovery: Recovery | None

    @property
    def recovery(self) -> Recovery:
        if self._recovery is None:
            self._recovery = TrueEndRecovery(self.app, self, beacon=self.beacon, loop=self.loop)
        return self._recovery


def assigned_highwater(consumer: Any) -> Callable[[Any], int | None]:
    """``consumer.highwater``, with None for a partition no longer assigned: aiokafka asserts
    on one, and a rebalance can take a partition away between any two lines of a timer."""

    def highwater(tp: Any) -> int | None:
        try:
            end = consumer.highwater(tp)
        except AssertionError:
            return None
        return None if end is None else int(end)

    return highwater


def kafka_producer(app: Any) -> Any:
    """The ``AIOKafkaProducer`` faust sends with (started with the app)."""
    return app.producer._ensure_producer()


class PartitionedTable(MutableMapping[str, Any]):
    """A faust table read and written outside the processing of an event: writes change the
    store at once and queue their changelog records, each for the partition
    ``partition_of(key)`` (key and value as faust encodes them; no value for a deletion),
    sent by :meth:`send_changelog`."""

    def __init__(self, table: Any, partition_of: Callable[[str], int]) -> None:
        self._table = table
        self._partition_of = partition_of
        self._queued: list[tuple[int, bytes, bytes | None]] = []

    def __getitem__(self, key: str) -> Any:
        value = self._table.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        value = self._table.get(key)
        return default if value is None else value

    def __setitem__(self, key: str, value: Any) -> None:
        self._table.data[key] = value
        self._queued.append((self._partition_of(key), orjson.dumps(key), orjson.dumps(value)))

    def __delitem__(self, key: str) -> None:
        del self._table.data[key]
        self._queued.append((self._partition_of(key), orjson.dumps(key), None))

    def __iter__(self) -> Iterator[str]:
        return iter(self._table.keys())

    def __len__(self) -> int:
        return len(self._table)

    async def send_changelog(self, app: Any) -> None:
        """Send the queued changelog records in batches and wait until the broker has them;
        records not delivered stay queued for the next call."""
        queued, self._queued = self._queued, []
        if not queued:
            return
        try:
            await asyncio.gather(*await send_batched(
                kafka_producer(app), self._table.changelog_topic.get_topic_name(), queued))
        except BaseException:
            self._queued = queued + self._queued
            raise
