import orjson
import pytest

from stream.ingest.deadletters import Rejected
from stream.ingest.payloads import decode_raw_article
from stream.ingest.urls import article_id_from_url, host_of
from tests.helpers import raw_article, raw_bytes

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
