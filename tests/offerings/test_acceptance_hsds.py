"""Acceptance: the HSDS 3.0 examples and the HSDS 1.1 sample, through the store.

Published result reproduced: every example record survives import then export
(compared field by field, record by record) and every exported record
validates against the specification's schemas; the 1.1 sample keeps every
organization, service and location.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from services.offerings.domain import PUBLIC_EDITOR
from services.offerings.hsds import SERVICE_PROFILE, TABLES
from services.offerings.imports import export_directory, import_path
from services.offerings.repository import OfferingsRepository
from tests.offerings.conftest import errors_of

pytestmark = pytest.mark.integration

EXAMPLE_FILES = [
    "location.json",
    "organization_full.json",
    "organization_list.json",
    "service_at_location_full.json",
    "service_at_location_list.json",
    "service_full.json",
    "service_list.json",
    "tabular.json",
    "taxonomy.json",
    "taxonomy_list.json",
    "taxonomy_term.json",
    "taxonomy_term_list.json",
]


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _objects_with_id(node: Any) -> list[dict[str, Any]]:
    """Every JSON object carrying an ``id``, at any depth (independent of the
    importer's own flattening)."""
    found = []
    if isinstance(node, dict):
        if "id" in node and "total_items" not in node:
            found.append(node)
        for value in node.values():
            found += _objects_with_id(value)
    elif isinstance(node, list):
        for value in node:
            found += _objects_with_id(value)
    return found


def _exported_by_id(hsds_json: dict[str, list[dict[str, Any]]]) -> dict[str, list]:
    by_id: dict[str, list[dict[str, Any]]] = {}
    for rows in hsds_json.values():
        for row in rows:
            by_id.setdefault(row["id"], []).append(row)
    return by_id


def _check_json_export(out: Path, schemas: Any) -> dict[str, list[dict[str, Any]]]:
    hsds_json = json.loads((out / "hsds.json").read_text())
    assert not errors_of(
        __import__("jsonschema").Draft7Validator(schemas.tabular), hsds_json
    )
    for table, rows in hsds_json.items():
        validator = schemas.table(table)
        for row in rows:
            assert not errors_of(validator, row), (table, row["id"])
    for service in json.loads((out / "services.json").read_text()):
        assert not errors_of(schemas.service, service), service["id"]
        flat = {k: v for k, v in service.items() if not isinstance(v, list)}
        assert not errors_of(schemas.service_list_item, flat)
    for organization in json.loads((out / "organizations.json").read_text()):
        assert not errors_of(schemas.organization_full, organization)
        assert not errors_of(schemas.organization_list_item, organization)
    return hsds_json


@pytest.mark.parametrize("name", EXAMPLE_FILES)
def test_each_json_example_round_trips_record_by_record_and_validates(
    name, hsds_dir, offerings_db, schemas, geo, tmp_path
):
    source = hsds_dir / "examples" / name
    report = import_path(source, offerings_db, "test", geo)
    assert report.ok, [str(p) for p in report.problems]

    export_directory(offerings_db, tmp_path / "out", "json")
    exported = _check_json_export(tmp_path / "out", schemas)

    by_id = _exported_by_id(exported)
    original = _objects_with_id(json.loads(source.read_text()))
    # tabular.json holds rows under "x.csv" keys; its nested tables come as lists
    if name == "tabular.json":
        original = [
            row for rows in json.loads(source.read_text()).values() for row in rows
        ]
    assert original
    for obj in original:
        assert obj["id"] in by_id, obj["id"]
        for key, value in obj.items():
            if isinstance(value, dict | list) or value is None:
                continue
            if key == "updated_by":  # a public export names no editor (issue 13)
                value = PUBLIC_EDITOR
            assert any(_text(r.get(key)) == _text(value) for r in by_id[obj["id"]]), (
                name,
                obj["id"],
                key,
            )

    # what was added is only the audit trail and the Quebec profile defaults
    added = {r["id"] for rows in exported.values() for r in rows} - {
        o["id"] for o in original
    }
    assert all(r["last_action_type"] == "create" for i in added for r in by_id[i])
    for service in exported["service"]:
        source_service = next(o for o in original if o["id"] == service["id"])
        assert set(service) - set(source_service) <= {
            "organization_id",
            "program_id",
            *SERVICE_PROFILE,
        }


def test_json_export_imports_back_into_an_identical_directory(
    hsds_dir, offerings_db, store_uri, tmp_path, geo
):
    import pymongo

    assert import_path(
        hsds_dir / "examples" / "service_full.json", offerings_db, "test", geo
    ).ok
    export_directory(offerings_db, tmp_path / "out", "json")
    client: pymongo.MongoClient = pymongo.MongoClient(store_uri)
    second = client[offerings_db.name + "_again"]
    try:
        report = import_path(tmp_path / "out", second, "test", geo)
        assert report.ok, [str(p) for p in report.problems]
        first_data = OfferingsRepository(offerings_db).load_all()
        second_data = OfferingsRepository(second).load_all()
        for table in TABLES:
            if table == "metadata":
                continue
            assert second_data[table] == first_data[table], table
        # the first import's audit records came along, plus the second's own
        assert set(first_data["metadata"]) <= set(second_data["metadata"])
    finally:
        client.drop_database(second.name)
        client.close()


def _csv_rows(file: Path) -> dict[str, dict[str, str]]:
    with file.open(newline="", encoding="utf-8") as handle:
        return {row["id"]: row for row in csv.DictReader(handle)}


def test_csv_example_round_trips_cell_by_cell_and_validates(
    hsds_dir, offerings_db, schemas, geo, tmp_path
):
    source = hsds_dir / "examples" / "csv"
    report = import_path(source, offerings_db, "test", geo)
    assert report.ok, [str(p) for p in report.problems]
    assert report.written["created"] == 21

    export_directory(offerings_db, tmp_path / "out", "csv")
    for spec in TABLES.values():
        exported = _csv_rows(tmp_path / "out" / spec.path)
        types = schemas.column_types(spec.name)
        validator = schemas.table(spec.name)
        required = set(validator.schema.get("required", ()))
        for row in exported.values():
            # an empty cell is an absent value, or "" where HSDS requires one
            typed = {
                k: float(v) if types.get(k) == "number" else v
                for k, v in row.items()
                if (v != "" or k in required) and k in types
            }
            assert not errors_of(validator, typed), (spec.path, row["id"])
        original_file = source / spec.path
        original = _csv_rows(original_file) if original_file.exists() else {}
        for row_id, row in original.items():
            assert row_id in exported, (spec.path, row_id)
            for column, cell in row.items():
                if column == "updated_by":  # a public export names no editor
                    cell = PUBLIC_EDITOR
                assert exported[row_id][column] == cell, (spec.path, column)
        extra = set(exported) - set(original)
        if spec.name == "metadata":
            assert all(exported[i]["last_action_type"] == "create" for i in extra)
        else:
            assert not extra, spec.path


def test_the_examples_folder_as_one_import_is_refused_for_its_contradictions(
    hsds_dir, offerings_db, geo
):
    """The example files describe the same ids differently (location.json's
    external_identifier, opening hours "10:00" vs "10:00:00"): taken together
    they cannot all be true, so nothing is written and each clash is named."""
    report = import_path(hsds_dir / "examples", offerings_db, "test", geo)
    assert not report.ok
    assert any(
        p.field == "external_identifier" and "location" in p.en for p in report.problems
    )
    assert any(p.field == "opens_at" for p in report.problems)
    assert all(p.file and p.row for p in report.problems)
    assert OfferingsRepository(offerings_db).count("service") == 0
    assert OfferingsRepository(offerings_db).count("location") == 0


def test_hsds_1_1_sample_arrives_in_3_0_form_with_every_organization_service_location(
    data_dir, offerings_db, schemas, geo, tmp_path
):
    source = data_dir / "hsds_1.1_sample" / "all_resources"
    report = import_path(source, offerings_db, "test", geo)
    assert report.ok, [str(p) for p in report.problems]
    assert report.format == "hsds11"

    repository = OfferingsRepository(offerings_db)
    data = repository.load_all()
    for file, table in (
        ("organizations.csv", "organization"),
        ("services.csv", "service"),
        ("locations.csv", "location"),
    ):
        original = _csv_rows(source / file)
        assert set(original) == set(data[table]), table
        validator = schemas.table(table)
        for row_id, row in original.items():
            migrated = data[table][row_id]
            assert not errors_of(validator, migrated), (table, row_id)
            assert migrated["name"] == row["name"]
            if row.get("description"):
                assert migrated["description"] == row["description"]
    # renamed 1.1 column, and 1.1 tables 3.0 removed
    org = data["organization"]["1899600a-649c-11e6-8b77-86f30ca893d3"]
    assert org["website"] == "http://example.com"
    service = data["service"]["c89eb05c-62dd-4b64-b494-0cc347b6ea7f"]
    assert service["eligibility_description"] == "adult"
    assert "cash, credit card" in service["fees_description"]
    address_types = sorted(
        a["address_type"]
        for a in data["address"].values()
        if a["location_id"] == "30b83c60-64a1-11e6-8b77-86f30ca893d3"
    )
    assert address_types == ["physical", "postal"]
    weekly = sorted(
        s["byday"] for s in data["schedule"].values() if s.get("freq") == "WEEKLY"
    )
    assert weekly == ["MO", "TU", "WE"]
    holiday = [s for s in data["schedule"].values() if s.get("valid_from")]
    assert [(h["valid_from"], h["valid_to"]) for h in holiday] == [
        ("2019-12-24", "2019-12-26")
    ]
    assert len(_csv_rows(source / "services_at_location.csv")) == len(
        data["service_at_location"]
    )
    # the 1.1 program id was not a UUID: renamed, and the rename is on record
    [program] = data["program"].values()
    renames = [
        m
        for m in data["metadata"].values()
        if m["last_action_type"] == "migrate"
        and m["previous_value"] == "7c92d010-1b0a-11e9-b56e-0800200c9a"
    ]
    assert renames and renames[0]["replacement_value"] == program["id"]
    # and the 3.0 export of the migrated data validates
    export_directory(offerings_db, tmp_path / "out", "json")
    _check_json_export(tmp_path / "out", schemas)
