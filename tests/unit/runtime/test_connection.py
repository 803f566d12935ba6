"""Settings → client configuration, for each protocol and SASL mechanism, and secrets that never
show (the settings' repr, errors, the environment handed to a child)."""

import asyncio
import ssl
from pathlib import Path

import faust
import pytest
from prometheus_client import generate_latest
from pydantic import SecretStr

from stream.config import Settings, SettingsError, load_settings
from stream.runtime.connection import (
    TokenFile,
    client_options,
    compression,
    faust_credentials,
)
from stream.runtime.metrics import Metrics
from stream.tools.processes import settings_environment

SECRET = "hunter2-very-secret"


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
@pytest.mark.parametrize("protocol", ["SASL_PLAINTEXT", "SASL_SSL"])
def test_each_sasl_mechanism_reaches_aiokafka_and_faust(protocol: str, mechanism: str) -> None:
    settings = Settings.model_validate({
        "broker_url": "kafka://b1:9096;b2:9096", "security_protocol": protocol,
        "sasl_mechanism": mechanism, "sasl_username": "svc", "sasl_password": SECRET})
    options = client_options(settings.connection)
    assert options["bootstrap_servers"] == "b1:9096,b2:9096"
    assert (options["security_protocol"], options["sasl_mechanism"]) == (protocol, mechanism)
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("svc", SECRET)
    assert isinstance(options.get("ssl_context"), ssl.SSLContext) == (protocol == "SASL_SSL")
    credentials = faust_credentials(settings.connection)
    assert isinstance(credentials, faust.SASLCredentials)
    assert (credentials.protocol.value, credentials.mechanism.value) == (protocol, mechanism)
    assert (credentials.username, credentials.password) == ("svc", SECRET)
    assert SECRET not in repr(credentials)


def test_tls_with_a_client_certificate(tmp_path: Path) -> None:
    from tests.support.tls import make_certificates

    files = make_certificates(tmp_path)
    settings = Settings(security_protocol="SSL", ssl_cafile=str(files.ca),
                        ssl_certfile=str(files.client_cert), ssl_keyfile=str(files.client_key),
                        ssl_check_hostname=False)
    options = client_options(settings.connection)
    context = options["ssl_context"]
    assert options["security_protocol"] == "SSL" and "sasl_mechanism" not in options
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname is False
    credentials = faust_credentials(settings.connection)
    assert isinstance(credentials, faust.SSLCredentials)
    assert credentials.protocol.value == "SSL"


def test_plaintext_is_the_default() -> None:
    settings = Settings()
    assert client_options(settings.connection) == {"bootstrap_servers": "127.0.0.1:9092",
                                        "security_protocol": "PLAINTEXT"}
    assert faust_credentials(settings.connection) is None


def test_the_password_can_come_from_a_mounted_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "password"
    secret_file.write_text(SECRET + "\n")
    settings = Settings(security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512",
                        sasl_username="svc", sasl_password_file=str(secret_file))
    assert client_options(settings.connection)["sasl_plain_password"] == SECRET
    secret_file.write_text("rotated")  # read when a client is made: a rotated secret is used
    assert faust_credentials(settings.connection).password == "rotated"


async def test_oauthbearer_reads_its_token_file_at_each_authentication(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("eyJ.first\n")
    settings = Settings(security_protocol="SASL_SSL", sasl_mechanism="OAUTHBEARER",
                        sasl_oauth_token_file=str(token))
    provider = client_options(settings.connection)["sasl_oauth_token_provider"]
    assert isinstance(provider, TokenFile)
    assert await provider.token() == "eyJ.first"
    token.write_text("eyJ.second")
    assert await provider.token() == "eyJ.second"
    credentials = faust_credentials(settings.connection)
    assert isinstance(credentials, faust.OAuthCredentials)
    assert credentials.protocol.value == "SASL_SSL"
    asyncio.get_running_loop()  # the provider is async, as aiokafka calls it


@pytest.mark.parametrize(("environ", "message"), [
    ({"NEWSSTREAM_SECURITY_PROTOCOL": "SASL_SSL"}, "PLAIN needs NEWSSTREAM_SASL_USERNAME"),
    ({"NEWSSTREAM_SECURITY_PROTOCOL": "SASL_SSL", "NEWSSTREAM_SASL_MECHANISM": "OAUTHBEARER"},
     "OAUTHBEARER needs NEWSSTREAM_SASL_OAUTH_TOKEN_FILE"),
    ({"NEWSSTREAM_SASL_PASSWORD": SECRET, "NEWSSTREAM_SASL_PASSWORD_FILE": "{file}"},
     "not both"),
    ({"NEWSSTREAM_SSL_CERTFILE": "{file}"}, "NEWSSTREAM_SSL_KEYFILE"),
    ({"NEWSSTREAM_SSL_CAFILE": "/nowhere/ca.pem"},
     "NEWSSTREAM_SSL_CAFILE='/nowhere/ca.pem': no such file"),
    ({"NEWSSTREAM_SASL_MECHANISM": "GSSAPI", "NEWSSTREAM_SASL_PASSWORD": SECRET},
     "NEWSSTREAM_SASL_MECHANISM='GSSAPI'"),
])
def test_bad_security_settings_are_named_and_the_password_never_shown(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, environ: dict[str, str],
        message: str) -> None:
    existing = tmp_path / "mounted"
    existing.write_text("x")
    for name, value in environ.items():
        monkeypatch.setenv(name, value.replace("{file}", str(existing)))
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert message in str(error.value)
    assert SECRET not in str(error.value)


def test_the_password_is_hidden_in_the_settings_and_handed_to_children_whole() -> None:
    settings = Settings(security_protocol="SASL_SSL", sasl_username="svc",
                        sasl_password=SecretStr(SECRET))
    assert SECRET not in repr(settings) and SECRET not in str(settings.model_dump())
    assert settings_environment(settings)["NEWSSTREAM_SASL_PASSWORD"] == SECRET
    metrics = Metrics()
    assert SECRET not in generate_latest(metrics.registry).decode()


@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4", "zstd"])
def test_compression_setting_maps_to_the_producers(codec: str) -> None:
    settings = Settings.model_validate({"producer_compression": codec})
    assert compression(settings.connection) == (None if codec == "none" else codec)


def test_process_metrics_of_the_worker_and_its_child() -> None:
    import os

    metrics = Metrics()
    text = generate_latest(metrics.registry).decode()
    assert "process_resident_memory_bytes" in text and "python_gc_objects_collected_total" in text
    assert "newsstream_enrichment_child_process_resident_memory_bytes" not in text  # no child
    metrics.watch_child(os.getppid)
    text = generate_latest(metrics.registry).decode()
    assert "newsstream_enrichment_child_process_cpu_seconds_total" in text
    assert "newsstream_enrichment_child_process_open_fds" in text
