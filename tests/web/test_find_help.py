"""Find help's pages on the real gateway app and the real offerings service.

The gateway's RPC port is subclassed to call an in-process
:class:`OfferingsService` (nameko ``worker_factory``) on the real store, so
every answer is the service's own public view; a werkzeug client reads the
pages as a browser without JavaScript would.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymongo
import pytest
from werkzeug.test import Client

from gateway.app import create_app
from gateway.rpc import RpcPool
from gateway.web import core
from services.offerings.dependencies import PlacesHandle
from services.offerings.hsds import empty_dataset
from services.offerings.imports import load_geo
from services.offerings.repository import LiveIndex, OfferingsRepository
from services.offerings.service import OfferingsService
from shared.store import StoreHandle
from tests.offerings.builders import uid
from tests.offerings.test_service import ANA, FakeOutbox

pytestmark = pytest.mark.integration

HTML = {"Accept": "text/html"}


class InProcessOfferings(RpcPool):
    """The gateway's RPC port, answered by the offerings service in-process."""

    def __init__(self, worker: Any) -> None:
        super().__init__("amqp://in-process/")
        self.worker = worker

    def call(self, service: str, method: str, *args: Any, **kwargs: Any) -> Any:
        assert service == "offerings", service
        kwargs.pop("correlation_id", None)
        kwargs.pop("timeout", None)
        # through JSON, as over AMQP
        answer = getattr(self.worker, method)(*args, **kwargs)
        return json.loads(json.dumps(answer, default=str))


@pytest.fixture
def offerings(store_uri, db_prefix, data_dir: Path) -> Iterator[Any]:
    client: pymongo.MongoClient = pymongo.MongoClient(store_uri, tz_aware=True)
    db = client[f"{db_prefix}offerings"]
    OfferingsRepository(db).ensure_indexes()
    from nameko.testing.services import worker_factory

    worker = worker_factory(
        OfferingsService,
        store=StoreHandle(client, db),
        outbox=FakeOutbox(),
        geo=load_geo(data_dir / "quebec_geo"),
        search_index=LiveIndex(),
        places=PlacesHandle(str(data_dir / "quebec_geo"), ""),
    )
    yield worker
    client.drop_database(db.name)
    client.close()


@pytest.fixture
def directory(offerings) -> dict[str, str]:
    """A pantry in Saint-Jean (English text too), a centre in Granby, and a
    shelter in Chambly at a confidential location, all under one theme."""
    taxonomy_term = _theme(offerings)
    org = offerings.create_organization(
        {"name": "Entraide Montérégie", "description": "Entraide"}, user=ANA
    )
    offerings.publish_organization(org["id"], user=ANA)

    def location(name: str, **fields: Any) -> str:
        made = offerings.create_location({"name": name, **fields}, user=ANA)
        offerings.publish_location(made["id"], user=ANA)
        return made["id"]

    pantry = location(
        "Comptoir alimentaire",
        mrc_code="2456",
        latitude=45.3071,
        longitude=-73.2626,
        addresses=[
            {
                "address_1": "12, rue Champlain",
                "city": "Saint-Jean",
                "postal_code": "J3B 6V4",
            }
        ],
    )
    granby = location(
        "Centre de Granby", mrc_code="2447", latitude=45.4001, longitude=-72.7324
    )
    shelter = location(
        "Maison d'hébergement",
        mrc_code="2457",
        confidential_location=True,
        latitude=45.4501,
        longitude=-73.2825,
        addresses=[
            {"address_1": "99, rue Cachée", "city": "Chambly", "postal_code": "J3L 0A1"}
        ],
    )
    ids = {}
    for key, fields in (
        (
            "pantry",
            {
                "name": "Dépannage alimentaire",
                "name_en": "Emergency food",
                "description": "Paniers de nourriture chaque semaine",
                "description_en": "Food baskets every week",
                "fees_description": "Gratuit",
                "fees_description_en": "Free",
                "location_ids": [pantry],
            },
        ),
        ("granby", {"name": "Aide aux devoirs", "location_ids": [granby]}),
        ("shelter", {"name": "Hébergement d'urgence", "location_ids": [shelter]}),
    ):
        made = offerings.create_service(
            {
                "organization_id": org["id"],
                "taxonomy_term_ids": [taxonomy_term],
                **fields,
            },
            user=ANA,
        )
        offerings.publish_service(made["id"], user=ANA)
        ids[key] = made["id"]
    ids["term"] = taxonomy_term
    return ids


def _theme(offerings: Any) -> str:
    """A taxonomy term, written as the importer writes it (no RPC creates one)."""
    data = empty_dataset()
    taxonomy, term = uid("taxonomy-needs"), uid("term-food")
    data["taxonomy"][taxonomy] = {
        "id": taxonomy,
        "name": "Besoins",
        "description": "Besoins",
    }
    data["taxonomy_term"][term] = {
        "id": term,
        "taxonomy_id": taxonomy,
        "code": "BD",
        "name": "Alimentation",
        "description": "Aide alimentaire",
    }
    offerings.repository.upsert(data, "test", session=None)
    return term


