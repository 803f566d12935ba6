"""deploy/compose.yaml against the Compose Specification's JSON Schema (vendored in
deploy/schemas/), the files it mounts, and its newsstream settings; the Kubernetes manifests
against the Kubernetes schemas; the hardening of both (each item has an assertion that fails
when it is removed); the lock files the installs use. No Docker engine needed."""

import re
import tomllib
from typing import Any

import jsonschema
import orjson
import yaml

from stream.config import Settings, unknown_variables
from stream.runtime.app import canonical_url
from tests.support.paths import ROOT

DEPLOY = ROOT / "deploy"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


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
    assert canonical_url(settings.web, "3f2a9c1b7d4e") == "http://3f2a9c1b7d4e:6066"
    assert canonical_url(Settings(web_port=7000).web, "x") == "http://127.0.0.1:7000"


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
    assert set(manifests) == {"Namespace", "ConfigMap", "Service", "StatefulSet",
                              "PodDisruptionBudget", "PodMonitor", "Deployment", "NetworkPolicy"}
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
    secret = _generated_secrets()[_secret_of(pod, "sasl")]
    assert settings["NEWSSTREAM_SASL_PASSWORD_FILE"] == f"{secret_mount['mountPath']}/{secret}"


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
    mount = next(m for m in container["volumeMounts"] if m["name"] == "sasl")
    secret = _generated_secrets()[_secret_of(pod, "sasl")]
    assert environment["NEWSSTREAM_SASL_PASSWORD_FILE"] == f"{mount['mountPath']}/{secret}"
    # Compose: the page's port is published (on loopback unless the user says otherwise), and
    # Prometheus scrapes it there.
    compose = _compose()["services"]["dashboard"]
    port = Settings().dashboard_port
    assert compose["ports"] == [f"${{DASHBOARD_BIND:-127.0.0.1}}:{port}:{port}"]
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in scrape["scrape_configs"]}
    assert jobs["newsstream-dashboard"]["static_configs"][0]["targets"] == [
        f"dashboard:{Settings().dashboard_port}"]


# ---- hardening --------------------------------------------------------------------------------

def _kustomization() -> dict[str, Any]:
    kustomization: dict[str, Any] = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    return kustomization


def _generated_secrets() -> dict[str, str]:
    """Secret name → its one key, from the kustomization's secretGenerator."""
    return {generator["name"]: generator["files"][0].split("=", 1)[0]
            for generator in _kustomization()["secretGenerator"]}


def _secret_of(pod: dict[str, Any], volume: str) -> str:
    return str(next(v for v in pod["spec"]["volumes"] if v["name"] == volume)
               ["secret"]["secretName"])


def _workloads() -> list[dict[str, Any]]:
    return [d for d in _documents() if d["kind"] in ("StatefulSet", "Deployment")]


def test_every_container_runs_locked_down() -> None:
    assert len(_workloads()) == 2
    for workload in _workloads():
        pod = workload["spec"]["template"]["spec"]
        name = workload["metadata"]["name"]
        assert pod["automountServiceAccountToken"] is False, name
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        volumes = {v["name"]: v for v in pod["volumes"]}
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}, name
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), name
            tmp = next(m for m in container["volumeMounts"] if m["mountPath"] == "/tmp")
            assert "emptyDir" in volumes[tmp["name"]], name


def test_only_workers_and_prometheus_reach_the_workers_port() -> None:
    policies = {d["metadata"]["name"]: d["spec"] for d in _documents()
                if d["kind"] == "NetworkPolicy"}
    deny = policies["newsstream-default-deny"]
    assert deny["podSelector"] == {} and deny["policyTypes"] == ["Ingress"]
    assert not deny.get("ingress")
    workers = policies["newsstream-workers"]
    worker_labels = _manifests()["StatefulSet"]["spec"]["template"]["metadata"]["labels"]
    assert workers["podSelector"]["matchLabels"].items() <= worker_labels.items()
    [rule] = workers["ingress"]
    assert rule["ports"] == [{"port": Settings().web_port, "protocol": "TCP"}]
    sources = rule["from"]
    assert {"podSelector": {"matchLabels": workers["podSelector"]["matchLabels"]}} in sources
    assert {"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": "monitoring"}}} in sources
    assert len(sources) == 2
    dashboard = policies["newsstream-dashboard"]
    assert dashboard["ingress"] == [{"ports": [{"port": Settings().dashboard_port,
                                                "protocol": "TCP"}]}]


def test_no_secret_value_is_in_the_repository() -> None:
    assert not [d for d in _documents() if d["kind"] == "Secret"]
    for generator in _kustomization()["secretGenerator"]:
        for entry in generator["files"]:
            assert entry.split("=", 1)[1].startswith("secrets/"), entry
    for folder in (K8S / "secrets", DEPLOY / "secrets"):
        assert (folder / ".gitignore").read_text().splitlines()[0] == "*"
    for path in DEPLOY.rglob("*"):
        if path.is_file() and path.suffix in (".yaml", ".yml", ".md", ""):
            assert "change-me" not in path.read_text(errors="replace"), path


