"""The JSON Schemas in ``schemas/``: the contract with crawlers and dashboards.

Compiled once with fastjsonschema, which validates a payload in microseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema
import orjson

from stream.config import get_settings

# schemas/ at the repository root is the contract's single source; an installed package (the
# container image) is pointed at its copy with NEWSSTREAM_SCHEMA_DIR.
REPOSITORY_SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


def schema_dir() -> Path:
    configured = get_settings().schema_dir
    return Path(configured) if configured else REPOSITORY_SCHEMAS

RAW_ARTICLE = "raw-article"
ENRICHED_ARTICLE = "enriched-article"
ENTITY_MENTION_COUNT = "entity-mention-count"
ENTITY_TRENDING = "entity-trending"
DEAD_LETTER = "dead-letter"

SchemaError = fastjsonschema.JsonSchemaException


def load_schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = orjson.loads((schema_dir() / f"{name}.schema.json").read_bytes())
    return schema


@cache
def validator(name: str) -> Callable[[Any], Any]:
    """A compiled validator; raises :data:`SchemaError` with a readable message."""
    # Formats are checked where they matter (dates are parsed by the pipeline); fastjsonschema's
    # date-time format rejects valid RFC 3339 variants that crawlers send, such as no seconds.
    schema = load_schema(name)
    compiled: Callable[[Any], Any] = fastjsonschema.compile(
        schema, formats={"date-time": lambda _value: True}
    )
    return compiled
