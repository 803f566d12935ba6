"""``make run``: embedded broker + worker + example articles, with live output.

Everything it starts is stopped on Ctrl-C (and killed by the kernel if this process dies).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer

from stream.config import Settings
from stream.dashboard.state import shown_name
from stream.runtime.connection import client_options
from stream.tools.broker import (
    EmbeddedBroker,
    NoEmbeddedBroker,
    create_newsstream_topics,
    free_port,
)
from stream.tools.processes import (
    die_with_parent,
    settings_environment,
    stop_process,
    wait_answering,
    wait_ready,
)
from stream.tools.producing import produce_records, records_from_paths

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "articles.jsonl"
READY_TIMEOUT_S = 120.0


def _say(text: str) -> None:
    print(text, flush=True)


def run_demo(settings: Settings, external_broker: str | None) -> int:
    broker: EmbeddedBroker | None = None
    worker: subprocess.Popen[bytes] | None = None
    dashboard: subprocess.Popen[bytes] | None = None
    previous = signal.getsignal(signal.SIGTERM)
    # Ctrl-C and SIGTERM both stop the demo, even when started from a shell that ignores SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        if external_broker:
            _say(f"▶ using broker {external_broker}")
        else:
            try:
                broker = EmbeddedBroker().start()
            except NoEmbeddedBroker as error:
                print(f"newsstream: {error}", file=sys.stderr)
                sys.exit(2)
            settings = settings.model_copy(update={"broker_url": broker.url})
            _say(f"▶ embedded broker (Tansu) on {broker.bootstrap}")
        settings = settings.model_copy(update={"web_port": free_port()})
        asyncio.run(create_newsstream_topics(settings.connection, settings.topics, settings.limits))
        _say(f"▶ topics: {', '.join(settings.topics.all)}")
        worker = _start(settings, "worker")
        _say(f"▶ worker pid {worker.pid}; metrics on "
             f"http://{settings.web_host}:{settings.web_port}/metrics")
        _wait_ready(settings, worker)
        settings = settings.model_copy(update={"dashboard_port": _dashboard_port(settings)})
        dashboard = _start(settings, "dashboard")
        _wait_dashboard(settings, dashboard)
        asyncio.run(_feed_and_show(settings))
        return 0
    except KeyboardInterrupt:
        _say("\n■ stopping…")
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if dashboard is not None:
            stop_process(dashboard, 5.0)
        if worker is not None:
            stop_process(worker, 15.0)
        if broker is not None:
            broker.stop()
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _say("■ stopped: dashboard, worker and broker are gone")


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _start(settings: Settings, command: str) -> subprocess.Popen[bytes]:
    env = settings_environment(settings.model_copy(update={"log_level": "warning"}))
    log_path = _log(settings, command)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        # Its own session: Ctrl-C reaches only this process, which stops the worker before
        # the broker it talks to.
        return subprocess.Popen([sys.executable, "-m", "stream.tools.cli", command], env=env,
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                preexec_fn=die_with_parent, start_new_session=True)


def _log(settings: Settings, command: str) -> Path:
    return Path(settings.data_dir) / f"{command}.log"


def _dashboard_port(settings: Settings) -> int:
    """The configured port (a stable URL to keep open), or a free one when it is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As aiohttp binds: a port left in TIME_WAIT by the last run is free to use.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((settings.dashboard_host, settings.dashboard_port))
        except OSError:
            return free_port(settings.dashboard_host)
    return settings.dashboard_port


def _wait_dashboard(settings: Settings, dashboard: subprocess.Popen[bytes]) -> None:
    url = f"http://{settings.dashboard_host}:{settings.dashboard_port}/"
    try:
        wait_answering(url + "healthz", dashboard, READY_TIMEOUT_S, "the dashboard")
    except (RuntimeError, TimeoutError) as error:
        raise RuntimeError(f"{error}; see its log in {_log(settings, 'dashboard')}") from None
    _say(f"▶ dashboard on {url}  (open it in a browser)")


def _wait_ready(settings: Settings, worker: subprocess.Popen[bytes]) -> None:
    _say("… waiting for the worker to join its consumer group")
    try:
        seconds = wait_ready(settings.web, worker, READY_TIMEOUT_S)
    except RuntimeError as error:
        raise RuntimeError(f"{error}; see its log in {_log(settings, 'worker')}") from None
    _say(f"✔ worker ready in {seconds:.1f} s")


