"""CPU time by named section of the enrichment, for ``make bench``'s cost table.

Off unless a meter is on (:func:`metering`): then each :func:`section` adds the process CPU
time spent inside it to its name. Sections nest, and each counts its own inclusive time;
names say where they sit ("clean", "clean.readability"). Process time, not thread time: the
accurate tier's ONNX runtime works in threads of its own.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

_totals: dict[str, float] | None = None


@contextmanager
def section(name: str) -> Iterator[None]:
    totals = _totals
    if totals is None:
        yield
        return
    started = time.process_time()
    try:
        yield
    finally:
        totals[name] = totals.get(name, 0.0) + time.process_time() - started


@contextmanager
def metering() -> Iterator[dict[str, float]]:
    """Seconds of CPU by section name, for what runs inside the ``with`` (in this process)."""
    global _totals
    previous, _totals = _totals, {}
    try:
        yield _totals
    finally:
        _totals = previous
