"""HSDS 3.0 as the specification defines it (issue 22), through HTTP on a real
gateway and a real offerings service holding the specification's examples and
a small Quebec directory: the API root, every declared parameter, the Quebec
profile published as profile patches, and the records the node serves
validated against the profile's schemas.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymongo
import pytest
from jsonschema import Draft202012Validator, FormatChecker
from nameko.containers import ServiceContainer
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.test import Client

from gateway.app import Gateway
from services.offerings.imports import import_path, load_geo
from services.offerings.service import OfferingsService
from tests.conftest import AMQP_HOST, BROKER
from tests.gateway.conftest import create_app, make_config

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

BASE = "http://localhost"
EXAMPLES = (
    "service_full.json",
    "organization_full.json",
    "taxonomy_list.json",
    "taxonomy_term_list.json",
    "service_at_location_full.json",
)
ORG, SERVICE, LOCATION, SAL = (str(uuid.UUID(int=i)) for i in (1, 2, 3, 4))
SHELTER, SHELTER_SERVICE, SHELTER_SAL = (str(uuid.UUID(int=i)) for i in (5, 6, 7))
QUEBEC = {
    "organization": [
        {"id": ORG, "name": "Popote Rive-Sud", "description": "Repas à domicile"}
    ],
    "location": [
        {
            "id": LOCATION,
            "location_type": "physical",
            "name": "Local de la popote",
            "mrc_code": "2458",
            "municipality_code": "2458227",
        },
        {
            "id": SHELTER,
            "location_type": "physical",
            "name": "Maison Aube",
            "mrc_code": "2458",
            "confidential_location": True,
            "latitude": 45.5,
            "longitude": -73.5,
        },
    ],
    "address": [
        {
            "id": str(uuid.UUID(int=8)),
            "location_id": SHELTER,
            "address_1": "99, rue Cachée",
            "city": "Saint-Lambert",
            "state_province": "QC",
            "postal_code": "J4X 1A1",
            "country": "CA",
            "address_type": "physical",
        }
    ],
    "service": [
        {
            "id": SERVICE,
            "organization_id": ORG,
            "name": "Popote roulante",
            "status": "active",
            "no_referral_required": True,
            "outreach_modes": "at_home",
            "waiting_list_open": True,
            "waiting_list_length": 12,
            "capacity": 40,
        },
        {
            "id": SHELTER_SERVICE,
            "organization_id": ORG,
            "name": "Hébergement d'urgence",
            "status": "active",
        },
    ],
    "service_area": [
        {"id": str(uuid.UUID(int=9)), "service_id": SERVICE, "name": "J4P, J4R"}
    ],
    "service_at_location": [
        {"id": SAL, "service_id": SERVICE, "location_id": LOCATION},
        {"id": SHELTER_SAL, "service_id": SHELTER_SERVICE, "location_id": SHELTER},
    ],
}


@pytest.fixture(scope="module")
def http(store_uri: str, data_dir: Path, tmp_path_factory: Any) -> Iterator[Client]:
    vhost = BROKER.add_vhost(prefix="test-hsds")
    prefix = f"hs{uuid.uuid4().hex[:8]}_"
    config = make_config(
        store_uri,
        prefix,
        AMQP_URI=f"amqp://guest:guest@{AMQP_HOST}/{vhost}",
        MRC_CODE="2458",
        QUEBEC_GEO_DIR=str(data_dir / "quebec_geo"),
    )
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        store_uri, tz_aware=True
    )
    db = client[f"{prefix}offerings"]
    geo = load_geo(data_dir / "quebec_geo")
    quebec = tmp_path_factory.mktemp("quebec") / "quebec.json"
    quebec.write_text(json.dumps(QUEBEC, ensure_ascii=False))
    for source in [data_dir / "hsds" / "examples" / n for n in EXAMPLES] + [quebec]:
        report = import_path(source, db, "test", geo)
        assert report.ok, [str(p) for p in report.problems]
    container = ServiceContainer(OfferingsService, dict(config))
    container.start()
    app: Gateway = create_app(config)
    try:
        yield Client(app)
    finally:
        app.rpc.close()
        container.stop()
        for name in ("gateway", "offerings"):
            client.drop_database(f"{prefix}{name}")
        client.close()
        BROKER.delete_vhost(vhost)


def ok(resp: Any) -> Any:
    assert resp.status_code == 200, (resp.status_code, resp.get_data(as_text=True))
    return resp.get_json()


def page(http: Client, path: str, **query: Any) -> dict[str, Any]:
    return ok(http.get(f"/hsds{path}", query_string=query))


def ids(http: Client, path: str, **query: Any) -> set[str]:
    return {item["id"] for item in page(http, path, per_page=200, **query)["contents"]}


# --- 1. the API root ---------------------------------------------------------------


def test_the_hsds_root_answers_version_profile_and_openapi_url(http: Client) -> None:
    for path in ("/hsds/", "/hsds"):
        root = ok(http.get(path))
        assert root == {
            "version": "3.0",
            "profile": f"{BASE}/hsds/profile",
            "openapi_url": f"{BASE}/hsds/openapi.json",
        }
    document = ok(http.get(root["openapi_url"].removeprefix(BASE)))
    assert document["openapi"].startswith("3.1")
    assert document["servers"] == [
        {"url": f"{BASE}/hsds", "description": "Ce nœud / this node"}
    ]
    assert set(document["paths"]) == set(
        json.loads(Path(HSDS_OPENAPI).read_text())["paths"]
    )
    profile = ok(http.get(root["profile"].removeprefix(BASE)))
    assert profile["hsds_version"] == "3.0"
    for url in (*profile["patches"].values(), *profile["schemas"].values()):
        ok(http.get(url.removeprefix(BASE)))


def test_the_hsds_paths_answer_under_the_root_and_where_they_were(
    http: Client,
) -> None:
    for path in ("/services", "/organizations", "/taxonomy_terms"):
        assert ok(http.get(path)) == ok(http.get(f"/hsds{path}"))
    assert ok(http.get(f"/services/{SERVICE}")) == ok(
        http.get(f"/hsds/services/{SERVICE}")
    )


# --- 2. every declared parameter ------------------------------------------------


def test_format_json_is_the_default_and_ndjson_streams_every_result_unpaged(
    http: Client,
) -> None:
    paged = page(http, "/services", per_page=1)
    assert page(http, "/services", per_page=1, format="json") == paged
    resp = http.get("/hsds/services", query_string={"format": "ndjson", "per_page": 1})
    assert resp.status_code == 200 and resp.mimetype == "application/x-ndjson"
    lines = [json.loads(line) for line in resp.get_data(as_text=True).splitlines()]
    assert len(lines) == paged["total_items"] > 1
    assert {line["id"] for line in lines} == ids(http, "/services")
    for route in ("/organizations", "/taxonomies", "/taxonomy_terms"):
        text = http.get(f"/hsds{route}?format=ndjson").get_data(as_text=True)
        assert len(text.splitlines()) == page(http, route)["total_items"], route


@pytest.mark.parametrize(
    "route",
    [
        "/services",
        "/organizations",
        "/service_at_locations",
        "/taxonomies",
        "/taxonomy_terms",
    ],
)
def test_a_format_the_reference_does_not_define_is_refused_naming_format(
    http: Client, route: str
) -> None:
    for lang in ("fr", "en"):
        resp = http.get(f"/hsds{route}?format=xml", headers={"Accept-Language": lang})
        assert resp.status_code == 422
        [reason] = resp.get_json()["error"]["fields"]["format"]
        assert ("Doit être parmi" in reason) == (lang == "fr"), reason


def test_proximity_is_refused_by_name_in_french_and_english_never_ignored(
    http: Client,
) -> None:
    resp = http.get("/hsds/service_at_locations?postcode=J4P0A2&proximity=5000")
    assert resp.status_code == 422
    [reason] = resp.get_json()["error"]["fields"]["proximity"]
    assert "centroïdes" in reason and "centroids" in reason


def test_postcode_keeps_services_whose_area_or_address_covers_it(
    http: Client,
) -> None:
    assert ids(http, "/service_at_locations", postcode="J4P 0A2") == {SAL}
    assert ids(http, "/service_at_locations", postcode="j4r1b1") == {SAL}
    assert ids(http, "/service_at_locations", postcode="H2X 1Y4") == set()


def test_postcode_never_finds_a_shelter_by_its_hidden_address(http: Client) -> None:
    assert ids(http, "/service_at_locations", postcode="J4X 1A1") == set()


def test_service_at_locations_filters_are_cumulative(http: Client) -> None:
    example = json.loads(Path(EXAMPLE_DIR, "service_full.json").read_text())
    term = example["attributes"][0]["taxonomy_term"]["id"]
    sal = example["service_at_locations"][0]["id"]
    assert ids(http, "/service_at_locations", organization_id=ORG) == {SAL, SHELTER_SAL}
    assert ids(http, "/service_at_locations", taxonomy_term_id=term) == {sal}
    assert (
        ids(http, "/service_at_locations", taxonomy_term_id=term, organization_id=ORG)
        == set()
    )
    assert ids(http, "/service_at_locations", search="roulante") == {SAL}
    full = page(http, "/service_at_locations", full="true", organization_id=ORG)
    assert all("schedules" in item for item in full["contents"])
    listed = page(http, "/service_at_locations", organization_id=ORG)
    assert not any(isinstance(v, list) for i in listed["contents"] for v in i.values())
    assert listed["total_items"] == 2


def test_taxonomy_terms_top_only_and_parent_id(http: Client) -> None:
    terms = page(http, "/taxonomy_terms", per_page=200)["contents"]
    children = {t["id"] for t in terms if t.get("parent_id")}
    parent = next(t["parent_id"] for t in terms if t.get("parent_id"))
    assert children
    assert (
        ids(http, "/taxonomy_terms", top_only="true")
        == {t["id"] for t in terms} - children
    )
    assert ids(http, "/taxonomy_terms", parent_id=parent) == {
        t["id"] for t in terms if t.get("parent_id") == parent
    }


def test_organizations_full_nests_them_and_full_service_nests_their_services(
    http: Client,
) -> None:
    listed = page(http, "/organizations", per_page=200)["contents"]
    assert not any("services" in o for o in listed)
    full = {o["id"]: o for o in page(http, "/organizations", full="true")["contents"]}
    assert {s["id"] for s in full[ORG]["services"]} == {SERVICE, SHELTER_SERVICE}
    assert not any(
        isinstance(v, list) for s in full[ORG]["services"] for v in s.values()
    )
    nested = page(http, "/organizations", full_service="true")["contents"]
    popote = next(o for o in nested if o["id"] == ORG)
    assert any("service_at_locations" in s for s in popote["services"])
    one = ok(http.get(f"/hsds/organizations/{ORG}?full_service=true"))
    assert any("service_at_locations" in s for s in one["services"])


def test_minimal_items_are_id_and_modified_date_only(http: Client) -> None:
    for route in ("/services", "/organizations", "/service_at_locations"):
        items = page(http, route, minimal="true")["contents"]
        assert items and all(set(i) == {"id", "modified_date"} for i in items), route


def test_a_parameter_hsds_does_not_declare_on_a_route_is_refused_not_ignored(
    http: Client,
) -> None:
    for path, name in (
        ("/taxonomies", "top_only"),
        ("/organizations", "postcode"),
        ("/taxonomy_terms", "full"),
    ):
        resp = http.get(f"/hsds{path}", query_string={name: "true"})
        assert resp.status_code == 422, path
        assert name in resp.get_json()["error"]["fields"], path


# --- 3. the Quebec profile's schemas validate what the node serves ----------------

EXAMPLE_DIR = Path(__file__).resolve().parents[3] / "shared/data/hsds/examples"
SCHEMA_DIR = EXAMPLE_DIR.parent / "schema"
HSDS_OPENAPI = SCHEMA_DIR / "openapi.json"


def _merge(target: Any, patch: Any) -> Any:
    """RFC 7386, written here apart from the node's own implementation."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _merge(out.get(key), value)
    return out


