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


def write_atomically(path: Path, data: bytes) -> None:
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(data)
        partial.replace(path)


def cached_pickle(name: str, build: Callable[[], T]) -> T:
    """``build()``, or its pickled copy from the cache (``name`` must change with its inputs)."""
    path = cache_dir() / name
    with (contextlib.suppress(OSError, pickle.UnpicklingError, EOFError, AttributeError),
          path.open("rb") as handle):
        value: T = pickle.load(handle)
        return value
    value = build()
    write_atomically(path, pickle.dumps(value, protocol=5))
    return value
