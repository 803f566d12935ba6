"""The keys of the de-duplication table: one builder per kind, and the prefixes they share.

- ``id:<article id>``: the article, its fingerprint and where it was first counted;
- ``url:<normalised URL>`` and ``body:<body hash>``: the first article with that URL or body;
- ``sim:<article id>``: the article's SimHash, from which the near-copy index is rebuilt.
"""

from __future__ import annotations

ID, URL, BODY, SIM = "id:", "url:", "body:", "sim:"
PREFIXES = (ID, URL, BODY, SIM)


def id_key(article_id: str) -> str:
    return f"{ID}{article_id}"


def url_key(url: str) -> str:
    return f"{URL}{url}"


def body_key(body: str) -> str:
    return f"{BODY}{body}"


def sim_key(article_id: str) -> str:
    return f"{SIM}{article_id}"
