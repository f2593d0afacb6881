"""Issue 17's journey in a real browser on a running node: a board decides
what is measured, a practitioner measures it, the public sees it suppressed.

The board's secretary proposes, through the catalogue's pages, a data element
broken down by a category declared on the page, placed on a meeting of their
board; the meeting is held in the browser (the members move, second and vote
from their phones) and the adoption makes the element current; the indicator
over it is then proposed on the same open meeting and adopted the same way.
The catalogue shows both in force with their resolution numbers. A
practitioner of the MRC enters values per combo for several towns, an outlier
is flagged before it is saved and saved once confirmed; the dashboard, MRC and
town picked by name, shows the new indicator with a small town's cell written
as suppressed. axe-core runs on each new page; phone-width screenshots go to
``test-output/web``.

What the coordinator receives (only what an adopted data-sharing agreement
allows) is not repeated here: the two-broker federation tests cover it on two
real brokers (``tests/federation/test_two_brokers.py``: agreed fields only, no
suppressed cell) and the agreement tests cover the adoption it needs
(``tests/indicators/test_agreements.py``: nothing leaves under an agreement
the board has not adopted).
"""

# ruff: noqa: F811  (fixtures of the meeting test are imported, then requested)
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from playwright.sync_api import expect

from tests.web.conftest import OUTPUT, assert_accessible, new_context, screenshot
from tests.web.test_boards_meeting import (  # noqa: F401  (fixtures)
    LAPTOP,
    MEMBERS,
    MRC,
    PASSWORD,
    accounts,
    board,
    node,
    site,
    smtp,
)
from tests.web.test_boards_meeting import sign_in as sign_in_to
from tests.web.test_dashboard_downloads import load_geo
from tests.web.test_entry import last_month, months_before, open_form, sign_in

pytestmark = [pytest.mark.e2e]

ELEMENT = "peer_support"
ELEMENT_NAME = "Accompagnements par les pairs"
INDICATOR = "peer_support_women"
INDICATOR_NAME = "Part des femmes accompagnées par les pairs"
BIG_TOWN = "csd:2456083"  # Saint-Jean-sur-Richelieu: a steady year, then an outlier


@pytest.fixture(scope="module")
def journey(node: dict[str, Any], site: str, board: str, accounts: None) -> str:
    """The meeting test's node, board and accounts, the geography loaded, the
    board recorded under its MRC and a practitioner of that MRC."""
    from gateway.auth import hash_password
    from gateway.store import GatewayStore
    from shared.mongo import make_client

    config = node["config"]
    load_geo(config)
    client = make_client(config["MONGODB_URI"])
    try:
        store = GatewayStore(lambda: client, f"{config['DB_PREFIX']}gateway")
        # the catalogue's form lists the meetings of boards recorded under the
        # account's MRC (board_scopes); a board created by RPC is not recorded
        store.set_board_mrc(board, MRC)
        store.add_account(
            {
                "username": "pascale",
                "password_hash": hash_password(PASSWORD),
                "role": "practitioner",
                "mrc": MRC,
                "display_name": "Pascale",
            }
        )
    finally:
        client.close()
    return site


# --- the steps of a meeting (as test_boards_meeting takes them) ---------------------


def appoint_members(secretary: Any, board: str) -> None:
    secretary.goto(f"/conseils/{board}/secretariat")
    for name, member_id, _, seat in MEMBERS.values():
        secretary.get_by_label("Siège", exact=True).first.select_option(seat)
        secretary.get_by_label("Nom de la personne").fill(name)
        secretary.get_by_label("Courriel (pour les avis)").fill(
            f"{member_id}@example.org"
        )
        secretary.get_by_label("Code de membre").fill(member_id)
        secretary.get_by_role("button", name="Nommer", exact=True).click()
        expect(secretary.locator(".notice.ok")).to_contain_text("C'est enregistré")


