"""The dashboard's state and highlighting, from records as the output topics carry them."""

from __future__ import annotations

from typing import Any

import pytest

from stream.dashboard.highlight import excerpt_end, segments
from stream.dashboard.state import ARTICLE_TEXT_CHARS, DashboardState, Invalid, Limits


def mention(text: str, body: str, entity_id: str, label: str = "PER",
            occurrence: int = 0) -> dict[str, Any]:
    start = -1
    for _ in range(occurrence + 1):
        start = body.index(text, start + 1)
    return {"text": text, "label": label, "start": start, "end": start + len(text),
            "name": text, "entity_id": entity_id}


def article(article_id: str, body: str, mentions: list[dict[str, Any]], *,
            source: str = "kompas.com", language: str = "id",
            duplicate_of: str | None = None) -> dict[str, Any]:
    counts: dict[str, dict[str, Any]] = {}
    for m in mentions:
        entry = counts.setdefault(m["entity_id"], {"entity_id": m["entity_id"],
                                                   "name": m["name"], "label": m["label"],
                                                   "mentions": 0})
        entry["mentions"] += 1
    return {"schema_version": 1, "id": article_id, "url": f"https://{source}/{article_id}",
            "source": source, "title": f"Title {article_id}", "author": None,
            "published_at": "2023-07-29", "language": language, "text": body,
            "entities": mentions, "entity_counts": list(counts.values()),
            "fetched_at": None, "received_at": "2023-07-29T00:00:00Z",
            "processed_at": "2023-07-29T00:00:01Z", "pipeline_version": "x",
            "duplicate_of": duplicate_of}


def count(entity_id: str, window: str, start: str | None, mentions: int, articles: int = 1,
          end: str | None = None, name: str | None = None) -> dict[str, Any]:
    label, _, slug = entity_id.partition(":")
    return {"schema_version": 1, "entity": {"entity_id": entity_id, "name": name or slug,
                                            "label": label},
            "window": window, "window_start": start, "window_end": end, "mentions": mentions,
            "articles": articles, "updated_at": "2023-07-29T00:00:02Z"}


def minute(i: int) -> tuple[str, str]:
    return (f"2023-07-29T00:{i:02d}:00Z", f"2023-07-29T00:{i + 1:02d}:00Z")


BODY = "Antony Blinken bertemu Sergei Shoigu. Blinken menyebut Rusia."


def test_highlight_segments_follow_code_point_offsets() -> None:
    body = "🙂 Jokowi di 𝕏 bertemu Prabowo."  # characters beyond the BMP before the mentions
    found = segments(body, [mention("Prabowo", body, "PER:prabowo"),
                            mention("Jokowi", body, "PER:jokowi")])
    assert "".join(s["t"] for s in found) == body
    assert [(s["t"], s["e"]) for s in found if "e" in s] == [("Jokowi", "PER:jokowi"),
                                                              ("Prabowo", "PER:prabowo")]


def test_highlight_skips_overlaps_and_bad_offsets_and_cuts_between_words() -> None:
    body = "Kota Banjarmasin dan Banjarmasin Utara hari ini"
    outer = mention("Kota Banjarmasin", body, "LOC:kota-banjarmasin", "LOC")
    inner = mention("Banjarmasin", body, "LOC:banjarmasin", "LOC")
    beyond = {**inner, "start": 40, "end": 400}
    found = segments(body, [inner, outer, beyond])
    assert [s["t"] for s in found if "e" in s] == ["Kota Banjarmasin"]
    assert "".join(s["t"] for s in found) == body
    cut = segments(body, [outer], limit=25)
    assert "".join(s["t"] for s in cut) == "Kota Banjarmasin dan"
    assert excerpt_end(body, 1000) == len(body)


def test_articles_are_latest_value_per_key_and_bounded() -> None:
    state = DashboardState(Limits(articles=3))
    for i in range(5):
        state.apply_article(article(f"a{i}", BODY, [mention("Rusia", BODY, "LOC:rusia", "LOC")]))
    assert list(state.articles) == ["a2", "a3", "a4"]
    assert list(state.entity_articles["LOC:rusia"]) == ["a2", "a3", "a4"]
    # Redelivered with a change: replaces the stored one in its place, counted once.
    state.apply_article(article("a3", BODY, [mention("Blinken", BODY, "PER:blinken",
                                                     occurrence=1)]))
    assert list(state.articles) == ["a2", "a3", "a4"]
    assert list(state.entity_articles["LOC:rusia"]) == ["a2", "a4"]
    assert [item["id"] for item in state.feed(10)] == ["a4", "a3", "a2"]
    assert state.feed(10)[1]["seq"] == 4  # keeps its arrival place
    assert [item["id"] for item in state.feed(10, since=4)] == ["a4"]  # what the page lacks
    state.forget_article("a4")
    assert "a4" not in state.articles and list(state.entity_articles["LOC:rusia"]) == ["a2"]


