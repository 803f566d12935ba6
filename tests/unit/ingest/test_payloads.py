import orjson
import pytest

from stream.ingest.deadletters import Rejected
from stream.ingest.payloads import decode_raw_article
from stream.ingest.urls import article_id_from_url, host_of
from tests.support.helpers import raw_article, raw_bytes

LIMIT = 1_000_000


def test_decodes_a_valid_article_and_derives_its_id_from_the_url() -> None:
    article = decode_raw_article(raw_bytes(), LIMIT)
    assert article.content_type == "text/plain"
    assert article.id == article_id_from_url(article.url)
    assert len(article.id) == 16


def test_given_id_is_kept() -> None:
    assert decode_raw_article(raw_bytes(id="abc-1"), LIMIT).id == "abc-1"


def test_url_ids_ignore_fragment_case_of_host_and_trailing_slash() -> None:
    assert article_id_from_url("https://WWW.Example.com/a/b/#top") == article_id_from_url(
        "https://www.example.com/a/b"
    )
    assert article_id_from_url("https://example.com/a") != article_id_from_url(
        "https://example.com/b"
    )


def test_domain_drops_www() -> None:
    assert host_of("https://www.kompas.com/x") == "kompas.com"


@pytest.mark.parametrize(
    ("value", "code", "stage"),
    [
        (b"{not json", "invalid_json", "decode"),
        (b"[1, 2]", "not_an_object", "decode"),
        (b'"text"', "not_an_object", "decode"),
        (orjson.dumps({"url": "https://a.example/x", "content_type": "text/plain"}),
         "schema", "validate"),
        (orjson.dumps({**raw_article(), "body": 42}), "schema", "validate"),
        (orjson.dumps(raw_article(content_type="application/pdf")), "schema", "validate"),
        (orjson.dumps(raw_article(url="ftp://a.example/x")), "schema", "validate"),
        (orjson.dumps(raw_article(body="   \n\t ")), "empty_body", "validate"),
        (orjson.dumps(raw_article(body="PK\x03\x04\x00\x00binary")), "not_text", "validate"),
    ],
)
def test_bad_input_is_rejected_with_a_reason(value: bytes, code: str, stage: str) -> None:
    with pytest.raises(Rejected) as caught:
        decode_raw_article(value, LIMIT)
    assert caught.value.code == code
    assert caught.value.stage == stage
    assert caught.value.reason


def test_oversize_payload_is_rejected_before_parsing() -> None:
    value = raw_bytes(body="x " * 1000)
    with pytest.raises(Rejected) as caught:
        decode_raw_article(value, max_bytes=len(value) - 1)
    assert caught.value.code == "oversize"
    assert decode_raw_article(value, max_bytes=len(value)).body.startswith("x x")


def test_tombstone_is_rejected() -> None:
    with pytest.raises(Rejected):
        decode_raw_article(None, LIMIT)


def test_control_characters_in_a_page_are_cleaned_not_rejected() -> None:
    # What a real page of the general evaluation set held: a form feed, stray NULs and a
    # Windows-1252 quote read as Latin-1 (U+0092).
    body = ("<html><body><article><p>The minister\x92s plan\x00 was\x0cannounced on "
            "Monday.\x1b</p></article></body></html>")
    article = decode_raw_article(raw_bytes(body=body, content_type="text/html",
                                           title="Plan\x00 \x96 news"), LIMIT)
    assert article.body == ("<html><body><article><p>The minister’s plan was\nannounced on "
                            "Monday.</p></article></body></html>")
    assert article.title == "Plan – news"


def test_only_a_mostly_binary_body_is_rejected() -> None:
    import random

    rng = random.Random(3)
    noise = bytes(rng.randrange(256) for _ in range(4000)).decode("latin-1")
    with pytest.raises(Rejected) as rejected:
        decode_raw_article(raw_bytes(body="Berita " + noise), LIMIT)
    assert rejected.value.code == "not_text" and "binary" in rejected.value.reason
    # A few hundred controls in a long text: cleaned, kept.
    text = ("Presiden Joko Widodo berkunjung ke Jakarta. " * 200) + "\x00\x07" * 100
    assert "\x00" not in decode_raw_article(raw_bytes(body=text), LIMIT).body
    with pytest.raises(Rejected) as blank:
        decode_raw_article(raw_bytes(body="\x00" + " " * 50), LIMIT)
    assert blank.value.code in ("not_text", "empty_body")


def test_a_page_with_controls_comes_out_enriched_without_them() -> None:
    from stream.pipeline import EnrichOptions, enrich_record

    page = ("<html><head><title>Banjir di Jakarta</title></head><body><article>"
            + "<p>Banjir melanda Jakarta\x00 pada Senin\x0b pagi. Gubernur DKI Jakarta "
              "meminta warga\x1f waspada terhadap hujan yang masih turun.</p>" * 6
            + "</article></body></html>")
    result = enrich_record(orjson.dumps(raw_article(body=page, content_type="text/html",
                                                    url="https://news.example.id/banjir")),
                           options=EnrichOptions(max_bytes=LIMIT))
    assert result.enriched is not None, result.deadletter
    text = result.enriched["text"]
    assert "Banjir melanda Jakarta pada Senin" in text
    assert not any(ord(c) < 32 and c not in "\n\t" for c in text)
