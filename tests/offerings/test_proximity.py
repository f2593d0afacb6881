"""'Near me' on the real store: a municipality picked by name (the offline
gazetteer), the browser's position, a postal code only with a loaded file;
nearest first, and a confidential location never in a distance."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymongo
import pytest
from nameko.testing.services import worker_factory

from services.offerings.dependencies import PlacesHandle
from services.offerings.gazetteer import Gazetteer, Place, load_gazetteer
from services.offerings.repository import LiveIndex, OfferingsRepository
from services.offerings.service import OfferingsService
from shared.errors import Invalid
from shared.store import StoreHandle
from tests.offerings.test_service import ANA, FakeOutbox

pytestmark = pytest.mark.integration

SAINT_JEAN = "2456083"  # Saint-Jean-sur-Richelieu
CHAMBLY = "2457005"


def make_service(store_uri: str, db_prefix: str, geo: Any, places: PlacesHandle):
    client: pymongo.MongoClient = pymongo.MongoClient(store_uri, tz_aware=True)
    db = client[f"{db_prefix}offerings"]
    OfferingsRepository(db).ensure_indexes()
    worker = worker_factory(
        OfferingsService,
        store=StoreHandle(client, db),
        outbox=FakeOutbox(),
        geo=geo,
        search_index=LiveIndex(),
        places=places,
    )
    return worker, client, db


@pytest.fixture
def service(store_uri: str, db_prefix: str, geo, data_dir: Path) -> Iterator[Any]:
    worker, client, db = make_service(
        store_uri, db_prefix, geo, PlacesHandle(str(data_dir / "quebec_geo"), "")
    )
    yield worker
    client.drop_database(db.name)
    client.close()


def _place(service: Any, org_id: str, name: str, **location: Any) -> str:
    created = service.create_location({"name": name, **location}, user=ANA)
    service.publish_location(created["id"], user=ANA)
    return created["id"]


@pytest.fixture
def region(service) -> dict[str, str]:
    """Four published services around the Haut-Richelieu; the shelter sits in
    Chambly, nearer Saint-Jean than Montréal is, at a confidential location."""
    org = service.create_organization(
        {"name": "Entraide Montérégie", "description": "Entraide"}, user=ANA
    )
    service.publish_organization(org["id"], user=ANA)
    where = {
        "pantry": _place(
            service,
            org["id"],
            "Comptoir alimentaire",
            mrc_code="2456",
            municipality_code=SAINT_JEAN,
            latitude=45.3071,
            longitude=-73.2626,
        ),
        "granby": _place(
            service,
            org["id"],
            "Centre de Granby",
            mrc_code="2447",
            latitude=45.4001,
            longitude=-72.7324,
        ),
        "montreal": _place(
            service,
            org["id"],
            "Local de Montréal",
            mrc_code="2466",
            latitude=45.5088,
            longitude=-73.5878,
        ),
        "shelter": _place(
            service,
            org["id"],
            "Maison d'hébergement",
            mrc_code="2457",
            municipality_code=CHAMBLY,
            confidential_location=True,
            latitude=45.4501,
            longitude=-73.2825,
        ),
        "nowhere": _place(service, org["id"], "Sans coordonnées", mrc_code="2456"),
    }
    ids = {}
    for key, name in (
        ("pantry", "Dépannage alimentaire"),
        ("granby", "Aide aux devoirs"),
        ("montreal", "Popote roulante"),
        ("shelter", "Hébergement d'urgence"),
        ("nowhere", "Écoute téléphonique"),
    ):
        created = service.create_service(
            {
                "organization_id": org["id"],
                "name": name,
                "location_ids": [where[key]],
            },
            user=ANA,
        )
        service.publish_service(created["id"], user=ANA)
        ids[key] = created["id"]
    return ids


def _near(service: Any, **params: Any) -> dict[str, Any]:
    return service.search({"per_page": 50, **params})


def test_a_municipality_is_found_by_its_name_without_accents_or_census_code(service):
    found = service.find_places("st-jean-sur-richelieu")["places"]
    assert found[0]["code"] == SAINT_JEAN
    assert found[0]["name"] == "Saint-Jean-sur-Richelieu"
    assert found[0]["mrc_name"] == "Le Haut-Richelieu"
    assert found[0]["placed"] is True
    assert 45.2 < found[0]["latitude"] < 45.4
    assert service.find_places("MONTREAL")["places"][0]["code"] == "2466023"


def test_the_list_to_pick_from_holds_only_placed_municipalities(service):
    listed = service.find_places("")
    assert listed["gazetteer"] is True and listed["postal_codes"] is False
    assert len(listed["places"]) > 300
    assert all(p["placed"] for p in listed["places"])
    names = [p["name"] for p in listed["places"]]
    assert "Rimouski" in names and "Sherbrooke" in names


def test_services_near_a_municipality_come_nearest_first_with_their_distance(
    service, region
):
    page = _near(service, near_municipality=SAINT_JEAN)
    order = [item["id"] for item in page["contents"]]
    assert order[:3] == [region["pantry"], region["montreal"], region["granby"]]
    distances = {item["id"]: item["distance_km"] for item in page["contents"]}
    assert distances[region["pantry"]] < 1
    assert 25 < distances[region["montreal"]] < 35
    assert 38 < distances[region["granby"]] < 48
    assert page["near"] == {
        "kind": "municipality",
        "code": SAINT_JEAN,
        "name": "Saint-Jean-sur-Richelieu",
    }


def test_a_shelter_is_never_in_a_distance_even_when_it_is_the_nearest(service, region):
    page = _near(service, near_municipality=CHAMBLY, full=True)
    by_id = {item["id"]: item for item in page["contents"]}
    # 0 km from Chambly in the store, yet listed last, with no distance
    assert by_id[region["shelter"]]["distance_km"] is None
    order = [i["id"] for i in page["contents"]]
    assert set(order[-2:]) == {region["shelter"], region["nowhere"]}
    assert page["contents"][0]["id"] == region["pantry"]
    shelter_location = by_id[region["shelter"]]["service_at_locations"][0]["location"]
    assert "latitude" not in shelter_location and "longitude" not in shelter_location
    # within 5 km of Chambly: nothing at all, the shelter is not "near"
    close = _near(service, near_municipality=CHAMBLY, within_km=5)
    assert close["total_items"] == 0 and close["contents"] == []


def test_the_shelter_is_out_of_distances_for_staff_too(service, region):
    page = service.search(
        {"near_latitude": 45.4501, "near_longitude": -73.2825, "within_km": 3},
        audience="confidential",
    )
    assert page["contents"] == []


def test_the_browsers_position_sorts_by_distance_too(service, region):
    page = _near(service, near_latitude=45.40, near_longitude=-72.73)
    assert page["contents"][0]["id"] == region["granby"]
    assert page["contents"][0]["distance_km"] < 1
    assert page["near"] == {"kind": "position"}


def test_within_a_radius_keeps_only_the_services_inside_it(service, region):
    page = _near(service, near_municipality=SAINT_JEAN, within_km=36)
    assert {i["id"] for i in page["contents"]} == {region["pantry"], region["montreal"]}
    assert page["total_items"] == 2


def test_text_and_distance_combine(service, region):
    page = _near(service, near_municipality=SAINT_JEAN, search="popote")
    assert [i["id"] for i in page["contents"]] == [region["montreal"]]


def test_a_municipality_the_gazetteer_cannot_place_is_refused_naming_it(service):
    # two Quebec municipalities are named Saint-Alphonse: it is not guessed
    found = service.find_places("Saint-Alphonse")["places"]
    assert found and not any(
        p["placed"] for p in found if p["name"] == "Saint-Alphonse"
    )
    with pytest.raises(Invalid) as caught:
        service.search({"near_municipality": found[0]["code"]})
    (reason,) = caught.value.fields["near_municipality"]
    assert "choisissez une ville voisine" in reason
    assert "choose a neighbouring town" in reason


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"near_latitude": 45.3}, "near_longitude"),
        ({"near_longitude": -73.2}, "near_latitude"),
        ({"within_km": 10}, "within_km"),
        ({"near_municipality": "2456"}, "near_municipality"),
        ({"near_latitude": 95, "near_longitude": 0}, "near_latitude"),
        (
            {"near_municipality": SAINT_JEAN, "near_latitude": 1, "near_longitude": 1},
            "near_latitude",
        ),
        ({"near_municipality": "2499999"}, "near_municipality"),
    ],
)
def test_a_bad_starting_point_is_a_field_error(service, params, field):
    with pytest.raises(Invalid) as caught:
        service.search(params)
    assert field in caught.value.fields


def test_a_postal_code_is_refused_while_no_file_is_loaded(service):
    with pytest.raises(Invalid) as caught:
        service.search({"near_postal_code": "J3B 6V4"})
    (reason,) = caught.value.fields["near_postal_code"]
    assert "OFFERINGS_POSTAL_CODES" in reason
    assert "aucun fichier" in reason and "no postal-code file" in reason


def test_a_loaded_postal_code_file_places_a_code_by_its_area(
    store_uri, db_prefix, geo, data_dir, tmp_path
):
    # GeoNames' postal-code format (CA: forward sortation areas only)
    codes = tmp_path / "CA.txt"
    codes.write_text(
        "CA\tJ3B\tSaint-Jean-sur-Richelieu Central\tQuebec\tQC\t\t\t\t\t45.3071\t-73.2626\t6\n"
        "CA\tJ2G\tGranby Central\tQuebec\tQC\t\t\t\t\t45.4001\t-72.7324\t6\n",
        encoding="utf-8",
    )
    worker, client, db = make_service(
        store_uri,
        db_prefix,
        geo,
        PlacesHandle(str(data_dir / "quebec_geo"), str(codes)),
    )
    try:
        assert worker.find_places("")["postal_codes"] is True
        org = worker.create_organization(
            {"name": "Org", "description": "Entraide"}, user=ANA
        )
        worker.publish_organization(org["id"], user=ANA)
        loc = _place(
            worker, org["id"], "Granby", mrc_code="2447", latitude=45.4, longitude=-72.7
        )
        made = worker.create_service(
            {"organization_id": org["id"], "name": "Aide", "location_ids": [loc]},
            user=ANA,
        )
        worker.publish_service(made["id"], user=ANA)
        page = worker.search({"near_postal_code": "j2g 1a1"})
        assert page["near"] == {"kind": "postal_code", "code": "J2G1A1"}
        assert page["contents"][0]["distance_km"] < 5
        with pytest.raises(Invalid) as caught:
            worker.search({"near_postal_code": "H0H 0H0"})
        assert "near_postal_code" in caught.value.fields
    finally:
        client.drop_database(db.name)
        client.close()


def test_without_geonames_data_no_municipality_is_placed(data_dir):
    rows = [{"id": "ocd-division/country:ca/csd:2456083", "name": "Saint-Jean"}]
    gazetteer = Gazetteer.build(rows, {"2456": "Le Haut-Richelieu"}, [])
    assert gazetteer.get("2456083") == Place(
        "2456083", "Saint-Jean", "2456", "Le Haut-Richelieu"
    )
    assert gazetteer.placed() == []


def test_the_gazetteer_reads_geonames_places_of_quebec_only(data_dir):
    gazetteer = load_gazetteer(str(data_dir / "quebec_geo"))
    assert gazetteer is not None
    rimouski = gazetteer.find("Rimouski")[0]
    assert (round(rimouski.latitude or 0), round(rimouski.longitude or 0)) == (48, -69)
    # "London" is in Ontario, not a Quebec municipality
    assert gazetteer.find("London") == []
