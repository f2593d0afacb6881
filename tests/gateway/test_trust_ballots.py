"""Ballots through HTTP and the web form, attacked as a voter would (issue 13,
holes 6 and 7), in front of the real services.

- A score or dot process created without ``max_points`` is bounded anyway: one
  voter cannot give a million points through ``POST /processes/<id>/ballots``
  nor 10**12 through the web form; the refusal names ``points`` in French and
  English, and nothing is counted.
- The web receipt never travels in a URL (browser history, proxy and access
  logs): the vote's POST answers the receipt page itself, no redirect carries
  it, no link or form on the page holds it, the old ``/recu/<receipt>`` address
  is gone, and no log record of the gateway contains it.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from werkzeug.test import Client

import gateway.app
from gateway.app import Gateway
from shared.node import ROOT
from tests.gateway.conftest import MRC, add_account, auth

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

VOTING_IN = 4.0  # seconds of proposals before the vote opens
VOTERS = 6


def _account(app: Gateway, role: str) -> tuple[str, dict[str, str]]:
    account = add_account(app, f"{role}-{uuid.uuid4().hex[:6]}", role, MRC)
    token = app.runtime.tokens.issue(account)["token"]  # type: ignore[attr-defined]
    return str(account["_id"]), auth(str(token))


def _phases(voting_in: float) -> dict[str, list[str]]:
    now = datetime.now(UTC)
    step = timedelta(seconds=voting_in / 2)
    edges = [now - timedelta(hours=1), now + step, now + 2 * step]
    edges += [edges[-1] + timedelta(hours=2), edges[-1] + timedelta(hours=3)]
    names = ["proposals", "deliberation", "voting", "results"]
    return {
        n: [edges[i].isoformat(), edges[i + 1].isoformat()] for i, n in enumerate(names)
    }


@pytest.fixture(scope="module")
def voting(node: tuple[Gateway, str]) -> dict[str, Any]:
    """A score and a dot process, both without ``max_points``, three proposals
    each on the ballot, ``VOTERS`` resident citizens; the vote is open."""
    app, _ = node
    http = Client(app)
    _, secretary = _account(app, "board_secretary")
    citizens = [_account(app, "citizen") for _ in range(VOTERS)]
    made: dict[str, Any] = {"citizens": citizens}
    phases = _phases(VOTING_IN)
    for method in ("score", "dot"):
        body = {
            "mrc_code": MRC,
            "title": f"Priorités ({method})",
            "method": method,
            "support_threshold": 0,
            "phases": phases,
        }
        resp = http.post("/processes", json=body, headers=secretary)
        assert resp.status_code == 201, resp.get_json()
        pid = resp.get_json()["id"]
        csv = "person,municipality_code\n" + "".join(
            f"{sub},2466023\n" for sub, _ in citizens
        )
        resp = http.post(
            f"/processes/{pid}/registry", json={"csv": csv}, headers=secretary
        )
        assert resp.status_code == 200, resp.get_json()
        ids = []
        for title in ("Parc", "Piste", "Popote"):
            resp = http.post(
                f"/processes/{pid}/proposals",
                json={"title": title},
                headers=citizens[0][1],
            )
            assert resp.status_code == 201, resp.get_json()
            ids.append(resp.get_json()["id"])
        made[method] = {"id": pid, "proposals": ids}
    time.sleep(VOTING_IN + 0.5)
    return made


def _turnout(http: Client, pid: str) -> int:
    return int(http.get(f"/processes/{pid}/turnout").get_json()["participants"])


@pytest.mark.parametrize(
    ("method", "points", "words"),
    [
        ("score", 6, ("note maximale 5", "maximum score 5")),
        ("score", 1_000_000, ("de 0 à 1000", "from 0 to 1000")),
        ("dot", 11, ("au plus 10 points", "at most 10 points")),
    ],
)
def test_an_unbounded_process_refuses_too_many_points_over_http_naming_the_field(
    node: tuple[Gateway, str],
    voting: dict[str, Any],
    method: str,
    points: int,
    words: tuple[str, str],
) -> None:
    app, _ = node
    http = Client(app)
    process = voting[method]
    first = process["proposals"][0]
    _, voter = voting["citizens"][1]
    before = _turnout(http, process["id"])
    for lang in ("fr", "en"):
        resp = http.post(
            f"/processes/{process['id']}/ballots",
            json={"points": {first: points}},
            headers={**voter, "Accept-Language": lang},
        )
        assert resp.status_code == 422, resp.get_json()
        error = resp.get_json()["error"]
        assert set(error["fields"]) == {"points"}
        reason = json.dumps(error["fields"]["points"], ensure_ascii=False)
        assert all(w in reason for w in words), reason
    assert _turnout(http, process["id"]) == before


def web_app(app: Gateway) -> Gateway:
    """The whole gateway, pages included, on the node's config and services."""
    web = gateway.app.create_app(dict(app.runtime.config))  # type: ignore[attr-defined]
    return web


def test_the_web_form_refuses_a_huge_score_and_counts_nothing(
    node: tuple[Gateway, str], voting: dict[str, Any]
) -> None:
    app, _ = node
    http = Client(web_app(app))
    process = voting["score"]
    _, voter = voting["citizens"][2]
    form = {f"score-{p}": "0" for p in process["proposals"]}
    for huge in ("1000000000000", "9" * 5000):
        form[f"score-{process['proposals'][0]}"] = huge
        resp = http.post(
            f"/participer/{process['id']}/vote",
            data={**form, "cast": "1"},
            headers=voter,
        )
        assert resp.status_code == 422, resp.status_code
        page = resp.get_data(as_text=True)
        assert "note maximale 5" in page and "maximum score 5" in page
    assert _turnout(Client(app), process["id"]) == 0


def test_the_web_receipt_is_in_the_answer_never_in_a_url_or_a_log(
    node: tuple[Gateway, str],
    voting: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, _ = node
    http = Client(web_app(app))
    process = voting["score"]
    _, voter = voting["citizens"][3]
    form = {f"score-{p}": str(n) for n, p in enumerate(process["proposals"])}
    with caplog.at_level(logging.DEBUG):
        resp = http.post(
            f"/participer/{process['id']}/vote",
            data={**form, "cast": "1"},
            headers=voter,
        )
    assert resp.status_code == 200, resp.status_code
    assert "Location" not in resp.headers
    assert resp.headers["Cache-Control"] == "no-store"
    page = resp.get_data(as_text=True)
    [receipt] = re.findall(r'<code[^>]*id="receipt"[^>]*>([0-9a-f]{64})</code>', page)
    for attribute in re.findall(r'(?:href|action|src)="([^"]*)"', page):
        assert receipt not in attribute
    leaking = {r.name for r in caplog.records if receipt in repr(r.__dict__)}
    # pymongo's command log (DEBUG) shows every write: the deployed logging
    # config keeps it at WARNING whatever LOG_LEVEL says
    assert leaking <= {"pymongo.command"}, leaking
    deployed = yaml.safe_load((ROOT / "deploy" / "config.yaml").read_text())
    assert deployed["LOGGING"]["loggers"]["pymongo"] == {"level": "WARNING"}
    assert http.get(f"/participer/{process['id']}/recu/{receipt}").status_code == 404
    assert _turnout(Client(app), process["id"]) == 1
    # the voter can still find their receipt later, without sending it anywhere
    check = http.get(f"/participer/{process['id']}/recu", headers=voter)
    assert check.status_code == 200
    assert receipt not in check.get_data(as_text=True)  # not published before the close
