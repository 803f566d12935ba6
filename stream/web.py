"""Worker HTTP endpoints on faust's web server: /metrics, /healthz, /readyz."""

from __future__ import annotations

from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from stream.context import WorkerContext


def is_ready(ctx: WorkerContext) -> tuple[bool, str]:
    app = ctx.app
    if not ctx.processing:
        return False, "agents not started"
    if getattr(app, "rebalancing", False):
        return False, "rebalancing"
    if getattr(app, "in_recovery", False):
        return False, "recovering tables"
    assigned = {tp.topic for tp in app.consumer.assignment()}
    if not assigned & set(ctx.settings.input_topics):
        return False, "no input partitions assigned"
    return True, "ready"


def register_pages(ctx: WorkerContext) -> None:
    app = ctx.app

    @app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        ctx.metrics.ready.set(1 if is_ready(ctx)[0] else 0)
        return web.bytes(generate_latest(ctx.metrics.registry),
                         headers={"Content-Type": CONTENT_TYPE_LATEST})

    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        return web.json({"status": "ok"})

    @app.page("/readyz")
    async def readyz(web: Any, request: Any) -> Any:
        ready, why = is_ready(ctx)
        return web.json({"ready": ready, "status": why}, status=200 if ready else 503)
