"""The HTTP hardening shared by the worker's and the dashboard's pages
(stream/runtime/web_guard.py), without a server."""

import base64

from stream.runtime.web_guard import authorized, peer_allowed, peer_pattern, same_origin


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_the_token_is_taken_as_bearer_or_as_the_basic_password() -> None:
    assert authorized("Bearer s3cret", "s3cret")
    assert authorized("bearer s3cret", "s3cret")
    assert authorized(_basic("anyone", "s3cret"), "s3cret")
    assert authorized(_basic("anyone", "pass:with:colons"), "pass:with:colons")
    assert not authorized(None, "s3cret")
    assert not authorized("Bearer s3cre", "s3cret")
    assert not authorized(_basic("s3cret", "wrong"), "s3cret")
    assert not authorized("Basic !!!not-base64", "s3cret")
    assert not authorized("Token s3cret", "s3cret")


def test_peer_urls_must_match_the_canonical_url_pattern() -> None:
    pattern = peer_pattern("http://{hostname}:6066", "0.0.0.0")
    assert peer_allowed("http://newsstream-worker-7c9f-x2.newsstream:6066", pattern)
    assert peer_allowed("http://10.1.2.3:6066/", pattern)
    assert not peer_allowed("http://evil.example:6066/steal?x=", pattern)  # path, not host
    assert not peer_allowed("https://worker:6066", pattern)
    assert not peer_allowed("http://worker:6067", pattern)
    assert not peer_allowed("http://user@169.254.169.254:6066", pattern)
    assert not peer_allowed("http://worker:6066@169.254.169.254", pattern)


def test_a_canonical_url_with_the_service_domain_keeps_peers_inside_it() -> None:
    pattern = peer_pattern("http://{hostname}.workers.news.svc.cluster.local:6066", "0.0.0.0")
    assert peer_allowed("http://worker-0.workers.news.svc.cluster.local:6066", pattern)
    assert not peer_allowed("http://evil.example:6066", pattern)
    assert not peer_allowed("http://evil.example/.workers.news.svc.cluster.local:6066", pattern)


def test_without_a_canonical_url_peers_are_this_host_on_any_port() -> None:
    pattern = peer_pattern(None, "127.0.0.1")
    assert peer_allowed("http://127.0.0.1:6067", pattern)
    assert not peer_allowed("http://127.0.0.2:6067", pattern)
    assert not peer_allowed("http://127.0.0.1:6067/x", pattern)


def test_a_websocket_must_come_from_the_page_it_was_served_with() -> None:
    assert same_origin("http://127.0.0.1:8088", "127.0.0.1:8088")
    assert same_origin(None, "127.0.0.1:8088")  # not a browser: the token decides
    assert not same_origin("http://evil.example", "127.0.0.1:8088")
    assert not same_origin("http://127.0.0.1:9999", "127.0.0.1:8088")
    assert not same_origin("null", "127.0.0.1:8088")
