"""What /readyz and /healthz report: whether the worker can do its work right now, and whether it
is wedged. Pure bookkeeping here; the worker feeds it (progress, broker probes, the child).

- **Ready** (take traffic; an orchestrator keeps a not-ready worker out of rotation): partitions
  assigned, no rebalance or recovery running, the broker answering, the enrichment child alive,
  and no partition with lag that has made no progress for ``stall_ready_s``.
- **Live** (an orchestrator restarts a worker that is not): no partition with lag has made
  progress for ``stall_live_s`` while partitions with lag exist. A blocked event loop cannot
  answer /healthz at all, which the orchestrator's probe timeout turns into a failure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

TP = Any  # a (topic, partition) pair as the consumer names it


@dataclass
class Progress:
    """Per partition: the next offset to process and when a record was last finished (or the
    partition assigned), on the monotonic clock."""

    next_offset: dict[TP, int] = field(default_factory=dict)
    since: dict[TP, float] = field(default_factory=dict)
    # Partitions whose log started over → the new log's offset they resume at; the reader of
    # the records takes each once (``take_rewind``), and the worker is not ready until the
    # partition has resumed there (``resuming``).
    rewound: dict[TP, int] = field(default_factory=dict)
    resuming: dict[TP, int] = field(default_factory=dict)
    # Told the topic of each log found to have started over where records are read (its start
    # moved past the next offset); the worker counts them.
    on_log_reset: Callable[[str], None] | None = None

    def assigned(self, tps: Iterable[TP], now: float, committed: Callable[[TP], int | None]
                 ) -> None:
        """A new assignment: every partition starts its no-progress timer now, from its
        committed offset."""
        wanted = set(tps)
        for tp in list(self.since):
            if tp not in wanted:
                self.since.pop(tp, None)
                self.next_offset.pop(tp, None)
                self.rewound.pop(tp, None)
                self.resuming.pop(tp, None)
        for tp in wanted:
            self.since[tp] = now
            start = committed(tp)
            if start is not None:
                self.next_offset[tp] = start
            else:
                self.next_offset.pop(tp, None)

    def finished(self, tp: TP, offset: int, now: float) -> None:
        self.next_offset[tp] = offset + 1
        self.since[tp] = now
        if offset >= self.resuming.get(tp, offset + 1):
            del self.resuming[tp]

    def rewind(self, tp: TP, offset: int, now: float) -> None:
        """``tp``'s log started over: its records resume at ``offset`` of the new log."""
        self.next_offset[tp] = offset
        self.since[tp] = now
        self.rewound[tp] = offset
        self.resuming[tp] = offset

    def take_rewind(self, tp: TP) -> int | None:
        return self.rewound.pop(tp, None)

    def resumed(self, highwater: Callable[[TP], int | None]) -> None:
        """Partitions resuming on a new log that holds no records from there have resumed
        (the others when their first record there is finished)."""
        for tp, offset in list(self.resuming.items()):
            end = highwater(tp)
            if end is not None and end <= offset:
                del self.resuming[tp]

    def lag(self, tp: TP, highwater: int | None) -> int:
        if highwater is None:
            return 0
        return max(0, highwater - self.next_offset.get(tp, 0))

    def stalled(self, highwater: Callable[[TP], int | None], now: float,
                after_s: float) -> list[TP]:
        """Partitions with records to process that have made no progress for ``after_s``."""
        return sorted((tp for tp, since in self.since.items()
                       if now - since >= after_s and self.lag(tp, highwater(tp)) > 0), key=str)


@dataclass
class BrokerState:
    """Whether the broker answered a probe recently."""

    timeout_s: float
    last_ok: float | None = None
    last_error: str | None = None
    started: float = 0.0

    def answered(self, now: float) -> None:
        self.last_ok = now
        self.last_error = None

    def failed(self, error: str) -> None:
        self.last_error = error

    def silence(self, now: float) -> str:
        """How long the broker has not answered, and the last error, for the operator."""
        reference = self.last_ok if self.last_ok is not None else self.started
        cause = f" ({self.last_error})" if self.last_error else ""
        return f"no answer for {now - reference:.0f} s{cause}"

    def reachable(self, now: float) -> bool:
        reference = self.last_ok if self.last_ok is not None else self.started
        return now - reference < self.timeout_s


@dataclass(frozen=True)
class Verdict:
    ok: bool
    status: str
    stalled: tuple[str, ...] = ()


def readiness(*, processing: bool, rebalancing: bool, recovering: bool, inputs_assigned: bool,
              broker_reachable: bool, broker_error: str, child_ready: bool,
              stalled: list[TP], resuming: Iterable[TP] = ()) -> Verdict:
    names = tuple(f"{tp.topic}/{tp.partition}" for tp in stalled)
    if not broker_reachable:
        return Verdict(False, f"broker unreachable: {broker_error}", names)
    restarted = sorted(f"{tp.topic}/{tp.partition}" for tp in resuming)
    if restarted:
        return Verdict(False, f"log started over: resuming {', '.join(restarted)} on the new "
                              f"log", names)
    if not processing:
        return Verdict(False, "agents not started", names)
    if rebalancing:
        return Verdict(False, "rebalancing", names)
    if recovering:
        return Verdict(False, "recovering tables", names)
    if not child_ready:
        return Verdict(False, "enrichment child down (being replaced)", names)
    if not inputs_assigned:
        return Verdict(False, "no input partitions assigned", names)
    if names:
        return Verdict(False, f"no progress on partitions with lag: {', '.join(names)}", names)
    return Verdict(True, "ready")


def liveness(stalled: list[TP], after_s: float) -> Verdict:
    names = tuple(f"{tp.topic}/{tp.partition}" for tp in stalled)
    if names:
        return Verdict(False, f"wedged: no progress for {after_s:g} s on {', '.join(names)}",
                       names)
    return Verdict(True, "ok")
