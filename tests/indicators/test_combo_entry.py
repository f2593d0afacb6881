"""Values entered per category option combo through the service (real store)
and the API: a combo the element does not have is refused naming the element
by its name, the bounds, the outlier check and the rules run on the combo
entered, and approvals lock every combo of the period."""

# ruff: noqa: F811 (the gateway's fixtures are imported by name)
from __future__ import annotations

import pytest
from werkzeug.test import Client

from services.indicators.categories import (
    Category,
    CategoryCombo,
    CategoryModel,
    CategoryOption,
)
from services.indicators.geo import quebec_units
from services.indicators.repository import IndicatorsRepository
from shared import errors
from tests.gateway.conftest import (  # noqa: F401 (fixtures)
    FakeRpc,
    app,
    auth,
    client,
    fake_rpc,
    tokens,
)
from tests.indicators.test_service import make_service

TEXTS = {
    "name": {"fr": "Visites à domicile", "en": "Home visits"},
    "definition": {"fr": "Visites du mois.", "en": "Visits in the month."},
    "use": {"fr": "Suivre les visites.", "en": "Follow visits."},
}


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
    svc.define(
        {
            "kind": "data_element",
            "id": "visits",
            "content": {"value_type": "integer", "min": 0, "max": 500} | TEXTS,
        }
    )
    model = CategoryModel()
    model.add_option(CategoryOption("f", "Femmes", "Women"))
    model.add_option(CategoryOption("h", "Hommes", "Men"))
    model.add_category(Category("sexe", ("f", "h"), "Sexe", "Sex"))
    model.add_combo(CategoryCombo("sexe", ("sexe",), "Sexe", "Sex"))
    model.add_category(
        Category("partenaire", ("cisss", "org"), "Partenaire", "Partner", True)
    )
    model.add_combo(
        CategoryCombo("partenaire", ("partenaire",), "Partenaire", "Partner", True)
    )
    model.attach("visits", "sexe")
    IndicatorsRepository(svc.store.db).save_categories(model)
    yield svc
    client.drop_database(f"{db_prefix}indicators")
    client.close()


def visit(svc, value, combo, period="202603", unit="csd:2437067", **more):
    return svc.enter_value(
        {
            "data_element": "visits",
            "org_unit": unit,
            "period": period,
            "value": value,
            "category_option_combo": combo,
            **more,
        }
    )


def total(svc, formula, period="202603", unit="csd:2437067"):
    return svc.evaluate(
        {"numerator": formula, "org_unit": unit, "period": period, "public": False}
    )["value"]


def test_values_are_kept_per_combo_and_the_element_total_is_their_sum(service):
    saved = visit(service, 7, "f")
    assert saved["category_option_combo"] == "f"
    assert saved["attribute_option_combo"] == "HllvX50cXC0"
    visit(service, 4, "h", attribute_option_combo="org")
    visit(service, 5, "h")  # another attribute combo: another cell
    assert total(service, "#{visits}") == 16
    assert total(service, "#{visits.f}") == 7
    assert total(service, "#{visits.h}") == 9
    assert total(service, "#{visits.h.org}") == 4
    visit(service, 8, "f")  # entered again: replaces that combo only
    assert total(service, "#{visits}") == 17
    docs = service.store.db.data_values.find({"data_element": "visits"})
    assert sorted((d["combo"], d["attribute"], d["value"]) for d in docs) == [
        ("f", "", 8),
        ("h", "", 5),
        ("h", "org", 4),
    ]


