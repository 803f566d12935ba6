"""Many small records sent as one batch per partition, through aiokafka's batch API.

A flush of the counts writes thousands of small records (changelog, ``entities.mentions``).
Sent one by one through faust, each costs a faust ``FutureMessage``, an aiokafka future and a
task wake-up, which measured as much CPU as counting the events themselves. A batch built
here is one future per partition and batch; the records, their order within a partition and
their partitioning (Kafka's default partitioner on the key, as every other producer uses)
are the same.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from aiokafka.partitioner import DefaultPartitioner

Record = tuple[int | None, bytes | None, bytes | None]  # partition (None: by key), key, value
_partitioner = DefaultPartitioner()


async def send_batched(producer: Any, topic: str, records: Iterable[Record]
                       ) -> list[asyncio.Future[Any]]:
    """Hand ``records`` to ``producer`` (an ``AIOKafkaProducer``) in batches; the futures of
    their delivery, one per batch."""
    by_partition: dict[int, list[tuple[bytes | None, bytes | None]]] = defaultdict(list)
    partitions: list[int] | None = None
    for partition, key, value in records:
        if partition is None:
            if partitions is None:
                partitions = sorted(await producer.partitions_for(topic))
            partition = _partitioner(key, partitions, partitions)
        by_partition[partition].append((key, value))
    sent = []
    for partition, items in sorted(by_partition.items()):
        batch = producer.create_batch()
        for key, value in items:
            if batch.append(key=key, value=value, timestamp=None) is None:  # full
                sent.append(await producer.send_batch(batch, topic, partition=partition))
                batch = producer.create_batch()
                # An empty batch takes any one record, whatever its size.
                batch.append(key=key, value=value, timestamp=None)
        sent.append(await producer.send_batch(batch, topic, partition=partition))
    return sent
