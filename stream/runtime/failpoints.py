"""Named points where a fault test can kill the worker, as databases have failpoints: the only
way to stop a process between two writes that a test cannot time from outside (the counts'
changelog written and their mentions not yet, a flush done and its commit not yet).

``NEWSSTREAM_FAILPOINT=<point>:<n>`` kills the worker with SIGKILL the n-th time it passes
``<point>``; unset (the default), a point costs one comparison.
"""

from __future__ import annotations

import logging
import os
import signal

log = logging.getLogger(__name__)


class Failpoints:
    def __init__(self, spec: str) -> None:
        point, _, times = spec.partition(":")
        self._point = point
        self._left = int(times or 1) if point else 0

    def reach(self, point: str) -> None:
        if point != self._point or self._left <= 0:
            return
        self._left -= 1
        if self._left == 0:
            log.warning("failpoint %s: killing the worker", point)
            os.kill(os.getpid(), signal.SIGKILL)
