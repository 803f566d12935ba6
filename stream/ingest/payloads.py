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


# Characters no article text holds: C0 controls but tab and the line ends, DEL, C1 controls,
# and U+FFFD (what a decoder puts for bytes it could not read).
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")
# Mostly binary: more than this share of those characters in the first 64 Ki characters.
# Binary files decoded as UTF-8 measure 55-75 % (an executable, a font, a PNG, gzip data) and
# as Latin-1 23-55 % (random bytes: 23 %); pages with stray controls measure well under 1 %.
BINARY_SHARE = 0.15
_SAMPLE_CHARS = 65_536


def _control_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {c: None for c in range(0x20) if chr(c) not in "\t\n\r"}
    table[0x0B] = table[0x0C] = "\n"  # vertical tab and form feed separate lines
    table[0x7F] = None
    for c in range(0x80, 0xA0):
        # C1 controls in text are almost always Windows-1252 bytes read as Latin-1:
        # U+0092 was a right quote, U+0096 a dash. Those become what they meant.
        try:
            table[c] = bytes([c]).decode("cp1252")
        except UnicodeDecodeError:
            table[c] = None
    return table


_CONTROLS = _control_table()


def binary_share(body: str) -> float:
    """The share of characters that no text holds, in the first 64 Ki characters."""
    sample = body[:_SAMPLE_CHARS]
    return len(_NOT_TEXT.findall(sample)) / len(sample) if sample else 0.0


def without_controls(text: str) -> str:
    """``text`` without control characters (NUL included): vertical tabs and form feeds become
    line breaks, C1 controls the Windows-1252 characters they stood for, the rest goes."""
    return text.translate(_CONTROLS) if _NOT_TEXT.search(text) else text


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
    share = binary_share(body)
    if share > BINARY_SHARE:
        raise Rejected("not_text", "validate",
                       f"body is binary: {share:.0%} of its characters are control or "
                       f"replacement characters (more than {BINARY_SHARE:.0%})", article_id)
    body = without_controls(body)
    if not body.strip():
        raise Rejected("empty_body", "validate",
                       "body is empty, or only whitespace and control characters", article_id)
    title = payload.get("title")
    return RawArticle(
        id=article_id,
        url=url,
        content_type=payload["content_type"],
        body=body,
        fetched_at=payload.get("fetched_at"),
        lang=payload.get("lang"),
        title=without_controls(title) if isinstance(title, str) else title,
        published_at=payload.get("published_at"),
        source=payload.get("source"),
    )
