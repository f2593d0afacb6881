"""The offerings service's entrypoints: nameko worker_factory with the real
store and a fake outbox (a subclass of the real port) recording events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pymongo
import pytest
from nameko.testing.services import worker_factory

from services.offerings.events import (
    PAYLOADS,
    SERVICE_PUBLISHED,
    SERVICE_UPDATED,
    SERVICE_WITHDRAWN,
    WAITING_LIST_CHANGED,
)
from services.offerings.repository import LiveIndex, OfferingsRepository
from services.offerings.service import OfferingsService
from shared.envelope import Envelope
from shared.errors import Conflict, Invalid, NotFound
from shared.outbox import OutboxHandle
from shared.store import StoreHandle

pytestmark = pytest.mark.integration
ANA = {"id": "ana@example.org"}


class FakeOutbox(OutboxHandle):
    """Keeps what the service would publish, and checks it was given the
    transaction's session."""

    def __init__(self) -> None:
        self.events: list[Envelope] = []

    def add(
        self,
        event_type: str,
        payload: dict[str, Any],
        *,
        session: Any,
        schema_version: int | None = None,
    ) -> Envelope:
        assert session is not None
        envelope = Envelope(event_type, payload, "test-node")
        self.events.append(envelope)
        return envelope

    def types(self) -> list[str]:
        return [e.event_type for e in self.events]


@pytest.fixture
def service(store_uri: str, db_prefix: str, geo) -> Iterator[OfferingsService]:
    client: pymongo.MongoClient = pymongo.MongoClient(store_uri, tz_aware=True)
    db = client[f"{db_prefix}offerings"]
    OfferingsRepository(db).ensure_indexes()
    worker = worker_factory(
        OfferingsService,
        store=StoreHandle(client, db),
        outbox=FakeOutbox(),
        geo=geo,
        search_index=LiveIndex(),
    )
    yield worker
    client.drop_database(db.name)
    client.close()


@pytest.fixture
def published(service) -> dict[str, str]:
    org = service.create_organization(
        {
            "name": "Centre d'action bénévole",
            "description": "Entraide",
            "identifiers": [
                {
                    "identifier_scheme": "CA-QC-NEQ",
                    "identifier_type": "NEQ",
                    "identifier": "1140000001",
                }
            ],
        },
        user=ANA,
    )
    service.publish_organization(org["id"], user=ANA)
    shelter = service.create_location(
        {
            "name": "Maison Marie-Rollet",
            "mrc_code": "2423",
            "municipality_code": "2423027",
            "confidential_location": True,
            "addresses": [
                {
                    "address_1": "99, rue Cachée",
                    "city": "Québec",
                    "postal_code": "G1A 0A1",
                }
            ],
        },
        user=ANA,
    )
    service.publish_location(shelter["id"], user=ANA)
    created = service.create_service(
        {
            "organization_id": org["id"],
            "name": "Hébergement d'urgence",
            "description": "Pour femmes et enfants",
            "no_referral_required": True,
            "outreach_modes": ["at_home"],
            "waiting_list_open": True,
            "waiting_list_length": 4,
            "capacity": 12,
            "languages": ["fr"],
            "location_ids": [shelter["id"]],
        },
        user=ANA,
    )
    return {"org": org["id"], "location": shelter["id"], "service": created["id"]}


def test_a_new_service_is_a_draft_invisible_to_the_public(service, published):
    assert service.search({"search": "hebergement"})["total_items"] == 0
    with pytest.raises(NotFound):
        service.get_service(published["service"])
    staff = service.get_service(published["service"], audience="confidential")
    assert staff["publication_status"] == "draft"
    assert service.outbox.events == []


