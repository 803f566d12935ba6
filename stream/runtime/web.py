"""Worker HTTP endpoints on faust's web server: /metrics, /healthz, /readyz, and the entity
queries /entities/top and /entities/{entity_id}, answered from the counts table.

Each worker holds the counts of its own partitions. /entities/top asks every worker of the
group (from the partition assignment) for its local top and merges them; /entities/{id} is
forwarded to the worker that holds the entity's partition. A peer's URL comes from the
group's metadata, which any member can write: only URLs that match this deployment's
canonical-URL pattern are asked (:mod:`stream.runtime.web_guard`), with the web token when one
is set, and their answers are read up to ``NEWSSTREAM_PEER_MAX_BYTES``. What goes out names no peer
and carries no error text: the details are in the log.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from stream.counts.queries import (
    QueryError,
    entity_detail,
    local_top,
    merge_top,
    parse_n,
    parse_window,
)
from stream.runtime.context import WorkerContext
from stream.runtime.housekeeping import partition_of
from stream.runtime.supervision import live, ready
from stream.runtime.web_guard import add_security_headers, peer_allowed, peer_pattern, read_capped

log = logging.getLogger(__name__)
PEER_TIMEOUT_S = 2.0


class PeerRefused(Exception):
    """A peer URL outside the canonical-URL pattern: never asked."""


def register_pages(ctx: WorkerContext) -> None:
    app = ctx.app
    app.web.web_app.on_response_prepare.append(add_security_headers)
    register_queries(ctx)

    @app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        ctx.metrics.ready.set(1 if ready(ctx).ok else 0)
        return web.bytes(generate_latest(ctx.metrics.registry),
                         headers={"Content-Type": CONTENT_TYPE_LATEST})

    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        verdict = live(ctx)
        if verdict.ok:
            return web.json({"status": "ok"})
        return web.json({"status": verdict.status, "stalled": list(verdict.stalled)},
                        status=503)

    @app.page("/readyz")
    async def readyz(web: Any, request: Any) -> Any:
        verdict = ready(ctx)
        body = {"ready": verdict.ok, "status": verdict.status}
        if verdict.stalled:
            body["stalled"] = list(verdict.stalled)
        return web.json(body, status=200 if verdict.ok else 503)


def _counts_hosts(ctx: WorkerContext) -> dict[str, set[int]]:
    """Worker URL → the counts partitions it holds (actively), from faust's router."""
    table = ctx.counts_table
    try:
        metadata = ctx.app.router.table_metadata(table.name)
    except (AttributeError, KeyError):
        return {}
    topic = table.changelog_topic.get_topic_name()
    return {str(url).rstrip("/"): set(topics.get(topic, [])) for url, topics in metadata.items()}


def _owner(ctx: WorkerContext, entity_id: str) -> str | None:
    """The URL of the worker holding ``entity_id``'s counts. Not faust's ``key_store`` (nor
    ``@app.table_route``, built on it): that hashes the table key as faust serialises it
    (JSON), while a count's partition is that of the entity events, keyed by the raw entity
    id; and its proxy waits without a time limit for a peer that does not answer."""
    partition = partition_of(entity_id, ctx.topics.partitions)
    return next((url for url, partitions in _counts_hosts(ctx).items()
                 if partition in partitions), None)


def _self_url(ctx: WorkerContext) -> str:
    return str(ctx.app.conf.canonical_url).rstrip("/")


async def _peer_json(ctx: WorkerContext, base: str, path: str) -> Any:
    web = ctx.web
    if not peer_allowed(base, peer_pattern(web.canonical_url, web.host)):
        raise PeerRefused(f"{base} does not match the canonical URL pattern")
    token = web.secret()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    timeout = aiohttp.ClientTimeout(total=PEER_TIMEOUT_S)
    async with ctx.app.http_client.get(base + path, timeout=timeout, headers=headers,
                                       allow_redirects=False) as response:
        response.raise_for_status()
        return orjson.loads(await read_capped(response, web.peer_max_bytes))


def register_queries(ctx: WorkerContext) -> None:
    app, sizes = ctx.app, ctx.counting.windows_s

    @app.page("/entities/top")
    async def entities_top(web: Any, request: Any) -> Any:
        try:
            window = parse_window(request.query.get("window", "1h"), sizes)
            n = parse_n(request.query.get("n"))
        except QueryError as error:
            return web.json({"error": str(error)}, status=400)
        answer = local_top(ctx.count_index, window, n)
        if request.query.get("local"):
            return web.json(answer)
        me = _self_url(ctx)
        peers = [url for url in _counts_hosts(ctx) if url != me]
        query = f"/entities/top?window={window}&n={n}&local=1"
        results = await asyncio.gather(*(_peer_json(ctx, url, query) for url in peers),
                                       return_exceptions=True)
        answers, missing = [answer], 0
        for url, result in zip(peers, results, strict=True):
            if isinstance(result, BaseException):
                log.warning("worker %s did not answer: %s", url, result)
                missing += 1
            else:
                answers.append(result)
        merged = merge_top(answers, n)
        if missing:  # say so rather than present a partial ranking as the whole
            merged["incomplete"] = {"workers_not_answering": missing}
        return web.json(merged)

    @app.page("/entities/{entity_id}")
    async def entity(web: Any, request: Any, entity_id: str) -> Any:
        owner = _owner(ctx, entity_id)
        if owner is not None and owner != _self_url(ctx) and not request.query.get("local"):
            try:
                answer = await _peer_json(ctx, owner, f"/entities/{quote(entity_id)}?local=1")
            except aiohttp.ClientResponseError as error:
                if error.status == 404:
                    return web.json({"error": "no counts for this entity"}, status=404)
                log.warning("worker %s answered %d for %s", owner, error.status, entity_id)
                return web.json({"error": "the worker holding this entity failed"}, status=502)
            except (aiohttp.ClientError, TimeoutError, ValueError, PeerRefused) as error:
                log.warning("worker %s did not answer for %s: %s", owner, entity_id, error)
                return web.json({"error": "the worker holding this entity did not answer"},
                                status=503)
            return web.json(answer)
        detail = entity_detail(ctx.count_index, entity_id)
        if detail is None:
            return web.json({"error": "no counts for this entity"}, status=404)
        return web.json(detail)
