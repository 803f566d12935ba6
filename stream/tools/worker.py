"""The worker's composition: the faust app and its context (:mod:`stream.runtime.app`) with the
agents (:mod:`agents`) registered on it. The one module that knows both: the runtime never
imports the agents, which are wiring on top of it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agents import register_agents
from stream.config import Settings
from stream.runtime.app import create_app


def worker_app(settings: Settings, topic_ids: Mapping[str, str] | None = None) -> Any:
    """The app ``newsstream worker`` runs: every agent registered, not yet started."""
    app = create_app(settings, topic_ids)
    register_agents(app.newsstream)
    return app
