"""JSON Lines in and out: files, ``.gz`` files, or stdin/stdout."""

from __future__ import annotations

import gzip
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import orjson


def open_binary(path: str | Path) -> BinaryIO:
    if str(path) == "-":
        return sys.stdin.buffer
    if str(path).endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def iter_lines(path: str | Path, keep_blank: bool = False) -> Iterator[bytes]:
    """Lines without surrounding white space; blank ones only with ``keep_blank`` (as b"")."""
    handle = open_binary(path)
    try:
        for line in handle:
            stripped = line.strip()
            if stripped or keep_blank:
                yield stripped
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()


def write_line(record: Any, out: BinaryIO | None = None) -> None:
    (out or sys.stdout.buffer).write(orjson.dumps(record) + b"\n")
