"""Revocation without a store round trip per request: each process keeps the
list, refuses a revoked token within the poll interval on every worker, and
refuses every token (503) when the list cannot be kept current."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests
from pymongo.errors import AutoReconnect
from werkzeug.test import Client

from gateway.app import Gateway
from gateway.auth import Tokens
from gateway.store import GatewayStore
from shared.localstore import free_port
from shared.mongo import make_client
from shared.node import gateway_command
from tests.conftest import AMQP_HOST
from tests.gateway.conftest import add_account, auth

ROOT = Path(__file__).resolve().parents[2]
BOUND = 0.25  # MAILLAGE_REVOCATION_POLL_MS, the documented bound


def test_a_signed_out_token_is_refused_at_once_by_the_process_that_revoked_it(
    app: Gateway, client: Client, tokens: dict[str, str]
) -> None:
    headers = auth(tokens["citizen"])
    assert client.get("/accounts/me", headers=headers).status_code == 200
    assert client.post("/auth/sign-out", headers=headers).status_code == 200
    refused = client.get("/accounts/me", headers=headers)
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "unauthenticated"


class StoreAway(GatewayStore):
    def generations(self) -> dict[str, int]:
        raise AutoReconnect("store away")


def test_when_the_list_cannot_be_refreshed_tokens_are_refused_naming_why(
    app: Gateway, client: Client, tokens: dict[str, str]
) -> None:
    headers = auth(tokens["citizen"], **{"Accept-Language": "en"})
    assert client.get("/accounts/me", headers=headers).status_code == 200
    rt = app.runtime  # type: ignore[attr-defined]
    rt.poll.store = StoreAway(rt.store._client_factory, rt.store.db_name)
    rt.poll.interval, rt.revocations.trust = 0.0, 0.2
    time.sleep(0.3)
    resp = client.get("/accounts/me", headers=headers)
    assert resp.status_code == 503
    error = resp.get_json()["error"]
    assert error["code"] == "unavailable"
    assert "revocation list" in error["message"]
    assert "store away" in error["message"]
    # anonymous public reads need no list
    assert client.get("/openapi.json").status_code == 200


@pytest.mark.integration
def test_under_gunicorn_every_worker_refuses_a_revoked_token_within_the_bound(
    store_uri: str, vhost: str
) -> None:
    port, prefix, secret = free_port(), f"rv{uuid.uuid4().hex[:8]}_", "s" * 48
    env = dict(
        os.environ,
        AMQP_URI=f"amqp://guest:guest@{AMQP_HOST}/{vhost}",
        MONGODB_URI=store_uri,
        DB_PREFIX=prefix,
        MAILLAGE_SECRET_KEY=secret,
        MAILLAGE_GATEWAY_BIND=f"127.0.0.1:{port}",
        MAILLAGE_GATEWAY_WORKERS="2",
        MAILLAGE_REVOCATION_POLL_MS=str(int(BOUND * 1000)),
        LOG_LEVEL="WARNING",
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    client = make_client(store_uri)
    store = GatewayStore(lambda: client, f"{prefix}gateway")
    tokens = Tokens(secret)
    ana, bob = (
        store.add_account({"username": n, "role": "citizen", "mrc": "2466"})
        for n in ("ana", "bob")
    )
    ana_token, bob_token = tokens.issue(ana)["token"], tokens.issue(bob)["token"]
    gunicorn = subprocess.Popen(
        gateway_command(), cwd=ROOT, env=env, stdout=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"

    def statuses(token: str, times: int = 30) -> set[int]:
        seen = set()
        for _ in range(times):  # a new connection each time: both workers answer
            with requests.Session() as session:
                seen.add(
                    session.get(
                        f"{base}/accounts/me", headers=auth(token), timeout=10
                    ).status_code
                )
        return seen

    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(f"{base}/openapi.json", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.3)
        assert statuses(ana_token) == {200}
        assert statuses(bob_token) == {200}
        # signed out through one worker
        out = requests.post(f"{base}/auth/sign-out", headers=auth(ana_token))
        assert out.status_code == 200
        time.sleep(BOUND + 0.1)
        assert statuses(ana_token) == {401}
        # revoked by another process (the CLI, another gateway) in the store
        store.revoke_account(bob["_id"], int(time.time()))
        time.sleep(BOUND + 0.1)
        assert statuses(bob_token) == {401}
    finally:
        gunicorn.terminate()
        gunicorn.wait(15)
        client.drop_database(f"{prefix}gateway")
        client.close()


def test_an_account_revoked_elsewhere_is_refused_here_within_the_bound(
    app: Gateway, client: Client
) -> None:
    marie = add_account(app, "marie", "citizen")
    headers = auth(app.runtime.tokens.issue(marie)["token"])  # type: ignore[attr-defined]
    assert client.get("/accounts/me", headers=headers).status_code == 200
    elsewhere = GatewayStore(app.store_client, app.runtime.store.db_name)  # type: ignore[attr-defined]
    elsewhere.revoke_account(marie["_id"], int(time.time()))
    time.sleep(BOUND + 0.05)
    assert client.get("/accounts/me", headers=headers).status_code == 401