def test_top_ranks_as_the_worker_does_and_filters_by_label_and_language() -> None:
    state = DashboardState()
    state.apply_count(count("PER:antony-blinken", "total", None, 5, 1))
    state.apply_count(count("LOC:rusia", "total", None, 5, 2))
    state.apply_count(count("LOC:ukraina", "total", None, 3, 1))
    state.apply_count(count("LOC:ukraina", "total", None, 4, 1))  # later value wins
    state.apply_article(article("a", BODY, [mention("Rusia", BODY, "LOC:rusia", "LOC")],
                                language="id"))
    top = state.top("total")
    assert [(e["entity_id"], e["mentions"]) for e in top["entities"]] == [
        ("LOC:rusia", 5), ("PER:antony-blinken", 5), ("LOC:ukraina", 4)]
    assert [e["entity_id"] for e in state.top("total", label="PER")["entities"]] == [
        "PER:antony-blinken"]
    assert [e["entity_id"] for e in state.top("total", language="id")["entities"]] == [
        "LOC:rusia"]
    assert state.top("total", language="en")["entities"] == []


def test_windows_show_the_latest_start_and_keep_a_bounded_history() -> None:
    state = DashboardState(Limits(windows=3))
    for i in range(6):
        start, end = minute(i)
        state.apply_count(count("LOC:rusia", "1m", start, i + 1, end=end))
    start, end = minute(0)
    state.apply_count(count("LOC:rusia", "1m", start, 99, end=end))  # too old: not held
    top = state.top("1m")
    assert top["start"] == state.latest_start("1m") and top["entities"][0]["mentions"] == 6
    assert len(top["starts"]) == 3 and state.window_names() == ["total", "1m"]
    assert [p[1] for p in state.entity("LOC:rusia")["series"]["1m"]] == [4, 5, 6]  # type: ignore[index]
    chosen = state.top("1m", start=top["starts"][-1])
    assert chosen["entities"][0]["mentions"] == 4


def test_entities_are_bounded_by_the_most_mentioned() -> None:
    state = DashboardState(Limits(entities=100))
    for i in range(1000):
        state.apply_count(count(f"PER:p{i}", "total", None, i, 1))
        start, end = minute(1)
        state.apply_count(count(f"PER:p{i}", "1m", start, i, end=end))
    sizes = state.sizes()
    assert sizes["entities"] <= 110 and sizes["window_entries"] <= 110
    assert sizes["names"] <= 110
    assert state.top("total", n=1)["entities"][0]["entity_id"] == "PER:p999"


def test_entity_page_outlets_neighbours_and_latest_articles() -> None:
    state = DashboardState()
    blinken = "PER:antony-blinken"
    for i, source in enumerate(["kompas.com", "kompas.com", "detik.com"]):
        state.apply_article(article(f"a{i}", BODY, [
            mention("Antony Blinken", BODY, blinken),
            mention("Blinken", BODY, blinken, occurrence=1),
            mention("Rusia", BODY, "LOC:rusia", "LOC")]
            + ([mention("Sergei Shoigu", BODY, "PER:sergei-shoigu")] if i == 2 else []),
            source=source))
    state.apply_article(article("copy", BODY, [mention("Antony Blinken", BODY, blinken)],
                                source="copycat.com", duplicate_of="a0"))
    page = state.entity(blinken)
    assert page is not None
    assert page["outlets"] == [{"source": "kompas.com", "articles": 2},
                               {"source": "detik.com", "articles": 1}]  # not the copy
    assert [(e["entity_id"], e["articles"]) for e in page["cooccurring"]] == [
        ("LOC:rusia", 3), ("PER:sergei-shoigu", 1)]
    assert [a["id"] for a in page["articles"]] == ["copy", "a2", "a1", "a0"]
    assert page["articles"][0]["duplicate_of"] == "a0" and page["articles"][0]["first_copy_known"]
    assert state.entity("PER:nobody") is None


def test_a_record_that_names_itself_its_first_copy_is_the_article() -> None:
    # Written before the same id was the same article: the page stays whole.
    state = DashboardState()
    blinken = "PER:antony-blinken"
    state.apply_article(article("a0", BODY, [mention("Antony Blinken", BODY, blinken)]))
    state.apply_article(article("a0", BODY, [mention("Antony Blinken", BODY, blinken)],
                                duplicate_of="a0"))
    page = state.entity(blinken)
    assert page is not None and page["outlets"] == [{"source": "kompas.com", "articles": 1}]
    assert [(a["id"], a["duplicate_of"]) for a in page["articles"]] == [("a0", None)]


