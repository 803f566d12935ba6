import asyncio

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from stream.tools.broker import EmbeddedBroker, create_topics

pytestmark = pytest.mark.integration


async def _partitions(bootstrap: str, topic: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
        return len(described[0]["partitions"])
    finally:
        await admin.close()


async def test_topics_are_created_with_the_configured_partitions(
        broker: EmbeddedBroker) -> None:
    created = await create_topics(broker.bootstrap, ["t-three", "t-five"], 3)
    assert created == ["t-three", "t-five"]
    assert await _partitions(broker.bootstrap, "t-three") == 3
    # Idempotent: existing topics are left as they are.
    assert await create_topics(broker.bootstrap, ["t-three"], 7) == []
    assert await _partitions(broker.bootstrap, "t-three") == 3


def test_broker_starts_on_a_free_port_and_stops() -> None:
    with EmbeddedBroker() as embedded:
        assert embedded.pid is not None
        asyncio.run(create_topics(embedded.bootstrap, ["x"], 1))
        process_id = embedded.pid
    assert embedded.pid is None
    with pytest.raises(ProcessLookupError):
        import os
        os.kill(process_id, 0)