def test_a_combo_the_element_does_not_have_is_refused_naming_the_element(service):
    with pytest.raises(errors.Invalid) as info:
        visit(service, 3, "autre")
    (reason,) = info.value.fields["category_option_combo"]
    assert "« Visites à domicile »" in reason and '"Home visits"' in reason
    assert "Femmes (f)" in reason and "Women (f)" in reason
    assert "Visites à domicile" in info.value.message_fr
    assert "Home visits" in info.value.message_en
    with pytest.raises(errors.Invalid) as info:
        visit(service, 3, "f", attribute_option_combo="inconnu")
    assert "attribute_option_combo" in info.value.fields
    # an element without categories has only the default combo
    with pytest.raises(errors.Invalid) as info:
        service.enter_value(
            {
                "data_element": "home_interventions",
                "org_unit": "csd:2437067",
                "period": "202603",
                "value": 3,
                "category_option_combo": "f",
            }
        )
    (reason,) = info.value.fields["category_option_combo"]
    assert "(permises : default)" in reason and "(allowed: default)" in reason
    # the default combo however written still works there
    service.enter_value(
        {
            "data_element": "home_interventions",
            "org_unit": "csd:2437067",
            "period": "202603",
            "value": 3,
            "category_option_combo": "HllvX50cXC0",
        }
    )
    assert service.store.db.data_values.count_documents({"data_element": "visits"}) == 0


def test_the_outlier_check_compares_a_combo_with_its_own_months(service):
    for month in range(1, 9):
        visit(service, 10 + month % 3, "f", period=f"2025{month:02d}")
        visit(service, 200 + month % 3, "h", period=f"2025{month:02d}")
    # 200 is usual for men, not for women: only the women's combo warns
    assert visit(service, 201, "h", period="202509")["warnings"] == []
    with pytest.raises(errors.Conflict) as info:
        visit(service, 201, "f", period="202509")
    assert [w["check"] for w in info.value.details["warnings"]] == ["outlier"]
    assert total(service, "#{visits.f}", period="202509") is None
    saved = visit(service, 201, "f", period="202509", confirm=True, by="p-1")
    assert saved["confirmed"] is True
    doc = service.store.db.data_values.find_one(
        {"data_element": "visits", "period": "202509", "combo": "f"}
    )
    assert doc["confirmed"]["by"] == "p-1"
    assert doc["confirmed"]["warnings"][0]["check"] == "outlier"


def test_bounds_and_rules_read_the_combo_entered_and_the_total(service):
    with pytest.raises(errors.Conflict) as info:
        visit(service, 900, "f")
    assert [w["check"] for w in info.value.details["warnings"]] == ["max"]
    service.define(
        {
            "kind": "validation_rule",
            "id": "visits_within_home",
            "content": {
                "left": "#{visits}",
                "operator": "less_than_or_equal_to",
                "right": "#{home_interventions}",
                "name": {"fr": "Visites ≤ domicile", "en": "Visits ≤ home"},
                "definition": TEXTS["definition"],
            },
        }
    )
    service.enter_value(
        {
            "data_element": "home_interventions",
            "org_unit": "csd:2437067",
            "period": "202603",
            "value": 10,
        }
    )
    assert visit(service, 6, "f")["warnings"] == []
    # 6 + 5 > 10: the combo alone is within the rule, the element total is not
    with pytest.raises(errors.Conflict) as info:
        visit(service, 5, "h")
    (warning,) = info.value.details["warnings"]
    assert warning["check"] == "rule" and warning["rule"] == "visits_within_home"


def test_an_approved_period_locks_every_combo_and_approval_sends_the_totals(service):
    visit(service, 12, "f")
    visit(service, 9, "h")
    approved = service.approve({"org_unit": "cd:2437", "period": "2026Q1", "by": "a"})
    assert approved
    with pytest.raises(errors.Conflict):
        visit(service, 13, "f")
    with pytest.raises(errors.Conflict):
        visit(service, 1, "h", attribute_option_combo="org")
    assert total(service, "#{visits}") == 21
    service.unapprove(
        {"org_unit": "cd:2437", "period": "2026Q1", "reason": "erreur de saisie"}
    )
    assert visit(service, 13, "f")["value"] == 13


