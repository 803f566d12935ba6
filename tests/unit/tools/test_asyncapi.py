"""schemas/asyncapi.yaml: generated from the schemas and the topic settings, and accepted by the
AsyncAPI parser."""

import subprocess

import yaml

from stream.config import Settings
from stream.schemas import load_schema
from stream.tools.asyncapi import render
from stream.tools.topics import topic_specs
from tests.support.paths import ROOT

DOCUMENT = ROOT / "schemas" / "asyncapi.yaml"
VALIDATOR = ROOT / "tests" / "support" / "asyncapi"


def test_the_asyncapi_document_is_generated_from_the_schemas_and_topics() -> None:
    assert DOCUMENT.read_text() == render(), "schemas/asyncapi.yaml is stale: run `make docs`"


def test_every_payload_schema_and_public_topic_is_in_it() -> None:
    document = yaml.safe_load(DOCUMENT.read_text())
    messages = document["components"]["messages"]
    files = {path.name.removesuffix(".schema.json")
             for path in (ROOT / "schemas").glob("*.schema.json")}
    assert {message["x-schema-file"] for message in messages.values()} == {
        f"schemas/{name}.schema.json" for name in files}
    for message in messages.values():
        name = message["x-schema-file"].removeprefix("schemas/").removesuffix(".schema.json")
        schema = {k: v for k, v in load_schema(name).items() if k not in ("$schema", "$id")}
        assert message["payload"]["schema"] == schema
    settings = Settings()
    specs = {spec.name: spec for spec in topic_specs(settings.topics, settings.limits)}
    channels = {channel["address"]: channel for channel in document["channels"].values()}
    assert set(channels) == {*settings.topics.inputs, *settings.topics.outputs}
    for topic, channel in channels.items():
        kafka = channel["bindings"]["kafka"]
        assert kafka["partitions"] == specs[topic].partitions
        assert kafka["topicConfiguration"]["cleanup.policy"] == [
            specs[topic].configs["cleanup.policy"]]
    assert channels["entities.mentions"]["bindings"]["kafka"]["topicConfiguration"][
        "cleanup.policy"] == ["compact"]
    actions = {op["channel"]["$ref"].split("/")[-1]: op["action"]
               for op in document["operations"].values()}
    assert actions == {"rawArticles": "receive", "enrichedArticles": "send",
                       "entityMentions": "send", "trendingEntities": "send",
                       "deadLetters": "send"}


def test_the_asyncapi_parser_accepts_it() -> None:
    checked = subprocess.run(["node", "validate.mjs", str(DOCUMENT)], cwd=VALIDATOR,
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip().splitlines() == [
        "valid AsyncAPI 3.0.0: 5 channels, 5 operations, 5 messages"]
    broken = DOCUMENT.read_text().replace("action: send", "action: publish", 1)
    refused = subprocess.run(["node", "validate.mjs", "/dev/stdin"], cwd=VALIDATOR,
                             input=broken, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "action" in refused.stdout
