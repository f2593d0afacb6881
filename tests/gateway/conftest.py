"""A gateway in this process on the real store, with accounts of every role.

Unit-level tests replace the RPC pool by :class:`FakeRpc` (a subclass of the
real pool) so that a route can be exercised without the five services; the
end-to-end tests (``test_fuzz.py``) run real nameko containers instead.
"""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from nameko.containers import ServiceContainer
from werkzeug.test import Client

import gateway.app
from gateway.app import Gateway
from gateway.auth import hash_password
from gateway.permissions import ROLES
from gateway.rpc import RpcPool
from shared.node import SERVICES, service_class_name
from tests.conftest import AMQP_HOST, BROKER

SECRET = "test-secret-0123456789-0123456789-abcdef"
PASSWORD = "correct horse battery"
HASH = hash_password(PASSWORD)  # argon2 is slow on purpose: hash once
MRC = "2466"
OTHER_MRC = "2423"


class FakeRpc(RpcPool):
    """Answers RPC calls from ``handlers[(service, method)]`` and records them."""

    def __init__(self) -> None:
        super().__init__("amqp://unused/")
        self.handlers: dict[tuple[str, str], Callable[..., Any]] = {}
        self.calls: list[tuple[str, str, tuple[Any, ...], dict[str, Any]]] = []

    def call(self, service: str, method: str, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((service, method, args, kwargs))
        handler = self.handlers.get((service, method))
        if handler is None:
            return {}
        kwargs.pop("correlation_id", None)
        kwargs.pop("timeout", None)
        return handler(*args, **kwargs)


API_MODULES = tuple(m for m in gateway.app.ROUTE_MODULES if m != "gateway.web")


def create_app(config: dict[str, Any]) -> Gateway:
    """The JSON API alone: the web pages (another area) are tested on their own."""
    saved = gateway.app.ROUTE_MODULES
    gateway.app.ROUTE_MODULES = API_MODULES
    try:
        return gateway.app.create_app(config)
    finally:
        gateway.app.ROUTE_MODULES = saved


def make_config(store_uri: str, db_prefix: str, **extra: Any) -> dict[str, Any]:
    return {
        "AMQP_URI": f"amqp://guest:guest@{AMQP_HOST}/",
        "MONGODB_URI": store_uri,
        "DB_PREFIX": db_prefix,
        "NODE_ID": "test",
        "RPC_TIMEOUT": 5,
        "SECRET_KEY": SECRET,
        **extra,
    }


@pytest.fixture
def app(store_uri: str, db_prefix: str) -> Iterator[Gateway]:
    gateway = create_app(make_config(store_uri, db_prefix))
    gateway.rpc = FakeRpc()
    yield gateway
    client = gateway.store_client()
    client.drop_database(f"{db_prefix}gateway")


@pytest.fixture
def fake_rpc(app: Gateway) -> FakeRpc:
    assert isinstance(app.rpc, FakeRpc)
    return app.rpc


@pytest.fixture
def client(app: Gateway) -> Client:
    return Client(app)


def add_account(
    app: Gateway, username: str, role: str, mrc: str = MRC, active: bool = True
) -> dict[str, Any]:
    return app.runtime.store.add_account(  # type: ignore[attr-defined]
        {
            "username": username,
            "password_hash": HASH,
            "role": role,
            "mrc": mrc,
            "display_name": username.title(),
            "active": active,
        }
    )


def sign_in(client: Client, username: str, password: str = PASSWORD) -> str:
    resp = client.post("/auth/token", json={"username": username, "password": password})
    assert resp.status_code == 200, resp.get_json()
    return str(resp.get_json()["token"])


@pytest.fixture
def tokens(app: Gateway, client: Client) -> dict[str, str]:
    """One signed-in account per role, all in MRC 2466."""
    result = {}
    for role in ROLES:
        add_account(app, role.replace("_", "-"), role)
        # direct issue: sign-in itself is rate limited per IP
        account = app.runtime.store.account_by_username(role.replace("_", "-"))  # type: ignore[attr-defined]
        result[role] = app.runtime.tokens.issue(account)["token"]  # type: ignore[attr-defined]
    return result


def running_services() -> list[type[Any]]:
    classes = []
    for name in SERVICES:
        module = f"services.{name}.service"
        if importlib.util.find_spec(module) is None:
            continue
        loaded = importlib.import_module(module)
        classes.append(getattr(loaded, service_class_name(module)))
    return classes


@pytest.fixture(scope="module")
def node(store_uri: str) -> Iterator[tuple[Gateway, str]]:
    vhost = BROKER.add_vhost(prefix="test-fuzz")
    prefix = f"fz{uuid.uuid4().hex[:8]}_"
    config = make_config(
        store_uri,
        prefix,
        AMQP_URI=f"amqp://guest:guest@{AMQP_HOST}/{vhost}",
        MRC_CODE=MRC,
        MAILLAGE_WRITE_BURST="100000",
        MAILLAGE_SIGNIN_BURST="100000",
    )
    containers = [ServiceContainer(cls, dict(config)) for cls in running_services()]
    for container in containers:
        container.start()
    app = create_app(config)
    admin = add_account(app, "admin", "node_admin")
    token = app.runtime.tokens.issue(admin)["token"]  # type: ignore[attr-defined]
    try:
        yield app, token
    finally:
        app.rpc.close()
        for container in containers:
            container.stop()
        BROKER.delete_vhost(vhost)


def auth(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}
