"""Complete table recovery on brokers whose ListOffsets answer is short.

faust rebuilds a table after a restart by reading its changelog up to the end offsets that
ListOffsets(LATEST) reports. Tansu 0.6 reports the last *batch's* base offset + 1, so when the
last batch holds several records, recovery stops early and the table comes back without its
latest updates — counts would silently fall behind. A Fetch response's high watermark is right,
so before recovery each changelog partition is fetched once from just below the reported end,
and the larger of the two ends is used (:class:`stream.runtime.faust_internals.TrueEndRecovery`
calls :func:`true_end_offsets`). On a broker that answers correctly the two agree and this
costs one short fetch per recovery.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

log = logging.getLogger(__name__)
FETCH_TIMEOUT_S = 10.0


async def true_end_offsets(options: Mapping[str, Any],
                           reported: Mapping[Any, int]) -> dict[Any, int]:
    """End offset of each partition in ``reported`` (TP → reported end), from Fetch;
    ``options``: the client's connection."""
    ends = dict(reported)
    wanted = {TopicPartition(tp.topic, tp.partition): tp for tp, end in reported.items()
              if end > 0}
    if not wanted:
        return ends
    consumer = AIOKafkaConsumer(**options, group_id=None,
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