def schedule_meeting(secretary: Any, board: str) -> str:
    """A public meeting tomorrow evening; its page's address."""
    when = (datetime.now(ZoneInfo("America/Montreal")) + timedelta(days=1)).replace(
        hour=19, minute=0
    )
    secretary.goto(f"/conseils/{board}/secretariat")
    secretary.get_by_label("Publique").check()
    secretary.get_by_label("Date et heure").fill(when.strftime("%Y-%m-%dT%H:%M"))
    secretary.get_by_label("Lieu ou lien de visioconférence").fill("Salle du conseil")
    secretary.get_by_role("button", name="Convoquer", exact=True).click()
    expect(secretary.locator(".notice.ok")).to_contain_text("Avis envoyé à 3 membre(s)")
    return str(secretary.url.split("?")[0])


def open_with_everyone(secretary: Any, meeting_url: str) -> None:
    secretary.goto(meeting_url)
    secretary.get_by_role("button", name="Ouvrir la séance").click()
    for name, *_ in MEMBERS.values():
        secretary.get_by_role("button", name=f"Arrivée de {name}").click()
        expect(
            secretary.get_by_role("button", name=f"Départ de {name}")
        ).to_be_visible()
    expect(secretary.locator("#direct")).to_contain_text("Quorum atteint : 3")


def member_phones(browser: Any, site: str, meeting_url: str) -> dict[str, Any]:
    phones = {}
    for username in MEMBERS:
        phone = new_context(browser, site).new_page()
        sign_in_to(phone, username, meeting_url.replace(site, ""))
        expect(phone.get_by_role("heading", name="En direct")).to_be_visible()
        phones[username] = phone
    return phones


def adopt_item(
    secretary: Any,
    phones: dict[str, Any],
    meeting_url: str,
    title: str,
    motion: str,
    shot_name: str,
) -> None:
    """The secretary opens the item; Alice moves, Bruno seconds, all three vote
    for from their phones; the secretary closes the vote and the item."""
    secretary.goto(meeting_url)
    accept = secretary.get_by_role("button", name=f"Accepter « {title} »")
    if accept.count():
        accept.click()
    secretary.get_by_role("button", name=f"Ouvrir le point « {title} »").click()
    alice, bruno = phones["alice"], phones["bruno"]
    alice.goto(meeting_url)
    alice.get_by_label("Texte de la proposition").fill(motion)
    alice.get_by_role("button", name="Proposer", exact=True).click()
    expect(alice.locator("#direct")).to_contain_text("en attente d'appui")
    bruno.goto(meeting_url)
    bruno.get_by_role("button", name="J'appuie").click()
    expect(bruno.locator("#direct")).to_contain_text("appuyée par Bruno Gagnon")
    for phone in phones.values():
        phone.goto(meeting_url)
        phone.get_by_role("button", name="Pour", exact=True).click()
        expect(phone.locator("#direct")).to_contain_text("Vous avez voté : Pour")
    secretary.goto(meeting_url)
    expect(secretary.locator("#direct")).to_contain_text("Pour 3, contre 0")
    secretary.get_by_role("button", name="Clore le vote").click()
    expect(secretary.locator("#direct")).to_contain_text("Adoptée")
    # Alice's phone says so without a reload
    expect(alice.locator("#direct .result").last).to_contain_text(
        "Adoptée", timeout=10000
    )  # the latest motion
    assert_accessible(alice)
    screenshot(alice, f"board-journey-adopted-{shot_name}-phone")
    secretary.get_by_role("button", name=f"Clore le point « {title} »").click()


def fill_definition(tab: Any, kind: str, ident: str, fr: str, en: str) -> None:
    tab.get_by_label(
        "Un indicateur" if kind == "indicator" else "Un élément de données"
    ).check()
    tab.get_by_label("Identifiant (minuscules, chiffres, _)").fill(ident)
    tab.get_by_label("Nom en français").fill(fr)
    tab.get_by_label("Nom en anglais").fill(en)
    tab.get_by_label("Définition en français").fill(f"{fr}, dans le mois.")
    tab.get_by_label("Définition en anglais").fill(f"{en}, in the month.")
    tab.get_by_label("Usage prévu, en français").fill("Voir ce que le soutien change.")
    tab.get_by_label("Usage prévu, en anglais").fill("See what support changes.")


def propose_on(tab: Any, meeting_label: str) -> None:
    tab.get_by_label("Réunion de votre conseil").select_option(label=meeting_label)
    tab.get_by_role("button", name="Proposer au conseil").click()
    expect(tab.get_by_role("status")).to_be_visible()


