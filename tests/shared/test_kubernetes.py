"""``deploy/kubernetes/``: every manifest is valid for Kubernetes and says what the
node needs (no cluster runs here, so the schemas are the judge).

The schemas are those ``kubernetes-validate`` ships (the Kubernetes OpenAPI
definitions as JSON schemas, one set per release), in strict mode: a misspelt
or misplaced field is an error, not silently ignored as ``kubectl`` would.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

kubernetes_validate = pytest.importorskip("kubernetes_validate")

FOLDER = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
KUBERNETES = "1.37.0"
SERVICES = ("boards", "participation", "offerings", "indicators", "federation")


def _documents(name: str) -> list[dict]:
    text = (FOLDER / name).read_text(encoding="utf-8")
    return [doc for doc in yaml.safe_load_all(text) if doc]


def _all() -> list[dict]:
    files = sorted(
        p.name for p in FOLDER.glob("*.yaml") if p.name != "kustomization.yaml"
    )
    return [doc for name in files for doc in _documents(name)]


def _applied() -> list[dict]:
    (kustomization,) = _documents("kustomization.yaml")
    return [doc for name in kustomization["resources"] for doc in _documents(name)]


def _find(kind: str, name: str) -> dict:
    for doc in _applied():
        if doc["kind"] == kind and doc["metadata"]["name"] == name:
            return doc
    raise AssertionError(f"no {kind} {name} in deploy/kubernetes")


def _container(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]["containers"][0]


@pytest.mark.parametrize(
    "document",
    _all(),
    ids=lambda doc: f"{doc['kind']}/{doc['metadata']['name']}",
)
def test_every_manifest_is_valid_against_the_kubernetes_schemas(document):
    kubernetes_validate.validate(document, KUBERNETES, strict=True)


def test_a_misplaced_field_is_caught_by_the_validator():
    gateway = _find("Deployment", "gateway")
    broken = yaml.safe_load(yaml.safe_dump(gateway))
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES, strict=True)


def test_kustomization_applies_every_file_but_the_secrets_example():
    (kustomization,) = _documents("kustomization.yaml")
    on_disk = {p.name for p in FOLDER.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == on_disk - {"secrets.example.yaml"}


def test_each_service_runs_several_replicas_of_the_same_image_command():
    for name in SERVICES:
        deployment = _find("Deployment", name)
        assert deployment["spec"]["replicas"] >= 2
        assert _container(deployment)["command"] == [
            "maillage",
            "node",
            "service",
            name,
        ]
    assert _find("Deployment", "gateway")["spec"]["replicas"] >= 2


def test_gateway_readiness_and_liveness_come_from_health():
    container = _container(_find("Deployment", "gateway"))
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/health", "port": "http"}
    # Liveness is patient: a store outage must not restart every gateway at once.
    live = container["livenessProbe"]
    assert live["periodSeconds"] * live["failureThreshold"] >= 120


def test_queues_are_quorum_queues_on_a_three_node_rabbitmq_cluster():
    assert _find("ConfigMap", "maillage-config")["data"]["QUEUE_TYPE"] == "quorum"
    rabbit = _find("StatefulSet", "rabbitmq")
    assert rabbit["spec"]["replicas"] == 3
    conf = _find("ConfigMap", "rabbitmq-config")["data"]
    assert "default_queue_type = quorum" in conf["rabbitmq.conf"]
    assert "cluster_formation.peer_discovery_backend = k8s" in conf["rabbitmq.conf"]
    assert "rabbitmq_peer_discovery_k8s" in conf["enabled_plugins"]
    assert "rabbitmq_federation" in conf["enabled_plugins"]


def test_mongodb_is_a_replica_set_with_authentication():
    mongo = _find("StatefulSet", "mongo")
    assert mongo["spec"]["replicas"] == 3
    args = _container(mongo)["args"]
    assert args[args.index("--replSet") + 1] == "rs0"
    assert "--keyFile" in args  # members authenticate to each other
    env = {e["name"]: e for e in _container(mongo)["env"]}
    assert env["MONGO_INITDB_ROOT_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == (
        "mongo-auth"
    )
    example = {d["metadata"]["name"]: d for d in _documents("secrets.example.yaml")}
    uri = example["maillage-secrets"]["stringData"]["MONGODB_URI"]
    assert "replicaSet=rs0" in uri and "@" in uri and "authSource=admin" in uri


def test_every_config_and_secret_referenced_is_declared():
    declared = {
        (d["kind"], d["metadata"]["name"])
        for d in _applied() + _documents("secrets.example.yaml")
    }
    for doc in _applied():
        spec = doc.get("spec", {}).get("template", {}).get("spec", {})
        for container in spec.get("containers", []) + spec.get("initContainers", []):
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    assert ("ConfigMap", source["configMapRef"]["name"]) in declared
                if "secretRef" in source:
                    assert ("Secret", source["secretRef"]["name"]) in declared
            for var in container.get("env", []):
                ref = var.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ("Secret", ref["name"]) in declared


def test_production_secrets_are_required_and_declared():
    assert _find("ConfigMap", "maillage-config")["data"]["MAILLAGE_ENV"] == "production"
    (example,) = [
        d
        for d in _documents("secrets.example.yaml")
        if d["metadata"]["name"] == "maillage-secrets"
    ]
    assert {"MAILLAGE_SECRET_KEY", "BALLOT_KEY", "MONGODB_URI", "AMQP_URI"} <= set(
        example["stringData"]
    )
