"""A per-user cache of derived files (unpacked models, built graphs): rebuilt when missing or
unreadable, written atomically, never required — a read-only home only costs start-up time."""

from __future__ import annotations

import contextlib
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "newsstream"


def forget_older(path: Path, family: str) -> None:
    """Delete the cache files of ``family`` (a name prefix) other than ``path``: copies built
    from earlier versions of a model would otherwise pile up, some of them 80 MB each."""
    for other in path.parent.glob(f"{family}*"):
        if other != path and not other.name.endswith(".tmp"):
            with contextlib.suppress(OSError):
                other.unlink()


def write_atomically(path: Path, data: bytes, family: str | None = None) -> None:
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(data)
        partial.replace(path)
        if family:
            forget_older(path, family)


def cached_pickle(name: str, build: Callable[[], T], family: str | None = None) -> T:
    """``build()``, or its pickled copy from the cache (``name`` must change with its inputs;
    a new copy replaces the others whose names start with ``family``)."""
    path = cache_dir() / name
    with (contextlib.suppress(OSError, pickle.UnpicklingError, EOFError, AttributeError),
          path.open("rb") as handle):
        value: T = pickle.load(handle)
        return value
    value = build()
    write_atomically(path, pickle.dumps(value, protocol=5), family)
    return value
