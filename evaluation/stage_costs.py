"""``make bench``, the map: CPU milliseconds per article for each stage of the enrichment and
the parts of the costly ones, over a mixed set (English and Indonesian, HTML and scraped text),
in this one process, the way ``newsstream process`` runs it. The hand-over to the worker's
enrichment child (pickling the call and its result) and the encoding of what is published are
measured on the same records, for the stream's share of the cost.

Usage: ``python -m evaluation.stage_costs --data ../shared/data/clean``
"""

from __future__ import annotations

import argparse
import pickle
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from evaluation.harness import group_records
from evaluation.report import Table, write_report
from stream.config import Settings
from stream.costs import metering, section
from stream.records import encode
from stream.runtime.enricher import Enricher

ALL = "mixed"
# Sections in the order of the pipeline; the parts of a stage are indented under it.
STAGE_ORDER = ("decode", "clean", "language", "entities", "assemble", "fingerprint")
HANDOVER = "hand-over to the child"
PUBLISH = "publish"


@dataclass
class Costs:
    """Seconds of CPU by section, summed over ``articles``, and the wall seconds of each
    article's enrichment call."""

    articles: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    calls: list[float] = field(default_factory=list)

    def add(self, totals: dict[str, float], call: float) -> None:
        self.articles += 1
        self.calls.append(call)
        for name, seconds in totals.items():
            self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def merge(self, other: Costs) -> None:
        self.articles += other.articles
        self.calls += other.calls
        for name, seconds in other.seconds.items():
            self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def ms(self, name: str) -> float:
        return 1000 * self.seconds.get(name, 0.0) / max(self.articles, 1)

    @property
    def total(self) -> float:
        """CPU seconds of the whole enrichment, hand-over and publishing included."""
        return sum(self.seconds.get(name, 0.0) for name in (*STAGE_ORDER, HANDOVER, PUBLISH))


def measure(records: Iterable[bytes], settings: Settings) -> Costs:
    """Each record through the enrichment as ``newsstream process`` runs it (models already
    loaded), then pickled as the worker hands it to its child and back, then encoded as it
    is published."""
    enricher = Enricher(settings.limits, settings.entities, start_method="alarm")
    memory: dict[str, Any] = {}
    costs = Costs()
    try:
        for value in records:
            with metering() as totals:
                started = time.perf_counter()
                result = enricher.run(value, memory)
                call = time.perf_counter() - started
                with section(HANDOVER):
                    pickle.loads(pickle.dumps((value, {})))
                    pickle.loads(pickle.dumps(result))
                with section(PUBLISH):
                    if result.enriched is not None and result.fingerprint is not None:
                        encode({"enriched": result.enriched, "fingerprint": result.fingerprint})
                        orjson.dumps(result.enriched)  # again, de-duplicated, to its topic
            costs.add(totals, call)
    finally:
        enricher.close()
    return costs


def rows(costs: dict[str, Costs]) -> list[tuple[str, str]]:
    """(label, section name) in pipeline order: each stage, then its parts seen in any group."""
    seen = {name for group in costs.values() for name in group.seconds}
    out = []
    for stage in STAGE_ORDER:
        out.append((stage, stage))
        for name in sorted(n for n in seen if n.startswith(stage + ".")):
            out.append(("  " + name.removeprefix(stage + ".").replace("tagger ", "model: "),
                        name))
    return [*out, (HANDOVER + " (pickle, both ways)", HANDOVER),
            (PUBLISH + " (encode the envelope and the event)", PUBLISH)]


def cost_table(costs: dict[str, Costs]) -> Table:
    columns = list(costs)
    table = Table("CPU ms per article", *columns, f"share of {ALL}")
    mixed = costs[ALL]
    for label, name in rows(costs):
        share = mixed.seconds.get(name, 0.0) / mixed.total if mixed.total else 0.0
        table.add(label, *(f"{costs[c].ms(name):,.1f}" for c in columns), f"{share:.0%}")
    table.add("**all**", *(f"{1000 * costs[c].total / max(costs[c].articles, 1):,.1f}"
                           for c in columns), "100%")
    table.add("articles per CPU-second", *(f"{costs[c].articles / costs[c].total:,.1f}"
                                           if costs[c].total else "-" for c in columns), "")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/clean"))
    parser.add_argument("--out", type=Path, default=Path("eval/stage-costs.md"))
    args = parser.parse_args()
    records = group_records(args.data)
    sections = []
    for tier in ("fast", "accurate"):
        settings = Settings(ner_model=tier, log_level="warning")
        costs = {column: measure(group, settings) for column, group in records.items()}
        mixed = Costs()
        for group in costs.values():
            mixed.merge(group)
        costs[ALL] = mixed
        print(f"entity tier: {tier}")
        table = cost_table(costs)
        sections += [f"Entity tier **{tier}** (`NEWSSTREAM_NER_MODEL={tier}`):",
                     table.markdown]
    write_report(
        args.out,
        "Cost per article by stage (`make bench`): CPU milliseconds per article in one process "
        "(models loaded beforehand), over the dev extraction sets: aeb is 67 English pages and "
        "9 in six other languages, idnews 16 Indonesian ones; a stage's parts are indented "
        "under it and included in it.", *sections)


if __name__ == "__main__":
    main()
