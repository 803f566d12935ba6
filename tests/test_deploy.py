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
    assert set(services) == {"kafka", "topics", "worker", "dashboard", "prometheus", "grafana"}
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
    for name in ("topics", "worker", "dashboard"):
        environment = _compose()["services"][name]["environment"]
        assert unknown_variables(environment) == [], name
        Settings.model_validate({key.removeprefix("NEWSSTREAM_").lower(): value
                                 for key, value in environment.items()})


def test_a_canonical_url_can_name_the_host() -> None:
    settings = Settings(canonical_url="http://{hostname}:6066", web_host="0.0.0.0")
    assert canonical_url(settings, "3f2a9c1b7d4e") == "http://3f2a9c1b7d4e:6066"
    assert canonical_url(Settings(web_port=7000), "x") == "http://127.0.0.1:7000"


K8S = DEPLOY / "k8s"


def _documents() -> list[dict[str, Any]]:
    """Every resource the kustomization lists, in order."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    return [document for name in kustomization["resources"]
            for document in yaml.safe_load_all((K8S / name).read_text())]


def _manifests() -> dict[str, dict[str, Any]]:
    """kind → manifest, the first of each kind: the workers' (the dashboard's come last)."""
    manifests: dict[str, dict[str, Any]] = {}
    for document in _documents():
        manifests.setdefault(document["kind"], document)
    return manifests


def test_the_kubernetes_manifests_follow_the_kubernetes_schemas() -> None:
    import kubernetes_validate

    manifests = _manifests()
    assert set(manifests) == {"Namespace", "ConfigMap", "Secret", "Service", "StatefulSet",
                              "PodDisruptionBudget", "PodMonitor", "Deployment"}
    for manifest in _documents():
        if manifest["kind"] == "PodMonitor":  # an Operator CRD: no core schema; checked below
            continue
        kubernetes_validate.validate(manifest, "1.30.0", strict=True)
    broken = dict(manifests["Service"], spec={"clusterIP": None, "ports": [{"port": "web"}]})
    try:
        kubernetes_validate.validate(broken, "1.30.0", strict=True)
    except kubernetes_validate.ValidationError:
        pass
    else:
        raise AssertionError("a port given as a name passed: the schema is not applied")


def test_the_workers_probes_ports_selectors_and_settings_fit_together() -> None:
    manifests = _manifests()
    workers = manifests["StatefulSet"]["spec"]
    pod = workers["template"]
    container = pod["spec"]["containers"][0]
    labels = pod["metadata"]["labels"]
    assert workers["serviceName"] == manifests["Service"]["metadata"]["name"]
    for selector in (workers["selector"]["matchLabels"],
                     manifests["Service"]["spec"]["selector"],
                     manifests["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"],
                     manifests["PodMonitor"]["spec"]["selector"]["matchLabels"]):
        assert selector.items() <= labels.items()
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert manifests["PodMonitor"]["spec"]["podMetricsEndpoints"][0]["port"] in ports
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    settings = manifests["ConfigMap"]["data"]
    assert unknown_variables(settings) == []
    assert int(settings["NEWSSTREAM_WEB_PORT"]) == ports["web"]
    assert settings["NEWSSTREAM_DATA_DIR"] == container["volumeMounts"][0]["mountPath"]
    secret_mount = next(m for m in container["volumeMounts"] if m["name"] == "sasl")
    secret_key = next(iter(manifests["Secret"]["stringData"]))
    assert settings["NEWSSTREAM_SASL_PASSWORD_FILE"] == f"{secret_mount['mountPath']}/{secret_key}"


def test_the_dashboard_deploys_beside_the_workers_with_their_settings() -> None:
    documents = {(d["kind"], d["metadata"]["name"]): d for d in _documents()}
    deployment = documents[("Deployment", "newsstream-dashboard")]["spec"]
    service = documents[("Service", "newsstream-dashboard")]["spec"]
    pod = deployment["template"]
    container = pod["spec"]["containers"][0]
    assert container["args"] == ["dashboard"]
    labels = pod["metadata"]["labels"]
    for selector in (deployment["selector"]["matchLabels"], service["selector"]):
        assert selector.items() <= labels.items()
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert service["ports"][0]["targetPort"] in ports
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "page"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "page"}
    environment = {e["name"]: e["value"] for e in container["env"]}
    assert unknown_variables(environment) == []
    assert int(environment["NEWSSTREAM_DASHBOARD_PORT"]) == ports["page"]
    settings = _manifests()["ConfigMap"]["data"]
    mount = next(m for m in container["volumeMounts"] if m["name"] == "sasl")
    assert settings["NEWSSTREAM_SASL_PASSWORD_FILE"].startswith(mount["mountPath"] + "/")
    # Compose: the page's port is published, and Prometheus scrapes it there.
    compose = _compose()["services"]["dashboard"]
    assert compose["ports"] == [f"{Settings().dashboard_port}:{Settings().dashboard_port}"]
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in scrape["scrape_configs"]}
    assert jobs["newsstream-dashboard"]["static_configs"][0]["targets"] == [
        f"dashboard:{Settings().dashboard_port}"]
