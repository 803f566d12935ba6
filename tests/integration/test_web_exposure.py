"""The worker's and the dashboard's pages as a client on the network sees them, with curl:
security headers on every response (errors included), capped queries, WebSockets refused
from another origin or past the connection cap, and the optional token."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from stream.config import Settings
from stream.runtime.web_guard import SECURITY_HEADERS
from stream.tools.broker import EmbeddedBroker, free_port
from stream.tools.processes import stop_process
from tests.conftest import start_dashboard, start_worker, unique_settings
from tests.integration.test_dashboard_server import get, produce, until

pytestmark = pytest.mark.integration
WEBSOCKET = ["-H", "Connection: Upgrade", "-H", "Upgrade: websocket",
             "-H", "Sec-WebSocket-Version: 13",
             "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="]


def curl(url: str, *options: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and body of one request."""
    done = subprocess.run(["curl", "-s", "--max-time", "3", "-D", "-", *options, url],
                          capture_output=True, check=False)
    head, _, body = done.stdout.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0].startswith("HTTP/") else 0
    headers = {name.strip().lower(): value.strip() for name, _, value in
               (line.partition(":") for line in lines[1:])}
    return status, headers, body


def assert_hardened(headers: dict[str, str]) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name.lower()) == value, (name, headers)
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "base-uri 'none'" in policy
    assert "form-action 'none'" in policy


@pytest.fixture()
def dashboard_on(broker: EmbeddedBroker, tmp_path: Path) -> Iterator[Any]:
    started: list[Any] = []

    def start(**overrides: Any) -> tuple[Settings, str]:
        settings = unique_settings(broker, tmp_path / f"data{len(started)}",
                                   dashboard_port=free_port(),
                                   trending_topic=f"trending-{free_port()}", **overrides)
        started.append(start_dashboard(settings, tmp_path / f"dashboard{len(started)}.log"))
        url = f"http://127.0.0.1:{settings.dashboard_port}"
        assert until(lambda: get(url + "/healthz")[0] == 200), get(url + "/healthz")
        return settings, url

    yield start
    for process in started:
        stop_process(process, 10.0)


def test_the_dashboard_caps_queries_and_hardens_every_response(dashboard_on: Any) -> None:
    settings, url = dashboard_on(dashboard_max_clients=1)
    produce(settings, settings.mentions_topic, [
        (f"PER:p{i}||".encode(), orjson.dumps({
            "schema_version": 1, "entity": {"entity_id": f"PER:p{i}", "name": f"P {i}",
                                            "label": "PER"},
            "window": "total", "window_start": None, "window_end": None, "mentions": i + 1,
            "articles": 1, "updated_at": "2026-12-05T00:00:00Z"})) for i in range(150)])
    assert until(lambda: orjson.loads(get(url + "/api/home")[1])["held"]["entities"] == 150)

    for path, expected in (("/", 200), ("/static/app.js", 200), ("/api/home", 200),
                           ("/no-such-page", 404), ("/api/article/nope", 404)):
        status, headers, _ = curl(url + path)
        assert status == expected, path
        assert_hardened(headers)
    status, headers, _ = curl(url + "/api/home", "-X", "POST")
    assert status == 405
    assert_hardened(headers)

    status, _, body = curl(url + "/api/home?n=100000")
    assert status == 200 and len(orjson.loads(body)["top"]["entities"]) == 100

    status, headers, _ = curl(url + "/api/updates", *WEBSOCKET, "-H",
                              "Origin: http://evil.example")
    assert status == 403
    assert_hardened(headers)
    # From the page's own origin: the first one is let in (and held open); the second
    # exceeds the cap of one.
    first = subprocess.Popen(["curl", "-s", "-N", "--max-time", "20", "-o", "/dev/null",
                              "-w", "%{http_code}", *WEBSOCKET, "-H",
                              f"Origin: {url}", url + "/api/updates"], stdout=subprocess.PIPE)
    try:
        assert until(lambda: b"newsstream_dashboard_clients 1.0" in get(url + "/metrics")[1])
        status, _, _ = curl(url + "/api/updates", *WEBSOCKET, "-H", f"Origin: {url}")
        assert status == 503
    finally:
        first.terminate()
        first.communicate()


def test_the_dashboard_asks_for_the_token_when_one_is_set(dashboard_on: Any,
                                                           tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("s3cret-token\n")
    _, url = dashboard_on(web_token_file=str(token))
    status, headers, _ = curl(url + "/")
    assert status == 401 and headers["www-authenticate"].startswith("Basic")
    assert_hardened(headers)
    assert curl(url + "/api/home", "-H", "Authorization: Bearer wrong")[0] == 401
    assert curl(url + "/api/home", "-H", "Authorization: Bearer s3cret-token")[0] == 200
    assert curl(url + "/", "-u", "me:s3cret-token")[0] == 200  # what a browser sends
    assert curl(url + "/healthz")[0] == 200 and curl(url + "/metrics")[0] == 200


def test_the_worker_pages_are_hardened_and_take_the_token(broker: EmbeddedBroker,
                                                          tmp_path: Path) -> None:
    settings = unique_settings(broker, tmp_path / "data", web_token="w0rker-token")
    worker = start_worker(settings, tmp_path / "worker.log")
    try:
        worker.wait_ready()
        status, headers, _ = curl(worker.web + "/healthz")
        assert status == 200
        assert_hardened(headers)
        status, headers, _ = curl(worker.web + "/entities/top")
        assert status == 401
        assert_hardened(headers)
        bearer = ("-H", "Authorization: Bearer w0rker-token")
        status, headers, body = curl(worker.web + "/entities/top?n=5", *bearer)
        assert status == 200 and "entities" in orjson.loads(body)
        status, headers, body = curl(worker.web + "/entities/PER:nobody", *bearer)
        assert status == 404 and orjson.loads(body) == {"error": "no counts for this entity"}
        assert_hardened(headers)
        status, headers, _ = curl(worker.web + "/no-such-page", *bearer)
        assert status == 404
        assert_hardened(headers)
        assert curl(worker.web + "/entities/top?n=100000", *bearer)[0] == 400
    finally:
        worker.stop()
