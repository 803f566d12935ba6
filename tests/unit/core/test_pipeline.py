import orjson
import pytest

import stream.pipeline
from stream.ingest.deadletters import Origin
from stream.pipeline import STAGE_NAMES, EnrichOptions, enrich_record
from tests.support.helpers import SAMPLE_BOILERPLATE, assert_valid, raw_bytes

LIMIT = 5_000_000
OPTIONS = EnrichOptions(max_bytes=LIMIT)


def test_sample_article_is_enriched_and_valid() -> None:
    result = enrich_record(raw_bytes(fetched_at="2023-07-29T08:30:00Z"), options=OPTIONS)
    assert result.ok and result.enriched is not None
    enriched = result.enriched
    assert_valid("enriched-article", enriched)
    assert enriched["language"] == "id"
    assert enriched["entities_model"] == "crf-id"
    assert enriched["source"] == "kompas.com"
    assert enriched["published_at"] == "2023-07-29"
    assert all(line not in enriched["text"] for line in SAMPLE_BOILERPLATE)
    names = {e["name"] for e in enriched["entities"]}
    assert {"Antony Blinken", "Sergei Shoigu", "Kim Jong Un", "KCNA"} <= names
    for entity in enriched["entities"]:
        assert enriched["text"][entity["start"]:entity["end"]] == entity["text"]
    assert set(result.timings) == {"decode", "clean", "language", "entities", "assemble",
                                   "fingerprint"}
    # published_at (a date) comes before fetched_at as the event time.
    assert result.event_time == 1690588800.0


def test_an_article_in_a_language_no_model_reads_has_no_entities_and_says_so() -> None:
    text = ("ロシアのプーチン大統領は東京で記者会見を開き、日本の岸田首相と会談したと述べた。"
            "会談ではウクライナ情勢について話し合われた。")
    result = enrich_record(orjson.dumps({"id": "ja-1", "url": "https://example.jp/a",
                                         "content_type": "text/plain", "body": text}),
                           options=OPTIONS)
    assert result.ok and result.enriched is not None
    assert result.enriched["language"] == "ja"
    assert result.enriched["entities_model"] == "none"
    assert result.enriched["entities"] == [] and result.enriched["entity_counts"] == []
    assert_valid("enriched-article", result.enriched)


def test_bad_record_becomes_a_dead_letter_with_the_payload_intact() -> None:
    origin = Origin("articles.raw", 2, 41, 1700000000.0, b"k1")
    result = enrich_record(b'{"url": 1}', origin, options=OPTIONS)
    assert not result.ok and result.deadletter is not None
    letter = result.deadletter
    assert_valid("dead-letter", letter)
    assert (letter["reason_code"], letter["stage"]) == ("schema", "validate")
    assert letter["payload"] == '{"url": 1}'
    assert (letter["topic"], letter["partition"], letter["offset"], letter["key"]) == (
        "articles.raw", 2, 41, "k1")


def test_binary_payload_is_kept_as_base64() -> None:
    result = enrich_record(b"\xff\xfe\x00garbage", options=OPTIONS)
    assert result.deadletter is not None
    assert result.deadletter["payload_encoding"] == "base64"
    assert result.deadletter["reason_code"] == "invalid_json"


def test_failure_inside_a_stage_is_a_dead_letter_not_a_crash() -> None:
    class Broken:
        name = "broken"

        def predict(self, sentences: object) -> list[list[tuple[int, int, str]]]:
            raise RuntimeError("model exploded")

    result = enrich_record(raw_bytes(), options=EnrichOptions(max_bytes=LIMIT, tagger=Broken()))
    assert result.deadletter is not None
    assert result.deadletter["reason_code"] == "internal_error"
    assert result.deadletter["stage"] == "entities"
    assert "model exploded" in result.deadletter["reason"]


def test_record_timestamp_is_the_fallback_event_time_and_fetch_time() -> None:
    body = "Warga kota merayakan hari jadi dengan pawai budaya yang meriah sepanjang jalan."
    result = enrich_record(orjson.dumps({"url": "https://x.example/a", "content_type":
                                         "text/plain", "body": body}),
                           Origin("t", 0, 0, 1700000000.0), options=OPTIONS)
    assert result.enriched is not None
    assert result.event_time == 1700000000.0
    assert result.enriched["fetched_at"] == "2023-11-14T22:13:20.000Z"
    assert result.enriched["origin"] == {"topic": "t", "partition": 0, "offset": 0}


def test_the_stages_run_in_order_and_each_is_timed() -> None:
    full = enrich_record(raw_bytes(id="timed"), options=EnrichOptions(max_bytes=1_000_000))
    assert full.enriched is not None
    assert list(full.timings) == list(STAGE_NAMES) == [
        "decode", "clean", "language", "entities", "assemble", "fingerprint"]
    cleaned = enrich_record(raw_bytes(id="timed"),
                            options=EnrichOptions(max_bytes=1_000_000, with_entities=False))
    assert list(cleaned.timings) == ["decode", "clean", "language"]
    assert cleaned.enriched is None and cleaned.cleaned is not None


def test_a_failing_stage_is_named_in_the_dead_letter(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("simhash table corrupt")

    monkeypatch.setattr(stream.pipeline, "fingerprint", broken)
    result = enrich_record(raw_bytes(id="broken"), options=EnrichOptions(max_bytes=1_000_000))
    assert result.enriched is None and result.deadletter is not None
    assert (result.deadletter["reason_code"], result.deadletter["stage"]) == (
        "internal_error", "fingerprint")
    assert result.deadletter["article_id"] == "broken"
    assert "simhash table corrupt" in result.deadletter["reason"]
