"""Decoding and validating raw-article records: the first stage, before any cleaning."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from stream.ingest.deadletters import Rejected
from stream.ingest.urls import article_id_from_url, url_problem
from stream.schemas import RAW_ARTICLE, SchemaError, validator


@dataclass(frozen=True, slots=True)
class RawArticle:
    id: str
    url: str
    content_type: str
    body: str
    fetched_at: str | None = None
    lang: str | None = None
    title: str | None = None
    published_at: str | None = None
    source: str | None = None


def article_id_of(value: bytes | None, max_bytes: int = 10_000_000) -> str | None:
    """The article id of a raw record when it can be had: its ``id``, else derived from its
    ``url``; None for what is not such an object (or is larger than ``max_bytes``)."""
    if not value or len(value) > max_bytes:
        return None
    try:
        payload = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(payload, dict):
        return None
    given = payload.get("id")
    if isinstance(given, str) and given:
        return given
    url = payload.get("url")
    return article_id_from_url(url) if isinstance(url, str) else None


_NOT_TEXT = re.compile("[\x01-\x08\x0b\x0e-\x1f\ufffd]")


def _looks_binary(body: str) -> bool:
    """Text with NULs or mostly control/replacement characters is not an article."""
    if "\x00" in body:
        return True
    sample = body[:4096]
    return len(_NOT_TEXT.findall(sample)) > max(8, len(sample) // 20)


def decode_raw_article(value: bytes | None, max_bytes: int) -> RawArticle:
    """Bytes of a Kafka record to a :class:`RawArticle`, or :class:`Rejected` with the cause."""
    if value is None:
        raise Rejected("invalid_json", "decode", "empty record value (tombstone)")
    if len(value) > max_bytes:
        raise Rejected(
            "oversize", "decode", f"payload of {len(value)} bytes exceeds the {max_bytes} limit"
        )
    # A UTF-8 byte-order mark is no part of the JSON text (RFC 8259 lets a parser skip it).
    text = value[3:] if value.startswith(b"\xef\xbb\xbf") else value
    try:
        payload: Any = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise Rejected("invalid_json", "decode", f"not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        kind = type(payload).__name__
        raise Rejected("not_an_object", "decode", f"expected a JSON object, got {kind}")
    return raw_article_from_dict(payload)


def raw_article_from_dict(payload: dict[str, Any]) -> RawArticle:
    given_id = payload.get("id")
    article_id = given_id if isinstance(given_id, str) and given_id else None
    try:
        validator(RAW_ARTICLE)(payload)
    except SchemaError as exc:
        raise Rejected("schema", "validate", f"schema: {exc}", article_id) from None
    url: str = payload["url"]
    body: str = payload["body"]
    problem = url_problem(url)
    if problem is not None:
        raise Rejected("schema", "validate", f"schema: url {problem}", article_id)
    article_id = article_id or article_id_from_url(url)
    if not body.strip():
        raise Rejected("empty_body", "validate", "body is empty or only whitespace", article_id)
    if _looks_binary(body):
        raise Rejected("not_text", "validate", "body is not text (binary or control characters)",
                       article_id)
    return RawArticle(
        id=article_id,
        url=url,
        content_type=payload["content_type"],
        body=body,
        fetched_at=payload.get("fetched_at"),
        lang=payload.get("lang"),
        title=payload.get("title"),
        published_at=payload.get("published_at"),
        source=payload.get("source"),
    )
