"""Complete table recovery on brokers whose ListOffsets answer is short.

faust rebuilds a table after a restart by reading its changelog up to the end offsets that
ListOffsets(LATEST) reports. Tansu 0.6 reports the last *batch's* base offset + 1, so when the
last batch holds several records, recovery stops early and the table comes back without its
latest updates — counts would silently fall behind. A Fetch response's high watermark is right,
so before recovery each changelog partition is fetched once from just below the reported end,
and the larger of the two ends is used. On a broker that answers correctly the two agree and
this costs one short fetch per recovery.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.tables.manager import TableManager
from faust.tables.recovery import Recovery

log = logging.getLogger(__name__)
FETCH_TIMEOUT_S = 10.0


async def true_end_offsets(bootstrap: str, reported: Mapping[Any, int]) -> dict[Any, int]:
    """End offset of each partition in ``reported`` (TP → reported end), from Fetch."""
    ends = dict(reported)
    wanted = {TopicPartition(tp.topic, tp.partition): tp for tp, end in reported.items()
              if end > 0}
    if not wanted:
        return ends
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                enable_auto_commit=False, auto_offset_reset="latest")
    await consumer.start()
    try:
        consumer.assign(list(wanted))
        for partition, tp in wanted.items():
            consumer.seek(partition, reported[tp] - 1)
        pending = set(wanted)
        deadline = time.monotonic() + FETCH_TIMEOUT_S
        while pending and time.monotonic() < deadline:
            await consumer.getmany(*pending, timeout_ms=200, max_records=1)
            for partition in list(pending):
                highwater = consumer.highwater(partition)
                if highwater is not None:
                    tp = wanted[partition]
                    ends[tp] = max(ends[tp], highwater)
                    pending.discard(partition)
        if pending:
            log.warning("no high watermark for %s; using ListOffsets", sorted(map(str, pending)))
    finally:
        await consumer.stop()
    return ends


class TrueEndRecovery(Recovery):  # type: ignore[misc]  # faust ships no type information
    async def _build_highwaters(self, consumer: Any, tps: Any, destination: Counter[Any],
                                title: str) -> None:
        await super()._build_highwaters(consumer, tps, destination, title)
        # faust keeps end - 1 (the offset of the last record); -1 for an empty partition.
        reported = {tp: last + 1 for tp, last in destination.items()}
        bootstrap = self.app.newsstream.settings.bootstrap_servers
        try:
            ends = await asyncio.wait_for(true_end_offsets(bootstrap, reported),
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
