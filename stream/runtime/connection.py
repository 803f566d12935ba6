"""How every client reaches the brokers: bootstrap servers, TLS and SASL from the connection
view, for aiokafka's clients (``produce``, ``tail``, topic creation, the probes) and for
faust's (the worker). The password leaves the view only here, into the client that needs it."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

from aiokafka.abc import AbstractTokenProvider
from aiokafka.helpers import create_ssl_context

from stream.config import Connection


class TokenFile(AbstractTokenProvider):  # type: ignore[misc]  # aiokafka ships no types here
    """OAUTHBEARER: the access token in a file, read again at every authentication, so that a
    sidecar that refreshes the file keeps the worker connected."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)

    async def token(self) -> str:
        return self.path.read_text(encoding="utf-8").strip()

    def __repr__(self) -> str:
        return f"TokenFile({str(self.path)!r})"


def ssl_context(connection: Connection) -> ssl.SSLContext | None:
    """The TLS context of the SSL and SASL_SSL protocols (None for the others)."""
    if connection.security_protocol not in ("SSL", "SASL_SSL"):
        return None
    context: ssl.SSLContext = create_ssl_context(
        cafile=connection.ssl_cafile, certfile=connection.ssl_certfile,
        keyfile=connection.ssl_keyfile)
    if connection.ssl_cafile is None:
        context.load_default_certs()
    context.check_hostname = connection.ssl_check_hostname
    return context


def client_options(connection: Connection) -> dict[str, Any]:
    """Keyword arguments for any aiokafka client (producer, consumer, admin, client)."""
    options: dict[str, Any] = {"bootstrap_servers": connection.bootstrap_servers,
                               "security_protocol": connection.security_protocol}
    context = ssl_context(connection)
    if context is not None:
        options["ssl_context"] = context
    if connection.security_protocol.startswith("SASL_"):
        options["sasl_mechanism"] = connection.sasl_mechanism
        if connection.sasl_mechanism == "OAUTHBEARER":
            options["sasl_oauth_token_provider"] = TokenFile(str(connection.sasl_oauth_token_file))
        else:
            options["sasl_plain_username"] = connection.sasl_username
            options["sasl_plain_password"] = connection.sasl_secret()
    return options


def faust_credentials(connection: Connection) -> Any:
    """faust's ``broker_credentials`` for the connection (None: plaintext). faust turns them into
    the same aiokafka options as :func:`client_options` for its consumer, producer and admin."""
    import faust  # here: the crawler-side clients (the Scrapy pipeline) never load faust

    context = ssl_context(connection)
    protocol = connection.security_protocol
    if protocol == "PLAINTEXT":
        return None
    if protocol == "SSL":
        return faust.SSLCredentials(context)
    if connection.sasl_mechanism == "OAUTHBEARER":
        return faust.OAuthCredentials(
            oauth_cb=TokenFile(str(connection.sasl_oauth_token_file)), ssl_context=context)
    return faust.SASLCredentials(username=connection.sasl_username,
                                 password=connection.sasl_secret(), ssl_context=context,
                                 mechanism=connection.sasl_mechanism)


def compression(connection: Connection) -> str | None:
    """The producers' ``compression_type`` (the setting's codec names are aiokafka's)."""
    codec = connection.compression
    return None if codec == "none" else codec
