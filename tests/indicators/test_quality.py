"""Data quality: validation rules at entry and on demand, bounds and the
outlier check warning before a value is saved (real store)."""

from __future__ import annotations

import pytest

from services.indicators.definitions import ValidationRule
from services.indicators.domain import Hierarchy, OrgUnit, Period, ValueStore
from services.indicators.geo import quebec_units
from services.indicators.quality import check_rule, outlier, periods_of
from shared import errors
from tests.indicators.test_service import enter, make_service

TEXTS = {
    "name": {"fr": "Visites", "en": "Visits"},
    "definition": {"fr": "Visites du mois.", "en": "Visits in the month."},
    "use": {"fr": "Suivre.", "en": "Follow."},
}


def test_the_modified_z_score_flags_what_a_plain_z_score_cannot_in_a_year():
    months = [10, 12, 11, 9, 13, 10, 11, 12, 10, 11, 9]
    # with 12 values a z-score is at most 11/sqrt(12) = 3.18: 95 is not "3 sd"
    # away once it is part of the mean and deviation; the MAD is not moved
    warning = outlier(months, 95, "home_interventions")
    assert warning is not None and warning["check"] == "outlier"
    assert "modified z-score" in warning["message"]["en"]
    assert "score z modifié" in warning["message"]["fr"]
    assert outlier(months, 14) is None
    assert outlier(months[:5], 95) is None  # too little history to judge
    assert outlier([0, 0, 0, 0, 0, 0], 40) is not None  # MAD 0, all equal


def test_rules_follow_dhis2_operators_and_the_missing_value_strategy():
    tree = Hierarchy([OrgUnit("a", "A", 1)])
    store = ValueStore(tree)
    rule = ValidationRule("r", "#{x}", "less_than_or_equal_to", "#{y}", "high")
    march = Period.parse("202603")
    assert check_rule(rule, store, "a", march) is None  # all missing: skipped
    store.put_raw("x", "202603", "a", 5)
    broken = check_rule(rule, store, "a", march)  # y missing counts as 0
    assert broken is not None and (broken.left, broken.right) == (5, None)
    store.put_raw("y", "202603", "a", 5)
    assert check_rule(rule, store, "a", march) is None
    pair = ValidationRule("p", "#{x}", "compulsory_pair", "#{z}")
    assert check_rule(pair, store, "a", march) is not None
    assert [p.id for p in periods_of(Period.parse("2026Q1"), "month")] == [
        "202601",
        "202602",
        "202603",
    ]
    assert [p.id for p in periods_of(march, "quarter")] == ["2026Q1"]


pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def mauricie(data_dir):
    return [
        u
        for u in quebec_units(data_dir / "quebec_geo")
        if u.level <= 2 or u.id == "cd:2437" or u.id.startswith("csd:2437")
    ]


@pytest.fixture
def service(store_uri, db_prefix, mauricie):
    client, svc = make_service(store_uri, f"{db_prefix}indicators", mauricie)
    yield svc
    client.drop_database(f"{db_prefix}indicators")
    client.close()


def test_a_value_beyond_its_bounds_is_not_saved_until_confirmed(service):
    service.define(
        {
            "kind": "data_element",
            "id": "visits",
            "content": {"value_type": "integer", "min": 0, "max": 200} | TEXTS,
        }
    )
    with pytest.raises(errors.Conflict) as info:
        enter(service, "csd:2437067", 2000, element="visits")
    (warning,) = info.value.details["warnings"]
    assert warning["check"] == "max" and warning["field"] == "value"
    assert "maximum 200" in warning["message"]["fr"]
    assert service.store.db.data_values.count_documents({"data_element": "visits"}) == 0
    saved = service.enter_value(
        {
            "data_element": "visits",
            "org_unit": "csd:2437067",
            "period": "202603",
            "value": 2000,
            "by": "practitioner-1",
            "confirm": True,
        }
    )
    assert saved["confirmed"] is True and saved["warnings"][0]["check"] == "max"
    stored = service.store.db.data_values.find_one({"data_element": "visits"})
    assert stored["value"] == 2000
    assert stored["confirmed"]["by"] == "practitioner-1"
    assert stored["confirmed"]["warnings"][0]["check"] == "max"


def test_an_outlier_against_the_units_own_months_warns_before_saving(service):
    for month, value in enumerate([30, 32, 29, 31, 33, 30, 31], start=1):
        enter(service, "csd:2437067", value, period=f"2025{month:02d}")
    enter(service, "csd:2437220", 300, period="202508")  # another town: no matter
    with pytest.raises(errors.Conflict) as info:
        enter(service, "csd:2437067", 310, period="202508")
    assert [w["check"] for w in info.value.details["warnings"]] == ["outlier"]
    assert enter(service, "csd:2437067", 34, period="202508")["warnings"] == []


def test_validation_rules_run_at_entry_and_list_violations_per_unit_and_period(
    service,
):
    service.define(
        {
            "kind": "validation_rule",
            "id": "outreach_within_home",
            "content": {
                "left": "#{outreach_interventions}",
                "operator": "less_than_or_equal_to",
                "right": "#{home_interventions}",
                "importance": "medium",
                "period_type": "month",
                "name": {"fr": "Hors murs ≤ domicile", "en": "Outreach ≤ home"},
                "definition": TEXTS["definition"],
            },
        }
    )
    enter(service, "csd:2437067", 10)
    with pytest.raises(errors.Conflict) as info:
        enter(service, "csd:2437067", 12, element="outreach_interventions")
    (warning,) = info.value.details["warnings"]
    assert warning["check"] == "rule" and warning["rule"] == "outreach_within_home"
    service.enter_value(
        {
            "data_element": "outreach_interventions",
            "org_unit": "csd:2437067",
            "period": "202603",
            "value": 12,
            "confirm": True,
        }
    )
    enter(service, "csd:2437220", 5)
    enter(service, "csd:2437220", 4, element="outreach_interventions")
    found = service.validate({"org_unit": "2437", "period": "2026Q1"})
    where = {(g["org_unit"], g["period"]) for g in found["results"]}
    # the town, and the MRC whose totals (12 + 4 > 10 + 5) break it too
    assert where == {("csd:2437067", "202603"), ("cd:2437", "202603")}
    town = next(g for g in found["results"] if g["org_unit"] == "csd:2437067")
    (violation,) = town["violations"]
    assert (violation["left"], violation["right"]) == (12, 10)
    assert violation["importance"] == "medium" and violation["version"] == 1
    with pytest.raises(errors.Invalid) as bad:
        service.validate({"org_unit": "2437", "period": "2026Q5"})
    assert "period" in bad.value.fields
