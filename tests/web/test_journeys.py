"""Journeys of people in a real browser against a running node.

Headless Chromium (Debian's) drives the gateway under gunicorn; the services
run as their own processes on a throwaway vhost with the real store. Data is
put in through the services' RPC, as staff tools do; then a person finds it
through the pages. Each journey saves a screenshot under ``test-output/web``
and runs axe-core on every page it visits.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy
from playwright.sync_api import expect

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
    return {"resolution": resolution}


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
    article = page.locator("article.resolution")
    assert article.count() == 1
    assert number in article.inner_text()
    assert "Pour 4, contre 0, abstentions 0" in article.inner_text()
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
