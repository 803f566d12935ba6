"""One typed settings object, read from ``NEWSSTREAM_*`` environment variables, and the views
its consumers take (:mod:`stream.config.views`)."""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from stream.config.views import (
    Connection,
    Counting,
    Dashboard,
    Entities,
    Limits,
    Topics,
    ViewOf,
    Web,
    Worker,
)


class Settings(BaseSettings):
    """Every knob of newsstream. Each field maps to ``NEWSSTREAM_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="NEWSSTREAM_", extra="ignore")

    app_id: str = Field(
        default="newsstream",
        description="Consumer group and table prefix; internal topics are named after it.")
    broker_url: str = Field(
        default="kafka://127.0.0.1:9092",
        description="Kafka bootstrap servers, e.g. kafka://host1:9092;host2:9092",
    )

    # Topics. Input may be several topics, comma-separated in the environment.
    input_topics: Annotated[list[str], NoDecode] = Field(
        default=["articles.raw"], description="Raw topics the crawlers write to, comma-separated.")
    enriched_topic: str = Field(
        default="articles.enriched",
        description="Enriched articles (output).")
    mentions_topic: str = Field(
        default="entities.mentions",
        description="Per-entity mention counts (output).")
    trending_topic: str = Field(
        default="entities.trending",
        description="Trending entities (output).")
    deadletter_topic: str = Field(
        default="articles.deadletter",
        description="Records that could not be processed, with the reason.")
    # Internal topics, named after app_id unless set: why each exists is in views.Topics.
    articles_topic: str = Field(default="", description="Default: <app_id>.articles")
    entity_events_topic: str = Field(default="", description="Default: <app_id>.entity-events")
    trend_scores_topic: str = Field(default="", description="Default: <app_id>.trend-scores")
    partitions: int = Field(
        default=4,
        description="Partitions of every topic newsstream creates (the one-partition "
                    "internal topics aside).")
    replication_factor: int = Field(
        default=1,
        description="Replication factor of the topics newsstream creates.")

    # Connection security (every client: the worker, produce, tail, topics, the probes).
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT", description="How clients connect to the brokers.")
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"] = Field(
        default="PLAIN", description="SASL mechanism (SASL_* protocols).")
    sasl_username: str | None = Field(default=None, description="SASL user (PLAIN, SCRAM).")
    sasl_password: SecretStr | None = Field(
        default=None, description="SASL password (PLAIN, SCRAM); never logged or shown.")
    sasl_password_file: str | None = Field(
        default=None,
        description="File holding the SASL password (a mounted secret); read at start-up, "
                    "instead of NEWSSTREAM_SASL_PASSWORD.")
    sasl_oauth_token_file: str | None = Field(
        default=None,
        description="OAUTHBEARER: file holding the access token, read again at each "
                    "authentication (a sidecar may refresh it).")
    ssl_cafile: str | None = Field(
        default=None, description="CA bundle (PEM) the brokers' certificates are checked "
                                  "against (default: the system's).")
    ssl_certfile: str | None = Field(
        default=None, description="Client certificate (PEM), for clusters that require one.")
    ssl_keyfile: str | None = Field(default=None, description="Client certificate's key (PEM).")
    ssl_check_hostname: bool = Field(
        default=True, description="Check that a broker's certificate names the host dialled.")

    # Topic settings newsstream creates its topics with (`newsstream topics` checks them).
    raw_retention_s: float = Field(
        default=7 * 86400.0, description="Retention of the raw input topics (-1: forever).")
    enriched_retention_s: float = Field(
        default=30 * 86400.0, description="Retention of articles.enriched (-1: forever).")
    deadletter_retention_s: float = Field(
        default=30 * 86400.0, description="Retention of the dead-letter topic (-1: forever).")
    internal_retention_s: float = Field(
        default=7 * 86400.0,
        description="Retention of the internal topics (articles, entity events, trend scores): "
                    "at least as long as a worker may be down (-1: forever).")

    # What newsstream writes
    producer_compression: Literal["none", "gzip", "snappy", "lz4", "zstd"] = Field(
        default="zstd",
        description="Compression of every record batch newsstream produces (make bench "
                    "measures bytes per article for each).")

    # Consumer group timing. Tansu holds a join for half the session timeout, so the
    # faust default (60 s) would make a worker wait ~30 s before it gets partitions.
    session_timeout_s: float = Field(
        default=6.0,
        description="Consumer session (= rebalance) timeout; the embedded broker holds a join for "
                    "half of it.")
    heartbeat_interval_s: float = Field(default=1.0, description="Consumer heartbeat interval.")
    commit_interval_s: float = Field(
        default=1.0,
        description="Offsets commit interval (bounds the re-processing after a crash).")
    producer_linger_s: float = Field(
        default=0.01,
        description="Producer batching; 0 sends one request per record.")
    consumer_fetch_max_wait_s: float = Field(
        default=0.05, gt=0,
        description="Longest a worker's fetch waits for records. faust asks for 1.5 s; Kafka "
                    "answers as soon as a record comes, but Tansu held each fetch ~0.45 s, "
                    "twice per article (raw topic, then de-duplication). At 0.05 s the p50 "
                    "from send to enriched event at half load was 107 ms, at 0.1 s 137 ms.")

    # Bad input and bounded work
    max_payload_bytes: int = Field(
        default=5_000_000,
        description="Larger raw records are dead-lettered oversize.")
    max_batch_bytes: int = Field(
        default=64_000_000, ge=1_000_000,
        description="Largest decompressed size of one fetched record batch; the records of a "
                    "batch past it (a decompression bomb) are dead-lettered oversize, checked "
                    "while unpacking.")
    article_budget_s: float = Field(
        default=20.0, ge=0,
        description="Time budget to enrich one record; 0 disables the watchdog.")
    max_article_words: int = Field(
        default=50_000, ge=1,
        description="Longer cleaned texts are dead-lettered too_large before entity tagging.")
    child_memory_mb: int = Field(
        default=2048, ge=0,
        description="Resident memory limit of the enrichment child; the record that crosses it "
                    "is dead-lettered too_large and the child replaced (0: no limit).")
    deadletter_payload_bytes: int = Field(
        default=65_536, ge=0,
        description="Dead letters carry the payload whole up to this size, else its head, "
                    "length and SHA-256.")
    max_event_time_skew_s: float = Field(
        default=86_400.0, gt=0,
        description="Event times later than the record timestamp (and the clock) by more than "
                    "this are not believed: the next date field is used.")

    # Health: how long a partition with lag may make no progress.
    stall_ready_s: float = Field(
        default=60.0, gt=0,
        description="/readyz turns 503 when a partition with lag has made no progress this long.")
    stall_live_s: float = Field(
        default=300.0, gt=0,
        description="/healthz turns 503 (the worker is wedged) after this long without progress.")
    broker_probe_interval_s: float = Field(
        default=2.0, gt=0, description="How often the worker checks that the broker answers.")
    broker_timeout_s: float = Field(
        default=6.0, gt=0,
        description="The broker counts as unreachable after this long without an answer; also "
                    "the connect timeout of the command-line tools.")
    enable_debug_pages: bool = Field(
        default=False,
        description="Serve faust's /table and /router pages (internal state; off by default).")

    # Counting
    count_windows_s: Annotated[list[int], NoDecode] = Field(
        default=[60, 3600, 86400], description="Tumbling window sizes in seconds.")
    count_grace_s: float = Field(
        default=3600.0, ge=0,
        description="How long after its end (in stream time) a window still takes articles.")
    count_flush_s: float = Field(
        default=0.5, gt=0, le=60,
        description="Counting folds the changes of each (entity, window) in memory and writes "
                    "each changed one once per flush (its table changelog record and its "
                    "entities.mentions record): the longest a count waits before dashboards "
                    "see it. A flush also comes before every commit of offsets.")
    count_emit: Literal["changes", "final"] = Field(
        default="changes",
        description="Windowed counts on entities.mentions: 'changes', the latest value of each "
                    "changed window at most once per flush; 'final', one record per window, "
                    "once it has closed (its end plus the grace period, in stream time). The "
                    "running total is always 'changes'.")
    failpoint: str = Field(
        default="",
        description="For fault tests only: '<point>:<n>' kills the worker (SIGKILL) the n-th "
                    "time it passes <point> (see stream/runtime/failpoints.py).")

    # De-duplication: same URL, same body, or a near-copy (SimHash) within the window.
    dedup_window_s: float = Field(
        default=7 * 86400.0, gt=0, description="How long an article is remembered (event time).")
    near_duplicate_distance: int = Field(
        default=4, ge=0, le=15,
        description="Largest SimHash Hamming distance (of 64 bits) of a near-duplicate; 0: off.")
    count_near_duplicates: bool = Field(
        default=False,
        description="Count near-copies anyway (they are still flagged).")

    # Trending: mentions in a window against the entity's previous windows.
    trend_baseline_windows: int = Field(
        default=6, ge=1,
        description="Previous windows that make an entity's baseline.")
    trend_min_mentions: int = Field(
        default=3, ge=1,
        description="Fewer mentions in a window: not ranked.")
    trend_top_n: int = Field(default=10, ge=1, description="Entities per trending record.")
    trend_publish_interval_s: float = Field(
        default=1.0, gt=0,
        description="At most one trending record per window per interval.")

    # Worker web server (metrics, health)
    web_host: str = Field(
        default="127.0.0.1",
        description="Address the worker's metrics, health and query endpoints listen on.")
    web_port: int = Field(
        default=6066,
        description="Port of the worker's metrics, health and query endpoints.")
    canonical_url: str | None = Field(
        default=None,
        description="URL other workers reach this one at, for routed queries "
                    "(default: http://<web_host>:<web_port>; set it when binding 0.0.0.0); "
                    "{hostname} is replaced by this host's name, e.g. http://{hostname}:6066.")
    web_token: SecretStr | None = Field(
        default=None,
        description="When set, the dashboard and the worker's /entities pages need it: "
                    "'Authorization: Bearer <token>', or HTTP Basic with the token as the "
                    "password (a browser asks); /healthz, /readyz and /metrics stay open. "
                    "Off by default (loopback).")
    web_token_file: str | None = Field(
        default=None, description="File holding the web token (a mounted secret), read at "
                                  "each request, instead of NEWSSTREAM_WEB_TOKEN.")
    peer_max_bytes: int = Field(
        default=4_000_000, ge=1024,
        description="Largest answer read from another worker for a routed query.")
    # The dashboard (`newsstream dashboard`): its own process, fed by the output topics.
    dashboard_host: str = Field(
        default="127.0.0.1",
        description="Address the dashboard's page listens on.")
    dashboard_port: int = Field(default=8088, ge=0, le=65535,
                                description="Port of the dashboard's page.")
    dashboard_articles: int = Field(
        default=5_000, ge=1, description="Enriched articles the dashboard keeps (the newest).")
    dashboard_windows: int = Field(
        default=30, ge=1, description="Window starts the dashboard keeps per window size "
                                      "(the newest): the length of the entity charts.")
    dashboard_entities: int = Field(
        default=20_000, ge=1,
        description="Entities the dashboard keeps (the most mentioned), in total and per window.")
    dashboard_max_clients: int = Field(
        default=200, ge=1, description="Pages connected for live updates at once; more are "
                                       "refused (503) until one leaves.")
    dashboard_update_interval_s: float = Field(
        default=0.25, gt=0, description="The page is told of changes at most this often.")
    dashboard_group: str = Field(
        default="", description="Group id its read positions are committed under, for lag "
                                "monitoring (default: <app_id>-dashboard).")
    data_dir: str = Field(
        default="newsstream-data",
        description="The worker's state folder (RocksDB tables, the boilerplate memory).")
    store: Literal["memory", "rocksdb"] = Field(
        default="memory",
        description="Where a worker keeps its table state: memory (replayed from the changelogs "
                    "at every start; tests, make run) or rocksdb (on disk under data_dir, only "
                    "what changed since the last run is replayed; production).")
    log_level: str = Field(default="info", description="debug, info, warning or error.")
    ner_model: Literal["fast", "accurate"] = Field(
        default="fast",
        description="Entity tier: fast (Indonesian CRF ~60k words/s, English spaCy ~15k) or "
                    "accurate (fine-tuned e5-small transformer, higher recall on unseen names, "
                    "~1-2k words/s; in English with spaCy's vote). docs/languages.md.")
    ner_int8: bool = Field(
        default=False,
        description="Accurate tier only: int8 weights (per channel, dynamic activations), "
                    "~2x faster on the CPU, up to 1.5 lower dev F1.")
    ner_threads: int = Field(
        default=0, ge=0,
        description="Accurate tier only: onnxruntime threads per process. 0: one in a worker "
                    "(workers scale by processes, one per core), every core of the machine in "
                    "the one-off `newsstream entities`.")
    aliases_file: str | None = Field(
        default=None, description="Extra entity aliases (TSV: alias, canonical, label).")

    @model_validator(mode="after")
    def _name_after_app_id(self) -> Settings:
        for field, suffix in (("articles_topic", "articles"),
                              ("entity_events_topic", "entity-events"),
                              ("trend_scores_topic", "trend-scores")):
            if not getattr(self, field):
                setattr(self, field, f"{self.app_id}.{suffix}")
        if not self.dashboard_group:
            self.dashboard_group = f"{self.app_id}-dashboard"
        return self

    @field_validator("broker_url", mode="after")
    @classmethod
    def _servers(cls, value: str) -> str:
        """``kafka://host:port[;host:port]`` (or ``host:port[,host:port]``): checked here, where
        a wrong one is one line naming the variable, not a client's traceback later."""
        scheme, found, servers = value.partition("://")
        if found and scheme != "kafka":
            raise ValueError(f"{scheme}:// is not a broker scheme; use kafka://host:port")
        for server in (servers if found else value).replace(";", ",").split(","):
            host, colon, port = server.strip().rpartition(":")
            if not colon or not host.strip("[]"):
                raise ValueError(f"{server.strip()!r} is not host:port; use "
                                 f"kafka://host:port[;host:port]")
            if not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"port {port!r} of {server.strip()} is not a number from 1 "
                                 f"to 65535")
        return value

    @field_validator("sasl_password_file", "sasl_oauth_token_file", "ssl_cafile",
                     "ssl_certfile", "ssl_keyfile", "web_token_file", mode="after")
    @classmethod
    def _readable_file(cls, value: str | None) -> str | None:
        if not value:
            return None  # an empty variable is no file
        if not Path(value).is_file():
            raise ValueError(f"no such file: {value}")
        return value

    @model_validator(mode="after")
    def _one_password(self) -> Settings:
        if self.sasl_password is not None and self.sasl_password_file:
            raise ValueError("set NEWSSTREAM_SASL_PASSWORD or NEWSSTREAM_SASL_PASSWORD_FILE, "
                             "not both")
        if self.security_protocol.startswith("SASL_"):
            if self.sasl_mechanism == "OAUTHBEARER" and not self.sasl_oauth_token_file:
                raise ValueError("OAUTHBEARER needs NEWSSTREAM_SASL_OAUTH_TOKEN_FILE")
            if self.sasl_mechanism != "OAUTHBEARER" and not self.sasl_username:
                raise ValueError(f"{self.sasl_mechanism} needs NEWSSTREAM_SASL_USERNAME")
        if self.web_token is not None and self.web_token_file:
            raise ValueError("set NEWSSTREAM_WEB_TOKEN or NEWSSTREAM_WEB_TOKEN_FILE, not both")
        if bool(self.ssl_certfile) != bool(self.ssl_keyfile):
            raise ValueError("a client certificate needs both NEWSSTREAM_SSL_CERTFILE and "
                             "NEWSSTREAM_SSL_KEYFILE")
        return self

    @field_validator("input_topics", "count_windows_s", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    # The views: what each consumer takes (stream.config.views), built when asked.
    connection: ClassVar[ViewOf[Connection]] = ViewOf(Connection)
    topics: ClassVar[ViewOf[Topics]] = ViewOf(Topics)
    limits: ClassVar[ViewOf[Limits]] = ViewOf(Limits)
    counting: ClassVar[ViewOf[Counting]] = ViewOf(Counting)
    worker: ClassVar[ViewOf[Worker]] = ViewOf(Worker)
    web: ClassVar[ViewOf[Web]] = ViewOf(Web)
    dashboard: ClassVar[ViewOf[Dashboard]] = ViewOf(Dashboard)
    entities: ClassVar[ViewOf[Entities]] = ViewOf(Entities)


class SettingsError(Exception):
    """Settings that cannot be used, one line per problem, naming the environment variable."""


_SECRET_VARIABLES = {"NEWSSTREAM_SASL_PASSWORD"}


def _variable(location: tuple[int | str, ...]) -> str:
    return f"NEWSSTREAM_{str(location[0]).upper()}" if location else "NEWSSTREAM_*"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment; :class:`SettingsError` says which variable is wrong, its
    value and what is allowed."""
    environ = os.environ if environ is None else environ
    try:
        return Settings()
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            name = _variable(problem["loc"])
            if not problem["loc"]:  # a rule across several settings: no one value to show
                lines.append(f"{problem['msg'].removeprefix('Value error, ')}")
                continue
            value = environ.get(name, problem.get("input"))
            if name in _SECRET_VARIABLES:
                value = "<hidden>"
            lines.append(f"{name}={value!r}: {problem['msg'].removeprefix('Value error, ')}")
        raise SettingsError("\n".join(lines)) from None


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """A warning for each ``NEWSSTREAM_*`` variable that is no setting, with the closest name,
    and for each variable whose prefix is a misspelling of it (``NEWSTREAM_BROKER_URL``)."""
    known = {f"NEWSSTREAM_{name.upper()}" for name in Settings.model_fields}
    warnings = []
    for name in sorted(environ):
        if name.startswith("NEWSSTREAM_") and name not in known:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else ""
            warnings.append(f"{name} is not a newsstream setting (ignored){hint}")
        elif _misspelt_prefix(name):
            meant = "NEWSSTREAM_" + name.partition("_")[2]
            hint = f"; did you mean {meant}?" if meant in known else ""
            warnings.append(f"{name} looks like a newsstream setting with its prefix "
                            f"misspelt (ignored: settings start with NEWSSTREAM_){hint}")
    return warnings


def _misspelt_prefix(name: str) -> bool:
    prefix, underscore, rest = name.partition("_")
    return bool(underscore and rest) and prefix != "NEWSSTREAM" and difflib.SequenceMatcher(
        None, prefix, "NEWSSTREAM").ratio() >= 0.8
