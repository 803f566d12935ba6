import asyncio
import gzip
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from stream.tools.broker import EmbeddedBroker, create_newsstream_topics
from stream.tools.cli import main
from tests.conftest import settings_env, unique_settings
from tests.support.helpers import SAMPLE_BOILERPLATE, assert_valid, raw_bytes
from tests.support.paths import EXAMPLES


def test_process_reads_stdin_and_keeps_input_order_with_dead_letters() -> None:
    lines = [raw_bytes(id="first"), b"{broken", raw_bytes(id="third")]
    result = CliRunner().invoke(main, ["process"], input=b"\n".join(lines) + b"\n")
    assert result.exit_code == 0, result.output
    records = [orjson.loads(line) for line in result.stdout_bytes.splitlines()]
    assert [r.get("id") for r in records] == ["first", None, "third"]
    assert records[1]["reason_code"] == "invalid_json"
    assert_valid("dead-letter", records[1])
    assert_valid("enriched-article", records[0])


def test_process_reads_gzip_files(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(raw_bytes(id="gz") + b"\n")
    result = CliRunner().invoke(main, ["process", str(path)])
    assert result.exit_code == 0, result.output
    record = orjson.loads(result.stdout_bytes)
    assert record["id"] == "gz"
    assert_valid("enriched-article", record)


def test_entities_offsets_are_into_the_given_text() -> None:
    text = "Menteri Luar Negeri Amerika Serikat Antony Blinken bertemu Kim Jong Un di Pyongyang."
    result = CliRunner().invoke(main, ["entities"], input=orjson.dumps({"id": 7, "text": text}))
    record = orjson.loads(result.stdout_bytes)
    assert record["id"] == 7
    spans = {(e["text"], e["label"]) for e in record["entities"]}
    assert ("Antony Blinken", "PER") in spans
    for entity in record["entities"]:
        assert text[entity["start"]:entity["end"]] == entity["text"]


def test_entities_tags_records_in_chunks_and_keeps_their_order() -> None:
    texts = [("id", "Presiden Joko Widodo meninjau bendungan di Jawa Tengah."),
             ("en", "President Joe Biden visited a dam in Ohio.")] * 20
    lines = [orjson.dumps({"id": i, "text": text, "language": lang})
             for i, (lang, text) in enumerate(texts)]
    result = CliRunner().invoke(main, ["entities"], input=b"\n".join(lines) + b"\n")
    records = [orjson.loads(line) for line in result.stdout_bytes.splitlines()]
    assert [r["id"] for r in records] == list(range(40))  # across the 32-record chunks
    names = [{e["name"] for e in r["entities"]} for r in records]
    assert all("Joko Widodo" in n for n in names[0::2])
    assert all("Joe Biden" in n for n in names[1::2])


def test_installed_console_script_on_the_sample(tmp_path: Path) -> None:
    """The acceptance command, through the real entry point."""
    script = Path(sys.executable).with_name("newsstream")
    completed = subprocess.run([str(script), "process"], input=raw_bytes(),
                               capture_output=True, check=True, timeout=120)
    lines = completed.stdout.splitlines()
    assert len(lines) == 1
    enriched = orjson.loads(lines[0])
    assert all(b not in enriched["text"] for b in SAMPLE_BOILERPLATE)
    assert enriched["text"].count("\n\n") == 7


def test_clean_prints_one_record_per_input_and_learns_site_boilerplate() -> None:
    footer = "Semua isi situs ini dikelola redaksi kami di Jakarta dan diperbarui setiap hari kerja"

    def page(n: int) -> bytes:
        body = (f"Menu\nWarga desa {n} merayakan panen raya dengan pesta rakyat yang meriah.\n"
                f"Kepala desa {n} mengatakan hasil panen tahun ini jauh lebih baik.\n{footer}")
        return raw_bytes(id=f"p{n}", url=f"https://berita.example.co.id/{n}", body=body)

    lines = [page(1), b"[]", page(2), page(3)]
    result = CliRunner().invoke(main, ["clean"], input=b"\n".join(lines))
    assert result.exit_code == 0, result.output
    records = [orjson.loads(line) for line in result.stdout_bytes.splitlines()]
    assert [r.get("id") for r in records] == ["p1", None, "p2", "p3"]
    assert records[1]["reason_code"] == "not_an_object"
    assert set(records[0]) >= {"id", "text", "title", "author", "published_at", "language",
                               "source"}
    assert footer in records[0]["text"]
    assert footer not in records[3]["text"]
    assert "Warga desa 3" in records[3]["text"]


def test_clean_on_the_sample_article() -> None:
    result = CliRunner().invoke(main, ["clean"], input=raw_bytes())
    record = orjson.loads(result.stdout_bytes)
    assert record["language"] == "id"
    assert record["published_at"] == "2023-07-29"
    assert len(record["text"].split("\n\n")) == 8


def _newsstream(*args: str, env: dict[str, str] | None = None,
                input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    import os

    return subprocess.run([sys.executable, "-m", "stream.tools.cli", *args], input=input,
                          env={**os.environ, **(env or {})}, capture_output=True, timeout=120)


def test_a_bad_setting_is_one_line_naming_the_variable_and_exit_2() -> None:
    done = _newsstream("process", "/dev/null", env={"NEWSSTREAM_NER_MODEL": "huge"})
    assert done.returncode == 2
    assert done.stderr.decode().splitlines() == [
        "newsstream: NEWSSTREAM_NER_MODEL='huge': Input should be 'fast' or 'accurate'"]


def test_an_unknown_variable_is_warned_about_with_the_closest_name() -> None:
    done = _newsstream("process", "/dev/null", env={"NEWSSTREAM_PARTITION": "3"})
    assert done.returncode == 0
    assert ("NEWSSTREAM_PARTITION is not a newsstream setting (ignored); did you mean "
            "NEWSSTREAM_PARTITIONS?") in done.stderr.decode()


def test_an_unreachable_broker_is_one_line_within_the_timeout() -> None:
    import socket
    import time

    with socket.socket() as silent:  # listens, never answers: like a frozen broker
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        started = time.monotonic()
        done = _newsstream("tail", "articles.raw", env={
            "NEWSSTREAM_BROKER_URL": f"kafka://127.0.0.1:{port}",
            "NEWSSTREAM_BROKER_TIMEOUT_S": "2"})
        assert time.monotonic() - started < 15
    assert done.returncode == 1
    lines = done.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("newsstream: cannot read articles.raw: the "
                                                   f"broker at 127.0.0.1:{port} did not answer")
    assert lines[0].endswith(f"NEWSSTREAM_BROKER_URL=kafka://127.0.0.1:{port}")


def test_a_refused_connection_says_so_and_names_the_broker_url() -> None:
    import socket

    with socket.socket() as closed:  # bound, not listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        done = _newsstream("produce", str(EXAMPLES), env={
            "NEWSSTREAM_BROKER_URL": f"kafka://127.0.0.1:{port}"})
    assert done.returncode == 1
    assert done.stderr.decode().strip().splitlines() == [
        f"newsstream: cannot send to articles.raw: nothing accepts connections at "
        f"127.0.0.1:{port} (connection refused): is the broker running there? — "
        f"NEWSSTREAM_BROKER_URL=kafka://127.0.0.1:{port}"]


