import time
from typing import Any

import pytest

import stream.pipeline
import stream.runtime.enricher
from stream.config import Settings
from stream.ingest.deadletters import Origin
from stream.pipeline import enrich_record
from stream.runtime.enricher import Enricher
from tests.support.helpers import assert_valid, raw_bytes

FAST = Settings().entities  # the default tier (unused here: with_entities=False)


def _slow_enrich(value: bytes | None, origin: Origin | None = None, **kwargs: Any) -> Any:
    if value and b"slow-page" in value:
        time.sleep(30)
    return enrich_record(value, origin, **kwargs)


def test_a_page_past_the_time_budget_becomes_a_dead_letter(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream.runtime.enricher, "enrich_record", _slow_enrich)
    enricher = Enricher(Settings(article_budget_s=1.0).limits, FAST, with_entities=False,
                        start_method="fork")
    try:
        memory: dict[str, Any] = {}
        slow = enricher.run(raw_bytes(id="slow-page"), memory, Origin("raw", 1, 7))
        assert slow.deadletter is not None
        assert_valid("dead-letter", slow.deadletter)
        assert slow.deadletter["reason_code"] == "too_slow"
        assert (slow.deadletter["partition"], slow.deadletter["offset"]) == (1, 7)
        fine = enricher.run(raw_bytes(id="next"), memory)
        assert fine.cleaned is not None and fine.cleaned.id == "next"
        assert list(memory) == ["kompas.com"]  # the site's boilerplate memory was stored
    finally:
        enricher.close()


def test_the_offline_watchdog_stops_a_slow_page_in_process(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream.runtime.enricher, "enrich_record", _slow_enrich)
    enricher = Enricher(Settings(article_budget_s=0.5).limits, FAST, with_entities=False,
                        start_method="alarm")
    memory: dict[str, Any] = {}
    started = time.monotonic()
    slow = enricher.run(raw_bytes(id="slow-page"), memory)
    assert time.monotonic() - started < 5
    assert slow.deadletter is not None and slow.deadletter["reason_code"] == "too_slow"
    fine = enricher.run(raw_bytes(id="next"), memory)
    assert fine.cleaned is not None and fine.cleaned.id == "next"


def _slow_language(text: str, given: str | None = None) -> str:
    if "lambat-sekali" in text:
        time.sleep(30)
    return "id"


@pytest.mark.parametrize("start_method", ["fork", "alarm"])
def test_a_record_past_its_budget_names_the_stage_it_was_in(
        monkeypatch: pytest.MonkeyPatch, start_method: str) -> None:
    # The child (forked after this patch) or this process runs the language stage slowly.
    monkeypatch.setattr(stream.pipeline, "detect_language", _slow_language)
    enricher = Enricher(Settings(article_budget_s=1.0).limits, FAST, with_entities=False,
                        start_method=start_method)
    try:
        body = "Berita ini lambat-sekali diproses oleh mesin pendeteksi bahasa. " * 3
        slow = enricher.run(raw_bytes(id="slow-language", body=body), {})
        assert slow.deadletter is not None
        assert (slow.deadletter["reason_code"], slow.deadletter["stage"]) == (
            "too_slow", "language")
        assert "in stage language" in slow.deadletter["reason"]
        assert slow.deadletter["article_id"] == "slow-language"
        fine = enricher.run(raw_bytes(id="next"), {})
        assert fine.cleaned is not None and fine.cleaned.id == "next"
    finally:
        enricher.close()


async def test_the_offline_budget_holds_for_the_async_call_too(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Alarm mode (the offline commands) keeps the budget in ``run_async`` as in ``run``: it
    used to run the record in a thread, with no budget at all."""
    monkeypatch.setattr(stream.pipeline, "detect_language", _slow_language)
    enricher = Enricher(Settings(article_budget_s=1.0).limits, FAST, with_entities=False,
                        start_method="alarm")
    try:
        body = "Berita ini lambat-sekali diproses oleh mesin pendeteksi bahasa. " * 3
        slow = await enricher.run_async(raw_bytes(id="slow-async", body=body), {}, Origin())
        assert slow.deadletter is not None
        assert (slow.deadletter["reason_code"], slow.deadletter["stage"]) == (
            "too_slow", "language")
    finally:
        enricher.close()
