"""The offline commands' loop (``process``, ``clean``): records in input order, one pass, through
the same :class:`Enricher` as the agent — what a single-partition stream would do."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from stream.config import Entities, Limits
from stream.ingest.deadletters import Origin, Rejected
from stream.pipeline import Result
from stream.runtime.enricher import Enricher


def run_records(lines: Iterable[bytes], limits: Limits, entities: Entities,
                with_entities: bool) -> Iterator[Result]:
    memory: dict[str, Any] = {}
    # A timer signal keeps the budget here: one thread, and no child process to feed.
    enricher = Enricher(limits, entities, with_entities=with_entities,
                        start_method="alarm")
    try:
        for number, line in enumerate(lines, 1):
            if not line:  # reported, so that output line N is still input line N
                yield Result.rejected(line, Origin(), Rejected(
                    "empty_line", "decode", f"input line {number} is blank"))
                continue
            yield enricher.run(line, memory)
    finally:
        enricher.close()
