"""Article addresses: the one URL normaliser, the ids derived from it, and the two views of a
site that the stages need (the host an article is credited to, the domain a site registers)."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ref|src|amp)$", re.IGNORECASE)
# Second-level labels under which sites register (kompas.com but detik.co.id, bbc.co.uk).
_SECOND_LEVEL = {"co", "com", "ac", "go", "or", "net", "org", "gov", "edu", "web", "sch", "my",
                 "ne", "mil", "biz", "info", "nic", "ltd", "plc"}


def normal_url(url: str) -> str:
    """The normal form of an address: scheme and host lower-cased, fragment and a trailing
    slash dropped. Article ids are derived from it (:func:`article_id_from_url`)."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def same_page_url(url: str) -> str:
    """:func:`normal_url` with the forms of one page a crawler meets folded together, for
    de-duplication: http and https, ``www.``, default ports, tracking parameters, the order
    of query parameters."""
    parts = urlsplit(normal_url(url))
    host = (parts.hostname or "").removeprefix("www.")
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                             if not _TRACKING.match(k)))
    return urlunsplit(("http", host, parts.path, query, ""))


def article_id_from_url(url: str) -> str:
    """The id of an article sent without one: 16 hex digits of the SHA-1 of its normal URL."""
    return hashlib.sha1(normal_url(url).encode("utf-8")).hexdigest()[:16]


def url_problem(url: str) -> str | None:
    """Why ``url`` is not a usable http(s) address (the schema's pattern lets a bad port or a
    broken IPv6 host through), or None."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a port that is not a number in 0-65535
    except ValueError as error:
        return f"cannot be parsed: {error}"
    if not parts.hostname:
        return "has no host"
    return None


def host_of(url: str) -> str:
    """The host an article is credited to (its ``source``): 'www.kompas.com' -> 'kompas.com',
    'regional.kompas.com' stays."""
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


def registrable_domain(url: str) -> str:
    """The site as registered, for what is learnt per site: 'regional.kompas.com' ->
    'kompas.com'; 'news.detik.co.id' -> 'detik.co.id'."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    labels = host.split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])
