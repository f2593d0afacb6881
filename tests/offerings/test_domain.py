"""Pure rules of the directory, no store."""

from __future__ import annotations

from datetime import datetime

from services.offerings.domain import (
    PUBLIC_EDITOR,
    Flattener,
    Nester,
    Origin,
    SearchIndex,
    SearchQuery,
    Writer,
    check_record,
    deduplicate_organizations,
    fold,
    is_open,
    opening_slots,
    parse_audience,
    parse_cell,
    public_location,
    public_view,
    refusals,
    replace_addresses,
    staff_audience,
    territory,
    tokens,
    view_for,
)
from services.offerings.hsds import empty_dataset
from tests.offerings.builders import uid

HERE = Origin("services.csv", 7)


def test_fold_and_tokens_drop_accents_stopwords_and_plurals():
    assert fold("Aînés à Québec") == "aines a quebec"
    assert tokens("Les services pour les aînés") == ["service", "aine"]
    assert tokens("Food banks and the food bank") == ["food", "bank"]


def test_number_cells_are_typed_and_bad_ones_named():
    assert parse_cell("service", "minimum_age", "12") == (12, None)
    assert parse_cell("location", "latitude", "46.5")[0] == 46.5
    value, problem = parse_cell("service", "minimum_age", "douze")
    assert value is None and problem.en == "number expected"
    assert parse_cell("location", "confidential_location", "oui") == (True, None)


def test_quebec_profile_rejects_unknown_mrc_and_municipality_outside_its_mrc(geo):
    record = {
        "id": uid("l"),
        "location_type": "physical",
        "mrc_code": "2466",
        "municipality_code": "2423027",
    }
    problems = check_record("location", record, HERE, geo)
    assert [p.field for p in problems] == ["municipality_code"]
    assert "not in MRC 2466" in problems[0].en
    record = {"id": uid("l"), "location_type": "physical", "mrc_code": "2400"}
    assert [p.field for p in check_record("location", record, HERE, geo)] == [
        "mrc_code"
    ]


def test_quebec_profile_checks_outreach_modes_and_waiting_list():
    record = {
        "id": uid("s"),
        "name": "x",
        "status": "active",
        "outreach_modes": "at_home,en_ligne",
        "waiting_list_length": -2,
        "waiting_list_updated_at": "hier",
    }
    fields = sorted(p.field for p in check_record("service", record, HERE))
    assert fields == [
        "outreach_modes",
        "waiting_list_length",
        "waiting_list_updated_at",
    ]


def test_problem_reads_french_first_then_english():
    [problem] = check_record(
        "service",
        {"id": uid("s"), "name": "x", "status": "active", "minimum_age": "12"},
        HERE,
    )
    assert str(problem) == (
        "services.csv, ligne 7, champ « minimum_age » : nombre attendu / "
        'services.csv, row 7, field "minimum_age": number expected'
    )


def test_nested_document_flattens_to_linked_records_and_nests_back():
    doc = {
        "id": uid("s"),
        "name": "Popote",
        "status": "active",
        "organization": {"id": uid("o"), "name": "CAB", "description": "d"},
        "phones": [
            {
                "id": uid("p"),
                "number": "418 555-0100",
                "languages": [{"id": uid("lang"), "code": "fr"}],
            }
        ],
    }
    flattener = Flattener()
    flattener.add("service", doc, Origin("f.json", "/"))
    data = flattener.dataset
    assert not flattener.problems
    assert data["service"][uid("s")]["organization_id"] == uid("o")
    assert data["phone"][uid("p")]["service_id"] == uid("s")
    assert data["language"][uid("lang")]["phone_id"] == uid("p")
    nested = Nester(data).document("service", uid("s"))
    assert nested["organization"]["name"] == "CAB"
    assert nested["phones"][0]["languages"][0]["code"] == "fr"
    again = Flattener()
    again.add("service", nested, Origin("g.json", "/"))
    assert again.dataset == data


def test_same_id_with_two_values_is_a_conflict():
    flattener = Flattener()
    flattener.add(
        "organization",
        {"id": uid("o"), "name": "A", "description": ""},
        Origin("a.json", "/"),
    )
    flattener.add(
        "organization",
        {"id": uid("o"), "name": "B", "description": ""},
        Origin("b.json", "/"),
    )
    [problem] = flattener.problems
    assert (problem.file, problem.field) == ("b.json", "name")


