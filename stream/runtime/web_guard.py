"""What makes the worker's and the dashboard's HTTP pages safe to put on a network, shared by
both web servers (aiohttp under faust's, and the dashboard's own):

- the security headers on every response, errors and static files included (a response
  signal, not a middleware: a route that is not found never reaches a middleware's handler);
- optional authentication (``NEWSSTREAM_WEB_TOKEN`` or ``_FILE``): a bearer token for API
  clients, or HTTP Basic with the token as the password, which a browser asks for by itself;
  health, readiness and metrics stay open to probes and Prometheus (the NetworkPolicy keeps
  them inside the cluster);
- peer URLs from the group's metadata, which any member of the group can set, accepted only
  when they match the configured canonical-URL pattern; peer bodies read up to a cap;
- the WebSocket's Origin check.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import ClientResponse, web

# Pages of this project come from this process only (no CDN), are never framed, and post no
# forms. uPlot sizes its canvas with inline styles.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data:; frame-ancestors 'none'; "
                               "base-uri 'none'; form-action 'none'; object-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# A DNS name or an IPv4 address: what {hostname} in the canonical URL may stand for.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = rf"{_LABEL}(?:\.{_LABEL})*"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """An ``on_response_prepare`` signal handler."""
    response.headers.update(SECURITY_HEADERS)


def authorized(header: str | None, token: str) -> bool:
    """Whether an ``Authorization`` header carries ``token``: ``Bearer <token>``, or Basic
    with any user name and the token as the password. Compared in constant time."""
    if not header:
        return False
    scheme, _, value = header.partition(" ")
    offered = ""
    if scheme.lower() == "bearer":
        offered = value.strip()
    elif scheme.lower() == "basic":
        try:
            offered = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        offered = offered.partition(":")[2]
    return hmac.compare_digest(offered.encode("utf-8"), token.encode("utf-8"))


def auth_middleware(token: Callable[[], str | None]
                    ) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Requests to every path but :data:`OPEN_PATHS` need the token, when one is set
    (``token()`` is asked per request: a rotated secret file is picked up)."""

    @web.middleware
    async def require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        expected = token()
        if expected and request.path not in OPEN_PATHS \
                and not authorized(request.headers.get("Authorization"), expected):
            return web.json_response(
                {"error": "authentication required"}, status=401,
                headers={"WWW-Authenticate": 'Basic realm="newsstream", charset="UTF-8"'})
        return await handler(request)

    return require_token


def peer_pattern(canonical_url: str | None, web_host: str) -> re.Pattern[str]:
    """The URLs a worker accepts as its peers': the canonical URL with ``{hostname}`` standing
    for any host name; without one (loopback, ``make run``, tests), this host on any port."""
    if not canonical_url:
        return re.compile(rf"http://{re.escape(web_host)}:\d{{1,5}}")
    return re.compile(re.escape(canonical_url.rstrip("/")).replace(
        re.escape("{hostname}"), _HOSTNAME))


def peer_allowed(url: str, pattern: re.Pattern[str]) -> bool:
    return pattern.fullmatch(url.rstrip("/")) is not None


async def read_capped(response: ClientResponse, limit: int) -> bytes:
    """A peer's body, or ValueError past ``limit`` bytes."""
    body = await response.content.read(limit + 1)
    if len(body) > limit:
        raise ValueError(f"answer larger than {limit:,} bytes")
    return body


def same_origin(origin: str | None, host: str | None) -> bool:
    """A WebSocket handshake from this page: no ``Origin`` (not a browser), or one whose host
    and port are the ``Host`` the request came to."""
    if origin is None:
        return True
    return bool(host) and urlsplit(origin).netloc.lower() == (host or "").lower()