def test_the_api_passes_the_combos_to_the_service_signed_by_the_account(
    client: Client, fake_rpc: FakeRpc, tokens: dict[str, str]
) -> None:
    seen: list[dict] = []
    fake_rpc.handlers[("indicators", "enter_value")] = lambda p: seen.append(p) or p
    body = {
        "data_element": "visits",
        "org_unit": "csd:2466023",
        "period": "202603",
        "value": 7,
        "category_option_combo": "f",
        "attribute_option_combo": "org",
    }
    resp = client.post(
        "/indicators/values", json=body, headers=auth(tokens["practitioner"])
    )
    assert resp.status_code == 201, resp.get_json()
    assert seen[-1]["category_option_combo"] == "f"
    assert seen[-1]["attribute_option_combo"] == "org"
    resp = client.post(
        "/indicators/values",
        json=body | {"category_option_combo": "x" * 200},
        headers=auth(tokens["practitioner"]),
    )
    assert resp.status_code == 422
    assert "category_option_combo" in resp.get_json()["error"]["fields"]


# --- an element defined with its categories ---------------------------------------

LANGUAGE = {
    "id": "langue",
    "name": {"fr": "Langue", "en": "Language"},
    "options": [
        {"id": "fr", "name": {"fr": "Français", "en": "French"}},
        {"id": "en", "name": {"fr": "Anglais", "en": "English"}},
        {"id": "autre", "name": {"fr": "Autre", "en": "Other"}},
    ],
}
SEX = {
    "id": "sexe",
    "name": {"fr": "Sexe", "en": "Sex"},
    "options": [
        {"id": "f", "name": {"fr": "Femmes", "en": "Women"}},
        {"id": "h", "name": {"fr": "Hommes", "en": "Men"}},
    ],
}


def calls(categories):
    texts = TEXTS | {"name": {"fr": "Appels d'accueil", "en": "Intake calls"}}
    return {
        "kind": "data_element",
        "id": "intake_calls",
        "content": {"value_type": "integer", "categories": categories} | texts,
        "by": "secretary-1",
    }


def test_an_element_adopted_with_its_categories_takes_values_per_combo(service):
    from tests.indicators.test_catalogue import adopted

    proposed = service.propose_definition(calls([SEX, LANGUAGE]))
    assert "intake_calls" not in service.categories()["elements"]  # not yet
    service.on_resolution_adopted([adopted(proposed["reference"])])
    combos = service.categories()["elements"]["intake_calls"]
    assert len(combos) == 6  # sex (existing, same options) x language (new)
    names = {c["id"]: c["name"] for c in combos}
    assert names["f_autre"] == {"fr": "Femmes, Autre", "en": "Women, Other"}
    service.enter_value(
        {
            "data_element": "intake_calls",
            "org_unit": "csd:2437067",
            "period": "202603",
            "value": 4,
            "category_option_combo": "f_autre",
        }
    )
    assert total(service, "#{intake_calls.f_autre}") == 4
    with pytest.raises(errors.Invalid) as info:
        service.enter_value(
            {
                "data_element": "intake_calls",
                "org_unit": "csd:2437067",
                "period": "202603",
                "value": 4,
                "category_option_combo": "f",
            }
        )
    assert "Appels d'accueil" in info.value.fields["category_option_combo"][0]


def test_a_category_redeclared_with_other_options_or_changed_is_refused(service):
    other_sex = SEX | {"options": SEX["options"] + [{"id": "x", "name": SEX["name"]}]}
    with pytest.raises(errors.Invalid) as info:
        service.define(calls([other_sex]))
    (reason,) = info.value.fields["content.categories[0].options"]
    assert "f, h" in reason and "other options" in reason
    with pytest.raises(errors.Invalid) as info:
        service.define(calls([LANGUAGE | {"options": LANGUAGE["options"][:1]}]))
    assert "content.categories[0].options" in info.value.fields
    service.define(calls([LANGUAGE]))
    with pytest.raises(errors.Invalid) as info:
        service.define(calls([LANGUAGE, SEX]))
    assert "content.categories" in info.value.fields
    assert service.categories()["elements"]["intake_calls"][0]["id"] == "fr"
