"""The one URL normaliser and what is derived from it (ids, the de-duplication page key)."""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from hypothesis import given
from hypothesis import strategies as st

from stream.ingest.urls import (
    article_id_from_url,
    host_of,
    normal_url,
    registrable_domain,
    same_page_url,
)

_TRACKING = ("utm_source", "utm_medium", "fbclid", "gclid", "mc_cid", "mc_eid", "ref", "src", "amp")


def _two_normalisers_before(url: str) -> tuple[str, str]:
    """The two normalisers newsstream had before they became one (payloads.normalise_url and
    dedup.normal_url, as they were): ids and page keys must not move."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/") or "/"
    identity = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))
    host = (parts.hostname or "").lower().removeprefix("www.")
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                             if k.lower() not in _TRACKING and not k.lower().startswith("utm_")))
    return identity, urlunsplit(("http", host, path, query, ""))


_segment = st.text(alphabet="abcXYZ019-_.~%", min_size=0, max_size=6)
urls = st.builds(
    lambda scheme, www, host, port, path, query, fragment, slash: (
        f"{scheme}://{www}{host}{port}/{'/'.join(path)}{slash}"
        + (f"?{'&'.join(f'{k}={v}' for k, v in query)}" if query else "")
        + (f"#{fragment}" if fragment else "")),
    st.sampled_from(["http", "https", "HTTPS"]), st.sampled_from(["", "www.", "WWW."]),
    st.sampled_from(["kompas.com", "Detik.co.id", "example.org"]),
    st.sampled_from(["", ":80", ":443", ":8080"]),
    st.lists(_segment, max_size=3),
    st.lists(st.tuples(st.sampled_from(["id", "page", "utm_source", "fbclid", "Ref", "q"]),
                       _segment), max_size=3),
    _segment, st.sampled_from(["", "/"]))


@given(urls)
def test_ids_and_page_keys_are_those_of_the_two_normalisers_before(url: str) -> None:
    identity, page = _two_normalisers_before(url)
    assert normal_url(url) == identity
    assert same_page_url(url) == page


def test_ids_are_sha1_of_the_normal_url() -> None:
    assert article_id_from_url("https://WWW.Example.com/a/b/#top") == article_id_from_url(
        "https://www.example.com/a/b")
    assert article_id_from_url("https://example.com/a") != article_id_from_url(
        "https://example.com/b")
    assert article_id_from_url("https://example.com/a") == "c4ed1c218d14a0f1"


def test_a_site_seen_two_ways() -> None:
    assert host_of("https://www.kompas.com/x") == "kompas.com"
    assert host_of("https://regional.kompas.com/x") == "regional.kompas.com"
    assert registrable_domain("https://regional.kompas.com/read/1") == "kompas.com"
    assert registrable_domain("https://news.detik.co.id/x") == "detik.co.id"
    assert registrable_domain("https://www.bbc.co.uk/news") == "bbc.co.uk"
