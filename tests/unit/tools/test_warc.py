"""WARC files as raw articles (stream/tools/warc.py), with WARC files written by warcio's own
writer as crawlers write them."""

from __future__ import annotations

import io
import tracemalloc
from typing import Any

import orjson

from stream.ingest.payloads import decode_raw_article
from stream.tools.warc import WarcTally, article_id_of_record, decode_body, warc_articles
from tests.support.warcs import Page, WarcFile

CAFE = "<html><head><title>Kafe</title></head><body><p>Kopi di kafé Jakarta, 5 €.</p></body></html>"


def _read(data: bytes, where: str = "crawl.warc.gz") -> tuple[list[dict[str, Any]], WarcTally]:
    tally = WarcTally()
    articles = [orjson.loads(value) for _where, _key, value
                in warc_articles(io.BytesIO(data), where, tally)]
    return articles, tally


def test_each_html_or_text_response_becomes_one_raw_article() -> None:
    warc = WarcFile()
    warc.other("warcinfo", "")
    warc.other("request", "https://example.id/a")
    plain = warc.response(Page("https://example.id/a", CAFE))
    chunked = warc.response(Page("https://example.id/b", CAFE, chunked=True, gzipped=True))
    latin = warc.response(Page("https://example.id/c", CAFE, charset="ISO-8859-1",
                               encoding="cp1252", chunked=True))
    text = warc.response(Page("https://example.id/d", "Kopi di kafé.\nBaris kedua.",
                              content_type="text/plain"))
    warc.other("revisit", "https://example.id/a")
    warc.other("metadata", "https://example.id/a", b"outlinks: none")
    warc.response(Page("https://example.id/logo.png", "PNG", content_type="image/png"))
    warc.response(Page("https://example.id/gone", "<p>not here</p>", status="404 Not Found"))
    warc.response(Page("https://example.id/moved", "<p>moved</p>", status="301 Moved"))
    articles, tally = _read(warc.data())

    assert [a["url"] for a in articles] == [f"https://example.id/{p}" for p in "abcd"]
    assert [a["id"] for a in articles] == [article_id_of_record(r)
                                           for r in (plain, chunked, latin, text)]
    assert [a["body"] for a in articles[:3]] == [CAFE] * 3  # de-chunked, gunzipped, decoded
    assert articles[3]["body"] == "Kopi di kafé.\nBaris kedua."
    assert [a["content_type"] for a in articles] == ["text/html"] * 3 + ["text/plain"]
    assert {a["fetched_at"] for a in articles} == {"2023-07-29T08:30:00Z"}
    for article in articles:
        decode_raw_article(orjson.dumps(article), 5_000_000)  # what the worker's first stage takes
    assert len(articles) == 4 and tally.problems == []
    assert tally.skipped == {"warcinfo records": 1, "request records": 1, "revisit records": 1,
                             "metadata records": 1, "responses that are not HTML or text": 1,
                             "HTTP 404 responses": 1, "HTTP 301 responses": 1}
    assert tally.summary() == [
        "WARC records skipped (not articles): 1 warcinfo records, 1 request records, "
        "1 revisit records, 1 metadata records, 1 responses that are not HTML or text, "
        "1 HTTP 404 responses, 1 HTTP 301 responses"]


def test_the_same_capture_read_twice_is_the_same_article() -> None:
    warc = WarcFile()
    warc.response(Page("https://example.id/a", CAFE))
    first, _ = _read(warc.data())
    again, _ = _read(warc.data())
    assert first == again and first[0]["id"] == article_id_of_record(warc.record_ids[0])


def test_a_body_is_decoded_as_a_browser_would() -> None:
    latin = CAFE.encode("cp1252")
    assert decode_body("text/html; charset=iso-8859-1", latin) == CAFE  # the header first
    meta = CAFE.replace("<head>", '<head><meta charset="windows-1252">').encode("cp1252")
    assert "kafé" in decode_body("text/html", meta)  # then the page's declaration
    assert decode_body("text/html", latin) == CAFE  # undeclared, not UTF-8: windows-1252
    assert decode_body("text/html", CAFE.encode()) == CAFE  # undeclared UTF-8
    assert decode_body("text/html; charset=utf-8", b"\xef\xbb\xbf" + CAFE.encode()) == CAFE


