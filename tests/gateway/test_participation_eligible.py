"""``PUT /processes/<id>/eligible-count`` through the gateway in front of the
real services: who may declare how many can vote, the field named on bad input,
never fewer than the ballots already cast, ``null`` to withdraw it."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from werkzeug.test import Client

from gateway.app import Gateway
from tests.gateway.conftest import MRC, OTHER_MRC, add_account, auth

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

VOTING_IN = 4.0  # seconds of proposals phase before the vote opens
VOTING_FOR = 6.0  # seconds the vote stays open when a test closes it
POSITIVE = "Entier positif attendu. / Positive integer expected."


def _token(app: Gateway, role: str, mrc: str = MRC) -> tuple[str, str]:
    account = add_account(app, f"{role}-{uuid.uuid4().hex[:6]}", role, mrc)
    token = app.runtime.tokens.issue(account)["token"]  # type: ignore[attr-defined]
    return str(account["_id"]), str(token)


def _process(
    http: Client,
    token: str,
    voting_in: float,
    people: list[str],
    voting_for: float = 7200,
) -> str:
    """Proposals now, voting in ``voting_in`` seconds for ``voting_for``,
    residents ``people``."""
    now = datetime.now(UTC)
    step = timedelta(seconds=voting_in / 2)
    edges = [now - timedelta(hours=1), now + step, now + 2 * step]
    edges.append(edges[-1] + timedelta(seconds=voting_for))
    edges.append(edges[-1] + timedelta(hours=2))
    names = ["proposals", "deliberation", "voting", "results"]
    body = {
        "mrc_code": MRC,
        "title": "Priorités 2027",
        "method": "approval",
        "support_threshold": 0,
        "phases": {
            name: [edges[i].isoformat(), edges[i + 1].isoformat()]
            for i, name in enumerate(names)
        },
    }
    resp = http.post("/processes", json=body, headers=auth(token))
    assert resp.status_code == 201, resp.get_json()
    process_id = str(resp.get_json()["id"])
    csv = "person,municipality_code\n" + "".join(f"{p},2466023\n" for p in people)
    resp = http.post(
        f"/processes/{process_id}/registry", json={"csv": csv}, headers=auth(token)
    )
    assert resp.status_code == 200, resp.get_json()
    return process_id


def _put(http: Client, process_id: str, token: str, body: Any, lang: str = "fr") -> Any:
    return http.put(
        f"/processes/{process_id}/eligible-count",
        data=json.dumps(body),
        content_type="application/json",
        headers=auth(token, **{"Accept-Language": lang}),
    )


def _eligible(http: Client, process_id: str) -> Any:
    return http.get(f"/processes/{process_id}").get_json()["eligible_count"]


def test_a_board_secretary_declares_then_withdraws_the_eligible_count(
    node: tuple[Gateway, str],
) -> None:
    app, admin = node
    http = Client(app)
    _, secretary = _token(app, "board_secretary")
    process_id = _process(http, secretary, 7200, [])
    assert _eligible(http, process_id) is None

    resp = _put(http, process_id, secretary, {"eligible_count": 1200})
    assert resp.status_code == 200, resp.get_json()
    answer = resp.get_json()
    assert (answer["id"], answer["eligible_count"]) == (process_id, 1200)
    assert answer["phase"] == "proposals" and answer["mrc_code"] == MRC
    assert _eligible(http, process_id) == 1200

    resp = _put(http, process_id, secretary, {"eligible_count": None})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["eligible_count"] is None
    assert _eligible(http, process_id) is None

    # the audit log keeps each change with the count before and after
    url = f"/processes/{process_id}/eligible-count"
    log = http.get(
        "/audit?action=participation.processes.manage&limit=100", headers=auth(admin)
    ).get_json()["items"]
    changes = [
        (e["before"]["eligible_count"], e["after"]["eligible_count"])
        for e in log
        if e["path"] == url
    ]
    assert sorted(changes, key=str) == sorted([(None, 1200), (1200, None)], key=str)


def test_a_citizen_or_another_mrcs_secretary_cannot_set_the_eligible_count(
    node: tuple[Gateway, str],
) -> None:
    app, admin = node
    http = Client(app)
    process_id = _process(http, admin, 7200, [])
    _, citizen = _token(app, "citizen")
    resp = _put(http, process_id, citizen, {"eligible_count": 10})
    assert resp.status_code == 403
    assert resp.get_json()["error"]["action"] == "participation.processes.manage"
    _, theirs = _token(app, "board_secretary", OTHER_MRC)
    resp = _put(http, process_id, theirs, {"eligible_count": 10})
    assert resp.status_code == 403
    assert resp.get_json()["error"]["resource_mrc"] == MRC
    assert _eligible(http, process_id) is None


def test_a_count_that_is_not_a_positive_integer_is_refused_naming_the_field(
    node: tuple[Gateway, str],
) -> None:
    app, admin = node
    http = Client(app)
    process_id = _process(http, admin, 7200, [])
    for value in (-3, 0, 12.5, "120", True, [120]):
        resp = _put(http, process_id, admin, {"eligible_count": value})
        assert resp.status_code == 422, (value, resp.get_json())
        assert resp.get_json()["error"]["fields"] == {"eligible_count": [POSITIVE]}
    resp = _put(http, process_id, admin, {})
    assert resp.status_code == 422
    (reason,) = resp.get_json()["error"]["fields"]["eligible_count"]
    assert "Champ requis" in reason and "Required" in reason
    resp = _put(http, process_id, admin, {"eligible_count": 5, "ballots": 1})
    assert resp.status_code == 422
    assert list(resp.get_json()["error"]["fields"]) == ["ballots"]
    assert _eligible(http, process_id) is None


def test_a_count_below_the_ballots_cast_or_after_the_close_is_refused(
    node: tuple[Gateway, str],
) -> None:
    app, admin = node
    http = Client(app)
    voters = [_token(app, "citizen") for _ in range(2)]
    started = time.monotonic()
    people = [person for person, _ in voters]
    process_id = _process(http, admin, VOTING_IN, people, VOTING_FOR)
    proposal = http.post(
        f"/processes/{process_id}/proposals",
        json={"title": "Halte-garderie"},
        headers=auth(voters[0][1]),
    )
    assert proposal.status_code == 201, proposal.get_json()
    assert _put(http, process_id, admin, {"eligible_count": 5}).status_code == 200
    time.sleep(max(0.0, VOTING_IN + 0.5 - (time.monotonic() - started)))
    for _, token in voters:
        resp = http.post(
            f"/processes/{process_id}/ballots",
            json={"approve": [proposal.get_json()["id"]]},
            headers=auth(token),
        )
        assert resp.status_code == 201, resp.get_json()

    for lang in ("fr", "en"):
        resp = _put(http, process_id, admin, {"eligible_count": 1}, lang)
        assert resp.status_code == 422, resp.get_json()
        assert resp.get_json()["error"]["fields"] == {
            "eligible_count": [
                "moins que les 2 bulletins déjà reçus / "
                "fewer than the 2 ballots already cast"
            ]
        }
    assert _eligible(http, process_id) == 5
    resp = _put(http, process_id, admin, {"eligible_count": 2})
    assert resp.status_code == 200, resp.get_json()
    assert _eligible(http, process_id) == 2

    # once the vote is closed the count is the one the results carry: no change
    time.sleep(max(0.0, VOTING_IN + VOTING_FOR + 0.5 - (time.monotonic() - started)))
    closed = http.post(f"/processes/{process_id}/close", headers=auth(admin))
    assert closed.status_code == 200, closed.get_json()
    assert (
        http.get(f"/processes/{process_id}/results").get_json()["eligible_count"] == 2
    )
    for lang, reason in (
        ("fr", "Vote clos : les résultats sont publiés."),
        ("en", "Vote closed: the results are published."),
    ):
        resp = _put(http, process_id, admin, {"eligible_count": 3}, lang)
        assert resp.status_code == 409, resp.get_json()
        assert resp.get_json()["error"]["message"] == reason
    assert _eligible(http, process_id) == 2


def test_the_route_is_in_the_openapi_document_with_its_body(
    node: tuple[Gateway, str],
) -> None:
    app, _ = node
    paths = Client(app).get("/openapi.json").get_json()["paths"]
    operation = paths["/processes/{process_id}/eligible-count"]["put"]
    assert {"200", "403", "409", "422"} <= set(operation["responses"])
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in body:
        name = body["$ref"].rsplit("/", 1)[-1]
        document = Client(app).get("/openapi.json").get_json()
        body = document["components"]["schemas"][name]
    assert body["required"] == ["eligible_count"]
    assert body["properties"]["eligible_count"]["minimum"] == 1
