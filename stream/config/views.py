"""The settings in views: one small frozen object per concern, so that each consumer takes only
what it reads (the counting agent its counting view, the dashboard its own) and a test can see
which settings a module may depend on.

:class:`~stream.config.settings.Settings` reads and checks the environment once, flat, so that
the variables and their one-line errors stay as they are; :func:`view` builds a view from it.
Each field names the setting it comes from in its metadata: ``docs/configuration.md`` is grouped
by view from the same metadata, and a test fails when a setting belongs to no view.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from pydantic import SecretStr


def setting(name: str) -> Any:
    """A view field filled from the setting ``name``."""
    return field(metadata={"setting": name})


@dataclass(frozen=True)
class Connection:
    """How every client reaches the brokers (the worker, produce, tail, topics, the probes)."""

    broker_url: str = setting("broker_url")
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = setting(
        "security_protocol")
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"] = setting(
        "sasl_mechanism")
    sasl_username: str | None = setting("sasl_username")
    sasl_password: SecretStr | None = setting("sasl_password")
    sasl_password_file: str | None = setting("sasl_password_file")
    sasl_oauth_token_file: str | None = setting("sasl_oauth_token_file")
    ssl_cafile: str | None = setting("ssl_cafile")
    ssl_certfile: str | None = setting("ssl_certfile")
    ssl_keyfile: str | None = setting("ssl_keyfile")
    ssl_check_hostname: bool = setting("ssl_check_hostname")
    compression: Literal["none", "gzip", "snappy", "lz4", "zstd"] = setting(
        "producer_compression")
    linger_s: float = setting("producer_linger_s")
    max_batch_bytes: int = setting("max_batch_bytes")
    timeout_s: float = setting("broker_timeout_s")

    @property
    def bootstrap_servers(self) -> str:
        """The broker URL as aiokafka wants it: ``host:port[,host:port]``."""
        servers = self.broker_url.split("://", 1)[-1]
        return servers.replace(";", ",")

    def sasl_secret(self) -> str | None:
        """The SASL password, from its file when one is given (read when asked: a rotated
        secret is picked up by the next client)."""
        return read_secret(self.sasl_password, self.sasl_password_file)


@dataclass(frozen=True)
class Topics:
    """The topics newsstream reads and writes, and how it creates them."""

    app_id: str = setting("app_id")
    inputs: tuple[str, ...] = setting("input_topics")
    enriched: str = setting("enriched_topic")
    mentions: str = setting("mentions_topic")
    trending: str = setting("trending_topic")
    deadletter: str = setting("deadletter_topic")
    # Internal, named after app_id unless set (two apps on one cluster never share):
    # - articles: enriched articles on their way to de-duplication. One partition, so that one
    #   ordered log decides which copy of an article is the first, across the whole stream;
    # - entity events: per-article entity events keyed by entity, so that each entity's counts
    #   live in exactly one partition of the counting table;
    # - trend scores: on their way to the one partition that ranks each window.
    articles: str = setting("articles_topic")
    entity_events: str = setting("entity_events_topic")
    trend_scores: str = setting("trend_scores_topic")
    partitions: int = setting("partitions")
    replication_factor: int = setting("replication_factor")
    raw_retention_s: float = setting("raw_retention_s")
    enriched_retention_s: float = setting("enriched_retention_s")
    deadletter_retention_s: float = setting("deadletter_retention_s")
    internal_retention_s: float = setting("internal_retention_s")

    @property
    def outputs(self) -> list[str]:
        return [self.enriched, self.mentions, self.trending, self.deadletter]

    @property
    def single_partition(self) -> list[str]:
        """Internal topics that must have exactly one partition (see their comments)."""
        return [self.articles, self.trend_scores]

    @property
    def all(self) -> list[str]:
        return [*self.inputs, *self.outputs, self.entity_events, *self.single_partition]


@dataclass(frozen=True)
class Limits:
    """Bounded work: what a record may cost before it is dead-lettered."""

    max_payload_bytes: int = setting("max_payload_bytes")
    max_batch_bytes: int = setting("max_batch_bytes")
    article_budget_s: float = setting("article_budget_s")
    max_article_words: int = setting("max_article_words")
    child_memory_mb: int = setting("child_memory_mb")
    deadletter_payload_bytes: int = setting("deadletter_payload_bytes")
    max_event_time_skew_s: float = setting("max_event_time_skew_s")


@dataclass(frozen=True)
class Counting:
    """Windowed counts, de-duplication and trending."""

    windows_s: tuple[int, ...] = setting("count_windows_s")
    grace_s: float = setting("count_grace_s")
    flush_s: float = setting("count_flush_s")
    emit: Literal["changes", "final"] = setting("count_emit")
    dedup_window_s: float = setting("dedup_window_s")
    near_duplicate_distance: int = setting("near_duplicate_distance")
    count_near_duplicates: bool = setting("count_near_duplicates")
    trend_baseline_windows: int = setting("trend_baseline_windows")
    trend_min_mentions: int = setting("trend_min_mentions")
    trend_top_n: int = setting("trend_top_n")
    trend_publish_interval_s: float = setting("trend_publish_interval_s")

    @property
    def window_retention_s(self) -> dict[int, float]:
        """How long each window size is kept after its end: the trend baseline and the grace
        period must still find it."""
        return {size: max(size * (self.trend_baseline_windows + 1), self.grace_s) + size
                for size in self.windows_s}


@dataclass(frozen=True)
class Worker:
    """One worker process: its consumer group timing, health thresholds, state and logs."""

    app_id: str = setting("app_id")
    session_timeout_s: float = setting("session_timeout_s")
    heartbeat_interval_s: float = setting("heartbeat_interval_s")
    commit_interval_s: float = setting("commit_interval_s")
    fetch_max_wait_s: float = setting("consumer_fetch_max_wait_s")
    stall_ready_s: float = setting("stall_ready_s")
    stall_live_s: float = setting("stall_live_s")
    broker_probe_interval_s: float = setting("broker_probe_interval_s")
    broker_timeout_s: float = setting("broker_timeout_s")
    data_dir: str = setting("data_dir")
    store: Literal["memory", "rocksdb"] = setting("store")
    log_level: str = setting("log_level")
    failpoint: str = setting("failpoint")


@dataclass(frozen=True)
class Web:
    """The worker's web server: metrics, health and the routed entity queries."""

    host: str = setting("web_host")
    port: int = setting("web_port")
    canonical_url: str | None = setting("canonical_url")
    token: SecretStr | None = setting("web_token")
    token_file: str | None = setting("web_token_file")
    peer_max_bytes: int = setting("peer_max_bytes")
    enable_debug_pages: bool = setting("enable_debug_pages")

    def secret(self) -> str | None:
        """The web token, from its file when one is given (read when asked: rotation)."""
        return read_secret(self.token, self.token_file) or None