def test_publishing_emits_service_published_and_waiting_list_then_is_searchable(
    service, published
):
    service.publish_service(published["service"], user=ANA)
    assert service.outbox.types() == [SERVICE_PUBLISHED, WAITING_LIST_CHANGED]
    event = service.outbox.events[0].payload
    assert event["mrc_codes"] == ["2423"] and event["no_referral_required"] is True
    waiting = service.outbox.events[1].payload
    assert (
        waiting["waiting_list_open"],
        waiting["waiting_list_length"],
        waiting["capacity"],
    ) == (True, 4, 12)
    for envelope in service.outbox.events:
        PAYLOADS[envelope.event_type]().load(envelope.payload)
    page = service.search({"search": "HEBERGEMENT", "mrc": "2423"})
    assert page["total_items"] == 1
    assert page["contents"][0]["id"] == published["service"]
    with pytest.raises(Conflict):
        service.publish_service(published["service"], user=ANA)


def test_confidential_address_only_for_the_confidential_audience(service, published):
    service.publish_service(published["service"], user=ANA)
    public = json.dumps(service.get_service(published["service"]), ensure_ascii=False)
    assert "rue Cachée" not in public and "Maison Marie-Rollet" in public
    staff = json.dumps(
        service.get_service(published["service"], audience="confidential"),
        ensure_ascii=False,
    )
    assert "rue Cachée" in staff
    page = json.dumps(
        service.search({"search": "hebergement", "full": True}), ensure_ascii=False
    )
    assert "rue Cachée" not in page
    sal_page = json.dumps(service.list_service_at_locations({}), ensure_ascii=False)
    assert "rue Cachée" not in sal_page
    events = json.dumps([e.payload for e in service.outbox.events])
    assert "Cach" not in events


def test_updating_the_waiting_list_emits_both_events_and_records_metadata(
    service, published
):
    service.publish_service(published["service"], user=ANA)
    service.outbox.events.clear()
    updated = service.update_service(
        published["service"], {"waiting_list_length": 9}, user=ANA
    )
    assert updated["waiting_list_updated_at"]
    assert service.outbox.types() == [SERVICE_UPDATED, WAITING_LIST_CHANGED]
    assert "waiting_list_length" in service.outbox.events[0].payload["changed_fields"]
    assert service.outbox.events[1].payload["waiting_list_length"] == 9
    trail = OfferingsRepository(service.store.db).find(
        "metadata",
        {"resource_id": published["service"], "field_name": "waiting_list_length"},
    )
    assert [
        (m["previous_value"], m["replacement_value"], m["updated_by"]) for m in trail
    ] == [("4", "9", "ana@example.org")]
    service.outbox.events.clear()
    service.update_service(published["service"], {"description": "x"}, user=ANA)
    assert service.outbox.types() == [SERVICE_UPDATED]


def test_withdrawing_hides_the_service_and_emits_service_withdrawn(service, published):
    service.publish_service(published["service"], user=ANA)
    service.withdraw_service(published["service"], user=ANA, reason="fermé")
    assert service.outbox.types()[-1] == SERVICE_WITHDRAWN
    assert service.outbox.events[-1].payload["reason"] == "fermé"
    assert service.search({})["total_items"] == 0


def test_field_errors_name_each_field_in_both_languages(service, published):
    with pytest.raises(Invalid) as caught:
        service.create_service(
            {
                "organization_id": "pas-un-uuid",
                "name": "",
                "capacity": -1,
                "couleur": "bleu",
            }
        )
    fields = caught.value.fields
    assert set(fields) == {"organization_id", "name", "capacity", "couleur"}
    assert fields["organization_id"] == ["UUID attendu. / Not a valid UUID."]
    assert fields["couleur"] == ["Champ inconnu. / Unknown field."]
    with pytest.raises(Invalid) as caught:
        service.create_service(
            {
                "organization_id": "00000000-0000-4000-8000-000000000000",
                "name": "Orphelin",
            }
        )
    assert "broken reference" in caught.value.fields["organization_id"][0]
    with pytest.raises(Invalid) as caught:
        service.create_location(
            {"name": "x", "mrc_code": "2466", "municipality_code": "2423027"}
        )
    assert "not in MRC 2466" in caught.value.fields["municipality_code"][0]


