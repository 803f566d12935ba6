"""The ``newsstream`` command line."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson

from stream.config import Settings, SettingsError, load_settings, unknown_variables

if TYPE_CHECKING:
    from stream.pipeline import Cleaned

DEFAULT_URL_PREFIX = "https://localhost/files/"
# Records `newsstream entities` tags together.
ENTITIES_CHUNK = 32


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newsstream")
def main() -> None:
    """newsstream: clean news articles, extract entities, count mentions — on Kafka."""
    for warning in unknown_variables(os.environ):
        click.echo(f"newsstream: warning: {warning}", err=True)
    try:
        # Read once, here at the edge; every command gets this object and passes it down.
        click.get_current_context().obj = load_settings()
    except SettingsError as error:
        for line in str(error).splitlines():
            click.echo(f"newsstream: {line}", err=True)
        sys.exit(2)


@main.command()
@click.option("--port", type=int, default=0, help="Port to listen on (default: a free one).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--topics/--no-topics", default=True, show_default=True,
              help="Create newsstream's topics once the broker answers.")
def broker(port: int, host: str, topics: bool) -> None:
    """Run the embedded Kafka-protocol broker (Tansu) until Ctrl-C."""
    import asyncio

    from stream.tools.broker import EmbeddedBroker, NoEmbeddedBroker, create_newsstream_topics

    settings = _settings()
    try:
        embedded = EmbeddedBroker(port or None, host).start()
    except NoEmbeddedBroker as error:
        click.echo(f"newsstream: {error}", err=True)
        sys.exit(2)
    stop = _stop_on_signals()
    try:
        if topics:
            local = settings.model_copy(update={"broker_url": embedded.url,
                                                "security_protocol": "PLAINTEXT"})
            asyncio.run(create_newsstream_topics(local.connection, local.topics, local.limits))
        click.echo(f"broker ready: {embedded.url}  (pid {embedded.pid})")
        click.echo(f"export NEWSSTREAM_BROKER_URL={embedded.url}")
        while not stop.is_set():
            stop.wait(0.5)
    finally:
        embedded.stop()
        click.echo("broker stopped", err=True)


def _settings() -> Settings:
    """The settings :func:`main` read for this command."""
    settings: Settings = click.get_current_context().find_root().obj
    return settings


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handler(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop


@main.command()
@click.option("--web-port", type=int, default=None, help="Port of /metrics, /healthz, /readyz.")
@click.option("--loglevel", default=None, help="debug, info, warning, error.")
def worker(web_port: int | None, loglevel: str | None) -> None:
    """Run the agents: raw articles in, enriched articles and entity counts out."""
    import asyncio

    from stream.runtime.app import faust_worker
    from stream.runtime.faust_internals import check_faust_version
    from stream.runtime.transport import check_aiokafka_version
    from stream.runtime.versions import UnverifiedLibrary
    from stream.tools.broker import wait_for_broker_and_topics
    from stream.tools.worker import worker_app

    overrides: dict[str, Any] = {}
    if web_port is not None:
        overrides["web_port"] = web_port
    if loglevel:
        overrides["log_level"] = loglevel
    settings = Settings(**overrides)
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] %(levelname)s %(message)s")
    try:
        check_faust_version()
        check_aiokafka_version()
    except UnverifiedLibrary as error:
        click.echo(f"newsstream: {error}", err=True)
        sys.exit(2)
    ids = asyncio.run(wait_for_broker_and_topics(settings.connection, settings.topics,
                                                 settings.limits))
    app = worker_app(settings, ids)
    faust_worker(app, settings.log_level).execute_from_commandline()


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--topic", default=None, help="Target topic (default: the first input topic).")
@click.option("--url-prefix", default=DEFAULT_URL_PREFIX, show_default=True,
              help="HTML/text files get this URL plus their name (raw articles need an "
                   "http(s) URL; the site in it is the source).")
@click.option("--url", default=None,
              help="The URL of the one HTML/text file given (e.g. the page it was saved from).")
@click.option("--create", is_flag=True,
              help="Create the topic when it does not exist (else that is an error: a "
                   "misspelt name would make a topic nothing reads).")
@click.option("--send-invalid", is_flag=True,
              help="Send records that are not valid raw articles too (the worker "
                   "dead-letters them); by default they are reported and not sent.")
def produce(paths: tuple[Path, ...], topic: str | None, url_prefix: str,
            url: str | None, create: bool, send_invalid: bool) -> None:
    """Send raw articles to the raw topic of the broker at NEWSSTREAM_BROKER_URL.

    PATHS are raw-article JSONL files (.jsonl, .jsonl.gz: sent as they are, one record a
    line), WARC files (.warc, .warc.gz: each HTML or text response becomes a raw article),
    HTML/text files (wrapped into raw articles), or folders of these. Each record is checked
    as the worker's first stage checks it; the invalid ones are reported and not sent.
    """
    from stream.ingest.urls import url_problem
    from stream.tools.producing import Checked, located_records, produce_records, valid_records
    from stream.tools.warc import WarcTally

    for given in (url, url_prefix + "x"):
        if given is not None and (not given.startswith(("http://", "https://"))
                                  or url_problem(given)):
            raise click.BadParameter(f"{given!r} is not an http(s) URL", param_hint="--url")
    if url is not None and (len(paths) != 1 or paths[0].is_dir()):
        raise click.BadParameter("--url names the page of one file", param_hint="--url")
    settings = _settings()
    target = topic or settings.input_topics[0]
    if create:
        _create_topic(settings, target)
    else:
        _require_topic(settings, target, f"send to {target}", "--create makes it")
    checked, warc = Checked(), WarcTally()
    records = valid_records(located_records(paths, url_prefix, url, warc),
                            settings.max_payload_bytes, checked, send_invalid)
    sent = _one_line_errors(produce_records(settings.connection, target, records))
    for line in [*warc.summary(), *checked.summary()]:
        click.echo(f"newsstream: {line}", err=True)
    held = len(checked.invalid) if not send_invalid else 0
    note = f"; {held} invalid not sent (--send-invalid sends them)" if held else ""
    click.echo(f"sent {sent} records to {target}{note}", err=True)
    if held:
        sys.exit(1)


def _create_topic(settings: Settings, topic: str) -> None:
    """``topic`` as newsstream creates it (its own topics with their configs, any other with
    NEWSSTREAM_PARTITIONS partitions), unless it exists."""
    from stream.runtime.connection import client_options
    from stream.tools.broker import within
    from stream.tools.topics import TopicSpec, ensure_topics, topic_specs

    spec = next((s for s in topic_specs(settings.topics, settings.limits) if s.name == topic),
                TopicSpec(topic, settings.partitions, {}))
    connection = settings.connection
    _one_line_errors(within(connection, ensure_topics(client_options(connection), [spec]),
                            f"create {topic}"))


def _require_topic(settings: Settings, topic: str, what: str, remedy: str) -> None:
    """Exit 1 with one line when ``topic`` does not exist (``what``: the command's work)."""
    from stream.tools.producing import topic_exists

    exists, close = _one_line_errors(topic_exists(settings.connection, topic, what))
    if not exists:
        hint = f"; did you mean {close}?" if close else ""
        click.echo(f"newsstream: topic {topic} does not exist on the broker at "
                   f"{settings.connection.bootstrap_servers}{hint} ({remedy})", err=True)
        sys.exit(1)


def _one_line_errors(step: Any) -> Any:
    """Run ``step``; a broker that cannot be reached ends the command with one line, exit 1."""
    import asyncio

    from aiokafka.errors import KafkaError

    from stream.tools.broker import BrokerUnreachable

    # The client's own connection errors would print before the one line that says it all.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    try:
        return asyncio.run(step)
    except BrokerUnreachable as error:
        click.echo(f"newsstream: {error}", err=True)
    except KafkaError as error:
        click.echo(f"newsstream: the broker failed: {type(error).__name__}: {error} — "
                   f"NEWSSTREAM_BROKER_URL={_settings().broker_url}", err=True)
    sys.exit(1)


@main.command()
@click.option("--alter", is_flag=True,
              help="Also change the configs of existing topics that differ (never partitions).")
def topics(alter: bool) -> None:
    """Create newsstream's topics with their configs, or check them where they exist.

    Prints each topic with its state (created, ok, different, altered) and what differs.
    Exits 1 when a topic differs and --alter was not given (or could not change it).
    """
    from stream.runtime.connection import client_options
    from stream.tools.broker import within
    from stream.tools.topics import ensure_topics, topic_specs

    settings = _settings()
    specs = topic_specs(settings.topics, settings.limits)
    try:
        reports = _one_line_errors(within(settings.connection, ensure_topics(
            client_options(settings.connection), specs, alter=alter), "create or check the topics"))
    except RuntimeError as error:
        click.echo(f"newsstream: {error}", err=True)
        sys.exit(1)
    wanted = {spec.name: spec for spec in specs}
    for report in reports:
        configs = " ".join(f"{k}={v}" for k, v in sorted(wanted[report.name].configs.items()))
        click.echo(f"{report.state:9}  {report.name}  partitions={report.partitions}  {configs}")
        for difference in report.differences:
            click.echo(f"           ↳ {difference}")
    if any(report.state == "different" for report in reports):
        click.echo("newsstream: some topics differ from newsstream's settings; --alter changes "
                   "their configs", err=True)
        sys.exit(1)


@main.command()
@click.argument("topic")
@click.option("--from-beginning/--latest", default=True, show_default=True)
@click.option("-n", "--max-records", type=int, default=None, help="Stop after N records.")
@click.option("--idle-timeout", type=float, default=None,
              help="Stop after this many seconds without a new record.")
def tail(topic: str, from_beginning: bool, max_records: int | None,
         idle_timeout: float | None) -> None:
    """Print the records of TOPIC, on the broker at NEWSSTREAM_BROKER_URL, as JSON lines
    (value decoded when it is JSON)."""

    from stream.tools.producing import tail_topic

    settings = _settings()
    _require_topic(settings, topic, f"read {topic}",
                   "`newsstream topics` creates newsstream's topics")
    _one_line_errors(tail_topic(settings.connection, topic, from_beginning, max_records,
                                idle_timeout))


@main.command()
@click.argument("input", default="-", type=click.Path(allow_dash=True))
def process(input: str) -> None:
    """Enrich raw-article JSONL (file, .gz or - for stdin) offline: one output line per input.
    A WARC file (.warc, .warc.gz): one line per HTML or text response in it.

    Bad input gives its dead-letter record on that line instead.
    """
    from stream.tools.jsonl import iter_lines, write_line
    from stream.tools.offline import run_records
    from stream.tools.warc import WarcTally, is_warc, warc_articles

    out = sys.stdout.buffer
    settings = _settings()
    warc = WarcTally()
    with contextlib.ExitStack() as files:
        if is_warc(input):
            stream = files.enter_context(Path(input).open("rb"))
            lines: Iterable[bytes] = (value for _where, _key, value
                                      in warc_articles(stream, input, warc))
        else:
            lines = iter_lines(input, keep_blank=True)
        for result in run_records(lines, settings.limits, settings.entities,
                                  with_entities=True):
            write_line(result.enriched if result.enriched is not None else result.deadletter,
                       out)
    out.flush()
    for line in warc.summary():
        click.echo(f"newsstream: {line}", err=True)


@main.command()
@click.argument("input", default="-", type=click.Path(allow_dash=True))
def clean(input: str) -> None:
    """Clean raw-article JSONL (file, .gz or - for stdin): one line per input, in order, with
    id, text, title, author, published_at, language, source (or the dead-letter record).

    Learns each site's boilerplate lines as it goes, in one pass, as the stream does.
    """
    from stream.tools.jsonl import iter_lines, write_line
    from stream.tools.offline import run_records

    out = sys.stdout.buffer
    settings = _settings()
    for result in run_records(iter_lines(input, keep_blank=True), settings.limits,
                              settings.entities, with_entities=False):
        found = result.cleaned
        write_line(result.deadletter if found is None else _cleaned_line(found), out)
    out.flush()


def _cleaned_line(found: Cleaned) -> dict[str, Any]:
    """One line of ``newsstream clean``'s output."""
    article = found.article
    return {"id": found.id, "url": found.url, "text": article.text, "title": article.title,
            "author": article.author, "published_at": article.published_at,
            "language": found.language, "source": article.source,
            "site_name": article.site_name, "canonical_url": article.canonical_url}


@main.command()
@click.argument("input", default="-", type=click.Path(allow_dash=True))
@click.option("--language", default="auto", show_default=True,
              help="Language of the texts when a record has no 'language' field "
                   "(auto: detected per text).")
def entities(input: str, language: str) -> None:
    """Tag JSONL of {"id", "text"}: prints {"id", "entities": [{text, label, start, end}]}.

    No cleaning: offsets are into the given text.
    """
    from stream.clean.language import detect_language
    from stream.entities.extract import Entity, extract_entities_in
    from stream.entities.models.registry import EntityOptions
    from stream.tools.jsonl import iter_lines, write_line

    out = sys.stdout.buffer
    # A one-off run has the machine to itself: the accurate tier takes every core.
    options = EntityOptions.from_view(_settings().entities, threads=len(os.sched_getaffinity(0)))

    def flush(records: list[dict[str, Any]], languages: list[str]) -> None:
        found: dict[int, list[Entity]] = {}
        for lang in dict.fromkeys(languages):
            group = [i for i, other in enumerate(languages) if other == lang]
            tagged = extract_entities_in([records[i]["text"] for i in group], lang,
                                         options=options)
            found.update(zip(group, tagged, strict=True))
        for i, record in enumerate(records):
            write_line({"id": record.get("id"), "entities": [
                {"text": e.text, "label": e.label, "start": e.start, "end": e.end,
                 "name": e.name} for e in found[i]]}, out)
        records.clear()
        languages.clear()

    # Records are tagged a few dozen at a time (the transformer batches their sentences);
    # output keeps input order.
    records: list[dict[str, Any]] = []
    languages: list[str] = []
    for number, line in enumerate(iter_lines(input, keep_blank=True), 1):
        problem = _entities_input_problem(line, number)
        if problem is not None:  # reported in place, so output line N is input line N
            flush(records, languages)
            write_line(problem, out)
            continue
        record = orjson.loads(line)
        given = record.get("language") or (None if language == "auto" else language)
        records.append(record)
        languages.append(given or detect_language(record["text"]))
        if len(records) == ENTITIES_CHUNK:
            flush(records, languages)
    flush(records, languages)
    out.flush()


def _entities_input_problem(line: bytes, number: int) -> dict[str, Any] | None:
    """The dead letter of an input line of `newsstream entities` that is not {"text": ...}."""
    from stream.ingest.deadletters import Origin, ReasonCode, Rejected
    from stream.pipeline import Result

    code: ReasonCode | None = None
    reason = ""
    if not line:
        code, reason = "empty_line", f"input line {number} is blank"
    else:
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            code, reason = "invalid_json", f"input line {number}: not valid JSON: {error}"
        else:
            if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                code, reason = "schema", f'input line {number}: expected {{"text": "..."}}'
    if code is None:
        return None
    return Result.rejected(line, Origin(), Rejected(code, "decode", reason)).deadletter


@main.command()
@click.option("--port", type=int, default=None, help="Port of the page (default: "
              "NEWSSTREAM_DASHBOARD_PORT, 8088).")
@click.option("--host", default=None, help="Address to listen on (default: "
              "NEWSSTREAM_DASHBOARD_HOST, 127.0.0.1).")
def dashboard(port: int | None, host: str | None) -> None:
    """Serve the live dashboard, fed by articles.enriched, entities.mentions and
    entities.trending (read from the beginning; no worker is called)."""
    from stream.dashboard.server import serve

    settings = _settings()
    overrides = {k: v for k, v in (("dashboard_port", port), ("dashboard_host", host))
                 if v is not None}
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] %(levelname)s %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    serve(settings.model_copy(update=overrides))


@main.command()
def demo() -> None:
    """What ``make run`` runs: broker, worker, example articles, live output."""
    from stream.tools.demo import run_demo

    sys.exit(run_demo(_settings(), os.environ.get("NEWSSTREAM_BROKER_URL")))


if __name__ == "__main__":
    main()
