"""`make run` (`newsstream demo`): broker, worker and dashboard up, the dashboard's URL
printed, its hint working as printed, dead letters shown, and Ctrl-C stops them all."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import orjson
import pytest

from stream.tools.broker import free_port
from tests.support.paths import ROOT

pytestmark = pytest.mark.integration


def test_make_run_prints_the_dashboard_url_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSSTREAM_")}
    # A port of its own: another run beside this one (a second checkout's tests) may hold 8088.
    env |= {"NEWSSTREAM_DATA_DIR": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1",
            "NEWSSTREAM_DASHBOARD_PORT": str(free_port())}
    output = tmp_path / "demo.out"
    with open(output, "wb") as handle:
        demo = subprocess.Popen([sys.executable, "-m", "stream.tools.cli", "demo"], env=env,
                                stdout=handle, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    try:
        url = None
        # Each wait has its own bound, long enough for a loaded machine (a CI run beside
        # another): the start (broker, worker, models, dashboard), then the page's counts.
        deadline = time.monotonic() + 180
        while url is None and time.monotonic() < deadline and demo.poll() is None:
            found = re.search(r"▶ dashboard on (http://\S+/)", output.read_text())
            url = found.group(1) if found else None
            time.sleep(0.2)
        assert url, output.read_text()
        names: set[str] = set()
        home: dict[str, Any] = {}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and "Antony Blinken" not in names:
            with urllib.request.urlopen(url + "api/home", timeout=5) as page:
                home = orjson.loads(page.read())
            names = {e["name"] for e in home["top"]["entities"]}
            time.sleep(0.5)
        dashboard_log = tmp_path / "data" / "dashboard.log"
        assert {"Antony Blinken", "Sergei Shoigu", "Korea Utara", "Rusia"} <= names, (
            home.get("status"), home.get("held"), output.read_text()[-3000:],
            dashboard_log.read_text()[-3000:] if dashboard_log.exists() else "no dashboard log")
        # The terminal names an entity as the page does (not "Inggris" for the UK).
        while time.monotonic() < deadline and "top entities" not in output.read_text():
            time.sleep(0.2)
        assert "United Kingdom (LOC)" in output.read_text()
        assert "Inggris (LOC)" not in output.read_text()

        # Its hint works as printed, from a shell without the virtual environment.
        hint = re.search(r"send more with: (.+) produce FILE\.\.\.\)", output.read_text())
        assert hint, output.read_text()
        batch = tmp_path / "more.jsonl"
        batch.write_bytes(orjson.dumps({"url": "https://news.example.org/more", "content_type":
                                        "text/plain", "body": "Joko Widodo di Jakarta hari "
                                        "ini bertemu Prabowo Subianto di Istana."})
                          + b"\n{not json\n")
        shell = {k: v for k, v in env.items() if k != "VIRTUAL_ENV"}
        shell["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                        if ".venv" not in p)
        sent = subprocess.run(["bash", "-c", f"{hint.group(1)} produce --send-invalid {batch}"],
                              cwd=ROOT, env=shell, capture_output=True, text=True, timeout=60)
        assert sent.returncode == 0, sent.stderr
        assert "1 of 2 records are not valid raw articles" in sent.stderr
        assert "sent 2 records" in sent.stderr
        # The terminal shows the dead letter, and the count of them by reason.
        while time.monotonic() < deadline and "dead letters: 1" not in output.read_text():
            time.sleep(0.2)
        assert "✖ dead letter [invalid_json]" in output.read_text()
        assert "dead letters: 1 (invalid_json 1)" in output.read_text()

        children = _children(demo.pid)
        assert len(children) >= 3, children  # broker, worker, dashboard
        demo.send_signal(signal.SIGINT)
        assert demo.wait(60) == 0
        assert "■ stopped: dashboard, worker and broker are gone" in output.read_text()
        time.sleep(0.5)
        assert [pid for pid in children if Path(f"/proc/{pid}").exists()
                and "zombie" not in Path(f"/proc/{pid}/status").read_text()] == []
        with pytest.raises(OSError):
            urllib.request.urlopen(url, timeout=2)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found
