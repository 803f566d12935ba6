"""deploy/compose.yaml against the Compose Specification's JSON Schema (vendored in
deploy/schemas/), the files it mounts, and its newsstream settings; no Docker engine needed."""

from pathlib import Path
from typing import Any

import jsonschema
import orjson
import yaml

from stream.config import Settings, unknown_variables
from stream.runtime.app import canonical_url

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def _compose() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return compose


def test_the_compose_file_follows_the_compose_specification() -> None:
    # draft-07, which the schema names without the "#" that jsonschema looks for
    schema = jsonschema.Draft7Validator(
        orjson.loads((DEPLOY / "schemas" / "compose-spec.json").read_bytes()))
    schema.validate(_compose())
    broken = dict(_compose(), services={"worker": {"image": "x", "ports": "6066"}})
    try:
        schema.validate(broken)
    except jsonschema.ValidationError:
        pass
    else:
        raise AssertionError("the schema let ports as a string through: not the compose spec")


def test_the_stack_has_its_services_and_mounts_files_that_exist() -> None:
    services = _compose()["services"]
    assert set(services) == {"kafka", "topics", "worker", "prometheus", "grafana"}
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["topics"]["command"] == ["topics"]
    assert services["worker"]["depends_on"]["topics"]["condition"] == \
        "service_completed_successfully"
    assert (DEPLOY / services["worker"]["build"]["dockerfile"].removeprefix("deploy/")).is_file()
    for name in ("prometheus", "grafana"):
        for volume in services[name]["volumes"]:
            source = volume.split(":", 1)[0]
            assert (DEPLOY / source).exists(), f"{name} mounts {source}, which is missing"


def test_the_workers_settings_are_newsstream_settings() -> None:
    for name in ("topics", "worker"):
        environment = _compose()["services"][name]["environment"]
        assert unknown_variables(environment) == [], name
        Settings.model_validate({key.removeprefix("NEWSSTREAM_").lower(): value
                                 for key, value in environment.items()})


def test_a_canonical_url_can_name_the_host() -> None:
    settings = Settings(canonical_url="http://{hostname}:6066", web_host="0.0.0.0")
    assert canonical_url(settings, "3f2a9c1b7d4e") == "http://3f2a9c1b7d4e:6066"
    assert canonical_url(Settings(web_port=7000), "x") == "http://127.0.0.1:7000"
