"""Trust holes of the directory (issue 13), tried as an outsider would: through
HTTP on a real gateway and a real offerings service, and through the
``maillage offerings export`` command.

A confidential location (a shelter) is created, then edited by a practitioner;
no public output may then show its old or new address or coordinates, nor the
practitioner's account id. Writes are scoped to the MRC of the record, and
turning a shelter's confidentiality off is for the node administrator alone.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection, Exchange, Queue
from nameko.containers import ServiceContainer
from werkzeug.test import Client

from gateway.app import Gateway
from services.offerings.service import OfferingsService
from tests.conftest import AMQP_HOST, BROKER, ROOT
from tests.gateway.conftest import add_account, auth, create_app, make_config

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

HOME = "2466"  # the node's MRC
OTHER = "2423"
# Values planted in the shelter's record, before and after the practitioner's edit.
OLD_LAT, OLD_LON, NEW_LAT, NEW_LON = 46.812345, -71.208765, 46.823456, -71.219876
OLD_STREET, NEW_STREET = "99, rue Cachée", "17, rang Secret"
PROBE = Queue(
    "trust-probe",
    exchange=Exchange("maillage.events", type="topic", durable=True),
    routing_key="offerings.#",
    durable=False,
    auto_delete=False,
)
PLANTED = ("46.812345", "71.208765", "46.823456", "71.219876")
STREETS = ("Cachée", "Cachee", "Secret")


class Node:
    """A gateway on a real offerings service, on a throwaway vhost and database."""

    def __init__(
        self, app: Gateway, db_prefix: str, store_uri: str, amqp_uri: str
    ) -> None:
        self.app = app
        self.amqp_uri = amqp_uri
        self.http = Client(app)
        self.db_prefix = db_prefix
        self.store_uri = store_uri

    def account(self, role: str, mrc: str = HOME) -> tuple[str, dict[str, str]]:
        """A new account: ``(its id, its Authorization header)``."""
        stored = add_account(self.app, f"{role}-{uuid.uuid4().hex[:8]}", role, mrc)
        token = self.app.runtime.tokens.issue(stored)["token"]  # type: ignore[attr-defined]
        return str(stored["_id"]), auth(token)

    def ok(self, resp: Any, status: int = 200) -> Any:
        assert resp.status_code == status, resp.get_json()
        return resp.get_json()

    def shelter(self, staff: dict[str, str], mrc: str = HOME) -> dict[str, str]:
        """A published organization, a published confidential location with an
        address and coordinates, and a published service given there."""
        org = self.ok(
            self.http.post(
                "/organizations",
                json={"name": "Maison d'hébergement Aube", "description": "Refuge"},
                headers=staff,
            ),
            201,
        )
        location = self.ok(
            self.http.post(
                "/locations",
                json={
                    "name": "Maison Aube",
                    "organization_id": org["id"],
                    "latitude": OLD_LAT,
                    "longitude": OLD_LON,
                    "confidential_location": True,
                    "mrc_code": mrc,
                    "addresses": [
                        {
                            "address_1": OLD_STREET,
                            "city": "Saint-Lambert",
                            "postal_code": "J4P 0A1",
                        }
                    ],
                },
                headers=staff,
            ),
            201,
        )
        self.ok(self.http.post(f"/organizations/{org['id']}/publish", headers=staff))
        self.ok(self.http.post(f"/locations/{location['id']}/publish", headers=staff))
        service = self.ok(
            self.http.post(
                "/services",
                json={
                    "organization_id": org["id"],
                    "name": "Hébergement d'urgence Aube",
                    "location_ids": [location["id"]],
                    "waiting_list_open": True,
                    "waiting_list_length": 4,
                },
                headers=staff,
            ),
            201,
        )
        self.ok(self.http.post(f"/services/{service['id']}/publish", headers=staff))
        sal = self.ok(self.http.get(f"/services/{service['id']}", headers=staff))[
            "service_at_locations"
        ][0]["id"]
        return {
            "organization": org["id"],
            "location": location["id"],
            "service": service["id"],
            "service_at_location": sal,
        }


@pytest.fixture(scope="module")
def node(store_uri: str, data_dir: Path) -> Iterator[Node]:
    vhost = BROKER.add_vhost(prefix="test-trust")
    prefix = f"tr{uuid.uuid4().hex[:8]}_"
    config = make_config(
        store_uri,
        prefix,
        AMQP_URI=f"amqp://guest:guest@{AMQP_HOST}/{vhost}",
        MRC_CODE=HOME,
        QUEBEC_GEO_DIR=str(data_dir / "quebec_geo"),
        MAILLAGE_WRITE_BURST="100000",
        MAILLAGE_SIGNIN_BURST="100000",
    )
    with Connection(config["AMQP_URI"]) as conn:
        PROBE(conn.channel()).declare()
    container = ServiceContainer(OfferingsService, dict(config))
    container.start()
    app = create_app(config)
    try:
        yield Node(app, prefix, store_uri, config["AMQP_URI"])
    finally:
        app.rpc.close()
        container.stop()
        client = app.store_client()
        for name in ("gateway", "offerings"):
            client.drop_database(f"{prefix}{name}")
        BROKER.delete_vhost(vhost)


# --- 1. the change history of a shelter -------------------------------------------


PUBLIC_READS = (
    "/services",
    "/services?full=true",
    "/services?search=Aube",
    "/services/{service}",
    "/organizations",
    "/organizations?full_service=true",
    "/organizations/{organization}",
    "/service_at_locations",
    "/service_at_locations?full_service=true",
    "/service_at_locations/{service_at_location}",
)


@pytest.fixture(scope="module")
def edited(node: Node) -> dict[str, str]:
    """A shelter whose coordinates and address a practitioner changed."""
    staff_id, staff = node.account("practitioner")
    ids = node.shelter(staff)
    node.ok(
        node.http.patch(
            f"/locations/{ids['location']}",
            json={
                "latitude": NEW_LAT,
                "longitude": NEW_LON,
                "addresses": [
                    {
                        "address_1": NEW_STREET,
                        "city": "Saint-Lambert",
                        "postal_code": "J4P 0A2",
                    }
                ],
            },
            headers=staff,
        )
    )
    return {**ids, "staff_id": staff_id}


def _public_texts(node: Node, ids: dict[str, str]) -> dict[str, str]:
    texts = {}
    for template in PUBLIC_READS:
        path = template.format(**ids)
        resp = node.http.get(path)
        assert resp.status_code == 200, (path, resp.get_json())
        texts[path] = resp.get_data(as_text=True)
    return texts


def test_an_edited_shelter_shows_no_old_or_new_coordinates_or_address_to_the_public(
    node: Node, edited: dict[str, str]
) -> None:
    for path, text in _public_texts(node, edited).items():
        assert "Aube" in text, path  # the shelter's records are there
        for secret in (*PLANTED, *STREETS):
            assert secret not in text, (path, secret)


def test_no_public_answer_names_the_practitioner_who_edited_a_record(
    node: Node, edited: dict[str, str]
) -> None:
    for path, text in _public_texts(node, edited).items():
        assert edited["staff_id"] not in text, path
        assert "Practitioner-" not in text, path  # the account's display name


OUTSIDERS = (
    "citizen",
    "citizen_representative",
    "board_member",
    "board_secretary",
    "regional_coordinator",
)


def test_every_directory_read_in_the_openapi_document_hides_the_shelter_from_outsiders(
    node: Node, edited: dict[str, str]
) -> None:
    """Walks the document, so a read route added later is checked too."""
    paths = json.loads(node.http.get("/openapi.json").get_data())["paths"]
    ids = {
        "services": edited["service"],
        "organizations": edited["organization"],
        "service_at_locations": edited["service_at_location"],
    }
    reads = []
    for path, operations in paths.items():
        get = operations.get("get")
        if get is None or "offerings" not in get.get("tags", ()):
            continue
        root = path.strip("/").split("/")[0]
        concrete = re.sub(r"\{[a-z_]+\}", ids.get(root, "x"), path)
        flags = [
            p["name"]
            for p in get.get("parameters", ())
            if p["name"] in ("full", "full_service", "minimal")
        ]
        reads += [(concrete, {})] + [(concrete, {f: "true"}) for f in flags]
    assert len(reads) >= 10
    headers = [{}] + [node.account(role)[1] for role in OUTSIDERS]
    for path, query in reads:
        for who in headers:
            resp = node.http.get(path, query_string=query, headers=who)
            assert resp.status_code in (200, 404), (path, resp.get_json())
            text = resp.get_data(as_text=True)
            for secret in (*PLANTED, *STREETS, edited["staff_id"]):
                assert secret not in text, (path, query, secret)


def test_the_public_history_of_a_shelter_keeps_its_other_changes(
    node: Node, edited: dict[str, str]
) -> None:
    doc = node.ok(node.http.get(f"/services/{edited['service']}"))
    [sal] = doc["service_at_locations"]
    history = sal["location"]["metadata"]
    assert {m["field_name"] for m in history} >= {"*", "publication_status"}
    assert not {"latitude", "longitude"} & {m["field_name"] for m in history}
    assert "addresses" not in sal["location"] or sal["location"]["addresses"] == []


def test_practitioners_see_the_edited_address_and_coordinates_and_who_made_them(
    node: Node, edited: dict[str, str]
) -> None:
    _, staff = node.account("practitioner")
    doc = node.ok(node.http.get(f"/services/{edited['service']}", headers=staff))
    location = doc["service_at_locations"][0]["location"]
    assert (location["latitude"], location["longitude"]) == (NEW_LAT, NEW_LON)
    assert [a["address_1"] for a in location["addresses"]] == [NEW_STREET]
    changes = {m["field_name"]: m for m in location["metadata"]}
    assert changes["latitude"]["updated_by"] == edited["staff_id"]


def test_a_public_search_for_a_shelters_street_finds_nothing(
    node: Node, edited: dict[str, str]
) -> None:
    for words in ("rang secret", "rue cachee", "J4P"):
        page = node.ok(node.http.get("/services", query_string={"search": words}))
        assert page["total_items"] == 0, words


def test_events_of_a_shelters_service_carry_no_address_coordinate_or_account(
    node: Node, edited: dict[str, str]
) -> None:
    received: list[str] = []
    deadline = time.monotonic() + 20
    with Connection(node.amqp_uri) as conn:
        simple = conn.SimpleQueue(PROBE)
        while time.monotonic() < deadline:
            try:
                message = simple.get(timeout=1)
            except simple.Empty:
                if any(edited["service"] in r for r in received):
                    break
                continue
            received.append(json.dumps(message.payload, ensure_ascii=False))
            message.ack()
        simple.close()
    assert any(edited["service"] in r for r in received)
    for text in received:
        for secret in (*PLANTED, *STREETS, edited["staff_id"]):
            assert secret not in text, secret


def test_moving_a_shelter_changes_nothing_the_public_can_see_not_even_an_etag(
    node: Node,
) -> None:
    _, staff = node.account("practitioner")
    ids = node.shelter(staff)
    paths = [p.format(**ids) for p in PUBLIC_READS if "{" in p]
    seen = {p: node.http.get(p) for p in paths}
    node.ok(
        node.http.patch(
            f"/locations/{ids['location']}",
            json={"latitude": 45.5, "longitude": -73.5},
            headers=staff,
        )
    )
    for path, first in seen.items():
        again = node.http.get(path)
        assert again.headers["ETag"] == first.headers["ETag"], path
        assert again.get_data() == first.get_data(), path
        cached = node.http.get(path, headers={"If-None-Match": first.headers["ETag"]})
        assert cached.status_code == 304, path


def _export(node: Node, directory: Path, fmt: str) -> str:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "shared.cli",
            "offerings",
            "export",
            str(directory),
            "--format",
            fmt,
            "--store-uri",
            node.store_uri,
            "--db-prefix",
            node.db_prefix,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return "\n".join(f.read_text() for f in sorted(directory.iterdir()))


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_the_public_export_of_an_edited_shelter_holds_no_address_coordinate_or_account(
    node: Node, edited: dict[str, str], tmp_path: Path, fmt: str
) -> None:
    text = _export(node, tmp_path, fmt)
    assert "Maison Aube" in text
    for secret in (*PLANTED, *STREETS, edited["staff_id"]):
        assert secret not in text, secret


def test_a_location_patch_of_its_addresses_is_applied_not_ignored(
    node: Node,
) -> None:
    _, staff = node.account("practitioner")
    ids = node.shelter(staff)
    street = f"{uuid.uuid4().hex[:6]}, rue Neuve"
    changed = node.ok(
        node.http.patch(
            f"/locations/{ids['location']}",
            json={
                "addresses": [
                    {"address_1": street, "city": "Longueuil", "postal_code": "J4K 1A1"}
                ]
            },
            headers=staff,
        )
    )
    assert [a["address_1"] for a in changed["addresses"]] == [street]
    doc = node.ok(node.http.get(f"/services/{ids['service']}", headers=staff))
    location = doc["service_at_locations"][0]["location"]
    assert [a["address_1"] for a in location["addresses"]] == [street]
    history = [m for m in location["addresses"][0]["metadata"]]
    assert any(m.get("replacement_value") == street for m in history)


# --- 2. directory writes across MRCs ----------------------------------------------


@pytest.fixture(scope="module")
def theirs(node: Node) -> dict[str, Any]:
    """A shelter of another MRC than ours, made by its own practitioner."""
    _, staff = node.account("practitioner", OTHER)
    ids = node.shelter(staff, mrc=OTHER)
    return {**ids, "staff": staff}


def _stored(node: Node, ids: dict[str, Any]) -> list[Any]:
    """Everything staff can read of the records, history included."""
    staff = ids["staff"]
    return [
        node.ok(node.http.get(f"/services/{ids['service']}", headers=staff)),
        node.ok(
            node.http.get(
                f"/organizations/{ids['organization']}",
                query_string={"full_service": "true"},
                headers=staff,
            )
        ),
    ]


def _service_document(node: Node, ids: dict[str, Any]) -> dict[str, Any]:
    doc = node.ok(node.http.get(f"/services/{ids['service']}", headers=ids["staff"]))
    return {**doc, "name": "Renommé d'ailleurs", "waiting_list_length": 0}


def _new_location_there() -> dict[str, Any]:
    return {
        "location": [
            {
                "id": str(uuid.uuid4()),
                "name": "Local ailleurs",
                "location_type": "physical",
                "mrc_code": OTHER,
            }
        ]
    }


WRITES = {
    "lift confidentiality": (
        "PATCH",
        "/locations/{location}",
        {"confidential_location": False},
    ),
    "rename the location": ("PATCH", "/locations/{location}", {"name": "Ailleurs"}),
    "move its coordinates": ("PATCH", "/locations/{location}", {"latitude": 45.0}),
    "withdraw the location": ("POST", "/locations/{location}/withdraw", None),
    "publish the location": ("POST", "/locations/{location}/publish", None),
    "rename the service": ("PATCH", "/services/{service}", {"name": "Ailleurs"}),
    "update the waiting list": (
        "PATCH",
        "/services/{service}",
        {"waiting_list_open": False, "waiting_list_length": 0},
    ),
    "withdraw the service": ("POST", "/services/{service}/withdraw", {"reason": "x"}),
    "publish the service": ("POST", "/services/{service}/publish", None),
    "change the organization": (
        "PATCH",
        "/organizations/{organization}",
        {"description": "Changé d'ailleurs"},
    ),
    "withdraw the organization": (
        "POST",
        "/organizations/{organization}/withdraw",
        None,
    ),
    "re-import the service": ("POST", "/imports", "service document"),
    "import a location there": ("POST", "/imports", "new location"),
    "create a location there": (
        "POST",
        "/locations",
        {"name": "Local ailleurs", "mrc_code": OTHER},
    ),
    "attach our service to their shelter": ("POST", "/services", "our service there"),
}


@pytest.mark.parametrize("role", ["practitioner", "node_admin"])
@pytest.mark.parametrize("write", sorted(WRITES))
def test_a_write_on_another_mrcs_record_is_refused_and_changes_nothing(
    node: Node, theirs: dict[str, Any], write: str, role: str
) -> None:
    method, template, body = WRITES[write]
    _, ours = node.account(role, HOME)
    if body == "service document":
        body = {"document": _service_document(node, theirs)}
    elif body == "new location":
        body = {"document": _new_location_there()}
    elif body == "our service there":
        body = {
            "organization_id": theirs["organization"],
            "name": "Notre service",
            "location_ids": [theirs["location"]],
        }
    before = _stored(node, theirs)
    path = template.format(**theirs)
    for lang, word in (("fr", "MRC"), ("en", "MRC")):
        resp = node.http.open(
            path, method=method, json=body, headers={**ours, "Accept-Language": lang}
        )
        assert resp.status_code == 403, (write, resp.get_json())
        error = resp.get_json()["error"]
        assert error["code"] == "forbidden"
        assert word in error["message"] and OTHER in error["message"], error
        assert error["account_mrc"] == HOME
    assert (
        "autre MRC"
        in node.http.open(
            path, method=method, json=body, headers={**ours, "Accept-Language": "fr"}
        ).get_json()["error"]["message"]
    )
    assert (
        "another MRC"
        in node.http.open(
            path, method=method, json=body, headers={**ours, "Accept-Language": "en"}
        ).get_json()["error"]["message"]
    )
    assert _stored(node, theirs) == before


def test_a_practitioner_cannot_move_their_own_location_into_another_mrc(
    node: Node,
) -> None:
    _, staff = node.account("practitioner")
    ids = node.shelter(staff)
    resp = node.http.patch(
        f"/locations/{ids['location']}", json={"mrc_code": OTHER}, headers=staff
    )
    assert resp.status_code == 403, resp.get_json()
    doc = node.ok(node.http.get(f"/services/{ids['service']}", headers=staff))
    assert doc["service_at_locations"][0]["location"]["mrc_code"] == HOME


def test_turning_confidentiality_off_needs_the_node_administrator_and_is_audited(
    node: Node,
) -> None:
    _, staff = node.account("practitioner")
    ids = node.shelter(staff)
    url = f"/locations/{ids['location']}"
    refused = node.http.patch(url, json={"confidential_location": False}, headers=staff)
    assert refused.status_code == 403, refused.get_json()
    error = refused.get_json()["error"]
    assert error["field"] == "confidential_location"
    assert "administrat" in error["message"]
    english = node.http.patch(
        url,
        json={"confidential_location": False},
        headers={**staff, "Accept-Language": "en"},
    ).get_json()["error"]["message"]
    assert "node administrator" in english
    public = node.http.get(f"/services/{ids['service']}").get_data(as_text=True)
    assert "46.812345" not in public  # still confidential
    admin_id, admin = node.account("node_admin")
    node.ok(node.http.patch(url, json={"confidential_location": False}, headers=admin))
    public = node.http.get(f"/services/{ids['service']}").get_data(as_text=True)
    assert "46.812345" in public  # lifted on purpose
    entries = node.ok(
        node.http.get(
            "/audit", query_string={"actor": admin_id, "limit": 100}, headers=admin
        )
    )["items"]
    [entry] = [e for e in entries if e["path"] == url and e.get("outcome") == "ok"]
    assert entry["actor"]["sub"] == admin_id
    assert entry["request"] == {"confidential_location": False}
    assert entry["before"]["confidential_location"] is True
    assert entry["after"]["confidential_location"] is False


def test_a_practitioner_may_keep_a_location_confidential_or_make_one_so(
    node: Node,
) -> None:
    _, staff = node.account("practitioner")
    ids = node.shelter(staff)
    url = f"/locations/{ids['location']}"
    node.ok(node.http.patch(url, json={"confidential_location": True}, headers=staff))
    node.ok(node.http.patch(url, json={"name": "Maison Aube II"}, headers=staff))


def test_an_incomplete_address_in_a_location_patch_is_refused_naming_the_field(
    node: Node,
) -> None:
    _, staff = node.account("practitioner")
    ids = node.shelter(staff)
    before = node.ok(node.http.get(f"/services/{ids['service']}", headers=staff))
    resp = node.http.patch(
        f"/locations/{ids['location']}",
        json={"addresses": [{"address_1": "1, rue Sans-Ville"}]},
        headers=staff,
    )
    assert resp.status_code == 422, resp.get_json()
    fields = resp.get_json()["error"]["fields"]
    assert any(f.startswith("addresses") and "city" in f for f in fields), fields
    after = node.ok(node.http.get(f"/services/{ids['service']}", headers=staff))
    assert after == before
