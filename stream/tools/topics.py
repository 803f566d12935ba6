"""The topics newsstream creates, with explicit settings for real clusters, and the check of a
cluster where they exist already (``newsstream topics``).

- ``entities.mentions`` and ``entities.trending`` are compacted: each is the latest value per
  key, and a consumer that starts from the beginning needs only that;
- the raw, enriched, dead-letter and internal topics are deleted after their retention;
- ``max.message.bytes`` follows the sizes newsstream accepts and writes: raw records twice
  ``NEWSSTREAM_MAX_PAYLOAD_BYTES`` (larger ones still reach the worker, which dead-letters them
  as oversize, rather than failing the crawler's send), enriched articles as large as the
  worker's producer may send, dead letters their bounded size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from stream.config import Limits, Topics

MIB = 1024 * 1024
# A dead letter's payload escaped as JSON grows at most six-fold (control bytes), plus the rest
# of the record.
DEADLETTER_GROWTH, DEADLETTER_OVERHEAD = 6, 64 * 1024


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int
    configs: dict[str, str]


@dataclass(slots=True)
class TopicReport:
    """One topic as found (or made): ``state`` is created, ok, different or altered."""

    name: str
    state: str
    partitions: int | None = None
    differences: list[str] = field(default_factory=list)


def _retention(seconds: float) -> str:
    return "-1" if seconds < 0 else str(int(seconds * 1000))


def _deleted_after(seconds: float, max_bytes: int) -> dict[str, str]:
    return {"cleanup.policy": "delete", "retention.ms": _retention(seconds),
            "max.message.bytes": str(max_bytes)}


def largest_record(limits: Limits) -> int:
    """The largest record the worker's producer sends (an enriched article)."""
    return max(MIB, 2 * limits.max_payload_bytes)


def topic_specs(topics: Topics, limits: Limits) -> list[TopicSpec]:
    """Every topic newsstream uses, with its partitions and configs."""
    parts, big = topics.partitions, largest_record(limits)
    deadletter = max(MIB, DEADLETTER_GROWTH * limits.deadletter_payload_bytes
                     + DEADLETTER_OVERHEAD)
    latest = {"cleanup.policy": "compact", "max.message.bytes": str(MIB)}
    specs = [TopicSpec(topic, parts, _deleted_after(topics.raw_retention_s, big))
             for topic in topics.inputs]
    specs += [
        TopicSpec(topics.enriched, parts,
                  _deleted_after(topics.enriched_retention_s, big)),
        TopicSpec(topics.mentions, parts, dict(latest)),
        TopicSpec(topics.trending, parts, dict(latest)),
        TopicSpec(topics.deadletter, parts,
                  _deleted_after(topics.deadletter_retention_s, deadletter)),
        TopicSpec(topics.articles, 1,
                  _deleted_after(topics.internal_retention_s, big)),
        TopicSpec(topics.entity_events, parts,
                  _deleted_after(topics.internal_retention_s, MIB)),
        TopicSpec(topics.trend_scores, 1,
                  _deleted_after(topics.internal_retention_s, MIB)),
    ]
    return specs


def differences(spec: TopicSpec, partitions: int,
                configs: Mapping[str, str | None]) -> list[str]:
    """How an existing topic differs from its spec, one line each (empty: as specified)."""
    found = []
    if partitions != spec.partitions:
        found.append(f"partitions {partitions}, wanted {spec.partitions}")
    for name, wanted in spec.configs.items():
        have = configs.get(name)
        if have != wanted:
            found.append(f"{name}={have}, wanted {wanted}")
    return found


async def ensure_topics(options: Mapping[str, Any], specs: list[TopicSpec], *,
                        alter: bool = False, timeout_ms: int = 10_000) -> list[TopicReport]:
    """Create the missing topics with their configs; compare the existing ones with their spec
    and, only when ``alter``, set the configs that differ (partitions are never changed here:
    more partitions move keys, fewer cannot be had)."""
    admin = AIOKafkaAdminClient(**options, request_timeout_ms=timeout_ms)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        reports = await _create(admin, [s for s in specs if s.name not in existing])
        present = [s for s in specs if s.name in existing]
        if present:
            found = await _describe(admin, [s.name for s in present])
            for spec in present:
                topic = found[spec.name]
                report = TopicReport(spec.name, "ok", topic.partitions,
                                     differences(spec, topic.partitions, topic.configs))
                if report.differences:
                    report.state = "different"
                    if alter:
                        await _alter(admin, spec, topic)
                        report.state = "altered"
                reports.append(report)
        order = {spec.name: n for n, spec in enumerate(specs)}
        return sorted(reports, key=lambda report: order[report.name])
    finally:
        await admin.close()


async def _create(admin: AIOKafkaAdminClient, specs: list[TopicSpec]) -> list[TopicReport]:
    if not specs:
        return []
    response = await admin.create_topics(
        [NewTopic(s.name, s.partitions, 1, topic_configs=s.configs) for s in specs])
    reports = []
    for (name, code, *message), spec in zip(response.topic_errors, specs, strict=True):
        if code not in (0, TopicAlreadyExistsError.errno):
            raise RuntimeError(f"cannot create topic {name}: error {code} {message}")
        reports.append(TopicReport(name, "created", spec.partitions))
    return reports


@dataclass(frozen=True, slots=True)
class Found:
    """An existing topic: its partitions, every config the broker reports, and which of those
    are the topic's own (overrides of the broker's defaults)."""

    partitions: int
    configs: dict[str, str | None]
    overrides: frozenset[str]


def _overridden(entry: tuple[Any, ...]) -> bool:
    # DescribeConfigs v0 marks defaults (is_default); v1 and later name the source (1: a
    # dynamic topic config).
    flag = entry[3]
    return not flag if isinstance(flag, bool) else bool(flag == 1)


async def _describe(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, Found]:
    topics = await admin.describe_topics(names)
    partitions = {t["topic"]: len(t["partitions"]) for t in topics}
    responses = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, name) for name in names])
    found = {name: Found(partitions.get(name, 0), {}, frozenset()) for name in names}
    for response in responses:
        for _code, _message, _type, name, entries in response.resources:
            found[name] = Found(partitions.get(name, 0),
                                {entry[0]: entry[1] for entry in entries},
                                frozenset(entry[0] for entry in entries if _overridden(entry)))
    return found


async def _alter(admin: AIOKafkaAdminClient, spec: TopicSpec, found: Found) -> None:
    # AlterConfigs replaces a topic's whole set of overrides: send its current ones with ours.
    merged = {name: value for name, value in found.configs.items()
              if name in found.overrides and value is not None} | spec.configs
    try:
        await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, spec.name, configs=merged)])
    except KafkaError as error:
        raise RuntimeError(f"cannot change the configs of {spec.name}: {error}") from None