def test_the_dashboard_reads_kafka_as_its_own_read_only_principal() -> None:
    documents = {(d["kind"], d["metadata"]["name"]): d for d in _documents()}
    pod = documents[("Deployment", "newsstream-dashboard")]["spec"]["template"]
    environment = {e["name"]: e["value"] for e in pod["spec"]["containers"][0]["env"]}
    workers = _manifests()["ConfigMap"]["data"]
    assert environment["NEWSSTREAM_SASL_USERNAME"] != workers["NEWSSTREAM_SASL_USERNAME"]
    worker_pod = _manifests()["StatefulSet"]["spec"]["template"]
    assert _secret_of(pod, "sasl") != _secret_of(worker_pod, "sasl")
    assert _secret_of(pod, "sasl") in _generated_secrets()
    acls = (K8S / "README.md").read_text()
    assert f"User:{environment['NEWSSTREAM_SASL_USERNAME']} --topic" in acls


def _images() -> dict[str, str]:
    images = {f"compose {name}": service["image"]
              for name, service in _compose()["services"].items() if "image" in service}
    for workload in _workloads():
        for container in workload["spec"]["template"]["spec"]["containers"]:
            images[f"k8s {container['name']}"] = container["image"]
    return images


def test_images_are_pinned_by_version_and_the_base_by_digest() -> None:
    for where, image in _images().items():
        tag = image.rsplit(":", 1)[1] if ":" in image else ""
        assert re.search(r"\d+\.\d+", tag) and "latest" not in tag, (where, image)
        if image.startswith("newsstream:"):
            assert VERSION in tag, (where, image)
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    base = re.search(r"^ARG BASE=(\S+)$", dockerfile, re.MULTILINE)
    assert base and re.fullmatch(r"python:[\w.-]+@sha256:[0-9a-f]{64}", base.group(1))
    assert all(line.split()[1].startswith("${BASE}")
               for line in dockerfile.splitlines() if line.startswith("FROM "))


def test_grafana_is_current_asks_for_a_password_from_a_secret_and_shows_nothing_anonymously(
        ) -> None:
    compose = _compose()
    grafana = compose["services"]["grafana"]
    major = int(grafana["image"].split(":")[1].split(".")[0])
    assert major >= 12
    environment = grafana["environment"]
    assert environment["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert "GF_SECURITY_ADMIN_PASSWORD" not in environment
    secret = environment["GF_SECURITY_ADMIN_PASSWORD__FILE"].rsplit("/", 1)[1]
    assert secret in grafana["secrets"]
    assert compose["secrets"][secret]["file"].startswith("./secrets/")


def test_compose_publishes_ports_on_loopback_only() -> None:
    published = [(name, port) for name, service in _compose()["services"].items()
                 for port in service.get("ports", [])]
    assert {name for name, _ in published} == {"dashboard", "prometheus", "grafana"}
    for name, port in published:
        host = port.rsplit(":", 2)[0]
        assert host in ("127.0.0.1", "${DASHBOARD_BIND:-127.0.0.1}"), (name, port)


# ---- reproducible installs ----------------------------------------------------------------------

def _locked(name: str) -> dict[str, str]:
    """Package (normalised) → the version requirements/<name>.lock pins, each with hashes."""
    text = (ROOT / "requirements" / f"{name}.lock").read_text()
    pins: dict[str, str] = {}
    for entry in re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2]):
        first = entry.split()[0]
        assert "--hash=sha256:" in entry, first
        package, version = first.split("==")
        pins[re.sub(r"[-_.]+", "-", package).lower()] = version
    return pins


def test_the_lock_files_pin_every_dependency_with_hashes() -> None:
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    build = [line for line in (ROOT / "requirements" / "build.in").read_text().splitlines()
             if line and not line.startswith("#")]
    for lock, requirements in (
            ("runtime", project["dependencies"] + build),
            ("dev", project["dependencies"] + project["optional-dependencies"]["dev"] + build)):
        pins = _locked(lock)
        for text in requirements:
            requirement = Requirement(text)
            name = re.sub(r"[-_.]+", "-", requirement.name).lower()
            assert name in pins, f"{lock}.lock lacks {name}: run `make lock`"
            assert requirement.specifier.contains(pins[name], prereleases=True), (
                f"{lock}.lock pins {name}=={pins[name]}, outside {requirement.specifier}: "
                "run `make lock`")


def test_every_install_goes_through_a_lock_file_by_hash() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install -q --require-hashes --no-deps -r $(LOCK)" in makefile
    assert "LOCK   := requirements/dev.lock" in makefile
    assert "--no-deps --no-build-isolation -e ." in makefile
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "--require-hashes --no-deps \\\n        -r requirements/runtime.lock" in dockerfile
    assert "--no-deps --no-build-isolation ." in dockerfile
