"""French and English text of a service (Quebec profile columns ``name_en``,
``description_en``, ``eligibility_description_en``, ``fees_description_en``),
on the real store: stored, published in the HSDS profile, searched in both
languages without accents."""

from __future__ import annotations

import pytest

from services.offerings import profile
from services.offerings.hsds import TABLES, TRANSLATED
from shared.errors import Invalid
from tests.offerings.test_service import ANA, service  # noqa: F401

pytestmark = pytest.mark.integration


@pytest.fixture
def bilingual(service) -> dict[str, str]:  # noqa: F811
    org = service.create_organization(
        {"name": "Carrefour jeunesse", "description": "Jeunes"}, user=ANA
    )
    service.publish_organization(org["id"], user=ANA)
    made = service.create_service(
        {
            "organization_id": org["id"],
            "name": "Hébergement jeunesse",
            "name_en": "Youth housing",
            "description": "Chambres pour les 16 à 24 ans.",
            "description_en": "Rooms for people aged 16 to 24.",
            "eligibility_description": "Avoir entre 16 et 24 ans",
            "eligibility_description_en": "Aged 16 to 24",
            "fees_description": "Loyer modique",
            "fees_description_en": "Low rent",
        },
        user=ANA,
    )
    service.publish_service(made["id"], user=ANA)
    return {"id": made["id"]}


def _found(service, text: str) -> list[str]:  # noqa: F811
    return [i["id"] for i in service.search({"search": text})["contents"]]


def test_a_service_keeps_its_french_and_english_text(service, bilingual):  # noqa: F811
    shown = service.get_service(bilingual["id"])
    assert shown["name"] == "Hébergement jeunesse"
    assert shown["name_en"] == "Youth housing"
    assert shown["description_en"] == "Rooms for people aged 16 to 24."
    assert shown["eligibility_description_en"] == "Aged 16 to 24"
    assert shown["fees_description_en"] == "Low rent"


def test_search_finds_a_service_by_its_english_or_french_words_without_accents(
    service,  # noqa: F811
    bilingual,
):
    assert _found(service, "youth housing") == [bilingual["id"]]
    assert _found(service, "HEBERGEMENT jeunesse") == [bilingual["id"]]
    assert _found(service, "rooms") == [bilingual["id"]]


def test_the_english_name_is_updated_and_searched_again(service, bilingual):  # noqa: F811
    service.update_service(bilingual["id"], {"name_en": "Housing for youth"}, user=ANA)
    assert service.get_service(bilingual["id"])["name_en"] == "Housing for youth"
    assert _found(service, "youth") == [bilingual["id"]]


def test_an_empty_english_name_is_refused_naming_the_field(service, bilingual):  # noqa: F811
    with pytest.raises(Invalid) as caught:
        service.update_service(bilingual["id"], {"name_en": ""}, user=ANA)
    assert "name_en" in caught.value.fields


def test_the_hsds_profile_declares_each_english_column():
    service_schema = profile.compiled()["service.json"]["properties"]
    for core, english in TRANSLATED.items():
        assert core in TABLES["service"].all_columns
        assert english in TABLES["service"].all_columns
        assert service_schema[english]["type"] == "string"
