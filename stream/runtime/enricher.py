"""Runs :func:`stream.pipeline.enrich_record` the way both the agents and the offline commands
do: under the per-record time budget, with each site's boilerplate memory read before and
written after (a dict offline, a faust Table in a worker). The enrichment child's hooks live
here: its start (the models loaded, :func:`warm_up`), the stage it reports to its parent, and
the one site's memory a record takes across (:func:`memory_slice`)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Mapping, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import orjson

from stream.clean.language import detect_language
from stream.config import Settings
from stream.entities.extract import extract_entities
from stream.entities.models.registry import DEFAULT_OPTIONS, EntityOptions
from stream.entities.tagger import TokenTagger
from stream.ingest.urls import registrable_domain
from stream.pipeline import (
    STAGE_NAMES,
    BudgetExceeded,
    Origin,
    Result,
    enrich_record,
    failed_record,
    too_slow_record,
)
from stream.runtime.budget import BudgetedExecutor, ChildCrashed, MemoryExceeded, alarm_budget
from stream.schemas import RAW_ARTICLE, validator

Memory = MutableMapping[str, Any]
# A call of the child that did not finish: past its time or memory, or the child died.
_FAILURES = (BudgetExceeded, ChildCrashed, MemoryExceeded)


# In the enrichment child: the shared value its parent reads the current stage from.
_child_stage: Any = None


def _start_child(load: Callable[[], None] | None, stage: Any) -> None:
    """The enrichment child's start: keep ``stage`` (shared memory the parent reads when it
    has to stop a record) for :func:`_in_child` to report each stage into, then load the
    models."""
    global _child_stage
    _child_stage = stage
    if load is not None:
        load()


def _in_child(enrich: Callable[..., Result], *args: Any, **kwargs: Any) -> Result:
    """One record's enrichment in the child, each stage reported as it starts."""
    report = None if _child_stage is None else partial(setattr, _child_stage, "value")
    return enrich(*args, on_stage=report, **kwargs)


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


