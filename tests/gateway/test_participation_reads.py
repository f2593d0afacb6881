"""Public reads of participation through the gateway in front of the real
services: processes of an MRC, one process, the moderation record; results and
receipts stay hidden until the close on every route."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.test import Client

from gateway.app import Gateway
from tests.gateway.conftest import MRC, add_account, auth

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def _phases() -> dict[str, list[str]]:
    now = datetime.now(UTC)
    edges = [now + timedelta(hours=h) for h in (-1, 2, 4, 6, 8)]
    names = ["proposals", "deliberation", "voting", "results"]
    return {
        name: [edges[i].isoformat(), edges[i + 1].isoformat()]
        for i, name in enumerate(names)
    }


def test_anyone_reads_an_mrcs_open_processes_and_one_process_without_results(
    node: tuple[Gateway, str],
) -> None:
    app, admin = node
    http = Client(app)
    title = f"Priorités {uuid.uuid4().hex[:6]}"
    body = {
        "mrc_code": MRC,
        "title": title,
        "method": "irv",
        "seats": 1,
        "support_threshold": 3,
        "phases": _phases(),
    }
    created = http.post("/processes", json=body, headers=auth(admin))
    assert created.status_code == 201, created.get_json()
    process_id = created.get_json()["id"]

    listed = http.get(f"/processes?mrc_code={MRC}&limit=100")
    assert listed.status_code == 200 and listed.headers["ETag"]
    page = listed.get_json()
    assert set(page) == {"items", "total", "offset", "limit"}
    assert title in [p["title"] for p in page["items"]]
    assert http.get("/processes?mrc_code=9999").get_json()["items"] == []

    one = http.get(f"/processes/{process_id}")
    assert one.status_code == 200
    process = one.get_json()
    assert (process["title"], process["mrc_code"], process["method"]) == (
        title,
        MRC,
        "irv",
    )
    assert process["phase"] == "proposals" and process["support_threshold"] == 3
    assert process["phases"]["voting"][0].startswith(body["phases"]["voting"][0][:19])
    again = http.get(
        f"/processes/{process_id}", headers={"If-None-Match": one.headers["ETag"]}
    )
    assert again.status_code == 304

    for hidden in ("results", "receipts"):
        assert http.get(f"/processes/{process_id}/{hidden}").status_code == 409
    assert http.get(f"/processes/{uuid.uuid4()}").status_code == 404


def test_a_list_query_out_of_bounds_is_refused_naming_the_parameter(
    node: tuple[Gateway, str],
) -> None:
    app, _ = node
    http = Client(app)
    resp = http.get("/processes?limit=1000&state=secret")
    assert resp.status_code == 422
    assert {"limit", "state"} <= set(resp.get_json()["error"]["fields"])
    assert http.get("/processes?who=me").status_code == 422


def test_the_moderation_record_is_public_with_reasons_but_not_content(
    node: tuple[Gateway, str],
) -> None:
    app, admin = node
    http = Client(app)
    citizen = add_account(app, f"cz-{uuid.uuid4().hex[:4]}", "citizen")
    token = app.runtime.tokens.issue(citizen)["token"]  # type: ignore[attr-defined]
    body = {
        "mrc_code": MRC,
        "title": "Idées",
        "method": "approval",
        "support_threshold": 0,
        "phases": _phases(),
    }
    process_id = http.post("/processes", json=body, headers=auth(admin)).get_json()[
        "id"
    ]
    csv = f"person,municipality_code\n{citizen['_id']},2466023\n"
    registry = {"csv": csv}
    assert (
        http.post(
            f"/processes/{process_id}/registry", json=registry, headers=auth(admin)
        ).status_code
        == 200
    )
    proposal = http.post(
        f"/processes/{process_id}/proposals",
        json={"title": "Achetez mes chaussures"},
        headers=auth(token),
    ).get_json()
    assert http.get(f"/processes/{process_id}/hidden-proposals").get_json() == {
        "items": []
    }
    hidden = http.post(
        f"/processes/{process_id}/proposals/{proposal['id']}/hide",
        json={"reason": "Publicité / Advertising"},
        headers=auth(admin),
    )
    assert hidden.status_code == 200, hidden.get_json()
    record = http.get(f"/processes/{process_id}/hidden-proposals")
    assert record.status_code == 200
    assert record.get_json() == {
        "items": [{"id": proposal["id"], "hidden_reason": "Publicité / Advertising"}]
    }
    assert "chaussures" not in record.get_data(as_text=True)
    listed = http.get(f"/processes/{process_id}/proposals").get_json()
    assert listed["items"] == []
