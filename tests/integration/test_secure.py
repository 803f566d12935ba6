"""The worker, `newsstream topics`, `produce` and `tail` over TLS with client certificates,
end to end, and librdkafka reading what the worker wrote: a certificate authority made here, a
TLS front before the embedded broker (Tansu 0.6 cannot serve TLS itself: tests/tls.py)."""

import contextlib
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from confluent_kafka import Consumer

from stream.config import Settings
from stream.tools.broker import EmbeddedBroker, free_port
from stream.tools.processes import stop_process
from tests.conftest import settings_env, start_dashboard, start_worker, unique_settings
from tests.support.helpers import SAMPLE_TEXT, SAMPLE_URL
from tests.support.tls import Certificates, TlsFront, make_certificates

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Certificates]]:
    folder = tmp_path_factory.mktemp("tls")
    certificates = make_certificates(folder)
    front_port = free_port()
    with EmbeddedBroker(advertised=f"127.0.0.1:{front_port}",
                        log_path=folder / "tansu.log") as broker:
        front = TlsFront(certificates, front_port, broker.port).start()
        try:
            settings = unique_settings(
                broker, folder / "data", broker_url=f"kafka://127.0.0.1:{front_port}",
                security_protocol="SSL", ssl_cafile=str(certificates.ca),
                ssl_certfile=str(certificates.client_cert),
                ssl_keyfile=str(certificates.client_key))
            yield settings, certificates
        finally:
            front.stop()


def _cli(settings: Settings, *args: str, **overrides: Any) -> subprocess.CompletedProcess[str]:
    env = settings_env(settings) | {k: str(v) for k, v in overrides.items()}
    return subprocess.run([sys.executable, "-m", "stream.tools.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_a_worker_runs_end_to_end_over_tls(secured: tuple[Settings, Certificates],
                                           tmp_path: Path) -> None:
    settings, certificates = secured
    topics = _cli(settings, "topics")
    assert topics.returncode == 0, topics.stderr
    assert [line.split()[0] for line in topics.stdout.splitlines()
            if not line.startswith(" ")] == ["created"] * 8
    worker = start_worker(settings, tmp_path / "worker.log")
    try:
        worker.wait_ready()
        article = tmp_path / "article.jsonl"
        article.write_bytes(orjson.dumps({"id": "over-tls", "url": SAMPLE_URL,
                                          "content_type": "text/plain",
                                          "body": SAMPLE_TEXT}) + b"\n")
        sent = _cli(settings, "produce", str(article))
        assert sent.returncode == 0, sent.stderr
        enriched = _read_with_librdkafka(settings, certificates, settings.enriched_topic)
        assert enriched["id"] == "over-tls"
        assert {"Antony Blinken", "Korea Utara"} <= {e["name"] for e in enriched["entities"]}
        tailed = _cli(settings, "tail", settings.enriched_topic, "-n", "1",
                      "--idle-timeout", "10")
        assert tailed.returncode == 0 and orjson.loads(tailed.stdout)["id"] == "over-tls"
        status, metrics = worker.get("/metrics")
        assert status == 200 and "newsstream_enrichment_child_process_cpu_seconds_total" in metrics
        _dashboard_shows(settings.model_copy(update={"dashboard_port": free_port()}),
                         tmp_path / "dashboard.log")
    finally:
        worker.stop()


def _dashboard_shows(settings: Settings, log: Path) -> None:
    """The dashboard reads the output topics over TLS with the worker's settings."""
    dashboard = start_dashboard(settings, log)
    try:
        deadline = time.monotonic() + 60
        home: dict[str, Any] = {}
        while time.monotonic() < deadline and not (home.get("feed") and "PER:antony-blinken" in {
                e["entity_id"] for e in home["top"]["entities"]}):
            with contextlib.suppress(OSError), urllib.request.urlopen(
                    f"http://127.0.0.1:{settings.dashboard_port}/api/home", timeout=5) as page:
                home = orjson.loads(page.read())
            time.sleep(0.3)
        assert [a["id"] for a in home.get("feed", [])] == ["over-tls"], log.read_text()[-2000:]
        assert "PER:antony-blinken" in {e["entity_id"] for e in home["top"]["entities"]}
    finally:
        stop_process(dashboard, 10.0)


def test_a_client_without_a_certificate_is_refused_in_one_line(
        secured: tuple[Settings, Certificates]) -> None:
    settings, _certificates = secured
    refused = _cli(settings, "tail", settings.enriched_topic, "-n", "1",
                   NEWSSTREAM_SSL_CERTFILE="", NEWSSTREAM_SSL_KEYFILE="",
                   NEWSSTREAM_BROKER_TIMEOUT_S="3")
    assert refused.returncode == 1
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "did not accept the TLS connection" in refused.stderr, refused.stderr
    assert f"NEWSSTREAM_BROKER_URL={settings.broker_url}" in refused.stderr


def _read_with_librdkafka(settings: Settings, certificates: Certificates,
                          topic: str) -> dict[str, Any]:
    consumer = Consumer({
        "bootstrap.servers": settings.connection.bootstrap_servers,
        "group.id": f"check-{time.time()}",
        "auto.offset.reset": "earliest", "security.protocol": "ssl",
        "ssl.ca.location": str(certificates.ca),
        "ssl.certificate.location": str(certificates.client_cert),
        "ssl.key.location": str(certificates.client_key)})
    consumer.subscribe([topic])
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            message = consumer.poll(1.0)
            value = message.value() if message is not None and not message.error() else None
            if value is not None:
                record: dict[str, Any] = orjson.loads(value)
                return record
        raise AssertionError(f"nothing on {topic} over TLS within 90 s")
    finally:
        consumer.close()


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_a_refused_login_is_one_line_without_the_password(tmp_path: Path,
                                                          mechanism: str) -> None:
    secret = "correct-horse-battery-staple"
    with EmbeddedBroker(authentication=True, log_path=tmp_path / "tansu.log") as broker:
        settings = unique_settings(broker, tmp_path / "data")
        refused = _cli(settings, "tail", "articles.raw", "-n", "1",
                       NEWSSTREAM_SECURITY_PROTOCOL="SASL_PLAINTEXT",
                       NEWSSTREAM_SASL_MECHANISM=mechanism, NEWSSTREAM_SASL_USERNAME="nobody",
                       NEWSSTREAM_SASL_PASSWORD=secret, NEWSSTREAM_BROKER_TIMEOUT_S="3")
    assert refused.returncode == 1
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert secret not in refused.stderr + refused.stdout
    assert f"refused the {mechanism} login of 'nobody'" in refused.stderr, refused.stderr
    assert f"NEWSSTREAM_BROKER_URL={settings.broker_url}" in refused.stderr
