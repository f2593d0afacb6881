"""The catalogue in a real browser on a running node: the node administrator
defines a data element broken down by a category declared on the page (its
options in French and English) and an indicator over it, after a preview that
shows a term the catalogue does not know refused; the catalogue lists both
with their versions, and a practitioner enters a value per combo, an outlier
flagged before it is saved."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from playwright.sync_api import expect

from tests.web.conftest import assert_accessible, new_context, screenshot
from tests.web.test_dashboard_downloads import load_geo
from tests.web.test_entry import (
    MRC,
    PASSWORD,
    both_widths,
    last_month,
    months_before,
    open_form,
    sign_in,
)

pytestmark = [pytest.mark.e2e]
TOWN = "csd:2437067"


@pytest.fixture(scope="module")
def site(running_node: dict[str, Any]) -> str:
    from gateway.auth import hash_password
    from gateway.store import GatewayStore
    from shared.mongo import make_client

    config = running_node["config"]
    load_geo(config)
    client = make_client(config["MONGODB_URI"])
    try:
        store = GatewayStore(lambda: client, f"{config['DB_PREFIX']}gateway")
        for username, role in (("leo", "practitioner"), ("ines", "node_admin")):
            store.add_account(
                {
                    "username": username,
                    "password_hash": hash_password(PASSWORD),
                    "role": role,
                    "mrc": MRC,
                    "display_name": username.title(),
                }
            )
    finally:
        client.close()
    return str(running_node["base_url"])


@pytest.fixture
def tab(browser: Any, site: str) -> Iterator[Any]:
    context = new_context(browser, site)
    yield context.new_page()
    context.close()


def test_the_node_administrator_defines_a_disaggregated_element_and_an_indicator(
    tab: Any, running_node: dict[str, Any]
) -> None:
    sign_in(tab, "ines")
    tab.goto("/indicateurs/catalogue/definir")
    tab.get_by_label("Un élément de données").check()
    tab.get_by_label("Identifiant (minuscules, chiffres, _)").fill("kiosk_visits")
    tab.get_by_label("Nom en français").fill("Visites au kiosque")
    tab.get_by_label("Nom en anglais").fill("Kiosk visits")
    tab.get_by_label("Définition en français").fill("Visites du mois au kiosque.")
    tab.get_by_label("Définition en anglais").fill("Kiosk visits in the month.")
    tab.get_by_label("Usage prévu, en français").fill("Voir qui vient.")
    tab.get_by_label("Usage prévu, en anglais").fill("See who comes.")
    tab.get_by_label("Identifiant de la catégorie").fill("langue")
    tab.get_by_label("Nom de la catégorie en français").fill("Langue")
    tab.get_by_label("Nom de la catégorie en anglais").fill("Language")
    tab.get_by_label("Options, une par ligne").fill(
        "fr | Français | French\nen | Anglais | English"
    )
    assert_accessible(tab)
    both_widths(tab, "catalogue-element-form")
    tab.get_by_role("button", name="Définir").click()
    expect(tab.get_by_role("status")).to_contain_text("Définition en vigueur")
    row = tab.locator("#def-data_element-kiosk_visits")
    expect(row).to_contain_text("Visites au kiosque")
    expect(row).to_contain_text("Ventilé par : Langue")

    tab.goto("/indicateurs/catalogue/definir")
    tab.get_by_label("Un indicateur").check()
    tab.get_by_label("Identifiant (minuscules, chiffres, _)").fill("kiosk_french")
    tab.get_by_label("Nom en français").fill("Part en français au kiosque")
    tab.get_by_label("Nom en anglais").fill("Share in French at the kiosk")
    tab.get_by_label("Définition en français").fill("Visites en français.")
    tab.get_by_label("Définition en anglais").fill("Visits in French.")
    tab.get_by_label("Usage prévu, en français").fill("Suivre la langue.")
    tab.get_by_label("Usage prévu, en anglais").fill("Follow language.")
    tab.get_by_label("Numérateur").fill("#{kiosk_visit.fr}")  # a typo
    tab.get_by_label("Dénominateur (facultatif)").fill("#{kiosk_visits}")
    tab.get_by_label("Facteur (100 pour un pourcentage)").fill("100")
    tab.get_by_role("button", name="Aperçu de la valeur").click()
    preview = tab.locator("#preview")
    expect(preview).to_contain_text("Formule refusée")
    expect(preview).to_contain_text("kiosk_visit")
    both_widths(tab, "catalogue-preview-refused")
    tab.get_by_label("Numérateur").fill("#{kiosk_visits.fr}")
    tab.get_by_role("button", name="Aperçu de la valeur").click()
    expect(tab.locator("#preview")).not_to_contain_text("Formule refusée")
    tab.get_by_role("button", name="Définir").click()
    expect(tab.locator("#def-indicator-kiosk_french")).to_contain_text("en vigueur")
    assert_accessible(tab)
    both_widths(tab, "catalogue-list")
    tab.locator("#def-indicator-kiosk_french a").click()
    expect(tab.get_by_role("heading", level=1)).to_contain_text("kiosk_french")

    # a steady year in French, then a practitioner's odd month is flagged
    period = last_month()
    with ClusterRpcProxy(running_node["config"], timeout=60) as rpc:
        for back, value in enumerate((20, 22, 19, 21, 20, 23, 18, 21, 20, 22), 1):
            rpc.indicators.enter_value(
                {
                    "data_element": "kiosk_visits",
                    "org_unit": TOWN,
                    "period": months_before(period, back),
                    "value": value,
                    "category_option_combo": "fr",
                }
            )
    tab.context.clear_cookies()
    sign_in(tab, "leo")
    open_form(tab, "Trois-Rivières", period)
    tab.get_by_label("Visites au kiosque — Anglais").fill("3")
    tab.get_by_label("Visites au kiosque — Français").fill("400")
    tab.get_by_role("button", name="Enregistrer les valeurs").click()
    expect(tab.get_by_role("alert")).to_contain_text("Visites au kiosque — Français")
    expect(tab.get_by_role("status")).to_contain_text("1 valeur(s) enregistrée(s)")
    assert "kiosk_visits" not in tab.locator("main").inner_text()  # names only
    screenshot(tab, "catalogue-combo-outlier-phone")
    tab.get_by_label("Je confirme").first.check()
    tab.get_by_role("button", name="Enregistrer les valeurs").click()
    expect(tab.get_by_label("Visites au kiosque — Français")).to_have_value("400")
    expect(tab.get_by_label("Visites au kiosque — Anglais")).to_have_value("3")