def test_search_ignores_case_and_accents_and_ranks_prefixes_first() -> None:
    state = DashboardState()
    state.apply_count(count("PER:weizsacker", "total", None, 1, name="Richard von Weizsäcker"))
    state.apply_count(count("PER:fritz", "total", None, 9, name="Fritz Eckart von Weizsäcker"))
    state.apply_count(count("LOC:weiz", "total", None, 2, name="Weizsäcker Platz"))
    found = [e["entity_id"] for e in state.search("WEIZSACKER")]
    assert found == ["LOC:weiz", "PER:fritz", "PER:weizsacker"]
    assert state.search("   ") == []


def test_trending_keeps_the_latest_board_per_window() -> None:
    state = DashboardState()
    for i in (0, 1):
        start, end = minute(i)
        state.apply_trending({"schema_version": 1, "window": "1m", "window_start": start,
                              "window_end": end, "updated_at": f"2023-07-29T00:0{i}:30Z",
                              "entities": [{"rank": 1, "entity": {"entity_id": "LOC:rusia",
                                                                  "name": "Rusia",
                                                                  "label": "LOC"},
                                            "mentions": 6 + i, "baseline": 1.5,
                                            "score": 2.0}]})
    board = state.trending_board()
    assert board is not None and board["window_start"] == minute(1)[0]
    assert board["entities"][0]["mentions"] == 7


def test_a_huge_article_is_cut_and_its_mentions_beyond_the_cut_dropped() -> None:
    body = "Rusia " + "kata " * (ARTICLE_TEXT_CHARS // 5) + "Ukraina"
    state = DashboardState()
    state.apply_article(article("big", body, [mention("Rusia", body, "LOC:rusia", "LOC"),
                                              mention("Ukraina", body, "LOC:ukraina", "LOC")]))
    shown = state.article("big")
    assert shown is not None and shown["more"] is True
    assert [s["e"] for s in shown["segments"] if "e" in s] == ["LOC:rusia"]
    assert len(state.articles["big"].text) == ARTICLE_TEXT_CHARS


@pytest.mark.parametrize("record", [
    {"entity": {"entity_id": "x"}, "window": "total", "mentions": 1, "articles": 1},
    {"entity": {"entity_id": "PER:a", "name": "a", "label": "PER"}, "window": "1m",
     "window_start": "year 9999", "window_end": None, "mentions": 1, "articles": 1},
    {"entity": {"entity_id": "PER:a", "name": "a", "label": "PER"}, "window": "total",
     "mentions": "many", "articles": 1},
])
def test_records_off_the_schema_are_refused(record: dict[str, Any]) -> None:
    state = DashboardState()
    with pytest.raises(Invalid):
        state.apply_count(record)
    with pytest.raises(Invalid):
        state.apply_article({"id": "x"})
    assert state.sizes()["entities"] == 0


def test_an_entity_is_shown_by_its_name_in_the_language_of_its_articles() -> None:
    state = DashboardState()
    english = "Britain's Conservative Party was accused in London."
    uk = mention("Britain", english, "LOC:inggris", "LOC") | {"name": "United Kingdom"}
    state.apply_article(article("en1", english, [uk], language="en", source="ap.org"))
    state.apply_count(count("LOC:inggris", "total", None, 1, name="Inggris"))
    assert [e["name"] for e in state.top()["entities"]] == ["United Kingdom"]
    assert state.entity("LOC:inggris")["name"] == "United Kingdom"  # type: ignore[index]
    indonesian = "Inggris menolak usulan itu."
    state.apply_article(article("id1", indonesian, [mention("Inggris", indonesian,
                                                            "LOC:inggris", "LOC")]))
    state.apply_count(count("LOC:inggris", "total", None, 2, 2, name="Inggris"))
    # Articles of both languages: the name shared across them, unless one is asked for.
    assert [e["name"] for e in state.top()["entities"]] == ["Inggris"]
    assert [e["name"] for e in state.top(language="en")["entities"]] == ["United Kingdom"]
    assert [e["entity_id"] for e in state.search("united")] == ["LOC:inggris"]
    assert [e["entity_id"] for e in state.search("inggris")] == ["LOC:inggris"]


def test_final_records_of_closed_windows_fill_the_charts_as_windows_close() -> None:
    """Emit mode final: one record per window, marked final, once it closed."""
    state = DashboardState(Limits(windows=3))
    for i in range(2):
        start, end = minute(i)
        state.apply_count({**count("LOC:rusia", "1m", start, 10 + i, end=end), "final": True})
    assert [p[1] for p in state.entity("LOC:rusia")["series"]["1m"]] == [10, 11]  # type: ignore[index]
    assert state.top("1m")["entities"][0]["mentions"] == 11