def test_an_unknown_broker_host_says_so() -> None:
    done = _newsstream("tail", "articles.raw", env={
        "NEWSSTREAM_BROKER_URL": "kafka://no-such-broker.invalid:9092"})
    assert done.returncode == 1
    assert done.stderr.decode().strip().splitlines() == [
        "newsstream: cannot read articles.raw: no such host in "
        "no-such-broker.invalid:9092 — NEWSSTREAM_BROKER_URL=kafka://no-such-broker.invalid:9092"]


def test_a_bad_broker_url_is_one_line_naming_the_variable() -> None:
    for url, problem in (("kafka://127.0.0.1:abc",
                          "port 'abc' of 127.0.0.1:abc is not a number from 1 to 65535"),
                         ("broker.example.org",
                          "'broker.example.org' is not host:port; use "
                          "kafka://host:port[;host:port]"),
                         ("http://broker:9092", "http:// is not a broker scheme; use "
                                                "kafka://host:port")):
        done = _newsstream("tail", "articles.raw", env={"NEWSSTREAM_BROKER_URL": url})
        assert done.returncode == 2
        assert done.stderr.decode().splitlines() == [
            f"newsstream: NEWSSTREAM_BROKER_URL={url!r}: {problem}"]


def test_a_misspelt_prefix_is_warned_about() -> None:
    done = _newsstream("process", "/dev/null", env={"NEWSTREAM_BROKER_URL": "kafka://x:1",
                                                    "NEWSSTREM_LOG_LEVEL": "debug"})
    assert done.returncode == 0
    assert done.stderr.decode().splitlines() == [
        "newsstream: warning: NEWSSTREM_LOG_LEVEL looks like a newsstream setting with its "
        "prefix misspelt (ignored: settings start with NEWSSTREAM_); did you mean "
        "NEWSSTREAM_LOG_LEVEL?",
        "newsstream: warning: NEWSTREAM_BROKER_URL looks like a newsstream setting with its "
        "prefix misspelt (ignored: settings start with NEWSSTREAM_); did you mean "
        "NEWSSTREAM_BROKER_URL?"]


def test_the_broker_commands_name_the_broker_url_in_their_help() -> None:
    for command in ("produce", "tail"):
        done = _newsstream(command, "--help")
        assert b"NEWSSTREAM_BROKER_URL" in done.stdout, command


