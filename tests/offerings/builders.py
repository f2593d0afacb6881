"""A small Quebec directory built in code, for search and confidentiality tests."""

from __future__ import annotations

import uuid
from typing import Any

from services.offerings.hsds import Dataset, empty_dataset


def uid(label: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"maillage-test:{label}"))


SHELTER_ADDRESS = "1234, rue Secrète"


def quebec_directory() -> Dataset:
    data = empty_dataset()

    def put(table: str, **record: Any) -> str:
        data[table][record["id"]] = record
        return record["id"]

    org = put(
        "organization",
        id=uid("org"),
        name="Centre d'action bénévole",
        description="Organisme communautaire de Montréal",
    )
    taxonomy = put(
        "taxonomy",
        id=uid("taxo"),
        name="Besoins",
        description="Besoins de base / basic needs",
    )
    term_food = put(
        "taxonomy_term",
        taxonomy_id=taxonomy,
        id=uid("t-food"),
        code="BD",
        name="Alimentation",
        description="Aide alimentaire",
    )
    locations = {
        "mtl": put(
            "location",
            id=uid("l-mtl"),
            location_type="physical",
            name="Local du centre",
            mrc_code="2466",
            municipality_code="2466023",
        ),
        "shelter": put(
            "location",
            id=uid("l-shelter"),
            location_type="physical",
            name="Maison d'hébergement",
            mrc_code="2423",
            municipality_code="2423027",
            confidential_location=True,
            latitude=46.81,
            longitude=-71.21,
        ),
        "gaspe": put(
            "location",
            id=uid("l-gaspe"),
            location_type="physical",
            name="Salle communautaire",
            mrc_code="2403",
            municipality_code="2403005",
        ),
    }
    put(
        "address",
        id=uid("a-shelter"),
        location_id=locations["shelter"],
        address_1=SHELTER_ADDRESS,
        city="Québec",
        state_province="QC",
        postal_code="G1A 0A1",
        country="CA",
        address_type="physical",
    )
    put(
        "address",
        id=uid("a-mtl"),
        location_id=locations["mtl"],
        address_1="10, rue Ontario Est",
        city="Montréal",
        state_province="QC",
        postal_code="H2X 1G9",
        country="CA",
        address_type="physical",
    )
    services = [
        (
            "popote",
            "Popote roulante pour aînés",
            "Repas chauds livrés à domicile aux personnes aînées.",
            "mtl",
            dict(
                no_referral_required=True,
                outreach_modes="at_home",
                waiting_list_open=True,
                waiting_list_length=12,
            ),
            "fr",
            True,
        ),
        (
            "banque",
            "Banque alimentaire",
            "Food bank: paniers d'épicerie chaque semaine. Repas communautaire.",
            "gaspe",
            dict(no_referral_required=False, outreach_modes="community_organizations"),
            "en",
            True,
        ),
        (
            "refuge",
            "Hébergement d'urgence",
            "Hébergement sécuritaire pour femmes et enfants.",
            "shelter",
            dict(no_referral_required=True, waiting_list_open=False),
            "fr",
            False,
        ),
        (
            "devoirs",
            "Aide aux devoirs",
            "Homework help for children; collation et repas offerts.",
            "mtl",
            dict(outreach_modes="public_spaces,community_organizations"),
            "en",
            False,
        ),
    ]
    for key, name, description, where, profile, language, food in services:
        service_id = put(
            "service",
            id=uid(key),
            organization_id=org,
            name=name,
            description=description,
            status="active",
            publication_status="published",
            **profile,
        )
        put(
            "service_at_location",
            id=uid(f"sal-{key}"),
            service_id=service_id,
            location_id=locations[where],
        )
        put(
            "language",
            id=uid(f"lang-{key}"),
            service_id=service_id,
            code=language,
            name={"fr": "Français", "en": "English"}[language],
        )
        if food:
            put(
                "attribute",
                id=uid(f"attr-{key}"),
                link_id=service_id,
                link_entity="service",
                taxonomy_term_id=term_food,
            )
    # weekdays 9 to 17 for the popote; the food bank only on Saturday morning
    put(
        "schedule",
        id=uid("s-popote"),
        service_id=uid("popote"),
        freq="WEEKLY",
        byday="MO,TU,WE,TH,FR",
        opens_at="09:00",
        closes_at="17:00",
    )
    put(
        "schedule",
        id=uid("s-banque"),
        service_id=uid("banque"),
        freq="WEEKLY",
        byday="SA",
        opens_at="09:00",
        closes_at="12:00",
    )
    # the homework help was open evenings, but only until 2020
    put(
        "schedule",
        id=uid("s-devoirs"),
        service_id=uid("devoirs"),
        freq="WEEKLY",
        byday="MO",
        opens_at="15:00",
        closes_at="18:00",
        valid_to="2020-06-30",
    )
    return data
