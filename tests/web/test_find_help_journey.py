"""A visitor finds help near them, in a real browser against a running node.

Headless Chromium (Debian's) on the gateway under gunicorn, the services as
their own processes, the real store. The node's map tiles are a path on the
node itself (``MAILLAGE_MAP_TILES``), so the map is drawn and no tile is ever
fetched from the internet (they answer 404: a grey map, markers on it).
Screenshots at phone and laptop widths go to ``test-output/web``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pymongo
import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from playwright.sync_api import expect

from services.offerings.hsds import empty_dataset
from services.offerings.repository import OfferingsRepository
from tests.offerings.builders import uid
from tests.web.conftest import assert_accessible, new_context, screenshot

pytestmark = [pytest.mark.e2e]

STAFF = {"id": "secretariat@mrc.example"}
TILES = "/tuiles-absentes/{z}/{x}/{y}.png"
LAPTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module", autouse=True)
def map_tiles() -> Iterator[None]:
    """Set before the module's node starts (autouse fixtures come first)."""
    before = os.environ.get("MAILLAGE_MAP_TILES")
    os.environ["MAILLAGE_MAP_TILES"] = TILES
    yield
    if before is None:
        os.environ.pop("MAILLAGE_MAP_TILES", None)
    else:
        os.environ["MAILLAGE_MAP_TILES"] = before


@pytest.fixture(scope="module")
def rpc(running_node: dict[str, Any]) -> Any:
    with ClusterRpcProxy(running_node["config"], timeout=30) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def site(running_node: dict[str, Any]) -> str:
    return running_node["base_url"]


@pytest.fixture(scope="module")
def directory(rpc: Any, running_node: dict[str, Any]) -> dict[str, str]:
    """Around Saint-Jean-sur-Richelieu: a pantry (French and English text,
    weekday hours), a centre in Granby, and a shelter in Chambly at a
    confidential location (nearer than Granby), all under one theme."""
    config = running_node["config"]
    client: pymongo.MongoClient = pymongo.MongoClient(config["MONGODB_URI"])
    repository = OfferingsRepository(client[f"{config['DB_PREFIX']}offerings"])
    themes = empty_dataset()
    taxonomy, term = uid("journey-needs"), uid("journey-food")
    themes["taxonomy"][taxonomy] = {
        "id": taxonomy,
        "name": "Besoins",
        "description": "Besoins de base",
    }
    themes["taxonomy_term"][term] = {
        "id": term,
        "taxonomy_id": taxonomy,
        "code": "BD",
        "name": "Alimentation",
        "description": "Aide alimentaire",
    }
    repository.upsert(themes, "test", session=None)

    org = rpc.offerings.create_organization(
        {"name": "Entraide Montérégie", "description": "Entraide"}, user=STAFF
    )
    rpc.offerings.publish_organization(org["id"], user=STAFF)

    def location(name: str, **fields: Any) -> str:
        made = rpc.offerings.create_location({"name": name, **fields}, user=STAFF)
        rpc.offerings.publish_location(made["id"], user=STAFF)
        return made["id"]

    where = {
        "pantry": location(
            "Comptoir alimentaire",
            mrc_code="2456",
            municipality_code="2456083",
            latitude=45.3071,
            longitude=-73.2626,
            addresses=[
                {
                    "address_1": "12, rue Champlain",
                    "city": "Saint-Jean-sur-Richelieu",
                    "postal_code": "J3B 6V4",
                }
            ],
        ),
        "granby": location(
            "Centre de Granby", mrc_code="2447", latitude=45.4001, longitude=-72.7324
        ),
        "shelter": location(
            "Maison d'hébergement",
            mrc_code="2457",
            municipality_code="2457005",
            confidential_location=True,
            latitude=45.4501,
            longitude=-73.2825,
            addresses=[
                {
                    "address_1": "99, rue Cachée",
                    "city": "Chambly",
                    "postal_code": "J3L 0A1",
                }
            ],
        ),
    }
    texts = {
        "pantry": {
            "name": "Dépannage alimentaire",
            "name_en": "Emergency food aid",
            "description": "Paniers de nourriture chaque semaine.",
            "description_en": "Food baskets every week.",
            "fees_description": "Gratuit",
            "fees_description_en": "Free of charge",
        },
        "granby": {"name": "Cuisine collective de Granby"},
        "shelter": {"name": "Hébergement d'urgence pour femmes"},
    }
    ids = {"term": term}
    for key, text in texts.items():
        made = rpc.offerings.create_service(
            {
                "organization_id": org["id"],
                "taxonomy_term_ids": [term],
                "location_ids": [where[key]],
                **text,
            },
            user=STAFF,
        )
        rpc.offerings.publish_service(made["id"], user=STAFF)
        ids[key] = made["id"]
    hours = empty_dataset()
    hours["schedule"][uid("journey-hours")] = {
        "id": uid("journey-hours"),
        "service_id": ids["pantry"],
        "freq": "WEEKLY",
        "byday": "MO,TU,WE,TH,FR",
        "opens_at": "09:00",
        "closes_at": "17:00",
    }
    repository.upsert(hours, "test", session=None)
    client.close()
    return ids