def test_organizations_sharing_an_identifier_become_one():
    data = empty_dataset()
    for key in ("a", "b"):
        data["organization"][uid(key)] = {
            "id": uid(key),
            "name": key,
            "description": "",
            **({"email": "b@x.org"} if key == "b" else {}),
        }
        data["organization_identifier"][uid("i" + key)] = {
            "id": uid("i" + key),
            "organization_id": uid(key),
            "identifier_scheme": "CA-QC-NEQ",
            "identifier_type": "NEQ",
            "identifier": "1140000000",
        }
    data["service"][uid("s")] = {
        "id": uid("s"),
        "organization_id": uid("b"),
        "name": "x",
        "status": "active",
    }
    mapping = deduplicate_organizations(data, {})
    assert mapping == {uid("b"): uid("a")}
    assert list(data["organization"]) == [uid("a")]
    assert data["organization"][uid("a")]["email"] == "b@x.org"
    assert data["service"][uid("s")]["organization_id"] == uid("a")
    assert len(data["organization_identifier"]) == 1


def test_opening_slots_handle_overnight_and_validity():
    slots = opening_slots(
        [
            {
                "freq": "WEEKLY",
                "byday": "SU",
                "opens_at": "22:00",
                "closes_at": "02:00",
                "valid_to": "2026-12-31",
            }
        ]
    )
    assert is_open(slots, datetime(2026, 11, 29, 23, 0))  # Sunday night
    assert is_open(slots, datetime(2026, 11, 30, 1, 0))  # Monday 1 a.m.
    assert not is_open(slots, datetime(2026, 11, 30, 3, 0))
    assert not is_open(slots, datetime(2027, 1, 4, 1, 0))  # after valid_to
    assert (
        opening_slots([{"freq": "MONTHLY", "opens_at": "09:00", "closes_at": "10:00"}])
        == []
    )


def test_index_ranks_name_matches_first_and_pages_stably():
    index = SearchIndex()
    for number, (name, text) in enumerate(
        [
            ("Popote roulante", "repas livrés"),
            ("Repas communautaire", "repas le midi"),
            ("Aide aux devoirs", "collation et repas"),
            ("Banque alimentaire", "paniers"),
        ]
    ):
        index.put(
            {
                "_id": f"s{number}",
                "name": name,
                "name_tokens": tokens(name),
                "tokens": tokens(f"{name} {text}"),
                "published": True,
            }
        )
    total, page = index.search(SearchQuery(text="repas"))
    assert total == 3
    assert [e["name"] for e in page] == [
        "Repas communautaire",
        "Aide aux devoirs",
        "Popote roulante",
    ]
    _, second = index.search(SearchQuery(text="repas", per_page=2, page=2))
    assert [e["name"] for e in second] == ["Popote roulante"]


def test_index_replaces_a_changed_service_and_forgets_its_old_words():
    index = SearchIndex()
    index.put(
        {
            "_id": "s",
            "name": "Friperie",
            "tokens": ["friperie"],
            "mrc": ["2466"],
            "published": True,
        }
    )
    index.put(
        {
            "_id": "s",
            "name": "Vestiaire",
            "tokens": ["vestiaire"],
            "mrc": ["2423"],
            "published": False,
        }
    )
    assert index.search(SearchQuery(text="friperie"))[0] == 0
    assert index.search(SearchQuery(text="vestiaire"))[0] == 0  # unpublished
    query = SearchQuery(text="vestiaire", mrc="2423", include_unpublished=True)
    assert index.search(query)[0] == 1 and len(index) == 1


def test_public_location_hides_coordinates_only_when_confidential():
    open_place = {"id": "1", "latitude": 1.0, "name": "x"}
    shelter = {**open_place, "confidential_location": True}
    assert public_location(open_place) == open_place
    assert public_location(shelter) == {
        "id": "1",
        "name": "x",
        "confidential_location": True,
    }


