"""Shared test helpers: the sample article, raw-article records, schema checks."""

from __future__ import annotations

from typing import Any

import jsonschema
import orjson

from stream.schemas import load_schema
from tests.support.paths import FIXTURES

SAMPLE_TEXT = (FIXTURES / "kompas-2023-07-29.txt").read_text(encoding="utf-8")
SAMPLE_URL = "https://www.kompas.com/global/read/2023/07/29/as-yakin-menhan-rusia"

SAMPLE_BODY_OPENINGS = [
    "WASHINGTON DC, KOMPAS.com - Menteri Luar Negeri Amerika Serikat Antony Blinken",
    "Menyusul kedatangan Sergei Shoigu",
    '"Saya sangat ragu dia ada di sana untuk berlibur.',
    "Blinken mengatakan Korea Utara termasuk negara",
    '"Kami melihat bahwa di Korea Utara,',
    "Saat berada di Korea Utara, Shoigu sempat bertemu",
    "Media Pemerintah Korea Utara, KCNA,",
    "Rusia, sekutu bersejarah Korea Utara,",
]
SAMPLE_BOILERPLATE = ["Baca berita tanpa iklan", "Baca juga:", "Simak breaking news", "Close Ads"]


def raw_article(body: str = SAMPLE_TEXT, url: str = SAMPLE_URL, content_type: str = "text/plain",
                **extra: Any) -> dict[str, Any]:
    return {"schema_version": 1, "url": url, "content_type": content_type, "body": body, **extra}


def raw_bytes(**kwargs: Any) -> bytes:
    return orjson.dumps(raw_article(**kwargs))


def assert_valid(schema_name: str, payload: Any) -> None:
    """Validate with the reference implementation (jsonschema), not the one under test."""
    schema = load_schema(schema_name)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(payload)