class Enricher:
    """``start_method``: how the time budget is kept — "alarm" (a timer signal in this, the main,
    thread: the offline commands), or a multiprocessing start method for a child process that
    is killed past the budget (the worker: "forkserver", as it runs other threads)."""

    def __init__(self, settings: Settings, *, with_entities: bool = True,
                 start_method: str = "forkserver",
                 on_restart: Callable[[str], None] | None = None) -> None:
        options = EntityOptions.from_settings(settings)
        self._enrich = partial(enrich_record, max_bytes=settings.max_payload_bytes,
                               with_entities=with_entities, entity_options=options,
                               max_words=settings.max_article_words,
                               max_event_skew_s=settings.max_event_time_skew_s,
                               deadletter_bytes=settings.deadletter_payload_bytes)
        self._deadletter_bytes = settings.deadletter_payload_bytes
        self._budgeted: BudgetedExecutor | None = None
        self._threads: ThreadPoolExecutor | None = None
        self._alarm_s: float | None = None
        load = partial(warm_up, load_entities=with_entities, entity_options=options)
        self._stage: Any = None  # the child's current stage (index in STAGE_NAMES)
        if settings.article_budget_s > 0 and start_method == "alarm":
            load()
            self._alarm_s = settings.article_budget_s
        elif settings.article_budget_s > 0:
            # A forked child inherits what this process loaded; any other child loads the
            # models itself, and this process only checks that the schemas load.
            if start_method == "fork":
                load()
            else:
                validator(RAW_ARTICLE)
            self._stage = multiprocessing.get_context(start_method).Value("b", -1, lock=False)
            self._budgeted = BudgetedExecutor(
                settings.article_budget_s, start_method,
                initializer=partial(_start_child, None if start_method == "fork" else load,
                                    self._stage),
                memory_bytes=settings.child_memory_mb * 2**20, on_restart=on_restart)
            # Start (and warm) the child now, not against the first record's budget.
            self._budgeted.start()
        else:
            load()
            # No watchdog: still off the event loop, so heartbeats and the web server go on.
            self._threads = ThreadPoolExecutor(1, thread_name_prefix="enrich")

    def _call(self, value: bytes | None, memory: Memory, origin: Origin | None,
              memory_prefix: str) -> Callable[[], Result]:
        """The enrichment of one record, with the one site memory it needs (picklable)."""
        if self._stage is not None:
            self._stage.value = -1  # no stage yet: the child reports each as it starts
        given = memory_slice(value, memory, memory_prefix)
        if self._budgeted is not None:
            return partial(_in_child, self._enrich, value, origin, line_memory=given,
                           memory_prefix=memory_prefix)
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
                if self._alarm_s is not None:
                    with alarm_budget(self._alarm_s):
                        result = call()
                else:
                    result = self._budgeted.run(call) if self._budgeted else call()
            except _FAILURES as failure:
                result = settle(failure)
        return self._remember(result, memory)

    async def run_async(self, value: bytes | None, memory: Memory, origin: Origin,
                        memory_prefix: str = "") -> Result:
        call = self._call(value, memory, origin, memory_prefix)
        settle = self._settler(value, origin)
        result = None
        while result is None:
            try:
                if self._budgeted is not None:
                    result = await self._budgeted.run_async(call)
                else:
                    import asyncio  # only the worker's path needs it

                    loop = asyncio.get_running_loop()
                    result = await loop.run_in_executor(self._threads, call)
            except _FAILURES as failure:
                result = settle(failure)
        return self._remember(result, memory)

    def _settler(self, value: bytes | None, origin: Origin) -> Callable[[Exception], Result | None]:
        """What a failed call of one record comes to: its dead letter, or None to try it again
        (once: a child killed from outside may have had nothing to do with the record, but a
        record that kills the replacement too is a poison pill)."""
        crashes = [0]

        def settle(failure: Exception) -> Result | None:
            if isinstance(failure, BudgetExceeded):
                stage = failure.stage or self._child_stage()
                return too_slow_record(value, origin, str(failure), stage, failure.article_id,
                                       self._deadletter_bytes)
            if isinstance(failure, MemoryExceeded):
                return failed_record(value, origin, "too_large", "enrich", str(failure),
                                     max_payload_bytes=self._deadletter_bytes)
            crashes[0] += 1
            if crashes[0] == 1:
                return None
            return failed_record(value, origin, "worker_crash", "enrich",
                                 f"{failure}, also when retried in a new child",
                                 max_payload_bytes=self._deadletter_bytes)

        return settle

    def _child_stage(self) -> str | None:
        """The stage the child was in when it was stopped (when it told), read once."""
        if self._stage is None:
            return None
        index, self._stage.value = int(self._stage.value), -1
        return STAGE_NAMES[index] if 0 <= index < len(STAGE_NAMES) else None

    @property
    def ready(self) -> bool:
        """The enrichment child (where there is one) is alive and warm."""
        return self._budgeted is None or self._budgeted.ready

    async def supervise(self) -> bool:
        """Replace a dead child while idle; True when one was replaced."""
        return self._budgeted is not None and await self._budgeted.supervise()

    def child_pid(self) -> int | None:
        """The enrichment child's pid (None: no child, or none running)."""
        pids = self._budgeted.child_pids() if self._budgeted is not None else []
        return pids[0] if pids else None

    def child_rss(self) -> int:
        return self._budgeted.child_rss() if self._budgeted is not None else 0

    @staticmethod
    def _remember(result: Result, memory: Memory) -> Result:
        if result.line_state is not None:
            key, state = result.line_state
            memory[key] = state
        return result

    def terminate(self) -> None:
        """Kill the child now (the worker is about to be replaced in place)."""
        if self._budgeted is not None:
            self._budgeted.terminate()

    def close(self) -> None:
        if self._budgeted is not None:
            self._budgeted.close()
        if self._threads is not None:
            self._threads.shutdown(wait=False)
