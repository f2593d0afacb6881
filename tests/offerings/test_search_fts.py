"""The search index file (SQLite FTS5): ready at once after a restart, caught
up when behind, rebuilt for another store, never holding a shelter's address,
and the filters the in-memory index had (negated flags included)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from services.offerings.domain import SearchQuery
from services.offerings.hsds import empty_dataset
from services.offerings.repository import SEARCH, LiveIndex, OfferingsRepository
from tests.offerings.builders import SHELTER_ADDRESS, quebec_directory, uid

pytestmark = pytest.mark.integration


@pytest.fixture
def directory(offerings_db) -> OfferingsRepository:
    repository = OfferingsRepository(offerings_db)
    repository.ensure_indexes()
    repository.upsert(quebec_directory(), "test", session=None)
    repository.bump_generation()
    return repository


def found(live: LiveIndex, repository: OfferingsRepository, **criteria) -> list[str]:
    _, entries = repository.search(SearchQuery(**criteria), live.current(repository))
    return sorted(e["name"] for e in entries)


def test_a_restart_with_a_current_index_file_searches_without_reading_projections(
    directory, tmp_path
):
    path = str(tmp_path / "index.sqlite3")
    first = LiveIndex(path)
    assert found(first, directory, text="popote") == ["Popote roulante pour aînés"]
    first.close()
    # were the restart to re-read the store, it would now find nothing
    directory.db[SEARCH].delete_many({})
    restarted = LiveIndex(path)
    assert found(restarted, directory, text="popote") == ["Popote roulante pour aînés"]
    restarted.close()


def test_an_index_file_behind_the_store_catches_up_at_restart(directory, tmp_path):
    path = str(tmp_path / "index.sqlite3")
    first = LiveIndex(path)
    assert found(first, directory, text="friperie") == []
    first.close()
    # a write made while this process was down
    service = directory.get("service", uid("popote"))
    assert service is not None
    change = empty_dataset()
    change["service"][service["id"]] = {**service, "name": "Friperie solidaire"}
    directory.upsert(change, "test", session=None)
    directory.bump_generation()
    restarted = LiveIndex(path)
    assert found(restarted, directory, text="friperie") == ["Friperie solidaire"]
    assert found(restarted, directory, text="popote") == []
    assert len(restarted.current(directory)) == len(list(directory.load_entries(None)))
    restarted.close()


def test_an_index_file_built_from_another_store_is_rebuilt(directory, tmp_path):
    path = str(tmp_path / "index.sqlite3")
    first = LiveIndex(path)
    assert found(first, directory, text="popote") == ["Popote roulante pour aînés"]
    first.close()
    other_db = directory.db.client[f"{directory.db.name}_other"]
    try:
        other = OfferingsRepository(other_db)
        other.ensure_indexes()
        data = quebec_directory()
        data["service"] = {
            k: v for k, v in data["service"].items() if k != uid("popote")
        }
        other.upsert(data, "test", session=None)
        other.bump_generation()  # generation 1 here too, but another epoch
        assert other.position()[1] == directory.position()[1]
        restarted = LiveIndex(path)
        assert found(restarted, other, text="popote") == []
        assert found(restarted, other, text="banque") == ["Banque alimentaire"]
        restarted.close()
    finally:
        directory.db.client.drop_database(other_db.name)


def test_a_confidential_address_never_enters_the_index_file(directory, tmp_path):
    path = tmp_path / "index.sqlite3"
    live = LiveIndex(str(path))
    assert found(live, directory, text="hebergement") == ["Hébergement d'urgence"]
    assert found(live, directory, text="secrete") == []
    assert found(live, directory, text="secrete", include_unpublished=True) == []
    live.close()
    dump = "\n".join(sqlite3.connect(path).iterdump()).lower()
    for secret in (SHELTER_ADDRESS.lower(), "secrete", "1234", "g1a", "46.81"):
        assert secret not in dump, secret
    assert "hebergement" in dump  # the shelter's service itself is indexed


def test_a_shelter_is_never_placed_by_distance(directory, tmp_path):
    live = LiveIndex(str(tmp_path / "index.sqlite3"))
    _, entries = directory.search(
        SearchQuery(text="hebergement", near=(46.81, -71.21)),
        live.current(directory),
    )
    assert [e["distance_km"] for e in entries] == [None]
    total, _ = directory.search(
        SearchQuery(near=(46.81, -71.21), within_km=5.0), live.current(directory)
    )
    assert total == 0
    live.close()


def test_negated_flags_keep_only_services_without_them(directory, tmp_path):
    live = LiveIndex(str(tmp_path / "index.sqlite3"))
    everyone = found(live, directory, per_page=50)
    with_referral = found(live, directory, no_referral_required=False)
    assert with_referral == ["Aide aux devoirs", "Banque alimentaire"]
    assert sorted(
        with_referral + found(live, directory, no_referral_required=True)
    ) == (everyone)
    assert "Popote roulante pour aînés" not in found(
        live, directory, waiting_list_open=False
    )
    live.close()


def test_staff_find_drafts_in_the_index_file_and_the_public_does_not(
    directory, tmp_path
):
    service = directory.get("service", uid("popote"))
    assert service is not None
    change = empty_dataset()
    change["service"][service["id"]] = {**service, "publication_status": "draft"}
    directory.upsert(change, "test", session=None)
    directory.bump_generation()
    live = LiveIndex(str(tmp_path / "index.sqlite3"))
    assert found(live, directory, text="popote") == []
    assert found(live, directory, text="popote", include_unpublished=True) == [
        "Popote roulante pour aînés"
    ]
    live.close()


def test_a_service_default_index_file_lives_under_the_index_dir(
    directory, tmp_path: Path
):
    live = LiveIndex(directory=tmp_path / "search")
    assert found(live, directory, text="devoirs") == ["Aide aux devoirs"]
    live.close()
    assert (tmp_path / "search" / f"{directory.db.name}.sqlite3").is_file()
