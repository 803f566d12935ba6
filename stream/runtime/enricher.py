"""Runs :func:`stream.pipeline.enrich_record` the way both the agents and the offline commands
do: under the per-record time budget, with each site's boilerplate memory read before and
written after (a dict offline, a faust Table in a worker). The enrichment child's hooks live
here: its start (the models loaded, :func:`warm_up`), the stage it reports to its parent, and
the one site's memory a record takes across (:func:`memory_slice`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from functools import partial
from typing import Any

import orjson

from stream.clean.language import detect_language
from stream.config import Entities, Limits
from stream.entities.extract import extract_entities
from stream.entities.models.registry import DEFAULT_OPTIONS, EntityOptions
from stream.entities.tagger import TokenTagger
from stream.ingest.deadletters import Rejected, too_slow
from stream.ingest.urls import registrable_domain
from stream.pipeline import (
    BudgetExceeded,
    EnrichOptions,
    Origin,
    Result,
    enrich_record,
)
from stream.runtime.budget import MemoryExceeded
from stream.runtime.enrich_runners import (
    FAILURES,
    AlarmRunner,
    ChildRunner,
    Runner,
    ThreadRunner,
)
from stream.schemas import RAW_ARTICLE, validator

Memory = MutableMapping[str, Any]


def warm_up(tagger: TokenTagger | None = None, load_entities: bool = True,
            entity_options: EntityOptions = DEFAULT_OPTIONS) -> None:
    """Load schemas and models now: a missing file fails the worker at start, not every record."""
    validator(RAW_ARTICLE)
    text = "Presiden Joko Widodo meresmikan Bandara Kertajati di Majalengka, Jawa Barat."
    language = detect_language(text)
    if load_entities:
        extract_entities(text, language, tagger, entity_options)
        extract_entities("The president met the press in Washington.", "en", None,
                         entity_options)



def memory_slice(value: bytes | None, memory: Mapping[str, dict[str, Any]],
                 prefix: str = "") -> dict[str, dict[str, Any]]:
    """The one site's boilerplate memory a record needs, so that only it crosses to the child
    process (not the whole memory)."""
    if not value or b"text/plain" not in value:
        return {}  # HTML (or not an article): no need to parse the record here
    try:
        payload = orjson.loads(value)
        if payload.get("content_type") != "text/plain":
            return {}
        key = prefix + registrable_domain(str(payload["url"]))
    except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
        return {}
    state = memory.get(key)
    return {key: state} if state is not None else {}


def _check_schemas() -> None:
    validator(RAW_ARTICLE)


class Enricher:
    """``start_method``: how the time budget is kept — "alarm" (a timer signal in this, the main,
    thread: the offline commands), or a multiprocessing start method for a child process that
    is killed past the budget (the worker: "forkserver", as it runs other threads); no budget
    (``NEWSSTREAM_ARTICLE_BUDGET_S=0``): a thread. :mod:`stream.runtime.enrich_runners`."""

    def __init__(self, limits: Limits, entities: Entities, *, with_entities: bool = True,
                 start_method: str = "forkserver",
                 on_restart: Callable[[str], None] | None = None) -> None:
        options = EnrichOptions.from_views(limits, entities, with_entities=with_entities)
        self._enrich = partial(enrich_record, options=options)
        self._deadletter_bytes = options.deadletter_bytes
        load = partial(warm_up, load_entities=with_entities,
                       entity_options=options.entity_options)
        budget_s = limits.article_budget_s
        self._runner: Runner
        if budget_s <= 0:
            self._runner = ThreadRunner(load)
        elif start_method == "alarm":
            self._runner = AlarmRunner(budget_s, load)
        else:
            self._runner = ChildRunner(budget_s, start_method, load, _check_schemas,
                                       limits.child_memory_mb * 2**20, on_restart)

    def _call(self, value: bytes | None, memory: Memory, origin: Origin,
              memory_prefix: str) -> Callable[..., Result]:
        """The enrichment of one record, with the one site memory it needs (picklable)."""
        given = memory_slice(value, memory, memory_prefix)
        return partial(self._enrich, value, origin, line_memory=given,
                       memory_prefix=memory_prefix)

    def run(self, value: bytes | None, memory: Memory, origin: Origin | None = None,
            memory_prefix: str = "") -> Result:
        origin = origin or Origin()
        call = self._call(value, memory, origin, memory_prefix)
        settle = self._settler(value, origin)
        result = None
        while result is None:
            try:
                result = self._runner.run(call)
            except FAILURES as failure:
                result = settle(failure)
        return self._remember(result, memory)

    async def run_async(self, value: bytes | None, memory: Memory, origin: Origin,
                        memory_prefix: str = "") -> Result:
        call = self._call(value, memory, origin, memory_prefix)
        settle = self._settler(value, origin)
        result = None
        while result is None:
            try:
                result = await self._runner.run_async(call)
            except FAILURES as failure:
                result = settle(failure)
        return self._remember(result, memory)

    def _settler(self, value: bytes | None, origin: Origin) -> Callable[[Exception], Result | None]:
        """What a failed call of one record comes to: its dead letter, or None to try it again
        (once: a child killed from outside may have had nothing to do with the record, but a
        record that kills the replacement too is a poison pill)."""
        crashes = [0]

        def settle(failure: Exception) -> Result | None:
            if isinstance(failure, BudgetExceeded):
                stage = failure.stage or self._runner.stopped_in()
                return Result.rejected(value, origin,
                                       too_slow(str(failure), stage, failure.article_id),
                                       self._deadletter_bytes)
            if isinstance(failure, MemoryExceeded):
                return Result.rejected(value, origin,
                                       Rejected("too_large", "enrich", str(failure)),
                                       self._deadletter_bytes)
            crashes[0] += 1
            if crashes[0] == 1:
                return None
            return Result.rejected(value, origin, Rejected(
                "worker_crash", "enrich", f"{failure}, also when retried in a new child"),
                self._deadletter_bytes)

        return settle

    @property
    def ready(self) -> bool:
        """The enrichment child (where there is one) is alive and warm."""
        return self._runner.ready

    async def supervise(self) -> bool:
        """Replace a dead child while idle; True when one was replaced."""
        return await self._runner.supervise()

    def child_pid(self) -> int | None:
        """The enrichment child's pid (None: no child, or none running)."""
        return self._runner.child_pid()

    def child_rss(self) -> int:
        return self._runner.child_rss()

    @staticmethod
    def _remember(result: Result, memory: Memory) -> Result:
        if result.line_state is not None:
            key, state = result.line_state
            memory[key] = state
        return result

    def terminate(self) -> None:
        """Kill the child now (the worker is about to be replaced in place)."""
        self._runner.terminate()

    def close(self) -> None:
        self._runner.close()
