"""Journeys of people in a real browser against a running node.

Headless Chromium (Debian's) drives the gateway under gunicorn; the services
run as their own processes on a throwaway vhost with the real store. Data is
put in through the services' RPC, as staff tools do; then a person finds it
through the pages. Each journey saves a screenshot under ``test-output/web``
and runs axe-core on every page it visits.
"""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy
from playwright.sync_api import expect

from tests.conftest import ROOT
from tests.web.conftest import assert_accessible, new_context, screenshot

pytestmark = [pytest.mark.e2e]

BOARD = "mrc-66023"
STAFF = {"id": "secretariat@mrc.example"}


@pytest.fixture(scope="module")
def rpc(running_node: dict[str, Any]) -> Any:
    with ClusterRpcProxy(running_node["config"], timeout=30) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def site(running_node: dict[str, Any]) -> str:
    return running_node["base_url"]


@pytest.fixture
def page(browser: Any, site: str) -> Any:
    context = new_context(browser, site)
    tab = context.new_page()
    yield tab
    context.close()


# --- find help -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def directory(rpc: Any) -> dict[str, str]:
    """One published service at a confidential shelter, one at a public place."""
    org = rpc.offerings.create_organization(
        {"name": "Centre d'entraide du Haut-Richelieu", "description": "Entraide"},
        user=STAFF,
    )
    rpc.offerings.publish_organization(org["id"], user=STAFF)
    shelter = rpc.offerings.create_location(
        {
            "name": "Maison d'hébergement",
            "mrc_code": "2456",
            "municipality_code": "2456083",
            "confidential_location": True,
            "addresses": [
                {
                    "address_1": "99, rue Cachée",
                    "city": "Saint-Jean-sur-Richelieu",
                    "postal_code": "J3B 0A1",
                }
            ],
        },
        user=STAFF,
    )
    rpc.offerings.publish_location(shelter["id"], user=STAFF)
    pantry = rpc.offerings.create_location(
        {
            "name": "Comptoir alimentaire",
            "mrc_code": "2456",
            "municipality_code": "2456083",
            "transportation": "Autobus 12, arrêt Champlain",
            "addresses": [
                {
                    "address_1": "12, rue Champlain",
                    "city": "Saint-Jean-sur-Richelieu",
                    "postal_code": "J3B 6V4",
                }
            ],
        },
        user=STAFF,
    )
    rpc.offerings.publish_location(pantry["id"], user=STAFF)
    shelter_service = rpc.offerings.create_service(
        {
            "organization_id": org["id"],
            "name": "Hébergement d'urgence",
            "description": "Pour femmes et enfants victimes de violence",
            "no_referral_required": True,
            "waiting_list_open": True,
            "waiting_list_length": 4,
            "languages": ["fr", "en"],
            "location_ids": [shelter["id"]],
        },
        user=STAFF,
    )
    rpc.offerings.publish_service(shelter_service["id"], user=STAFF)
    food = rpc.offerings.create_service(
        {
            "organization_id": org["id"],
            "name": "Dépannage alimentaire",
            "description": "Paniers de nourriture chaque semaine",
            "no_referral_required": True,
            "waiting_list_open": False,
            "languages": ["fr"],
            "location_ids": [pantry["id"]],
        },
        user=STAFF,
    )
    rpc.offerings.publish_service(food["id"], user=STAFF)
    return {"shelter": shelter_service["id"], "food": food["id"]}