@dataclass(frozen=True)
class Dashboard:
    """``newsstream dashboard``: its own process, fed by the output topics."""

    host: str = setting("dashboard_host")
    port: int = setting("dashboard_port")
    articles: int = setting("dashboard_articles")
    windows: int = setting("dashboard_windows")
    entities: int = setting("dashboard_entities")
    max_clients: int = setting("dashboard_max_clients")
    update_interval_s: float = setting("dashboard_update_interval_s")
    group: str = setting("dashboard_group")


@dataclass(frozen=True)
class Entities:
    """Entity tagging: the tier, its threads and extra aliases."""

    model: Literal["fast", "accurate"] = setting("ner_model")
    int8: bool = setting("ner_int8")
    threads: int = setting("ner_threads")
    aliases_file: str | None = setting("aliases_file")


VIEWS: tuple[type, ...] = (Connection, Topics, Limits, Counting, Worker, Web, Dashboard,
                           Entities)

View = TypeVar("View")


def view(kind: type[View], settings: object) -> View:
    """The ``kind`` view of ``settings`` (a :class:`~stream.config.settings.Settings`; lists
    become tuples: a view is immutable)."""
    values = {}
    for item in fields(kind):  # type: ignore[arg-type]  # every View is a dataclass
        value = getattr(settings, item.metadata["setting"])
        values[item.name] = tuple(value) if isinstance(value, list) else value
    return kind(**values)


class ViewOf(Generic[View]):
    """A settings object's attribute that is its ``kind`` view, built when read."""

    def __init__(self, kind: type[View]) -> None:
        self.kind = kind

    def __get__(self, settings: object, owner: type | None = None) -> View:
        return view(self.kind, settings)


def settings_of(kind: type) -> list[str]:
    """The settings a view is made of, in its order."""
    return [item.metadata["setting"] for item in fields(kind)]


def read_secret(value: SecretStr | None, file: str | None) -> str | None:
    """A secret given in a variable or, read now (rotation), in a file."""
    if file:
        return Path(file).read_text(encoding="utf-8").strip()
    return value.get_secret_value() if value else None
