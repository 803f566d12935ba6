"""The ``newsstream`` command line."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click
import orjson

from stream.config import Settings, get_settings

# Records `newsstream entities` tags together.
ENTITIES_CHUNK = 32


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newsstream")
def main() -> None:
    """newsstream: clean news articles, extract entities, count mentions — on Kafka."""


@main.command()
@click.option("--port", type=int, default=0, help="Port to listen on (default: a free one).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--topics/--no-topics", default=True, show_default=True,
              help="Create newsstream's topics once the broker answers.")
def broker(port: int, host: str, topics: bool) -> None:
    """Run the embedded Kafka-protocol broker (Tansu) until Ctrl-C."""
    import asyncio

    from stream.broker import EmbeddedBroker, create_newsstream_topics

    settings = get_settings()
    embedded = EmbeddedBroker(port or None, host).start()
    stop = _stop_on_signals()
    try:
        if topics:
            asyncio.run(create_newsstream_topics(settings, embedded.bootstrap))
        click.echo(f"broker ready: {embedded.url}  (pid {embedded.pid})")
        click.echo(f"export NEWSSTREAM_BROKER_URL={embedded.url}")
        while not stop.is_set():
            stop.wait(0.5)
    finally:
        embedded.stop()
        click.echo("broker stopped", err=True)


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

    from faust.worker import Worker

    from stream.app import create_app
    from stream.broker import create_newsstream_topics

    overrides: dict[str, Any] = {}
    if web_port is not None:
        overrides["web_port"] = web_port
    if loglevel:
        overrides["log_level"] = loglevel
    settings = Settings(**overrides)
    asyncio.run(create_newsstream_topics(settings))
    app = create_app(settings)
    Worker(app, loglevel=settings.log_level).execute_from_commandline()


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--topic", default=None, help="Target topic (default: the first input topic).")
@click.option("--url-prefix", default="file://local/",
              help="URL given to HTML/text files (raw articles need one).")
def produce(paths: tuple[Path, ...], topic: str | None, url_prefix: str) -> None:
    """Send raw articles to the raw topic.

    PATHS are raw-article JSONL files (.jsonl, .jsonl.gz: sent as they are, one record a
    line), HTML/text files (wrapped into raw articles), or folders of these.
    """
    import asyncio

    from stream.producing import produce_records, records_from_paths

    settings = get_settings()
    target = topic or settings.input_topics[0]
    records = records_from_paths(paths, url_prefix)
    sent = asyncio.run(produce_records(settings, target, records))
    click.echo(f"sent {sent} records to {target}", err=True)


@main.command()
@click.argument("topic")
@click.option("--from-beginning/--latest", default=True, show_default=True)
@click.option("-n", "--max-records", type=int, default=None, help="Stop after N records.")
@click.option("--idle-timeout", type=float, default=None,
              help="Stop after this many seconds without a new record.")
def tail(topic: str, from_beginning: bool, max_records: int | None,
         idle_timeout: float | None) -> None:
    """Print the records of TOPIC as JSON lines (value decoded when it is JSON)."""
    import asyncio

    from stream.producing import tail_topic

    asyncio.run(tail_topic(get_settings(), topic, from_beginning, max_records, idle_timeout))


@main.command()
@click.argument("input", default="-", type=click.Path(allow_dash=True))
def process(input: str) -> None:
    """Enrich raw-article JSONL (file, .gz or - for stdin) offline: one output line per input.

    Bad input gives its dead-letter record on that line instead.
    """
    from stream.jsonl import iter_lines, write_line
    from stream.offline import run_records

    out = sys.stdout.buffer
    for result in run_records(iter_lines(input), get_settings(), with_entities=True):
        write_line(result.enriched if result.enriched is not None else result.deadletter, out)
    out.flush()


@main.command()
@click.argument("input", default="-", type=click.Path(allow_dash=True))
def clean(input: str) -> None:
    """Clean raw-article JSONL (file, .gz or - for stdin): one line per input, in order, with
    id, text, title, author, published_at, language, source (or the dead-letter record).

    Learns each site's boilerplate lines as it goes, in one pass, as the stream does.
    """
    from stream.jsonl import iter_lines, write_line
    from stream.offline import run_records

    out = sys.stdout.buffer
    for result in run_records(iter_lines(input), get_settings(), with_entities=False):
        write_line(result.cleaned if result.deadletter is None else result.deadletter, out)
    out.flush()


@main.command()
@click.argument("input", default="-", type=click.Path(allow_dash=True))
@click.option("--language", default="auto", show_default=True,
              help="Language of the texts when a record has no 'language' field "
                   "(auto: detected per text).")
def entities(input: str, language: str) -> None:
    """Tag JSONL of {"id", "text"}: prints {"id", "entities": [{text, label, start, end}]}.

    No cleaning: offsets are into the given text.
    """
    from stream.entities import Entity, extract_entities_in
    from stream.jsonl import iter_lines, write_line
    from stream.language import detect_language

    out = sys.stdout.buffer

    def flush(records: list[dict[str, Any]], languages: list[str]) -> None:
        found: dict[int, list[Entity]] = {}
        for lang in dict.fromkeys(languages):
            group = [i for i, other in enumerate(languages) if other == lang]
            tagged = extract_entities_in([records[i]["text"] for i in group], lang)
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
    for line in iter_lines(input):
        record = orjson.loads(line)
        given = record.get("language") or (None if language == "auto" else language)
        records.append(record)
        languages.append(given or detect_language(record["text"]))
        if len(records) == ENTITIES_CHUNK:
            flush(records, languages)
    flush(records, languages)
    out.flush()


@main.command()
def demo() -> None:
    """What ``make run`` runs: broker, worker, example articles, live output."""
    from stream.demo import run_demo

    sys.exit(run_demo(get_settings(), os.environ.get("NEWSSTREAM_BROKER_URL")))


if __name__ == "__main__":
    main()
