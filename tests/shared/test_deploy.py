"""docker-compose, Prometheus and Grafana files: they cannot run here, so they are read."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY

import gateway.metrics  # noqa: F401 - registers the gateway's metrics
import shared.metrics  # noqa: F401 - registers the services' metrics
from shared.node import METRICS_BASE_PORT, SERVICES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_is_valid_for_the_docker_client_when_present():
    docker = shutil.which("docker")
    probe = (
        subprocess.run([docker, "compose", "version"], capture_output=True)
        if docker
        else None
    )
    if probe is None or probe.returncode != 0:
        pytest.skip(
            "no `docker compose` client here; the file is checked by parsing below"
        )
    result = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE), "config", "-q"],
        capture_output=True,
        text=True,
        env={"MAILLAGE_SECRET_KEY": "x", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr


def test_compose_runs_every_service_and_the_gateway_after_healthy_store_and_broker(
    compose,
):
    services = compose["services"]
    for name in (*SERVICES, "gateway"):
        assert name in services, name
        depends = services[name]["depends_on"]
        assert depends["mongo"]["condition"] == "service_healthy"
        assert depends["rabbitmq"]["condition"] == "service_healthy"
    for index, name in enumerate(SERVICES):
        assert services[name]["command"] == ["maillage", "node", "service", name]
        assert services[name]["environment"]["METRICS_PORT"] == str(
            METRICS_BASE_PORT + index
        )


def test_compose_mongo_is_a_replica_set_and_rabbitmq_has_federation(compose):
    mongo = compose["services"]["mongo"]
    assert "--replSet" in mongo["command"]
    assert "rs.initiate" in " ".join(mongo["healthcheck"]["test"])
    rabbit = compose["services"]["rabbitmq"]
    assert "healthcheck" in rabbit
    mounted = [v.split(":")[0] for v in rabbit["volumes"]]
    plugins = (ROOT / mounted[0]).read_text()
    for plugin in ("rabbitmq_management", "rabbitmq_federation"):
        assert plugin in plugins
    gateway = compose["services"]["gateway"]
    assert gateway["environment"]["PROMETHEUS_MULTIPROC_DIR"]
    assert "MAILLAGE_SECRET_KEY" in gateway["environment"]


def test_prometheus_scrapes_the_gateway_and_each_service_port():
    config = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    targets = {
        target
        for job in config["scrape_configs"]
        for group in job["static_configs"]
        for target in group["targets"]
    }
    assert "127.0.0.1:8000" in targets
    for index in range(len(SERVICES)):
        assert f"127.0.0.1:{METRICS_BASE_PORT + index}" in targets


def test_grafana_dashboard_only_queries_metrics_the_code_exports():
    dashboard = json.loads(
        (ROOT / "deploy" / "grafana" / "maillage-node.json").read_text()
    )
    try:
        import services.federation.metrics  # noqa: F401
    except ImportError:
        pass
    exported = set()
    for metric in REGISTRY.collect():
        suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
        exported.add(metric.name)
        exported.update(
            metric.name + suffix for suffix in suffixes.get(metric.type, ())
        )
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            for name in re.findall(r"\b(maillage_[a-z_]+)", target["expr"]):
                assert name in exported, f"{panel['title']}: {name} is not exported"
