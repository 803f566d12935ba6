"""faust agents: they move records between topics and call the pure logic in ``stream``."""

from __future__ import annotations

from stream.runtime.context import WorkerContext


def register_agents(context: WorkerContext) -> None:
    from agents.count import register as register_count
    from agents.dedup import register as register_dedup
    from agents.enrich import register as register_enrich
    from agents.trending import register as register_trending

    register_enrich(context)
    register_dedup(context)
    register_count(context)
    register_trending(context)