def until_current(tab: Any, row_id: str) -> Any:
    """The catalogue page until the adoption (an event) has made the row current."""
    row = tab.locator(row_id)
    for _ in range(20):
        tab.goto("/indicateurs/catalogue")
        if row.count() and "en vigueur" in row.inner_text():
            break
        tab.wait_for_timeout(500)
    expect(row).to_contain_text("en vigueur")
    return row


def shot(locator: Any, name: str) -> None:
    """One element at phone width (the full pages are too tall to read)."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    locator.screenshot(path=str(OUTPUT / f"board-journey-{name}-phone.png"))


# --- the journey ---------------------------------------------------------------------


def test_a_board_adopts_an_indicator_that_is_entered_and_shown_suppressed(
    browser: Any, journey: str, board: str, node: dict[str, Any]
) -> None:
    site = journey
    secretary = new_context(browser, site).new_page()
    sign_in_to(secretary, "secretaire", f"/conseils/{board}/secretariat")
    appoint_members(secretary, board)
    meeting_url = schedule_meeting(secretary, board)

    # the secretary proposes the disaggregated element, placed on the meeting
    secretary.goto("/indicateurs/catalogue/proposer")
    fill_definition(
        secretary, "data_element", ELEMENT, ELEMENT_NAME, "Peer support sessions"
    )
    secretary.get_by_label("Identifiant de la catégorie").fill("sexe")
    secretary.get_by_label("Nom de la catégorie en français").fill("Sexe déclaré")
    secretary.get_by_label("Nom de la catégorie en anglais").fill("Declared sex")
    secretary.get_by_label("Options, une par ligne").fill(
        "f | Femmes | Women\nh | Hommes | Men"
    )
    meeting = secretary.get_by_label("Réunion de votre conseil")
    labels = meeting.locator("option").all_inner_texts()
    assert any(board in label for label in labels), labels
    meeting_label = next(label for label in labels if board in label)
    assert_accessible(secretary)
    screenshot(secretary, "board-journey-propose-element-phone")
    propose_on(secretary, meeting_label)
    row = secretary.locator(f"#def-data_element-{ELEMENT}")
    expect(row.first).to_contain_text("proposée")
    expect(row.first).to_contain_text("Ventilé par : Sexe déclaré")
    assert_accessible(secretary)
    screenshot(secretary, "board-journey-proposed-phone")

    # the meeting is held; the members adopt from their phones
    element_item = f"Catalogue : {ELEMENT_NAME} (version 1)"
    secretary.goto(meeting_url)
    expect(secretary.locator("ol.agenda")).to_contain_text(element_item)
    open_with_everyone(secretary, meeting_url)
    phones = member_phones(browser, site, meeting_url)
    adopt_item(
        secretary,
        phones,
        meeting_url,
        element_item,
        "Adopter l'élément « Accompagnements par les pairs », ventilé par sexe.",
        "element",
    )
    until_current(secretary, f"#def-data_element-{ELEMENT}")

    # now current, the element can be used: the indicator over it is proposed
    secretary.goto("/indicateurs/catalogue/proposer")
    fill_definition(
        secretary,
        "indicator",
        INDICATOR,
        INDICATOR_NAME,
        "Share of women in peer support",
    )
    secretary.get_by_label("Numérateur").fill(f"#{{{ELEMENT}.f}}")
    secretary.get_by_label("Dénominateur (facultatif)").fill(f"#{{{ELEMENT}}}")
    secretary.get_by_label("Facteur (100 pour un pourcentage)").fill("100")
    propose_on(secretary, meeting_label)
    indicator_item = f"Catalogue : {INDICATOR_NAME} (version 1)"
    adopt_item(
        secretary,
        phones,
        meeting_url,
        indicator_item,
        "Adopter l'indicateur « Part des femmes accompagnées par les pairs ».",
        "indicator",
    )

    # the catalogue shows both in force, each with its resolution's number
    public = new_context(browser, site).new_page()
    element_row = until_current(public, f"#def-data_element-{ELEMENT}")
    indicator_row = until_current(public, f"#def-indicator-{INDICATOR}")
    expect(element_row).to_contain_text("résolution")
    expect(indicator_row).to_contain_text("résolution")
    numbers = [
        r.inner_text().split("résolution", 1)[1].split(")")[0].strip()
        for r in (element_row, indicator_row)
    ]
    assert numbers[0] and numbers[1] and numbers[0] != numbers[1], numbers
    public.goto(f"/conseils/{board}/registre")
    for number in numbers:
        expect(public.locator("main")).to_contain_text(number)
    public.goto("/indicateurs/catalogue")
    assert_accessible(public)
    screenshot(public, "board-journey-catalogue-in-force-phone")
    shot(public.locator(f"#def-indicator-{INDICATOR}"), "catalogue-indicator-row")

    # a steady year of women's sessions in Saint-Jean-sur-Richelieu (the history
    # the outlier check compares with), as an earlier year's import would give
    period = last_month()
    with ClusterRpcProxy(node["config"], timeout=60) as rpc:
        for back, value in enumerate((30, 32, 29, 31, 30, 33, 28, 31, 30, 32), 1):
            rpc.indicators.enter_value(
                {
                    "data_element": ELEMENT,
                    "org_unit": BIG_TOWN,
                    "period": months_before(period, back),
                    "value": value,
                    "category_option_combo": "f",
                }
            )

    # the practitioner enters per combo for three towns; the outlier is flagged
    practitioner = new_context(browser, site).new_page()
    sign_in(practitioner, "pascale")
    women = f"{ELEMENT_NAME} — Femmes"
    men = f"{ELEMENT_NAME} — Hommes"
    open_form(practitioner, "Saint-Jean-sur-Richelieu", period)
    practitioner.get_by_label(women).fill("310")
    practitioner.get_by_label(men).fill("24")
    practitioner.get_by_role("button", name="Enregistrer les valeurs").click()
    expect(practitioner.get_by_role("alert")).to_contain_text(women)
    expect(practitioner.get_by_role("status")).to_contain_text(
        "1 valeur(s) enregistrée(s)"
    )
    assert ELEMENT not in practitioner.locator("main").inner_text()  # names only
    assert_accessible(practitioner)
    screenshot(practitioner, "board-journey-outlier-phone")
    practitioner.get_by_label("Je confirme").first.check()
    practitioner.get_by_role("button", name="Enregistrer les valeurs").click()
    expect(practitioner.get_by_label(women)).to_have_value("310")
    expect(practitioner.get_by_label(men)).to_have_value("24")
    for town, (f, h) in (("Henryville", (9, 8)), ("Lacolle", (2, 1))):
        open_form(practitioner, town, period)
        practitioner.get_by_label(women).fill(str(f))
        practitioner.get_by_label(men).fill(str(h))
        practitioner.get_by_role("button", name="Enregistrer les valeurs").click()
        expect(practitioner.get_by_role("status")).to_contain_text(
            "2 valeur(s) enregistrée(s)"
        )

    # the dashboard, MRC and town picked by name: Lacolle's small cell suppressed
    public.goto("/indicateurs")
    public.get_by_label("MRC", exact=True).select_option(label="Le Haut-Richelieu")
    public.get_by_role("button", name="Afficher").click()
    panel = public.locator(f"section.panel#{INDICATOR}")
    expect(panel.get_by_role("heading", level=2)).to_have_text(INDICATOR_NAME)
    expect(panel.locator("tbody")).not_to_contain_text("supprimé")
    public.get_by_label("Municipalité", exact=True).select_option(label="Lacolle")
    public.get_by_role("button", name="Afficher").click()
    expect(public.get_by_role("heading", level=1)).to_contain_text("Lacolle")
    expect(panel.locator("td.suppressed").first).to_have_text("supprimé")
    assert "66,7" not in panel.inner_text() and "66.7" not in panel.inner_text()
    assert_accessible(public)
    screenshot(public, "board-journey-dashboard-suppressed-phone")
    shot(panel, "dashboard-panel")
    public.set_viewport_size(LAPTOP)
    screenshot(public, "board-journey-dashboard-suppressed-laptop")
