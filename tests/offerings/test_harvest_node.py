"""Harvesting a second Maillage node started in the test: its gateway in this
process under a real WSGI server on 127.0.0.1, a real offerings service on
the real store and broker, its directory holding a shelter whose address
and coordinates its public API never gives. A recording middleware notes
every query the harvest sends.
"""

from __future__ import annotations

import json
import socketserver
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pymongo
import pytest
import requests
from nameko.containers import ServiceContainer

from gateway.app import Gateway
from services.offerings.domain import public_view
from services.offerings.harvest import RECORDS, harvest
from services.offerings.imports import import_path, load_geo
from services.offerings.repository import OfferingsRepository
from services.offerings.service import OfferingsService
from tests.conftest import AMQP_HOST, BROKER
from tests.gateway.conftest import add_account, create_app, make_config

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

MRC = "2466"
ORG, SERVICE, LOCATION, SAL = (str(uuid.UUID(int=0x4A00 + i)) for i in range(4))
SHELTER, SHELTER_SERVICE, SHELTER_SAL, ADDRESS = (
    str(uuid.UUID(int=0x4B00 + i)) for i in range(4)
)
DRAFT = str(uuid.UUID(int=0x4C00))
HIDDEN_STREET = "12, rue du Refuge-Secret"
SOURCE = {
    "organization": [
        {"id": ORG, "name": "Entraide Montréal", "description": "Aide alimentaire"}
    ],
    "location": [
        {
            "id": LOCATION,
            "location_type": "physical",
            "name": "Comptoir",
            "mrc_code": MRC,
            "municipality_code": "2466023",
        },
        {
            "id": SHELTER,
            "location_type": "physical",
            "name": "Maison du Refuge",
            "mrc_code": MRC,
            "municipality_code": "2466023",
            "confidential_location": True,
            "latitude": 45.51,
            "longitude": -73.56,
        },
    ],
    "address": [
        {
            "id": ADDRESS,
            "location_id": SHELTER,
            "address_1": HIDDEN_STREET,
            "city": "Montréal",
            "state_province": "QC",
            "postal_code": "H2X 1Y1",
            "country": "CA",
            "address_type": "physical",
        }
    ],
    "service": [
        {
            "id": SERVICE,
            "organization_id": ORG,
            "name": "Comptoir alimentaire",
            "status": "active",
            "no_referral_required": True,
            "waiting_list_open": False,
        },
        {
            "id": SHELTER_SERVICE,
            "organization_id": ORG,
            "name": "Hébergement d'urgence",
            "status": "active",
        },
        {
            "id": DRAFT,
            "organization_id": ORG,
            "name": "Projet en préparation",
            "status": "active",
            "publication_status": "draft",
        },
    ],
    "service_at_location": [
        {"id": SAL, "service_id": SERVICE, "location_id": LOCATION},
        {"id": SHELTER_SAL, "service_id": SHELTER_SERVICE, "location_id": SHELTER},
    ],
}


