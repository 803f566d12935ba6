import asyncio

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from stream.tools.broker import EmbeddedBroker
from stream.tools.topics import TopicSpec, ensure_topics

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
    options = {"bootstrap_servers": broker.bootstrap}
    specs = [TopicSpec("t-three", 3, {}), TopicSpec("t-five", 3, {})]
    reports = await ensure_topics(options, specs)
    assert [(r.name, r.state) for r in reports] == [("t-three", "created"), ("t-five", "created")]
    assert await _partitions(broker.bootstrap, "t-three") == 3
    # Existing topics are left as they are, and a difference is reported.
    again = await ensure_topics(options, [TopicSpec("t-three", 7, {})])
    assert (again[0].state, again[0].differences) == ("different", ["partitions 3, wanted 7"])
    assert await _partitions(broker.bootstrap, "t-three") == 3


def test_broker_starts_on_a_free_port_and_stops() -> None:
    with EmbeddedBroker() as embedded:
        assert embedded.pid is not None
        asyncio.run(ensure_topics({"bootstrap_servers": embedded.bootstrap},
                                  [TopicSpec("x", 1, {})]))
        process_id = embedded.pid
    assert embedded.pid is None
    with pytest.raises(ProcessLookupError):
        import os
        os.kill(process_id, 0)
