"""Hostile input offline: the seeded fuzz corpus through `newsstream process`, and property tests
of the decoders, the dead letters and the event time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stream.counts.event_time import LATEST_EVENT_TIME, event_time
from stream.ingest.deadletters import Origin, Rejected, deadletter_record
from stream.ingest.payloads import decode_raw_article
from stream.ingest.urls import normal_url, url_problem
from stream.pipeline import EnrichOptions, enrich_record
from tests.support.fuzz import corpus, write_corpus
from tests.support.helpers import assert_valid

LIMIT = 200_000


def _process(path: Path) -> list[dict[str, Any]]:
    env = {"NEWSSTREAM_MAX_PAYLOAD_BYTES": str(LIMIT), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "stream.tools.cli", "process", str(path)],
                          capture_output=True, check=True, env=env, timeout=600)
    return [orjson.loads(line) for line in done.stdout.splitlines()]


def test_every_hostile_record_comes_out_once_in_order(tmp_path: Path) -> None:
    records = corpus(hostile=640, good_articles=40, seed=11, offline=True)
    out = _process(write_corpus(records, tmp_path / "fuzz.jsonl"))

    assert len(out) == len(records)
    reasons = set()
    for (kind, record), result in zip(records, out, strict=True):
        if "reason_code" in result:
            assert_valid("dead-letter", result)
            reasons.add(result["reason_code"])
            assert result["payload_bytes"] == len(record.strip())
            assert kind != "good", result["reason"]
        else:
            assert_valid("enriched-article", result)
            assert result["url"] == orjson.loads(record.lstrip(b"\xef\xbb\xbf"))["url"]
    # A reason for each kind of bad input, and no failure the stages did not expect.
    assert {"invalid_json", "not_an_object", "schema", "oversize", "empty_body", "empty_line",
            "not_text"} <= reasons
    assert "internal_error" not in reasons


def test_a_bad_port_is_a_schema_error_not_a_crash() -> None:
    value = orjson.dumps({"url": "https://example.com:abc/x", "content_type": "text/plain",
                          "body": "Presiden Joko Widodo berkunjung ke Jakarta hari ini."})
    result = enrich_record(value, options=EnrichOptions(max_bytes=LIMIT))
    assert result.reason_code == "schema"
    assert "url" in result.deadletter["reason"]  # type: ignore[index]


def test_a_utf8_byte_order_mark_is_skipped() -> None:
    value = b"\xef\xbb\xbf" + orjson.dumps({"url": "https://a.example/x",
                                             "content_type": "text/plain", "body": "teks"})
    assert decode_raw_article(value, LIMIT).url == "https://a.example/x"


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2_000))
def test_decoding_any_bytes_either_succeeds_or_says_why(value: bytes) -> None:
    try:
        decode_raw_article(value, LIMIT)
    except Rejected as rejected:
        assert rejected.code and rejected.stage in ("decode", "validate")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4), max_leaves=12)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["url", "content_type", "body", "id", "fetched_at",
                                        "published_at", "lang", "title", "source"]),
                       json_values))
def test_any_object_either_decodes_or_says_why(payload: dict[str, Any]) -> None:
    try:
        article = decode_raw_article(json.dumps(payload).encode(), LIMIT)
    except Rejected as rejected:
        assert rejected.code in ("schema", "empty_body", "not_text")
    else:
        assert url_problem(article.url) is None
        normal_url(article.url)


@settings(max_examples=200)
@given(st.binary(max_size=300_000), st.integers(min_value=0, max_value=100_000))
def test_dead_letters_are_bounded_and_valid(value: bytes, limit: int) -> None:
    letter = deadletter_record(value, Origin("t", 0, 1, None, value[:5000]),
                               Rejected("invalid_json", "decode", "x" * 10_000), limit)
    assert_valid("dead-letter", letter)
    assert letter["payload_bytes"] == len(value)
    assert letter["payload_truncated"] == (len(value) > limit)
    # Even all control bytes, escaped, stay within a few times the head.
    assert len(orjson.dumps(letter)) <= 6 * limit + 20_000


def test_a_dead_letter_of_megabytes_of_control_bytes_fits_a_record() -> None:
    value = orjson.dumps({"url": "https://a.example/x", "content_type": "text/plain",
                          "body": "\x01" * 2_000_000})
    letter = deadletter_record(value, Origin(), Rejected("not_text", "validate", "binary"))
    assert len(orjson.dumps(letter)) < 1_000_000
    assert letter["payload_truncated"] is True


@given(st.one_of(st.none(), st.text(max_size=40),
                 st.datetimes().map(lambda d: d.isoformat() + "Z")),
       st.one_of(st.none(), st.floats(min_value=-1e12, max_value=1e14)))
def test_event_time_stays_believable(published: str | None, timestamp: float | None) -> None:
    now = 1_790_000_000.0
    seconds, _ = event_time({"published_at": published}, Origin(timestamp=timestamp),
                            max_skew_s=86_400, now=now)
    assert 0 <= seconds <= min(LATEST_EVENT_TIME, now + 86_400)


def test_an_article_from_the_far_future_takes_the_record_timestamp() -> None:
    origin = Origin(timestamp=1_790_000_000.0)
    for published in ("9999-12-31T23:59:59Z", "2999-01-01T00:00:00Z"):
        seconds, rejected = event_time({"published_at": published}, origin, 86_400,
                                        now=1_790_000_100.0)
        assert (seconds, rejected) == (1_790_000_000.0, ["published_at"])


def test_a_producer_clock_in_the_future_is_not_believed_either() -> None:
    seconds, rejected = event_time({"published_at": "2999-01-01T00:00:00Z"},
                                   Origin(timestamp=32_000_000_000.0), 86_400, now=1_790_000_000)
    assert seconds == 1_790_000_000 and rejected == ["published_at", "timestamp"]


def test_megabytes_of_one_repeated_name_are_too_large_not_a_killed_child() -> None:
    value = orjson.dumps({"url": "https://a.example/x", "content_type": "text/plain",
                          "body": "Joko Widodo, " * 350_000})  # 4.6 MB, one line
    result = enrich_record(value, options=EnrichOptions(max_bytes=5_000_000, max_words=50_000))
    assert result.reason_code == "too_large"
    assert "700000 words of text exceed the 50000 limit" in result.deadletter["reason"]  # type: ignore[index]
