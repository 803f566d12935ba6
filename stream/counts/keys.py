"""The keys of the counts and trending tables, and of their topics: one builder and one parser
per format.

- count key ``<entity id>|<window name>|<window start>`` (start empty for the running total):
  it starts with the entity id, so its partition is the entity's;
- board key ``<window name>|<window start>``: one trending board per window.
"""

from __future__ import annotations

from stream.counts.windows import TOTAL, Window, window_size


def count_key(entity_id: str, window: Window) -> str:
    return f"{entity_id}|{window.name}|{window.start if window.start is not None else ''}"


def parse_count_key(key: str) -> tuple[str, Window]:
    entity_id, name, start = key.rsplit("|", 2)
    if not start:
        return entity_id, Window(TOTAL, None, None)
    size = window_size(name) or 0
    return entity_id, Window(name, int(start), int(start) + size)


def entity_of(count_key: str) -> str:
    """The entity id a count key belongs to."""
    return count_key.split("|", 1)[0]


def board_key(window_name: str, start: int | None) -> str:
    return f"{window_name}|{start}"


def parse_board_key(key: str) -> tuple[str, int]:
    """(window name, window start) of a board key."""
    name, start = key.rsplit("|", 1)
    return name, int(start)
