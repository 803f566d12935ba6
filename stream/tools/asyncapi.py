"""``schemas/asyncapi.yaml``, generated: the AsyncAPI 3.0 document of the topics crawlers write
to and dashboards read from, made from the JSON Schemas in ``schemas/`` and the topic settings
newsstream creates its topics with (partitions, compaction, retention, record size), so that
consumers can generate clients and docs from it and it never drifts from the code (``make docs``
writes it; a test fails when they differ; CI validates it with the AsyncAPI parser).

Usage: ``python -m stream.tools.asyncapi > schemas/asyncapi.yaml``
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stream import SCHEMA_VERSION, __version__
from stream.config import Limits, Settings, Topics
from stream.schemas import (
    DEAD_LETTER,
    ENRICHED_ARTICLE,
    ENTITY_MENTION_COUNT,
    ENTITY_TRENDING,
    RAW_ARTICLE,
    load_schema,
)
from stream.tools.topics import TopicSpec, topic_specs

# JSON Schema 2020-12 documents that use no keyword draft-07 lacks: AsyncAPI 3.0's parser
# validates payloads in the draft-07 format.
SCHEMA_FORMAT = "application/schema+json;version=draft-07"


@dataclass(frozen=True)
class Channel:
    """One public topic: who writes it, its record key, its payload."""

    id: str
    topic: str
    schema: str  # schemas/<schema>.schema.json
    message: str
    key: dict[str, Any]
    summary: str
    newsstream_receives: bool  # True: crawlers write it and newsstream reads it


def channels(topics: Topics) -> list[Channel]:
    return [
        Channel("rawArticles", topics.inputs[0], RAW_ARTICLE, "rawArticle",
                {"type": ["string", "null"],
                 "description": "The article id, or none (newsstream derives it from the URL); "
                                "re-sends of one article should carry one key so that they "
                                "stay in order."},
                "What crawlers publish: one page or its scraped text per record.", True),
        Channel("enrichedArticles", topics.enriched, ENRICHED_ARTICLE, "enrichedArticle",
                {"type": "string", "description": "The article id."},
                "One record per article: main text, metadata, language, entities; "
                "`duplicate_of` marks copies of an earlier article.", False),
        Channel("entityMentions", topics.mentions, ENTITY_MENTION_COUNT, "entityMentionCount",
                {"type": "string", "pattern": r"^[^|]+\|[^|]+\|[0-9]*$",
                 "description": "`entity_id|window|window_start` (epoch seconds; empty for "
                                "the running total). A later record for a key supersedes the "
                                "earlier one: keep the latest value per key."},
                "Exact mention and article counts per entity: the running total and each "
                "tumbling window.", False),
        Channel("trendingEntities", topics.trending, ENTITY_TRENDING, "entityTrending",
                {"type": "string", "pattern": r"^[^|]+\|[0-9]+$",
                 "description": "`window|window_start`; a later record for a key supersedes "
                                "the earlier one."},
                "Per window, the entities most above their own baseline.", False),
        Channel("deadLetters", topics.deadletter, DEAD_LETTER, "deadLetter",
                {"type": ["string", "null"], "description": "The original record's key."},
                "Every record that could not be processed, with where it came from and why.",
                False),
    ]


def _bindings(spec: TopicSpec, replicas: int) -> dict[str, Any]:
    configs = spec.configs
    configuration: dict[str, Any] = {"cleanup.policy": [configs["cleanup.policy"]],
                                     "max.message.bytes": int(configs["max.message.bytes"])}
    if "retention.ms" in configs:
        configuration["retention.ms"] = int(configs["retention.ms"])
    return {"kafka": {"topic": spec.name, "partitions": spec.partitions, "replicas": replicas,
                      "topicConfiguration": configuration, "bindingVersion": "0.5.0"}}


def _payload(name: str) -> dict[str, Any]:
    schema = {key: value for key, value in load_schema(name).items()
              if key not in ("$schema", "$id")}
    return {"schemaFormat": SCHEMA_FORMAT, "schema": schema}


def document(topics: Topics, limits: Limits) -> dict[str, Any]:
    """The AsyncAPI document of the topics as newsstream creates them."""
    specs = {spec.name: spec for spec in topic_specs(topics, limits)}
    replicas = topics.replication_factor
    found = channels(topics)
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "newsstream",
            "version": __version__,
            "description": (
                "The topics crawlers write raw articles to and dashboards read enriched "
                "articles, entity counts and trends from. Every payload is one JSON object, "
                f"UTF-8, with `schema_version` {SCHEMA_VERSION}; no record headers are read or "
                "written. Topic names, partitions and retention are the defaults "
                "(`NEWSSTREAM_*` settings change them: docs/configuration.md). Generated from "
                "schemas/*.schema.json and the topic settings by `make docs`."),
            "license": {"name": "MIT"},
        },
        "defaultContentType": "application/json",
        "servers": {
            "kafka": {
                "host": "localhost:9092",
                "protocol": "kafka",
                "description": "Any Kafka-protocol cluster (NEWSSTREAM_BROKER_URL); TLS and "
                               "SASL as docs/operations.md describes.",
            },
        },
        "channels": {
            channel.id: {
                "address": channel.topic,
                "description": channel.summary,
                "messages": {channel.message: {"$ref": f"#/components/messages/"
                                                       f"{channel.message}"}},
                "bindings": _bindings(specs[channel.topic], replicas),
            }
            for channel in found
        },
        "operations": {
            (f"receive{channel.id[0].upper()}{channel.id[1:]}" if channel.newsstream_receives
             else f"send{channel.id[0].upper()}{channel.id[1:]}"): {
                "action": "receive" if channel.newsstream_receives else "send",
                "channel": {"$ref": f"#/channels/{channel.id}"},
                "summary": ("newsstream reads what crawlers publish here."
                            if channel.newsstream_receives else
                            "newsstream publishes here; dashboards subscribe."),
                "messages": [{"$ref": f"#/channels/{channel.id}/messages/{channel.message}"}],
            }
            for channel in found
        },
        "components": {
            "messages": {
                channel.message: {
                    "name": channel.message,
                    "title": load_schema(channel.schema).get("title", channel.message),
                    "summary": channel.summary,
                    "contentType": "application/json",
                    "payload": _payload(channel.schema),
                    "bindings": {"kafka": {"key": channel.key, "bindingVersion": "0.5.0"}},
                    "x-schema-file": f"schemas/{channel.schema}.schema.json",
                }
                for channel in found
            },
        },
    }


def render() -> str:
    """The document for the default settings, as YAML."""
    import yaml  # only `make docs` and the tests render it: no runtime dependency

    defaults = Settings()
    header = ("# Generated by `make docs` (stream/tools/asyncapi.py) from schemas/*.schema.json "
              "and the topic settings:\n# edit those, not this file.\n")
    return header + yaml.safe_dump(document(defaults.topics, defaults.limits),
                                   sort_keys=False, allow_unicode=True, width=100)


if __name__ == "__main__":
    print(render(), end="")