def test_blank_input_lines_are_reported_in_place() -> None:
    for command in ("process", "clean", "entities"):
        record = (raw_bytes(id="one") if command != "entities"
                  else orjson.dumps({"id": "one", "text": "Joko Widodo di Jakarta."}))
        done = _newsstream(command, input=record + b"\n\n  \n" + record + b"\n")
        out = [orjson.loads(line) for line in done.stdout.splitlines()]
        assert [r.get("reason_code") for r in out] == [None, "empty_line", "empty_line", None]
        assert_valid("dead-letter", out[1])


def test_too_slow_offline_names_the_article_and_the_stage() -> None:
    body = "\n".join(f"Baris {i} tentang Joko Widodo di Jakarta dan Bandung." for i in range(40000))
    done = _newsstream("process", env={"NEWSSTREAM_ARTICLE_BUDGET_S": "0.3",
                                       "NEWSSTREAM_MAX_PAYLOAD_BYTES": "50000000"},
                       input=raw_bytes(id="slow-one", body=body) + b"\n")
    [letter] = [orjson.loads(line) for line in done.stdout.splitlines()]
    assert letter["reason_code"] == "too_slow" and letter["article_id"] == "slow-one"
    assert letter["stage"] in ("decode", "clean", "language", "entities")
    assert f"in stage {letter['stage']}" in letter["reason"]


def test_files_are_given_an_https_url_the_schema_accepts(tmp_path: Path) -> None:
    from stream.ingest.payloads import decode_raw_article
    from stream.tools.producing import records_from_paths

    page = tmp_path / "my page.html"
    page.write_text("<html><body><p>Teks berita.</p></body></html>")
    [(_, value)] = list(records_from_paths([page], "https://localhost/files/"))
    assert decode_raw_article(value, 10**6).url == "https://localhost/files/my%20page.html"
    [(_, given)] = list(records_from_paths([page], "https://localhost/files/",
                                           "https://www.kompas.com/read/1"))
    assert orjson.loads(given)["url"] == "https://www.kompas.com/read/1"
    done = _newsstream("produce", str(page), "--url", "file://x")
    assert done.returncode == 2 and b"is not an http(s) URL" in done.stderr


@pytest.mark.integration
def test_produce_refuses_an_unknown_topic_unless_asked_and_tail_fails_on_one(
        broker: EmbeddedBroker, tmp_path: Path) -> None:
    settings = unique_settings(broker, tmp_path / "data")
    env = settings_env(settings)
    raw = settings.input_topics[0]
    asyncio.run(create_newsstream_topics(settings.connection, settings.topics, settings.limits))
    misspelt = raw.replace("raw-", "rwa-")  # two letters swapped
    done = _newsstream("produce", "--topic", misspelt, str(EXAMPLES), env=env)
    assert done.returncode == 1
    assert done.stderr.decode().strip().splitlines()[-1] == (
        f"newsstream: topic {misspelt} does not exist on the broker at {broker.bootstrap}; did "
        f"you mean {raw}? (--create makes it)")
    tailed = _newsstream("tail", misspelt, "--idle-timeout", "1", env=env)
    assert tailed.returncode == 1
    assert tailed.stderr.decode().strip().splitlines() == [
        f"newsstream: topic {misspelt} does not exist on the broker at {broker.bootstrap}; did "
        f"you mean {raw}? (`newsstream topics` creates newsstream's topics)"]
    created = _newsstream("produce", "--create", "--topic", misspelt, str(EXAMPLES), env=env)
    assert created.returncode == 0, created.stderr
    assert f"sent 6 records to {misspelt}" in created.stderr.decode()


@pytest.mark.integration
def test_produce_reports_invalid_records_before_sending_and_holds_them(
        broker: EmbeddedBroker, tmp_path: Path) -> None:
    settings = unique_settings(broker, tmp_path / "data")
    asyncio.run(create_newsstream_topics(settings.connection, settings.topics, settings.limits))
    batch = tmp_path / "batch.jsonl"
    batch.write_bytes(b"\n".join([raw_bytes(id="a"), b"{broken", b"",
                                  orjson.dumps({"url": "https://x.id/1"}), raw_bytes(id="b")]))
    done = _newsstream("produce", str(batch), env=settings_env(settings))
    lines = done.stderr.decode().strip().splitlines()
    assert done.returncode == 1
    assert lines[0] == "newsstream: 2 of 4 records are not valid raw articles:"
    assert lines[1].startswith(f"newsstream:   {batch} line 2: invalid_json: not valid JSON")
    assert lines[2].startswith(f"newsstream:   {batch} line 4: schema: ")
    assert lines[-1] == (f"sent 2 records to {settings.input_topics[0]}; 2 invalid not sent "
                         f"(--send-invalid sends them)")