@pytest.fixture
def site(offerings, store_uri, db_prefix) -> Iterator[Client]:
    app = create_app(
        {
            "AMQP_URI": "amqp://in-process/",
            "MONGODB_URI": store_uri,
            "NODE_ID": "mrc-2456",
            "DB_PREFIX": db_prefix,
            "ENV": "dev",
        }
    )
    app.rpc = InProcessOfferings(offerings)
    yield Client(app)
    core.settings.pop("MAILLAGE_MAP_TILES", None)


def _get(site: Client, url: str) -> tuple[int, str, Any]:
    response = site.get(url, headers=HTML)
    return response.status_code, response.get_data(as_text=True), response.headers


def test_a_municipality_typed_by_name_sorts_services_by_distance(site, directory):
    status, html, _ = _get(site, "/aide?near=st-jean-sur-richelieu")
    assert status == 200
    assert "Du plus proche au plus loin de Saint-Jean-sur-Richelieu." in html
    names = re.findall(r'<h3><a href="/aide/services/[^"]+">([^<]+)</a>', html)
    assert names[:2] == ["Dépannage alimentaire", "Aide aux devoirs"]
    assert "à 0,0 km" in html and "à 43 km" in html
    # the shelter is listed, never measured
    assert names[-1] == "Hébergement d&#39;urgence"
    assert "distance non indiquée" in html
    assert "Cachée" not in html


def test_without_tiles_the_page_says_the_map_needs_the_setting(site, directory):
    _, html, _ = _get(site, "/aide?near=Granby")
    assert "MAILLAGE_MAP_TILES" in html
    assert 'id="results-map"' not in html and "leaflet.js" not in html


def test_with_tiles_the_map_shows_public_places_only(site, directory):
    core.settings["MAILLAGE_MAP_TILES"] = "https://tiles.example.org/{z}/{x}/{y}.png"
    _, html, headers = _get(site, "/aide?near=Chambly")
    points = json.loads(
        re.search(r'data-points="([^"]*)"', html).group(1).replace("&#34;", '"')
    )
    names = {p["name"] for p in points}
    assert names == {"Dépannage alimentaire", "Aide aux devoirs"}
    assert all(abs(p["lat"] - 45.4501) > 0.01 for p in points)  # no shelter
    assert "/static/leaflet/leaflet.js" in html
    assert (
        "img-src 'self' data: https://tiles.example.org;"
        in (headers["Content-Security-Policy"])
    )
    assert headers["Permissions-Policy"].startswith("geolocation=(self)")


def test_the_node_serves_leaflet_from_its_python_package(site):
    js = site.get("/static/leaflet/leaflet.js")
    assert js.status_code == 200 and b"Leaflet" in js.data[:400]
    assert site.get("/static/leaflet/leaflet.css").mimetype == "text/css"
    assert site.get("/static/leaflet/images/marker-icon.png").mimetype == "image/png"
    assert site.get("/static/leaflet/leaflet-src.js.map").status_code == 404
    assert site.get("/static/leaflet/images/..%2F__init__.py").status_code == 404


def test_a_name_two_municipalities_share_is_not_guessed(site, directory):
    status, html, _ = _get(site, "/aide?near=Saint-Alphonse")
    assert status == 422
    assert "n&#39;est pas situé dans notre répertoire géographique" in html


def test_an_unknown_municipality_is_said_so_in_english(site, directory):
    status, html, _ = _get(site, "/aide?near=Atlantis&lang=en")
    assert status == 422
    assert "is not a Quebec municipality we know" in html


def test_without_a_postal_code_file_the_page_says_so_instead_of_offering_it(
    site, directory
):
    _, html, _ = _get(site, "/aide")
    assert 'name="postal_code"' not in html
    assert "OFFERINGS_POSTAL_CODES" in html
    # the municipalities to pick from, by name
    assert '<option value="Saint-Jean-sur-Richelieu">' in html


def test_a_browser_position_sorts_by_distance(site, directory):
    _, html, _ = _get(site, "/aide?near_latitude=45.40&near_longitude=-72.73")
    names = re.findall(r'<h3><a href="/aide/services/[^"]+">([^<]+)</a>', html)
    assert names[0] == "Aide aux devoirs"
    assert "Du plus proche au plus loin de votre position." in html


def test_browsing_a_theme_lists_its_services(site, directory):
    _, html, _ = _get(site, "/aide")
    assert f'href="/aide?taxonomy_term_id={directory["term"]}"' in html
    _, html, _ = _get(site, f"/aide?taxonomy_term_id={directory['term']}")
    assert "Thème : Alimentation" in html
    assert "3 service(s) trouvé(s)" in html


def test_english_readers_get_the_english_text_and_search_it(site, directory):
    _, html, _ = _get(site, "/aide?search=food+baskets&lang=en")
    assert "Emergency food" in html and "Food baskets every week" in html
    _, html, _ = _get(site, f"/aide/services/{directory['pantry']}?lang=en")
    assert "<h1>Emergency food</h1>" in html and "Free" in html
    _, html, _ = _get(site, f"/aide/services/{directory['pantry']}?lang=fr")
    assert "<h1>Dépannage alimentaire</h1>" in html and "Gratuit" in html
    # no English text: the French one, rather than nothing
    _, html, _ = _get(site, f"/aide/services/{directory['granby']}?lang=en")
    assert "<h1>Aide aux devoirs</h1>" in html


def test_accent_free_search_finds_french_text(site, directory):
    _, html, _ = _get(site, "/aide?search=DEPANNAGE")
    assert "Dépannage alimentaire" in html
