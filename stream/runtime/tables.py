"""The worker's tables: their names and partition counts, and the changelog topics faust keeps
them in (``<app_id>-<table>-changelog``)."""

from __future__ import annotations

from stream.config import Topics

COUNTS = "entity-counts"
LINES = "domain-lines"
FINGERPRINTS = "article-fingerprints"
TRENDS = "trending-boards"


def table_partitions(topics: Topics) -> dict[str, int]:
    """Each table's partitions: those of the topic its agent reads (the one ordered topic for
    de-duplication and trending)."""
    return {COUNTS: topics.partitions, LINES: topics.partitions, FINGERPRINTS: 1, TRENDS: 1}


def changelog_topic(topics: Topics, table: str) -> str:
    return f"{topics.app_id}-{table}-changelog"


def changelog_partitions(topics: Topics) -> dict[str, int]:
    """Changelog topic → the partitions it must have."""
    return {changelog_topic(topics, table): partitions
            for table, partitions in table_partitions(topics).items()}
