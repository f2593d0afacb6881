"""The indicators routes as the permission table and the suppression rule say:
anyone evaluates, but only suppressed figures unless the account enters values
for the org unit's MRC; an approval is revoked only with a reason."""

from __future__ import annotations

from typing import Any

from werkzeug.test import Client

from gateway.app import Gateway
from tests.gateway.conftest import MRC, OTHER_MRC, FakeRpc, auth

QUERY = f"indicator=home_interventions&org_unit=csd:{MRC}023&period=202603"


def _evaluations(fake_rpc: FakeRpc) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    fake_rpc.handlers[("indicators", "evaluate")] = lambda q: seen.append(q) or {}
    return seen


def test_public_evaluations_are_always_suppressed(
    client: Client, fake_rpc: FakeRpc, tokens: dict[str, str]
) -> None:
    seen = _evaluations(fake_rpc)
    assert client.get(f"/indicators/evaluate?{QUERY}&public=false").status_code == 200
    for role in ("citizen", "board_member", "regional_coordinator"):
        headers = auth(tokens[role])
        resp = client.get(f"/indicators/evaluate?{QUERY}&public=false", headers=headers)
        assert resp.status_code == 200
    assert [q["public"] for q in seen] == [True, True, True, True]


def test_who_enters_values_sees_their_own_mrc_unsuppressed_only(
    client: Client, fake_rpc: FakeRpc, tokens: dict[str, str]
) -> None:
    seen = _evaluations(fake_rpc)
    staff = auth(tokens["practitioner"])
    resp = client.get(f"/indicators/evaluate?{QUERY}&public=false", headers=staff)
    assert resp.status_code == 200
    assert seen[-1]["public"] is False
    theirs = QUERY.replace(f"csd:{MRC}023", f"csd:{OTHER_MRC}001")
    resp = client.get(f"/indicators/evaluate?{theirs}&public=false", headers=staff)
    assert resp.status_code == 403
    assert client.get(f"/indicators/evaluate?{QUERY}", headers=staff).status_code == 200
    assert seen[-1]["public"] is True


def test_an_approval_is_revoked_only_with_a_reason_and_signed_by_the_account(
    app: Gateway, client: Client, fake_rpc: FakeRpc, tokens: dict[str, str]
) -> None:
    revoked: list[dict[str, Any]] = []
    fake_rpc.handlers[("indicators", "unapprove")] = lambda p: revoked.append(p) or p
    coordinator = auth(tokens["regional_coordinator"])
    period = {"org_unit": f"cd:{MRC}", "period": "202603"}
    resp = client.post("/indicators/approvals/revoke", json=period, headers=coordinator)
    assert resp.status_code == 422
    assert "reason" in resp.get_json()["error"]["fields"]
    blank = {**period, "reason": "  "}
    resp = client.post("/indicators/approvals/revoke", json=blank, headers=coordinator)
    assert resp.status_code == 422
    assert revoked == []
    reasoned = {**period, "reason": "Erreur de saisie en mars"}
    resp = client.post(
        "/indicators/approvals/revoke", json=reasoned, headers=coordinator
    )
    assert resp.status_code == 200
    me = app.runtime.store.account_by_username("regional-coordinator")  # type: ignore[attr-defined]
    assert revoked == [{**reasoned, "by": me["_id"]}]
    staff = auth(tokens["practitioner"])
    resp = client.post("/indicators/approvals/revoke", json=reasoned, headers=staff)
    assert resp.status_code == 403


def test_the_indicator_routes_of_the_brief_exist_with_their_actions(
    app: Gateway,
) -> None:
    routes = {(m, r.rule): r for r in app.api.routes for m in r.methods}
    expected = {
        ("POST", "/indicators/values"): "indicators.values.enter",
        ("POST", "/indicators/approvals"): "indicators.values.approve",
        ("POST", "/indicators/approvals/revoke"): "indicators.values.approve",
        ("POST", "/indicators/rollups"): "indicators.rollups.publish",
    }
    for key, action in expected.items():
        assert routes[key].action == action and not routes[key].public
    for rule in ("/indicators/evaluate", "/indicators/catalogue"):
        assert routes[("GET", rule)].public
