"""Attacks on suppressed counts through ``GET /indicators/evaluate``, as an
outsider would try them: a formula of their own, a quarter minus its months,
a parent org unit minus its children.

The gateway is the real one (real routes, permissions and store); its RPC pool
hands ``indicators.evaluate`` to the real indicators service on the real store
(nameko's worker_factory), so the answers are what a node gives. Each test
then asks, with a search independent of the service's audit, which March
counts are consistent with every public answer collected.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.test import Client

from services.indicators.geo import quebec_units
from tests.gateway.conftest import FakeRpc, create_app, make_config
from tests.indicators.test_service import make_service

pytestmark = pytest.mark.integration

SMALL = "csd:2437067"  # Trois-Rivières: 2 home interventions in March
OTHERS = {"csd:2437210": 30, "csd:2437220": 40}
MONTHS = {"202601": 20, "202602": 30, "202603": 2}


@pytest.fixture(scope="module")
def francheville(data_dir: Any) -> list[Any]:
    return [
        u
        for u in quebec_units(data_dir / "quebec_geo")
        if u.level <= 2 or u.id == "cd:2437" or u.id.startswith("csd:2437")
    ]


@pytest.fixture
def node(
    store_uri: str, db_prefix: str, francheville: list[Any]
) -> Iterator[tuple[Client, Any]]:
    client, svc = make_service(store_uri, f"{db_prefix}indicators", francheville)
    for period, count in MONTHS.items():
        svc.enter_value(
            {
                "data_element": "home_interventions",
                "org_unit": SMALL,
                "period": period,
                "value": count,
            }
        )
    for unit, count in OTHERS.items():
        svc.enter_value(
            {
                "data_element": "home_interventions",
                "org_unit": unit,
                "period": "202603",
                "value": count,
            }
        )
    gateway = create_app(make_config(store_uri, db_prefix))
    rpc = FakeRpc()
    rpc.handlers[("indicators", "evaluate")] = svc.evaluate
    gateway.rpc = rpc
    yield Client(gateway), gateway
    client.drop_database(f"{db_prefix}indicators")
    gateway.store_client().drop_database(f"{db_prefix}gateway")
    client.close()


def ask(
    http: Client, numerator: str, org_unit: str, period: str, **headers: str
) -> dict[str, Any]:
    resp = http.get(
        "/indicators/evaluate",
        query_string={
            "numerator": numerator,
            "org_unit": org_unit,
            "period": period,
            "public": "false",
        },
        headers=headers,
    )
    assert resp.status_code == 200, resp.get_json()
    return dict(resp.get_json())


COUNT = "#{home_interventions}"


def test_a_formula_differencing_year_to_date_does_not_give_a_suppressed_month(
    node: tuple[Client, Any],
) -> None:
    http, _ = node
    direct = ask(http, COUNT, SMALL, "202603")
    assert (direct["value"], direct["suppressed"]) == (None, True)
    attack = f"{COUNT}.yearToDate() - {COUNT}.yearToDate().periodOffset(-1)"
    answer = ask(http, attack, SMALL, "202603")
    assert answer["value"] != 2
    assert (answer["value"], answer["suppressed"]) == (None, True)


def test_a_quarter_minus_its_months_does_not_give_a_suppressed_month(
    node: tuple[Client, Any],
) -> None:
    http, _ = node
    answers = {p: ask(http, COUNT, SMALL, p)["value"] for p in ("2026Q1", *MONTHS)}
    assert answers["202603"] is None
    rest = [answers["2026Q1"], answers["202601"], answers["202602"]]
    assert None in rest, f"Q1 - Jan - Feb = March: {rest}"
    # nor in one request
    attack = (
        f"{COUNT}.yearToDate() - {COUNT}.periodOffset(-1) - {COUNT}.periodOffset(-2)"
    )
    assert ask(http, attack, SMALL, "202603")["value"] is None


def test_a_parent_minus_its_children_does_not_give_a_suppressed_child(
    node: tuple[Client, Any],
) -> None:
    http, gateway = node
    children = [f"csd:2437{c}" for c in ("067", "205", "210", "215", "220", "225")]
    children += [f"csd:2437{c}" for c in ("230", "235", "240", "245", "250")]
    parent = ask(http, COUNT, "cd:2437", "202603")["value"]
    shown = {c: ask(http, COUNT, c, "202603") for c in children}
    assert shown[SMALL]["value"] is None
    others = [shown[c] for c in children if c != SMALL]
    given_away = parent is not None and all(not o["suppressed"] for o in others)
    assert not given_away, "the MRC minus the other towns is the small town"


def test_no_public_answer_of_the_linked_table_pins_the_small_count(
    node: tuple[Client, Any],
) -> None:
    """Every org unit (the MRC, its towns, the region, Quebec) at every period
    of the year (months, quarters, year), asked anonymously: the March count
    of 2 keeps at least two possible values."""
    http, _ = node
    units = ["qc", "region:04", "cd:2437", SMALL, *OTHERS]
    periods = [f"2026{m:02d}" for m in range(1, 13)]
    periods += [f"2026Q{q}" for q in range(1, 5)] + ["2026"]
    answers = {(u, p): ask(http, COUNT, u, p)["value"] for u in units for p in periods}
    # the leaves that have data: (town, month); everything else reported none
    leaves = [(SMALL, m) for m in MONTHS] + [(u, "202603") for u in OTHERS]
    possible = consistent_values(answers, leaves, target=(SMALL, "202603"))
    assert 2 in possible and len(possible) >= 2, possible


def covers(unit: str, period: str, leaf: tuple[str, str]) -> bool:
    town, month = leaf
    in_unit = unit in ("qc", "region:04", "cd:2437") or unit == town
    if len(period) == 4:
        in_period = month.startswith(period)
    elif "Q" in period:
        quarter = int(period[-1])
        in_period = month[:4] == period[:4] and (int(month[4:]) - 1) // 3 + 1 == quarter
    else:
        in_period = month == period
    return in_unit and in_period


def consistent_values(
    answers: dict[tuple[str, str], float | None],
    leaves: list[tuple[str, str]],
    target: tuple[str, str],
    ceiling: int = 200,
) -> set[int]:
    """Every value of ``target`` in some non-negative whole filling of the
    ``leaves`` that agrees with each published answer (a backtracking search,
    each leaf bounded by the smallest published answer that contains it)."""
    known = [
        (total, [i for i, leaf in enumerate(leaves) if covers(u, p, leaf)])
        for (u, p), total in answers.items()
        if total is not None
    ]
    bound = [
        int(min([t for t, idx in known if i in idx], default=ceiling))
        for i in range(len(leaves))
    ]
    found: set[int] = set()
    filled: list[int] = []

    def fits() -> bool:
        n = len(filled)
        for total, idx in known:
            partial = sum(filled[i] for i in idx if i < n)
            if partial > total or (all(i < n for i in idx) and partial != total):
                return False
        return True

    def search() -> None:
        if len(filled) == len(leaves):
            found.add(filled[leaves.index(target)])
            return
        for guess in range(bound[len(filled)] + 1):
            filled.append(guess)
            if fits():
                search()
            filled.pop()

    search()
    return found