def test_same_organization_identifier_is_a_conflict(service, published):
    with pytest.raises(Conflict) as caught:
        service.create_organization(
            {
                "name": "Doublon",
                "description": "Même NEQ",
                "identifiers": [
                    {
                        "identifier_scheme": "CA-QC-NEQ",
                        "identifier_type": "NEQ",
                        "identifier": "1140000001",
                    }
                ],
            }
        )
    assert caught.value.details["organization_id"] == published["org"]


def test_hsds_list_routes_page_and_minimal(service, published):
    service.publish_service(published["service"], user=ANA)
    orgs = service.list_organizations({"per_page": 1})
    assert orgs["total_items"] == 1 and orgs["contents"][0]["id"] == published["org"]
    minimal = service.search({"minimal": True})
    assert set(minimal["contents"][0]) == {"id", "modified_date"}
    later = service.search({"modified_after": "2999-01-01T00:00:00Z"})
    assert later["total_items"] == 0 and later["empty"] is True
    org = service.get_organization(published["org"])
    assert [s["id"] for s in org["services"]] == [published["service"]]


def test_rpc_pages_validate_against_the_hsds_list_schemas(service, published, schemas):
    from tests.offerings.conftest import errors_of

    service.publish_service(published["service"], user=ANA)
    for item in service.search({})["contents"]:
        assert not errors_of(schemas.service_list_item, item)
    for item in service.search({"full": True})["contents"]:
        assert not errors_of(schemas.service, item)
    for item in service.list_organizations({})["contents"]:
        assert not errors_of(schemas.organization_list_item, item)
    sal_items = service.list_service_at_locations({"full_service": True})["contents"]
    assert sal_items
    for item in sal_items:
        assert not errors_of(schemas.service_at_location_list_item, item)
    assert not errors_of(
        schemas.organization_full,
        service.get_organization(published["org"], full_service=True),
    )


def test_import_document_is_all_or_nothing_with_a_report(service, hsds_dir):
    document = json.loads((hsds_dir / "examples" / "service_full.json").read_text())
    broken = {**document, "minimum_age": "douze"}
    with pytest.raises(Invalid) as caught:
        service.import_document(broken, user=ANA, name="upload.json")
    report = caught.value.details["report"]
    assert report["ok"] is False
    assert [(p["file"], p["field"]) for p in report["problems"]] == [
        ("upload.json", "minimum_age")
    ]
    assert service.search({})["total_items"] == 0
    done = service.import_document(document, user=ANA)
    assert done["ok"] and done["written"]["created"] == 20
    page = service.search({"search": "counselling"})
    assert [s["id"] for s in page["contents"]] == [document["id"]]


def test_an_absurd_page_number_is_a_field_error_not_a_crash(service):
    for call in (service.search, service.list_organizations):
        with pytest.raises(Invalid) as caught:
            call({"page": 10**18})
        assert list(caught.value.fields) == ["page"]


def test_list_routes_search_names_without_accents(service, published):
    page = service.list_organizations({"search": "BENEVOLE"})
    assert [o["id"] for o in page["contents"]] == [published["org"]]
    assert service.list_organizations({"search": "introuvable"})["empty"] is True
    minimal = service.list_organizations({"search": "benevole", "minimal": True})
    assert minimal["contents"][0]["modified_date"]


def test_import_document_emits_the_events_of_its_services_once(service, hsds_dir):
    document = json.loads((hsds_dir / "examples" / "service_full.json").read_text())
    done = service.import_document(document, user=ANA)
    assert done["events"] == {SERVICE_PUBLISHED: 1, WAITING_LIST_CHANGED: 1}
    assert service.outbox.types() == [SERVICE_PUBLISHED, WAITING_LIST_CHANGED]
    assert service.outbox.events[0].payload["service_id"] == document["id"]
    again = service.import_document(document, user=ANA)
    assert again["events"] == {} and len(service.outbox.events) == 2
    renamed = service.import_document({**document, "name": "Counselling"}, user=ANA)
    assert renamed["events"] == {SERVICE_UPDATED: 1}
    assert service.outbox.events[-1].payload["changed_fields"] == ["name"]