def profile_registry(http: Client) -> Registry:
    """The profile's schemas built here from the core files and the patches
    the node serves, checked equal to the schemas the node serves."""
    description = ok(http.get("/hsds/profile"))
    resources = []
    for name, url in description["schemas"].items():
        if name == "openapi.json":
            continue
        core_file = SCHEMA_DIR / name
        if not core_file.exists():
            core_file = SCHEMA_DIR / "compiled" / name
        patch_url = description["patches"].get(name.replace("_list", ""))
        patch = ok(http.get(patch_url.removeprefix(BASE))) if patch_url else {}
        if name.endswith("_list.json"):
            patch = {k: v for k, v in patch.items() if k == "properties"}
        built = _merge(json.loads(core_file.read_text()), patch)
        assert ok(http.get(url.removeprefix(BASE))) == built, name
        resources.append(
            (url, Resource.from_contents(built, default_specification=DRAFT202012))
        )
    return Registry().with_resources(resources)


def test_every_record_the_node_serves_validates_against_the_profile_schemas(
    http: Client,
) -> None:
    registry = profile_registry(http)
    schema = f"{BASE}/hsds/profile/schema/"

    def check(name: str, instance: Any, where: str) -> None:
        validator = Draft202012Validator(
            {"$ref": schema + name}, registry=registry, format_checker=FormatChecker()
        )
        errors = [
            f"{list(e.absolute_path)}: {e.message}"
            for e in validator.iter_errors(instance)
        ]
        assert not errors, (where, errors[:5])

    routes = (
        ("/services", "service_list.json", "service.json", "/services"),
        ("/organizations", "organization_list.json", "organization.json", None),
        (
            "/service_at_locations",
            "service_at_location_list.json",
            "service_at_location.json",
            "/service_at_locations",
        ),
        ("/taxonomies", "taxonomy.json", "taxonomy.json", "/taxonomies"),
        (
            "/taxonomy_terms",
            "taxonomy_term.json",
            "taxonomy_term.json",
            "/taxonomy_terms",
        ),
    )
    served = 0
    for route, item_schema, full_schema, one in routes:
        listed = page(http, route, per_page=200)
        for item in listed["contents"]:
            check(item_schema, item, f"{route} item {item['id']}")
            detail = ok(http.get(f"/hsds{one or route}/{item['id']}"))
            check(full_schema, detail, f"{route}/{item['id']}")
            served += 1
        if route in ("/services", "/organizations", "/service_at_locations"):
            for item in page(http, route, per_page=200, full="true")["contents"]:
                check(full_schema, item, f"{route}?full=true {item['id']}")
    assert served >= 10
    shelter = ok(http.get(f"/hsds/service_at_locations/{SHELTER_SAL}"))["location"]
    assert shelter["confidential_location"] is True and not shelter.get("addresses")
    check("location.json", shelter, "the shelter")
    # the profile's rule holds: a shelter showing its coordinates is refused
    with pytest.raises(AssertionError):
        check("location.json", {**shelter, "latitude": 45.5}, "planted")
