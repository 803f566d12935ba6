"""Fixtures: one embedded broker per test session, workers as real processes."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from stream.config import Settings
from stream.tools.broker import EmbeddedBroker, free_port
from stream.tools.processes import settings_environment, stop_process, wait_ready

READY_TIMEOUT_S = 60.0


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    log = tmp_path_factory.mktemp("broker") / "tansu.log"
    with EmbeddedBroker(log_path=log) as running:
        yield running


def unique_settings(broker: EmbeddedBroker, data_dir: Path, **overrides: Any) -> Settings:
    """Settings with topics and consumer group of their own, so tests never see each other."""
    tag = uuid.uuid4().hex[:8]
    values: dict[str, Any] = {
        "app_id": f"newsstream-test-{tag}",
        "broker_url": broker.url,
        "input_topics": [f"raw-{tag}"],
        "enriched_topic": f"enriched-{tag}",
        "mentions_topic": f"mentions-{tag}",
        "deadletter_topic": f"deadletter-{tag}",
        "entity_events_topic": f"entity-events-{tag}",
        "partitions": 2,
        "session_timeout_s": 3.0,
        "heartbeat_interval_s": 1.0,
        "web_port": free_port(),
        "data_dir": str(data_dir),
        "log_level": "info",
        "max_payload_bytes": 200_000,
    }
    values.update(overrides)
    return Settings(**values)


settings_env = settings_environment


@dataclass
class Worker:
    settings: Settings
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def web(self) -> str:
        return f"http://{self.settings.web_host}:{self.settings.web_port}"

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.web + path, timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> float:
        try:
            return wait_ready(self.settings.web, self.process, timeout)
        except (RuntimeError, TimeoutError) as error:
            raise type(error)(f"{error}:\n{self.log.read_text()[-3000:]}") from None

    def stop(self) -> None:
        stop_process(self.process, 20.0)


def start_worker(settings: Settings, log: Path) -> Worker:
    with open(log, "ab") as handle:
        process = subprocess.Popen([sys.executable, "-m", "stream.tools.cli", "worker"],
                                   env=settings_env(settings), stdout=handle,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return Worker(settings, process, log)


def start_dashboard(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    """``newsstream dashboard`` with ``settings``, its output in ``log``."""
    with open(log, "wb") as handle:
        return subprocess.Popen([sys.executable, "-m", "stream.tools.cli", "dashboard"],
                                env=settings_env(settings), stdout=handle,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def worker(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    folder = tmp_path_factory.mktemp("worker")
    running = start_worker(unique_settings(broker, folder / "data"), folder / "worker.log")
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()
