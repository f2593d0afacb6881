"""The compose deployment keeps ballot secrecy's outside pieces (issue 13, hole 6):
MongoDB runs with authentication, the node's services connect as a user with
readWrite on the maillage databases only (no ``local``, so no oplog, where a
ballot and its participation sit in one transaction), and the participation
service gets its voter-key secret from the environment, in production mode so
that a missing one stops it."""

from __future__ import annotations

import re

import pytest
import yaml

from shared.node import ROOT, SERVICES


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_node_process_uses_an_authenticated_service_user(compose) -> None:
    env = compose["x-node-env"]
    uri = env["MONGODB_URI"]
    assert re.match(
        r"mongodb://maillage:\$\{MAILLAGE_MONGO_PASSWORD:\?[^}]+\}@mongo:", uri
    )
    assert "authSource=admin" in uri and "replicaSet=rs0" in uri
    for name in (*SERVICES, "gateway"):
        service = compose["services"][name]
        assert service["environment"]["MONGODB_URI"] == uri
        setup = service["depends_on"]["mongo-setup"]["condition"]
        assert setup == "service_completed_successfully"


def test_mongo_requires_authentication_and_a_root_password(compose) -> None:
    mongo = compose["services"]["mongo"]
    assert "--keyFile" in mongo["command"]
    assert "--noauth" not in " ".join(mongo["command"] + mongo["entrypoint"])
    assert mongo["environment"]["MONGO_INITDB_ROOT_PASSWORD"].startswith(
        "${MONGO_ROOT_PASSWORD:?"
    )
    assert "-u" in " ".join(mongo["healthcheck"]["test"])


def test_the_service_user_may_read_and_write_the_maillage_databases_only() -> None:
    script = (ROOT / "deploy" / "mongo-users.js").read_text()
    lines = script.splitlines()
    code = "\n".join(x for x in lines if not x.lstrip().startswith("//"))
    assert re.findall(r'role: "(\w+)"', code) == ["readWrite"]
    listed = re.search(r"const services = \[([^\]]+)\]", code)
    assert listed is not None
    names = re.findall(r'"(\w+)"', listed.group(1))
    assert sorted(names) == sorted([*SERVICES, "gateway"])
    assert '"local"' not in code and '"admin"' not in code.replace(
        'getSiblingDB("admin")', ""
    )


def test_the_voter_key_secret_is_required_in_production(compose) -> None:
    env = compose["x-node-env"]
    assert env["BALLOT_KEY"].startswith("${BALLOT_KEY:?")
    assert env["MAILLAGE_ENV"] == "production"
    config = yaml.safe_load((ROOT / "deploy" / "config.yaml").read_text())
    assert config["BALLOT_KEY"] == "${BALLOT_KEY:}"
    assert config["MAILLAGE_ENV"] == "${MAILLAGE_ENV:local}"