class Recorder:
    """WSGI middleware: the path and query of every request, in order."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.seen: list[tuple[str, str]] = []

    def __call__(self, environ: dict[str, Any], start: Any) -> Iterable[bytes]:
        self.seen.append((environ["PATH_INFO"], environ.get("QUERY_STRING", "")))
        return self.app(environ, start)

    def services_queries(self) -> list[str]:
        return [q for p, q in self.seen if p == "/hsds/services"]


class _Threads(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def source_node(
    store_uri: str, data_dir: Path, tmp_path_factory: Any
) -> Iterator[tuple[str, Recorder, str]]:
    """``(the source's HSDS URL, its recorder, an administrator's token)``."""
    vhost = BROKER.add_vhost(prefix="test-harvest")
    prefix = f"hv{uuid.uuid4().hex[:8]}_"
    config = make_config(
        store_uri,
        prefix,
        AMQP_URI=f"amqp://guest:guest@{AMQP_HOST}/{vhost}",
        MRC_CODE=MRC,
        QUEBEC_GEO_DIR=str(data_dir / "quebec_geo"),
        MAILLAGE_WRITE_BURST="100000",
    )
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        store_uri, tz_aware=True
    )
    file = tmp_path_factory.mktemp("source") / "source.json"
    file.write_text(json.dumps(SOURCE, ensure_ascii=False))
    report = import_path(
        file, client[f"{prefix}offerings"], "source", load_geo(data_dir / "quebec_geo")
    )
    assert report.ok, [str(p) for p in report.problems]
    container = ServiceContainer(OfferingsService, dict(config))
    container.start()
    app: Gateway = create_app(config)
    token = app.runtime.tokens.issue(add_account(app, "admin", "node_admin"))["token"]  # type: ignore[attr-defined]
    recorder = Recorder(app)
    server = make_server(
        "127.0.0.1", 0, recorder, server_class=_Threads, handler_class=_Quiet
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # the source's clock says whole seconds: let its import be strictly older
    time.sleep(1.1)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hsds", recorder, token
    finally:
        server.shutdown()
        server.server_close()
        app.rpc.close()
        container.stop()
        for name in ("gateway", "offerings"):
            client.drop_database(f"{prefix}{name}")
        client.close()
        BROKER.delete_vhost(vhost)


def test_a_first_harvest_takes_every_published_service_and_a_second_only_what_changed(
    source_node: tuple[str, Recorder, str], offerings_db: Any
) -> None:
    url, recorder, token = source_node
    recorder.seen.clear()

    first = harvest(url, offerings_db, "test", per_page=2)

    assert first.ok, [str(p) for p in first.problems]
    assert "modified_after" not in recorder.services_queries()[0]
    assert len(first.files) == 1 and first.rows_read == 2
    ours = OfferingsRepository(offerings_db)
    assert {s["id"] for s in ours.find("service", {})} == {SERVICE, SHELTER_SERVICE}
    assert ours.get("organization", ORG)["name"] == "Entraide Montréal"  # type: ignore[index]
    assert first.events.get("offerings.service_published") == 2

    changed = requests.patch(
        f"{url.removesuffix('/hsds')}/services/{SERVICE}",
        json={"name": "Comptoir alimentaire du quartier"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert changed.status_code == 200, changed.text
    recorder.seen.clear()

    second = harvest(url, offerings_db, "test", per_page=2)

    assert second.ok, [str(p) for p in second.problems]
    assert second.modified_after == first.high_water
    [query] = recorder.services_queries()
    assert f"modified_after={first.high_water.replace(':', '%3A')}" in query
    assert second.rows_read == 1
    assert ours.get("service", SERVICE)["name"] == "Comptoir alimentaire du quartier"  # type: ignore[index]
    assert second.written["updated"] >= 1
    assert second.events.get("offerings.service_updated") == 1
    assert ours.get("service", SHELTER_SERVICE)["name"] == "Hébergement d'urgence"  # type: ignore[index]


def test_a_shelter_of_the_source_stays_confidential_and_addressless_here(
    source_node: tuple[str, Recorder, str], offerings_db: Any
) -> None:
    url, _, _ = source_node
    report = harvest(url, offerings_db, "test")
    assert report.ok, [str(p) for p in report.problems]
    ours = OfferingsRepository(offerings_db)
    shelter = ours.get("location", SHELTER)
    assert shelter is not None and shelter["confidential_location"] is True
    assert "latitude" not in shelter and "longitude" not in shelter
    assert ours.find("address", {"location_id": SHELTER}) == []
    held = json.dumps(
        {
            name: list(offerings_db[name].find({}, {"_id": 0}))
            for name in offerings_db.list_collection_names()
        },
        default=str,
        ensure_ascii=False,
    )
    assert HIDDEN_STREET not in held and "45.51" not in held
    public = public_view(ours.load_all())
    assert SHELTER in public["location"]
    assert not public["address"]


def test_a_source_record_colliding_with_one_of_ours_is_refused_and_ours_unchanged(
    source_node: tuple[str, Recorder, str], offerings_db: Any, tmp_path: Path
) -> None:
    url, _, _ = source_node
    mine = tmp_path / "mine.json"
    mine.write_text(
        json.dumps(
            {
                "organization": [
                    {"id": ORG, "name": "Notre organisme", "description": "Ici"}
                ]
            }
        )
    )
    assert import_path(mine, offerings_db, "local").ok

    report = harvest(url, offerings_db, "test")

    assert not report.ok
    named = [report.problem_dict(p) for p in report.problems]
    assert [(p["table"], p["record_id"], p["field"]) for p in named] == [
        ("organization", ORG, "id")
    ], named
    assert named[0]["file"].startswith(f"{url}/services?page=1")
    ours = OfferingsRepository(offerings_db)
    assert ours.get("organization", ORG)["name"] == "Notre organisme"  # type: ignore[index]
    assert ours.find("service", {}) == []
    assert offerings_db[RECORDS].count_documents({}) == 0
