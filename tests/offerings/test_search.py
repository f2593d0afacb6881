"""Search against the real store: free text FR/EN without accents, filters,
relevance, HSDS pagination; confidential addresses never in public output."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from services.offerings.domain import Nester, SearchQuery, page_envelope, redact
from services.offerings.imports import export_directory
from services.offerings.repository import OfferingsRepository
from tests.offerings.builders import SHELTER_ADDRESS, quebec_directory, uid

pytestmark = pytest.mark.integration

MONDAY_10 = datetime(2026, 11, 23, 10, 0)
SATURDAY_10 = datetime(2026, 11, 28, 10, 0)
MONDAY_16 = datetime(2026, 11, 23, 16, 0)


@pytest.fixture
def directory(offerings_db) -> OfferingsRepository:
    repository = OfferingsRepository(offerings_db)
    repository.ensure_indexes()
    repository.upsert(quebec_directory(), "test", session=None)
    return repository


def names(repository: OfferingsRepository, **criteria) -> list[str]:
    _, entries = repository.search(SearchQuery(**criteria))
    return [e["name"] for e in entries]


def test_free_text_ignores_accents_and_case_in_french(directory):
    assert names(directory, text="AINES") == ["Popote roulante pour aînés"]
    assert names(directory, text="hébergement") == ["Hébergement d'urgence"]
    assert names(directory, text="hebergement urgence") == ["Hébergement d'urgence"]


def test_free_text_matches_english_words_and_plurals(directory):
    assert names(directory, text="food banks") == ["Banque alimentaire"]
    assert names(directory, text="homework") == ["Aide aux devoirs"]


def test_every_word_must_match(directory):
    assert names(directory, text="repas domicile") == ["Popote roulante pour aînés"]
    assert names(directory, text="repas introuvable") == []


def test_a_match_in_the_name_ranks_above_a_match_in_the_description(directory):
    directory.upsert(
        {
            **_empty(),
            "service": {
                uid("popote"): {
                    **directory.get("service", uid("popote")),
                    "name": "Repas à domicile",
                }
            },
        },
        "test",
        session=None,
    )
    ranked = names(directory, text="repas")
    assert ranked[0] == "Repas à domicile"
    assert set(ranked[1:]) == {"Banque alimentaire", "Aide aux devoirs"}


def _empty():
    from services.offerings.hsds import empty_dataset

    return empty_dataset()


def test_filters_by_mrc_municipality_language_and_taxonomy(directory):
    assert sorted(names(directory, mrc="2466")) == [
        "Aide aux devoirs",
        "Popote roulante pour aînés",
    ]
    assert names(directory, municipality="2403005") == ["Banque alimentaire"]
    assert sorted(names(directory, language="en")) == [
        "Aide aux devoirs",
        "Banque alimentaire",
    ]
    assert sorted(names(directory, language="Français")) == [
        "Hébergement d'urgence",
        "Popote roulante pour aînés",
    ]
    assert sorted(names(directory, taxonomy_id=uid("taxo"))) == [
        "Banque alimentaire",
        "Popote roulante pour aînés",
    ]
    assert names(directory, taxonomy_id=uid("other")) == []
    assert sorted(names(directory, taxonomy_term_id=uid("t-food"))) == [
        "Banque alimentaire",
        "Popote roulante pour aînés",
    ]


def test_filters_by_referral_outreach_and_waiting_list(directory):
    assert sorted(names(directory, no_referral_required=True)) == [
        "Hébergement d'urgence",
        "Popote roulante pour aînés",
    ]
    assert sorted(names(directory, outreach_mode="community_organizations")) == [
        "Aide aux devoirs",
        "Banque alimentaire",
    ]
    assert names(directory, waiting_list_open=True) == ["Popote roulante pour aînés"]


def test_open_now_follows_weekly_hours_and_their_validity(directory):
    assert names(directory, open_at=MONDAY_10) == ["Popote roulante pour aînés"]
    assert names(directory, open_at=SATURDAY_10) == ["Banque alimentaire"]
    # the homework help's Monday hours ended in 2020
    assert names(directory, open_at=MONDAY_16) == ["Popote roulante pour aînés"]


def test_pages_follow_the_hsds_page_object(directory):
    total, first = directory.search(SearchQuery(per_page=3, page=1))
    _, second = directory.search(SearchQuery(per_page=3, page=2))
    assert total == 4 and len(first) == 3 and len(second) == 1
    assert {e["_id"] for e in first}.isdisjoint({e["_id"] for e in second})
    page = page_envelope(total, 2, 3, second)
    assert page | {"contents": None} == {
        "total_items": 4,
        "total_pages": 2,
        "page_number": 2,
        "size": 1,
        "first_page": False,
        "last_page": True,
        "empty": False,
        "contents": None,
    }


def test_withdrawn_services_are_not_found_by_the_public(directory):
    service = directory.get("service", uid("banque"))
    directory.upsert(
        {
            **_empty(),
            "service": {service["id"]: {**service, "publication_status": "withdrawn"}},
        },
        "test",
        session=None,
    )
    assert "Banque alimentaire" not in names(directory)
    assert "Banque alimentaire" in names(directory, include_unpublished=True)


def test_confidential_address_is_in_no_public_search_output_or_export(
    directory, offerings_db, tmp_path
):
    entry = offerings_db["search"].find_one({"_id": uid("refuge")})
    assert "secrete" not in entry["tokens"]
    assert entry["mrc"] == ["2423"]  # still findable in its MRC
    subset = directory.subset_for("service", [uid("refuge")])
    public = Nester(redact(subset)).document("service", uid("refuge"))
    text = json.dumps(public, ensure_ascii=False)
    assert SHELTER_ADDRESS not in text and "46.81" not in text
    assert "Maison d'hébergement" in text

    for fmt in ("json", "csv"):
        export_directory(offerings_db, tmp_path / fmt, fmt)
        dumped = "".join(f.read_text() for f in (tmp_path / fmt).iterdir())
        assert SHELTER_ADDRESS not in dumped and "rue Ontario" in dumped
    export_directory(offerings_db, tmp_path / "full", "csv", include_confidential=True)
    assert SHELTER_ADDRESS in (tmp_path / "full" / "addresses.csv").read_text()


def test_every_change_is_recorded_in_metadata(directory):
    service = directory.get("service", uid("popote"))
    directory.upsert(
        {
            **_empty(),
            "service": {
                service["id"]: {**service, "waiting_list_length": 3, "name": "Popote"}
            },
        },
        "ana@example.org",
        session=None,
    )
    trail = directory.find("metadata", {"resource_id": uid("popote")})
    changes = {
        (
            m["last_action_type"],
            m["field_name"],
            m["previous_value"],
            m["replacement_value"],
            m["updated_by"],
        )
        for m in trail
    }
    assert ("create", "*", "", "Popote roulante pour aînés", "test") in changes
    assert ("update", "waiting_list_length", "12", "3", "ana@example.org") in changes
    assert (
        "update",
        "name",
        "Popote roulante pour aînés",
        "Popote",
        "ana@example.org",
    ) in changes


def test_a_live_index_catches_up_with_an_import_made_elsewhere(
    offerings_db, hsds_dir, geo
):
    from services.offerings.imports import import_path
    from services.offerings.repository import LiveIndex

    repository = OfferingsRepository(offerings_db)
    live = LiveIndex()
    assert (
        repository.search(SearchQuery(text="counselling"), live.current(repository))[0]
        == 0
    )
    # another process (the CLI) imports, then bumps the generation
    assert import_path(hsds_dir / "examples" / "csv", offerings_db, "cli", geo).ok
    total, [entry] = repository.search(
        SearchQuery(text="counselling"), live.current(repository)
    )
    assert total == 1 and entry["name"] == "Community Counselling"