def _shelter_with_history(mrc: str = "2466") -> dict:
    data = empty_dataset()
    data["location"]["l"] = {
        "id": "l",
        "name": "Refuge",
        "mrc_code": mrc,
        "latitude": 46.8,
        "confidential_location": True,
    }
    data["address"]["a"] = {"id": "a", "location_id": "l", "address_1": "9, rue X"}
    for row_id, resource, field, new in (
        ("m1", "l", "latitude", "46.8"),
        ("m2", "l", "name", "Refuge"),
        ("m3", "a", "address_1", "9, rue X"),
        ("m4", "gone-address", "address_1", "8, rue Y"),
        ("m5", "elsewhere", "name", "Ailleurs"),
    ):
        data["metadata"][row_id] = {
            "id": row_id,
            "resource_id": resource,
            "resource_type": "address" if row_id == "m4" else "location",
            "field_name": field,
            "previous_value": "",
            "replacement_value": new,
            "updated_by": "account-123",
        }
    return data


def test_the_public_history_of_a_shelter_drops_its_hidden_columns_and_names_no_editor():
    public = public_view(_shelter_with_history())
    assert set(public["metadata"]) == {"m2", "m5"}
    assert {m["updated_by"] for m in public["metadata"].values()} == {PUBLIC_EDITOR}
    assert public["address"] == {}
    assert "latitude" not in public["location"]["l"]


def test_a_replaced_address_of_the_same_type_keeps_its_id_and_others_are_removed():
    stored = [
        {"id": "a1", "location_id": "l", "address_type": "physical"},
        {"id": "a2", "location_id": "l", "address_type": "postal"},
    ]
    kept, removed = replace_addresses("l", stored, [{"address_1": "2, rue Neuve"}])
    assert list(kept) == ["a1"] and kept["a1"]["address_1"] == "2, rue Neuve"
    assert removed == ["a2"]


def test_a_record_belongs_to_the_mrcs_of_the_locations_it_hangs_on():
    data = _shelter_with_history("2423")
    data["service"]["s"] = {"id": "s", "organization_id": "o"}
    data["organization"]["o"] = {"id": "o"}
    data["service_at_location"]["sl"] = {
        "id": "sl",
        "service_id": "s",
        "location_id": "l",
    }
    data["schedule"]["h"] = {"id": "h", "service_id": "s"}
    for table, record_id in (
        ("service", "s"),
        ("organization", "o"),
        ("schedule", "h"),
    ):
        assert territory(data, table, record_id) == {"2423"}, table


def test_a_writer_of_one_mrc_is_refused_another_mrcs_record_and_lifting_confidentiality():
    before = _shelter_with_history("2423")
    change = empty_dataset()
    change["location"]["l"] = {**before["location"]["l"], "name": "Autre"}
    ours = Writer("2466", "2466", may_lift_confidentiality=True)
    [refusal] = refusals(ours, before, change)
    assert (refusal.kind, refusal.field, refusal.mrcs) == ("mrc", "mrc_code", ("2423",))
    theirs = Writer("2423", "2466", may_lift_confidentiality=False)
    assert refusals(theirs, before, change) == []
    change["location"]["l"]["confidential_location"] = False
    [refusal] = refusals(theirs, before, change)
    assert refusal.field == "confidential_location"
    new = empty_dataset()
    new["organization"]["o2"] = {"id": "o2", "name": "Nouveau"}
    assert refusals(ours, empty_dataset(), new) == []  # claims no MRC yet


def test_staff_see_their_own_mrcs_shelter_in_full_and_another_mrcs_as_the_public():
    data = _shelter_with_history("2466")
    own = view_for(data, parse_audience(staff_audience("2466", "2466")))
    assert own["location"]["l"]["latitude"] == 46.8
    assert own["address"]["a"]["address_1"] == "9, rue X"
    assert own["metadata"]["m1"]["updated_by"] == "account-123"
    other = view_for(data, parse_audience(staff_audience("2423", "2466")))
    assert "latitude" not in other["location"]["l"]
    assert other["address"] == {}
    assert "m1" not in other["metadata"] and "m3" not in other["metadata"]
    assert {m["updated_by"] for m in other["metadata"].values()} == {PUBLIC_EDITOR}


def test_an_unknown_audience_reads_as_the_public():
    data = _shelter_with_history()
    for text in ("", "staff", "staff::2466", "admin", "CONFIDENTIAL"):
        assert parse_audience(text).public
        assert view_for(data, parse_audience(text)) == public_view(data)
    assert view_for(data, parse_audience("confidential")) == data