def test_a_person_finds_a_service_by_need_and_place_without_its_secret_address(
    page: Any, directory: dict[str, str]
) -> None:
    page.goto("/aide")
    assert_accessible(page)
    page.get_by_label("Votre besoin").fill("hébergement")
    page.get_by_label("Code de MRC").fill("2456")
    page.get_by_label("Sans référence").check()
    page.get_by_role("button", name="Chercher").click()
    expect(page).to_have_url(re.compile(r"/aide\?"))
    results = page.locator("ul.results > li")
    assert results.count() == 1
    assert "Hébergement d'urgence" in results.first.inner_text()
    assert_accessible(page)
    screenshot(page, "find-help-results")

    page.get_by_role("link", name="Hébergement d'urgence").click()
    expect(page).to_have_url(re.compile(f"/aide/services/{directory['shelter']}$"))
    body = page.locator("main").inner_text()
    assert "Adresse confidentielle" in body
    assert "Cachée" not in page.content()
    assert "Liste d'attente ouverte" in body and "4 personne(s) en attente" in body
    assert_accessible(page)
    screenshot(page, "find-help-service")


def test_a_public_service_page_shows_how_to_get_there_in_english(
    page: Any, directory: dict[str, str]
) -> None:
    page.goto(f"/aide/services/{directory['food']}?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    main = page.locator("main").inner_text()
    assert "12, rue Champlain" in main
    assert "Autobus 12, arrêt Champlain" in main
    assert "No waiting list" in main
    assert_accessible(page)
    # the choice is remembered: the next page is English too
    page.goto("/aide")
    assert page.get_by_role("heading", level=1).inner_text() == "Find help"


def test_an_unknown_service_is_a_page_that_says_so_not_json(
    page: Any, directory: dict[str, str]
) -> None:
    response = page.goto("/aide/services/00000000-0000-4000-8000-000000000000")
    assert response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    expect(page.get_by_role("alert")).to_contain_text("introuvable")
    assert_accessible(page)


# --- boards --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def board(rpc: Any) -> dict[str, Any]:
    """A board with its seats filled, one adopted resolution behind schedule, and
    a next meeting whose agenda carries citizens' priorities."""
    rpc.boards.create_board(
        {
            "board_id": BOARD,
            "name": "Table locale de gouvernance partagée",
            "seat_groups": [
                {"constituency": "citizens", "seats": 2},
                {"constituency": "community_organisations", "seats": 2},
                {"constituency": "practitioners", "seats": 1},
            ],
            "casting_vote": "chair",
        }
    )
    members = ["alice", "bruno", "chloe", "denis", "emma"]
    seats = [
        "citizens-1",
        "citizens-2",
        "community_organisations-1",
        "community_organisations-2",
        "practitioners-1",
    ]
    for n, (seat_id, member_id) in enumerate(zip(seats, members, strict=True)):
        rpc.boards.appoint(
            BOARD,
            {
                "seat_id": seat_id,
                "member": {
                    "member_id": member_id,
                    "name": member_id.capitalize(),
                    "email": f"{member_id}@courriel.example",
                },
                "start": "2026-01-01",
                "office": "chair" if n == 0 else "member",
            },
        )
    now = datetime.now(UTC)
    rpc.boards.schedule_meeting(
        BOARD,
        {
            "meeting_id": "m-past",
            "kind": "public",
            "scheduled_at": now.isoformat(),
            "place": "Salle du conseil",
        },
    )
    rpc.boards.open_meeting("m-past")
    for member_id in members:
        rpc.boards.record_attendance("m-past", member_id)
    item = rpc.boards.add_agenda_item("m-past", {"title": "Halte-garderie"})
    motion = rpc.boards.move(
        "m-past",
        {
            "item_id": item["item_id"],
            "text": "Ouvrir une halte-garderie au centre communautaire.",
            "moved_by": "alice",
            "seconded_by": "chloe",
        },
    )
    for member_id in members[:4]:
        rpc.boards.vote(
            "m-past",
            {"motion_id": motion["motion_id"], "member_id": member_id, "choice": "for"},
        )
    closed = rpc.boards.close_vote("m-past", motion["motion_id"])
    resolution = closed["resolution"]
    # A tie (2 for, 2 against, 1 abstention) the chair's "for" decides.
    tie = rpc.boards.move(
        "m-past",
        {
            "item_id": rpc.boards.add_agenda_item("m-past", {"title": "Navette"})[
                "item_id"
            ],
            "text": "Essayer une navette le samedi.",
            "moved_by": "bruno",
            "seconded_by": "emma",
        },
    )
    for member_id, choice in zip(
        members, ["for", "for", "against", "against", "abstain"], strict=True
    ):
        rpc.boards.vote(
            "m-past",
            {"motion_id": tie["motion_id"], "member_id": member_id, "choice": choice},
        )
    by_casting_vote = rpc.boards.close_vote("m-past", tie["motion_id"])["resolution"]
    rpc.boards.follow_up(
        resolution["resolution_id"],
        {
            "on": (now - timedelta(days=30)).date().isoformat(),
            "status": "in_progress",
            "progress": 40,
            "responsible": "CISSS de la Montérégie-Centre",
            "due": (now - timedelta(days=1)).date().isoformat(),
        },
    )
    rpc.boards.adjourn_meeting("m-past")
    rpc.boards.schedule_meeting(
        BOARD,
        {
            "meeting_id": "m-next",
            "kind": "public",
            "scheduled_at": (now + timedelta(days=14)).isoformat(),
            "place": "Centre communautaire",
        },
    )
    for rank, title in ((2, "Transport collectif"), (1, "Popote roulante")):
        rpc.boards.add_agenda_item(
            "m-next",
            {
                "title": title,
                "source": "participation",
                "process_id": "proc-2027",
                "rank": rank,
            },
        )
    rpc.boards.add_agenda_item("m-next", {"title": "Adoption du budget"})
    return {"resolution": resolution, "by_casting_vote": by_casting_vote}


def test_a_citizen_reads_the_next_agenda_with_the_priorities_from_citizens(
    page: Any, board: dict[str, Any]
) -> None:
    page.goto("/conseils")
    assert_accessible(page)
    page.get_by_role("link", name="Table locale de gouvernance partagée").click()
    expect(page).to_have_url(re.compile(f"/conseils/{BOARD}$"))
    priorities = page.locator("ol.priorities > li").all_inner_texts()
    assert [p.split(" rang")[0] for p in priorities] == [
        "Popote roulante",
        "Transport collectif",
    ]
    agenda = page.locator("ol.agenda").inner_text()
    assert "Adoption du budget" in agenda
    assert "courriel.example" not in page.content()
    assert_accessible(page)
    screenshot(page, "board-agenda")


def test_a_citizen_reads_the_register_and_the_overdue_follow_up(
    page: Any, board: dict[str, Any]
) -> None:
    page.goto(f"/conseils/{BOARD}")
    page.get_by_role("link", name="Registre des résolutions").first.click()
    expect(page).to_have_url(re.compile("/registre$"))
    number = board["resolution"]["number"]
    articles = page.locator("article.resolution")
    assert articles.count() == 2
    # newest first: the tie the chair's casting vote decided, then the first one
    tie, article = articles.nth(0), articles.nth(1)
    assert number in article.inner_text()
    assert "Pour 4, contre 0, abstentions 0" in article.inner_text()
    assert "voix prépondérante" not in article.inner_text()
    assert board["by_casting_vote"]["number"] in tie.inner_text()
    assert "Pour 2, contre 2, abstentions 1" in tie.inner_text()
    assert "Adoptée par la voix prépondérante de la présidence." in tie.inner_text()
    assert_accessible(page)
    screenshot(page, "board-register")

    page.get_by_role("link", name="Suivi des décisions").first.click()
    expect(page).to_have_url(re.compile("/suivi$"))
    row = page.locator("tbody tr").first
    assert "En retard" in row.inner_text()
    assert "CISSS de la Montérégie-Centre" in row.inner_text()
    assert page.get_by_text("1 décision(s) en retard.").is_visible()
    assert_accessible(page)
    screenshot(page, "board-follow-up")

    page.goto(f"/conseils/{BOARD}/registre?lang=en")
    tie = page.locator("article.resolution").first
    assert "Decided by the chair's casting vote." in tie.inner_text()
    assert "For 2, against 2, abstentions 1" in tie.inner_text()


# --- the node's own pages ------------------------------------------------------------


def test_home_page_is_accessible_and_keyboard_reaches_the_content(
    page: Any, site: str
) -> None:
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Aller au contenu"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#contenu"
    assert_accessible(page)
    assert requests.get(f"{site}/static/web/site.css", timeout=10).status_code == 200
    assert requests.get(f"{site}/static/web/../app.py", timeout=10).status_code == 404


# --- indicators ----------------------------------------------------------------------

MRC = "2437"


@pytest.fixture(scope="module")
def indicator_values(rpc: Any, running_node: dict[str, Any]) -> dict[str, Any]:
    """Interventions entered for two years in the MRC's municipalities (one of
    them small enough to be suppressed), approved for sharing."""
    config = running_node["config"]
    loaded = subprocess.run(
        [
            sys.executable,
            "-m",
            "shared.cli",
            "indicators",
            "load-geo",
            "--store-uri",
            config["MONGODB_URI"],
            "--db-prefix",
            config["DB_PREFIX"],
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert loaded.returncode == 0, loaded.stderr
    for period, counts in (("202503", (41, 2, 9)), ("202603", (38, 3, 12))):
        for unit, value in zip(
            ("csd:2437067", "csd:2437220", "csd:2437210"), counts, strict=True
        ):
            for element in ("home_interventions", "community_interventions"):
                rpc.indicators.enter_value(
                    {
                        "data_element": element,
                        "org_unit": unit,
                        "period": period,
                        "value": value,
                    }
                )
    for year in ("2025", "2026"):
        for quarter in ("Q1",):
            rpc.indicators.approve(
                {"org_unit": f"cd:{MRC}", "period": year + quarter, "by": "coord"}
            )
    return rpc.indicators.dashboard({"org_unit": MRC, "lang": "fr"})


def test_a_person_reads_the_mrc_dashboard_with_suppressed_cells_said_so(
    page: Any, indicator_values: dict[str, Any]
) -> None:
    page.goto(f"/indicateurs?mrc={MRC}")
    panels = page.locator("section.panel")
    expected = indicator_values["indicators"]
    assert panels.count() == len(expected) > 0
    assert page.locator("svg.chart[role=img]").count() == len(expected)
    for index, item in enumerate(expected):
        panel = panels.nth(index)
        assert item["name"] in panel.locator("h2").inner_text()
        assert item["definition"] in panel.inner_text()
        cells = panel.locator("tbody td").all_inner_texts()
        points = item["series"][0]["points"]
        assert len(cells) == len(points)
        for point, cell in zip(points, cells, strict=True):
            if point["suppressed"]:
                assert cell == "supprimé"
            elif point["value"] is None:
                assert cell == "—"
            else:
                assert cell not in ("supprimé", "—")
    assert_accessible(page)
    screenshot(page, "indicators-dashboard")


def test_a_person_picks_a_period_and_the_tables_and_charts_show_only_it(
    browser: Any, site: str, page: Any, indicator_values: dict[str, Any]
) -> None:
    page.goto(f"/indicateurs?mrc={MRC}")
    picker = page.get_by_label("Période")
    offered = picker.locator("option").all_inner_texts()
    assert offered == ["Toutes les périodes", "2025", "2026"]
    first = page.locator("section.panel").first
    assert first.locator("tbody th").all_inner_texts() == ["2025", "2026"]
    # the chart of the first indicator that has data (one without says so, no axes)
    drawn = page.locator("section.panel:has(svg.chart:not(.empty))").first
    chart_before = drawn.locator("svg.chart").inner_html()
    # choose in the labelled list, then submit from the keyboard
    picker.focus()
    picker.select_option("2026")
    page.get_by_role("button", name="Afficher").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"periode=2026"))
    expect(page.get_by_role("status")).to_have_text("Période affichée : 2026.")
    expect(page.get_by_label("Période")).to_have_value("2026")
    panels = page.locator("section.panel")
    assert panels.count() == len(indicator_values["indicators"])
    for index, item in enumerate(indicator_values["indicators"]):
        panel = panels.nth(index)
        assert panel.locator("tbody th").all_inner_texts() == ["2026"]
        (point,) = [p for p in item["series"][0]["points"] if p["period"] == "2026"]
        (cell,) = panel.locator("tbody td").all_inner_texts()
        if point["suppressed"]:
            assert cell == "supprimé"
    drawn = page.locator("section.panel:has(svg.chart:not(.empty))").first
    chart_after = drawn.locator("svg.chart").inner_html()
    assert chart_after != chart_before
    assert ">2026<" in chart_after and ">2025<" not in chart_after
    assert_accessible(page)
    screenshot(page, "indicators-period")

    # the same form without JavaScript, in English
    context = new_context(browser, site, java_script_enabled=False)
    try:
        plain = context.new_page()
        plain.goto(f"/indicateurs?mrc={MRC}&lang=en")
        plain.get_by_label("Period").select_option("2025")
        plain.get_by_role("button", name="Show").click()
        expect(plain.get_by_role("status")).to_have_text("Period shown: 2025.")
        rows = plain.locator("section.panel").first.locator("tbody th")
        assert rows.all_inner_texts() == ["2025"]
    finally:
        context.close()

    # a period the dashboard does not offer is named, and every period is shown
    response = page.goto(f"/indicateurs?mrc={MRC}&periode=1999")
    assert response.status == 422
    expect(page.get_by_role("alert")).to_contain_text("« 1999 » n'est pas une période")
    expect(page.get_by_label("Période")).to_have_attribute("aria-invalid", "true")
    assert page.locator("section.panel").first.locator("tbody th").count() == 2
    assert_accessible(page)


# --- administration ------------------------------------------------------------------


@pytest.fixture(scope="module")
def admin_token(running_node: dict[str, Any], site: str) -> str:
    """A node administrator made as ``maillage gateway create-account`` does,
    signed in through the gateway."""
    from gateway.auth import hash_password
    from gateway.store import GatewayStore
    from shared.mongo import make_client

    config = running_node["config"]
    client = make_client(config["MONGODB_URI"])
    try:
        GatewayStore(lambda: client, f"{config['DB_PREFIX']}gateway").add_account(
            {
                "username": "admin",
                "password_hash": hash_password("un mot de passe assez long"),
                "role": "node_admin",
                "mrc": "2456",
                "display_name": "Admin",
            }
        )
    finally:
        client.close()
    answer = requests.post(
        f"{site}/auth/token",
        json={"username": "admin", "password": "un mot de passe assez long"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


def test_an_administrator_sees_the_node_status_and_federation(
    browser: Any, site: str, admin_token: str
) -> None:
    anonymous = requests.get(f"{site}/admin", timeout=10)
    assert anonymous.status_code == 401
    context = new_context(
        browser, site, extra_http_headers={"Authorization": f"Bearer {admin_token}"}
    )
    try:
        tab = context.new_page()
        tab.goto("/admin")
        assert tab.locator("h1").count() == 1, tab.content()[:500]
        expect(tab.locator("h1")).to_have_text("Administration du nœud")
        rows = tab.locator("section[aria-labelledby=status-h] tbody tr")
        states = {
            rows.nth(i).locator("th").inner_text(): rows.nth(i)
            .locator("td")
            .inner_text()
            for i in range(rows.count())
        }
        for service in ("boards", "offerings", "participation"):
            assert "en marche" in states[service]
        assert tab.get_by_role("heading", name="Fédération").is_visible()
        accounts = tab.locator("section[aria-labelledby=acc-h] tbody").inner_text()
        assert "admin" in accounts and "node_admin" in accounts
        assert "argon2" not in tab.content()
        assert_accessible(tab)
        screenshot(tab, "admin")
    finally:
        context.close()