@pytest.fixture
def context(browser: Any, site: str) -> Iterator[Any]:
    ctx = new_context(browser, site)
    yield ctx
    ctx.close()


def both_widths(page: Any, name: str) -> None:
    screenshot(page, f"{name}-phone")
    page.set_viewport_size(LAPTOP)
    screenshot(page, f"{name}-laptop")
    page.set_viewport_size({"width": 390, "height": 844})


def test_a_visitor_finds_help_near_a_town_picked_by_name_then_reads_it_in_english(
    context: Any, directory: dict[str, str]
) -> None:
    page = context.new_page()
    page.goto("/aide")
    assert_accessible(page)
    page.get_by_label("Votre municipalité").fill("Saint-Jean-sur-Richelieu")
    page.get_by_role("button", name="Chercher").click()
    expect(page).to_have_url(re.compile(r"/aide\?.*near=Saint-Jean"))

    cards = page.locator("ul.results > li")
    expect(cards).to_have_count(3)
    assert "Dépannage alimentaire" in cards.nth(0).inner_text()
    assert "à 0,0 km" in cards.nth(0).inner_text()
    assert "Cuisine collective de Granby" in cards.nth(1).inner_text()
    # the shelter, nearer than Granby, is listed last and never measured
    last = cards.nth(2).inner_text()
    assert "Hébergement d'urgence" in last and "distance non indiquée" in last
    assert "Cachée" not in page.content()

    # the map: one marker per public place, none for the shelter
    the_map = page.locator("#results-map")
    expect(the_map).to_have_attribute("data-drawn", "2")
    markers = page.locator(".leaflet-marker-icon")
    expect(markers).to_have_count(2)
    titles = {markers.nth(i).get_attribute("title") for i in range(2)}
    assert titles == {"Dépannage alimentaire", "Cuisine collective de Granby"}
    assert_accessible(page)
    both_widths(page, "find-help-near")

    # browse the theme
    page.get_by_role("navigation", name="Parcourir par thème").get_by_role(
        "link", name="Alimentation"
    ).click()
    expect(
        page.get_by_role("heading", level=2, name=re.compile("Thème"))
    ).to_contain_text("Alimentation")
    expect(page.locator("ul.results > li")).to_have_count(3)
    assert_accessible(page)

    # the pantry's page: hours in words and whether it is open now
    page.get_by_role("link", name="Dépannage alimentaire").click()
    expect(page).to_have_url(re.compile(f"/aide/services/{directory['pantry']}$"))
    hours = page.locator("section[aria-labelledby='hours-h']").inner_text()
    assert "Du lundi au vendredi, de 9 h à 17 h" in hours
    assert "Ouvert maintenant" in hours or "Fermé en ce moment" in hours
    assert "Gratuit" in page.locator("main").inner_text()
    assert_accessible(page)
    both_widths(page, "find-help-service-fr")

    # switch to English: the English text, hours in English words
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Emergency food aid")
    main = page.locator("main").inner_text()
    assert "Food baskets every week." in main and "Free of charge" in main
    assert "Monday to Friday, 9 a.m. to 5 p.m." in main
    assert "Open now" in main or "Closed right now" in main
    assert_accessible(page)
    both_widths(page, "find-help-service-en")

    # back to the search, in English, where the same results read in English
    page.goto("/aide?near=Saint-Jean-sur-Richelieu")
    first = page.locator("ul.results > li").nth(0).inner_text()
    assert "Emergency food aid" in first and "0.0 km away" in first
    assert "no distance given" in page.locator("ul.results > li").nth(2).inner_text()


def test_a_visitor_who_allows_the_position_gets_the_nearest_first(
    browser: Any, site: str, directory: dict[str, str]
) -> None:
    ctx = new_context(
        browser,
        site,
        geolocation={"latitude": 45.40, "longitude": -72.73},
        permissions=["geolocation"],
    )
    try:
        page = ctx.new_page()
        page.goto("/aide")
        page.get_by_role("button", name="Utiliser ma position").click()
        expect(page.locator("p.near-from")).to_contain_text("votre position")
        first = page.locator("ul.results > li").nth(0).inner_text()
        assert "Cuisine collective de Granby" in first
        assert_accessible(page)
        screenshot(page, "find-help-position-phone")
    finally:
        ctx.close()


def test_the_search_works_with_the_keyboard_and_without_javascript(
    browser: Any, site: str, directory: dict[str, str]
) -> None:
    ctx = new_context(browser, site, java_script_enabled=False)
    try:
        page = ctx.new_page()
        page.goto("/aide?lang=en")
        # no script: no position button, the plain form still searches
        expect(page.get_by_role("button", name="Use my position")).to_be_hidden()
        page.get_by_label("Your municipality").fill("granby")
        page.get_by_label("Your municipality").press("Enter")
        expect(page.locator("p.near-from")).to_contain_text("Granby")
        first = page.locator("ul.results > li").nth(0).inner_text()
        assert "Cuisine collective de Granby" in first
        assert page.locator(".leaflet-marker-icon").count() == 0
        screenshot(page, "find-help-no-js-phone")
    finally:
        ctx.close()
