"""``POST /processes`` with rule variants, through the gateway in front of the
real services: a variant the tally engine would not count is a 422 naming the
setting in French and English, and a chosen one is read back with the process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from werkzeug.test import Client

from gateway.app import Gateway
from tests.gateway.conftest import MRC, auth

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def _body(rules: dict[str, Any]) -> dict[str, Any]:
    now = datetime.now(UTC)
    edges = [now + timedelta(days=d) for d in (0, 10, 20, 30, 60)]
    names = ["proposals", "deliberation", "voting", "results"]
    return {
        "mrc_code": MRC,
        "title": "Priorités 2027",
        "method": "irv",
        "phases": {
            name: [edges[i].isoformat(), edges[i + 1].isoformat()]
            for i, name in enumerate(names)
        },
        "rules": rules,
    }


def test_a_tiebreak_that_asks_an_operator_is_a_422_naming_the_setting(
    node: tuple[Gateway, str],
) -> None:
    app, admin = node
    http = Client(app)
    resp = http.post(
        "/processes",
        json=_body({"tiebreakMode": "stopCountingAndAsk"}),
        headers=auth(admin),
    )
    assert resp.status_code == 422, resp.get_json()
    ((reason,),) = resp.get_json()["error"]["fields"].values()
    assert list(resp.get_json()["error"]["fields"]) == ["rules.tiebreakMode"]
    fr, en = reason.split(" / ")
    assert "opérateur" in fr and "operator" in en


def test_chosen_rules_are_read_back_with_the_process(
    node: tuple[Gateway, str],
) -> None:
    app, admin = node
    http = Client(app)
    resp = http.post(
        "/processes", json=_body({"batchElimination": True}), headers=auth(admin)
    )
    assert resp.status_code == 201, resp.get_json()
    shown = http.get(f"/processes/{resp.get_json()['id']}").get_json()["rules"]
    assert shown["batchElimination"] is True
    assert shown["tiebreakMode"] == "useCandidateOrder"
