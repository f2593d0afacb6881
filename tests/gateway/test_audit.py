"""The audit log: one entry per write, group-committed, durable before the answer."""

from __future__ import annotations

import threading
from typing import Any

from pymongo.errors import AutoReconnect
from werkzeug.test import Client

from gateway.app import Gateway
from gateway.rpc import RemoteFailure
from gateway.store import GatewayStore
from tests.gateway.conftest import FakeRpc, add_account, auth

ORG = {"name": "Centre d'action bénévole", "description": "CAB"}


def entries(app: Gateway, **query: Any) -> list[dict[str, Any]]:
    return list(app.runtime.store.db.audit.find(query))  # type: ignore[attr-defined]


def test_a_write_leaves_one_entry_with_its_state_before_and_after(
    app: Gateway, client: Client, tokens: dict[str, str]
) -> None:
    target = add_account(app, "jean", "citizen")
    resp = client.patch(
        f"/accounts/{target['_id']}",
        json={"display_name": "Jean D."},
        headers=auth(tokens["node_admin"]),
    )
    assert resp.status_code == 200
    [entry] = entries(app, path=f"/accounts/{target['_id']}")
    assert entry["outcome"] == "ok"
    assert entry["before"]["display_name"] == "Jean"
    assert entry["after"]["display_name"] == "Jean D."
    assert entry["at"] <= entry["finished_at"]


def test_a_write_whose_service_crashes_is_audited_with_the_failure(
    app: Gateway, client: Client, fake_rpc: FakeRpc, tokens: dict[str, str]
) -> None:
    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RemoteFailure("KeyError", "'name'")

    fake_rpc.handlers[("offerings", "create_organization")] = crash
    resp = client.post("/organizations", json=ORG, headers=auth(tokens["node_admin"]))
    assert resp.status_code == 502
    [entry] = entries(app, path="/organizations")
    assert entry["outcome"] == "RemoteFailure"
    assert entry["request"]["name"] == ORG["name"]


def test_writes_in_flight_together_share_batches_and_each_is_recorded(
    app: Gateway, tokens: dict[str, str]
) -> None:
    targets = [add_account(app, f"p{i:02d}", "citizen") for i in range(24)]
    admin = auth(tokens["node_admin"])
    codes: list[int] = []

    def revoke(account_id: str) -> None:
        resp = Client(app).post(f"/accounts/{account_id}/revoke", headers=admin)
        codes.append(resp.status_code)

    committer = app.audit  # type: ignore[attr-defined]
    before = committer.batches
    threads = [threading.Thread(target=revoke, args=(t["_id"],)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [200] * len(targets)
    assert len(entries(app, action="accounts.revoke")) == len(targets)
    assert committer.batches - before < len(targets)


class AuditStoreDown(GatewayStore):
    """The real store, except that the audit collection refuses writes and a
    ping fails: the log is down while the rest of the node is not."""

    def audit_insert(self, entries: list[dict[str, Any]]) -> None:
        raise AutoReconnect("audit store down")

    def ping(self) -> None:
        raise AutoReconnect("audit store down")


def test_while_the_audit_log_is_down_writes_are_refused_before_the_service(
    app: Gateway, client: Client, fake_rpc: FakeRpc, tokens: dict[str, str]
) -> None:
    committer = app.audit  # type: ignore[attr-defined]
    store = app.runtime.store  # type: ignore[attr-defined]
    committer.store = AuditStoreDown(store._client_factory, store.db_name)
    fake_rpc.handlers[("offerings", "create_organization")] = lambda *a, **k: {
        "id": "o1"
    }
    admin = auth(tokens["node_admin"], **{"Accept-Language": "en"})
    first = client.post("/organizations", json=ORG, headers=admin)
    # the write ran, its entry could not be stored: the answer says so
    assert first.status_code == 503
    assert first.get_json()["error"]["field"] == "audit"
    assert "audit entry" in first.get_json()["error"]["message"]
    calls = len(fake_rpc.calls)
    second = client.post("/organizations", json=ORG, headers=admin)
    assert second.status_code == 503
    assert second.get_json()["error"]["field"] == "audit"
    assert len(fake_rpc.calls) == calls  # the service was not called
    committer.store = store  # the log is back: writes are heard again
    assert client.post("/organizations", json=ORG, headers=admin).status_code == 201