async def _feed_and_show(settings: Settings) -> None:
    consumer = AIOKafkaConsumer(settings.enriched_topic, settings.mentions_topic,
                                settings.deadletter_topic, **client_options(settings.connection),
                                group_id=None,
                                auto_offset_reset="latest", enable_auto_commit=False)
    await consumer.start()
    try:
        # Pin the start position before producing, so that we show exactly what follows.
        while not consumer.assignment():
            await asyncio.sleep(0.05)
        await consumer.seek_to_end()
        for tp in consumer.assignment():
            await consumer.position(tp)
        sent = await produce_records(settings.connection, settings.input_topics[0],
                                     records_from_paths([EXAMPLES], ""), progress=False)
        _say(f"▶ sent {sent} example articles to {settings.input_topics[0]}\n")
        command = f"NEWSSTREAM_BROKER_URL={settings.broker_url} {newsstream_command()}"
        totals: dict[str, dict[str, Any]] = {}
        dead: Counter[str] = Counter()
        names: dict[str, dict[str, str]] = {}  # entity → language → its name there
        changed = False
        while True:
            batches = await consumer.getmany(timeout_ms=1000)
            for tp, messages in batches.items():
                for message in messages:
                    value = orjson.loads(message.value)
                    if tp.topic == settings.enriched_topic:
                        _say(_format_article(value))
                        for count in value["entity_counts"]:
                            names.setdefault(count["entity_id"], {}).setdefault(
                                value["language"], count["name"])
                    elif tp.topic == settings.deadletter_topic:
                        dead[str(value.get("reason_code"))] += 1
                        _say(_format_deadletter(value))
                        changed = True
                    elif value["window"] == "total":
                        totals[value["entity"]["entity_id"]] = value
                        changed = True
            if not batches and changed:
                # A quiet second: the burst is over, show where the counts stand.
                changed = False
                _say(_format_totals(totals, names))
                if dead:
                    reasons = ", ".join(f"{reason} {n}" for reason, n in dead.most_common())
                    _say(f"  dead letters: {sum(dead.values())} ({reasons}); "
                         f"`{command} tail {settings.deadletter_topic}` shows them")
                _say(f"  (Ctrl-C to stop; send more with: {command} produce FILE...)\n")
    finally:
        await consumer.stop()


def _format_article(article: dict[str, Any]) -> str:
    top = ", ".join(f"{c['name']} ({c['label']})×{c['mentions']}"
                    for c in article["entity_counts"][:6])
    words = len(article["text"].split())
    title = (article["title"] or "")[:70]
    return (f"◆ [{article['language']}] {article['source']} — {title}\n"
            f"    {words} words · {len(article['entities'])} mentions · {top}")


def _format_deadletter(letter: dict[str, Any]) -> str:
    where = letter.get("article_id") or f"{letter.get('topic')}/{letter.get('partition')}" \
        f"@{letter.get('offset')}"
    return (f"✖ dead letter [{letter.get('reason_code')}] {where}: "
            f"{str(letter.get('reason') or '')[:160]}")


def newsstream_command() -> str:
    """How a shell runs this newsstream as the user has it: ``make run`` does not activate its
    virtual environment, so its script is named by its path unless it is the one on PATH."""
    script = Path(sys.executable).parent / "newsstream"
    if not script.exists():
        return f"{sys.executable} -m stream.tools.cli"
    found = shutil.which("newsstream")
    if found and Path(found).resolve() == script.resolve():
        return "newsstream"
    with contextlib.suppress(ValueError):
        return str(script.absolute().relative_to(Path.cwd()))
    return str(script.absolute())


def _format_totals(totals: dict[str, dict[str, Any]],
                   names: dict[str, dict[str, str]]) -> str:
    """The top entities, each by the name the dashboard shows it by."""
    ranked = sorted(totals.values(), key=lambda v: (-v["mentions"], v["entity"]["entity_id"]))
    lines = ["\n  top entities (running totals)", "  mentions  articles  entity"]
    for value in ranked[:10]:
        entity = value["entity"]
        name = shown_name(names.get(entity["entity_id"], {}), entity["name"])
        lines.append(f"  {value['mentions']:>8}  {value['articles']:>8}  "
                     f"{name} ({entity['label']})")
    return "\n".join(lines)
