import asyncio
from pathlib import Path

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


def test_newsstream_topics_creates_checks_and_reports(broker: EmbeddedBroker,
                                                      tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import settings_env, unique_settings

    settings = unique_settings(broker, tmp_path / "data")
    env = settings_env(settings)

    def topics(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "stream.tools.cli", "topics", *args],
                              env=env, capture_output=True, text=True, timeout=60)

    created = topics()
    assert created.returncode == 0, created.stderr
    lines = {line.split()[1]: line for line in created.stdout.splitlines()
             if not line.startswith(" ")}
    assert all(line.startswith("created") for line in lines.values())
    assert "cleanup.policy=compact" in lines[settings.mentions_topic]
    assert "retention.ms=604800000" in lines[settings.input_topics[0]]
    configs = asyncio.run(_configs(broker.bootstrap, settings.mentions_topic))
    assert configs["cleanup.policy"] == "compact"
    again = topics()
    assert again.returncode == 0 and all(line.startswith("ok") for line in
                                         again.stdout.splitlines())
    env["NEWSSTREAM_ENRICHED_RETENTION_S"] = "3600"  # the cluster has 30 days
    different = topics()
    assert different.returncode == 1
    assert f"different  {settings.enriched_topic}" in different.stdout
    assert "retention.ms=2592000000, wanted 3600000" in different.stdout
    # Tansu 0.6 has no AlterConfigs: --alter says so in one line, and changes nothing
    altered = topics("--alter")
    assert altered.returncode == 1
    assert altered.stderr.count("\n") == 1 and "cannot change the configs" in altered.stderr


async def _configs(bootstrap: str, topic: str) -> dict[str, str]:
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC,
                                                                 topic)])
        return {entry[0]: entry[1] for response in responses
                for *_head, entries in response.resources for entry in entries}
    finally:
        await admin.close()
