"""The JSON Schemas in ``schemas/``: the contract with crawlers and dashboards.

Compiled once with fastjsonschema, which validates a payload in microseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema
import orjson

# schemas/ at the repository root is the contract's single source; it is installed as the
# package ``schemas`` (package data), so a wheel finds it without being told where.
SCHEMA_PACKAGE = "schemas"


RAW_ARTICLE = "raw-article"
ENRICHED_ARTICLE = "enriched-article"
ENTITY_MENTION_COUNT = "entity-mention-count"
ENTITY_TRENDING = "entity-trending"
DEAD_LETTER = "dead-letter"

SchemaError = fastjsonschema.JsonSchemaException


def load_schema(name: str) -> dict[str, Any]:
    source = resources.files(SCHEMA_PACKAGE).joinpath(f"{name}.schema.json")
    schema: dict[str, Any] = orjson.loads(source.read_bytes())
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