def test_warc_1_1_uncompressed_is_read_too() -> None:
    warc = WarcFile(compress=False, version="WARC/1.1")
    warc.response(Page("https://example.id/a", CAFE, chunked=True))
    warc.response(Page("https://example.id/b", CAFE))
    articles, tally = _read(warc.data(), "crawl.warc")
    assert [a["url"] for a in articles] == ["https://example.id/a", "https://example.id/b"]
    assert tally.problems == []


def test_a_truncated_record_is_one_line_and_the_others_are_read() -> None:
    for compress in (True, False):
        warc = WarcFile(compress=compress)
        warc.response(Page("https://example.id/a", CAFE))
        warc.response(Page("https://example.id/b", CAFE * 20))
        articles, tally = _read(warc.data()[:-40])
        assert [a["url"] for a in articles] == ["https://example.id/a"]
        assert len(tally.problems) == 1, tally.problems
        assert tally.problems[0].startswith("crawl.warc.gz record 2 (https://example.id/b): "
                                            "truncated: ")


def test_a_tail_that_makes_no_record_is_one_line() -> None:
    warc = WarcFile()
    warc.response(Page("https://example.id/a", CAFE))
    whole = len(warc.data())
    warc.response(Page("https://example.id/b", CAFE))
    articles, tally = _read(warc.data()[:whole + 60])
    assert [a["url"] for a in articles] == ["https://example.id/a"]
    assert tally.problems == [f"crawl.warc.gz: the file ends in an incomplete record (offset "
                              f"{whole}, 60 bytes): skipped"]


def test_a_crawler_truncated_payload_and_garbage_are_reported_not_sent() -> None:
    flagged = WarcFile(compress=False)
    flagged.response(Page("https://example.id/big", CAFE))
    ok = WarcFile(compress=False)
    ok.response(Page("https://example.id/ok", CAFE))
    marked = flagged.data().replace(b"WARC-Date:", b"WARC-Truncated: length\r\nWARC-Date:", 1)
    articles, tally = _read(marked + ok.data() + b"this is no WARC record\r\n\r\n", "x.warc")
    assert [a["url"] for a in articles] == ["https://example.id/ok"]
    assert tally.problems[0] == ("x.warc record 1 (https://example.id/big): truncated by the "
                                 "crawler (length); skipped")
    assert tally.problems[1].startswith("x.warc: corrupt after record 2")
    assert len(tally.problems) == 2


def test_a_corrupt_gzip_member_ends_the_file_with_one_line() -> None:
    warc = WarcFile()
    warc.response(Page("https://example.id/a", CAFE * 5))
    first = len(warc.data())
    warc.response(Page("https://example.id/b", CAFE * 5))
    data = bytearray(warc.data())
    for index in range(first + 60, first + 90):  # inside the second record's gzip member
        data[index] ^= 0x55
    articles, tally = _read(bytes(data))
    assert [a["url"] for a in articles] == ["https://example.id/a"]
    assert len(tally.problems) == 1
    assert tally.problems[0].startswith(f"crawl.warc.gz: corrupt after record 1 (offset {first})")
    assert tally.problems[0].isprintable()


def test_memory_stays_flat_whatever_the_file_size() -> None:
    def peak(pages: int) -> int:
        warc = WarcFile()
        for number in range(pages):
            warc.response(Page(f"https://example.id/{number}", CAFE * 400, chunked=True))
        data = warc.data()
        tracemalloc.start()
        count = sum(1 for _ in warc_articles(io.BytesIO(data), "big.warc.gz", WarcTally()))
        _size, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert count == pages
        return top

    assert peak(200) < 1.5 * peak(20)
