"""Malformed files, unknown columns, broken references: a clear report, and
the directory exactly as it was (all or nothing)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from services.offerings.imports import import_path
from services.offerings.repository import OfferingsRepository
from shared.cli import main

pytestmark = pytest.mark.integration

ORG = "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"
SERVICE = "ac148810-d857-441c-9679-408f346de14b"


@pytest.fixture
def package(hsds_dir: Path, tmp_path: Path) -> Path:
    """A scratch copy of the CSV example to damage (never inside the repo)."""
    target = tmp_path / "package"
    shutil.copytree(hsds_dir / "examples" / "csv", target)
    for file in target.iterdir():
        file.chmod(0o644)
    return target


def _edit(file: Path, change) -> None:
    with file.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    change(rows)
    with file.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)


def _total(db) -> int:
    return sum(db[name].count_documents({}) for name in db.list_collection_names())


def test_unknown_column_is_reported_with_file_and_column_and_nothing_is_written(
    package, offerings_db, geo
):
    def add_column(rows):
        rows[0].append("couleur")
        rows[1].append("bleu")

    _edit(package / "services.csv", add_column)
    report = import_path(package, offerings_db, "test", geo)
    assert not report.ok
    assert len(report.problems) == 1, [str(p) for p in report.problems]
    [problem] = report.problems
    assert (problem.file, problem.row, problem.field) == ("services.csv", 1, "couleur")
    assert str(problem).startswith("services.csv, ligne 1, champ « couleur » : ")
    assert 'row 1, field "couleur": unknown column' in str(problem)
    assert _total(offerings_db) == 0


def test_broken_reference_names_the_row_and_field_and_nothing_is_written(
    package, offerings_db, geo
):
    def break_link(rows):
        rows[1][rows[0].index("location_id")] = "00000000-0000-4000-8000-000000000000"

    _edit(package / "service_at_location.csv", break_link)
    report = import_path(package, offerings_db, "test", geo)
    assert not report.ok
    assert [(p.file, p.row, p.field) for p in report.problems] == [
        ("service_at_location.csv", 2, "location_id")
    ]
    assert "broken reference: location 00000000" in report.problems[0].en
    assert _total(offerings_db) == 0


def test_orphan_phone_is_refused(package, offerings_db, geo):
    def orphan(rows):
        header = rows[0]
        for column in (
            "location_id",
            "service_id",
            "organization_id",
            "contact_id",
            "service_at_location_id",
        ):
            rows[1][header.index(column)] = "11111111-1111-4111-8111-111111111111"

    _edit(package / "phones.csv", orphan)
    report = import_path(package, offerings_db, "test", geo)
    assert any(p.file == "phones.csv" and "orphan" in p.en for p in report.problems)
    assert _total(offerings_db) == 0


def test_malformed_cells_and_json_are_reported_each_with_its_line(
    package, offerings_db, geo, tmp_path
):
    def bad_age(rows):
        rows[1][rows[0].index("minimum_age")] = "douze"
        rows[1][rows[0].index("status")] = "ouvert"

    _edit(package / "services.csv", bad_age)
    report = import_path(package, offerings_db, "test", geo)
    assert {(p.file, p.row, p.field, p.en) for p in report.problems} == {
        ("services.csv", 2, "minimum_age", "number expected"),
        (
            "services.csv",
            2,
            "status",
            "value not allowed (active, inactive, defunct, temporarily closed)",
        ),
    }
    broken = tmp_path / "broken.json"
    broken.write_text('{"id": "x", "name": ')
    report = import_path(broken, offerings_db, "test", geo)
    assert not report.ok and report.problems[0].file == "broken.json"
    assert "unreadable JSON" in report.problems[0].en
    assert _total(offerings_db) == 0


def test_a_refused_import_leaves_an_existing_directory_unchanged(
    package, offerings_db, geo
):
    assert import_path(package, offerings_db, "test", geo).ok
    before = {
        name: list(offerings_db[name].find({}))
        for name in offerings_db.list_collection_names()
    }

    def rename_and_break(rows):
        rows[1][rows[0].index("name")] = "Nouveau nom"
        rows[1][rows[0].index("maximum_age")] = "cent"

    _edit(package / "services.csv", rename_and_break)
    report = import_path(package, offerings_db, "test", geo)
    assert not report.ok
    after = {
        name: list(offerings_db[name].find({}))
        for name in offerings_db.list_collection_names()
    }
    assert after == before


def test_same_organization_identifier_merges_into_the_existing_organization(
    package, offerings_db, geo, tmp_path
):
    assert import_path(package, offerings_db, "test", geo).ok
    second = tmp_path / "second"
    second.mkdir()
    new_org = "22222222-2222-4222-8222-222222222222"
    new_service = "33333333-3333-4333-8333-333333333333"
    (second / "organizations.csv").write_text(
        "id,name,description\n"
        f"{new_org},Example Org (doublon),Même organisme / same organization\n"
    )
    (second / "organization_identifiers.csv").write_text(
        "id,organization_id,identifier_scheme,identifier_type,identifier\n"
        f"44444444-4444-4444-8444-444444444444,{new_org},GB-COH,Company number,"
        "1234567\n"
    )
    (second / "services.csv").write_text(
        "id,organization_id,name,status\n"
        f"{new_service},{new_org},Halte-garderie,active\n"
    )
    report = import_path(second, offerings_db, "test", geo)
    assert report.ok, [str(p) for p in report.problems]
    assert report.merged_organizations == {new_org: ORG}
    repository = OfferingsRepository(offerings_db)
    assert repository.count("organization") == 1
    assert repository.count("organization_identifier") == 1
    assert repository.get("service", new_service)["organization_id"] == ORG
    assert repository.get("organization", ORG)["name"] == "Example Organization Inc."


def test_cli_import_reports_rejected_rows_and_exits_1(
    package, store_uri, db_prefix, offerings_db, tmp_path, capsys
):
    def bad(rows):
        rows[1][rows[0].index("latitude")] = "nord"

    _edit(package / "locations.csv", bad)
    report_file = tmp_path / "report.json"
    code = main(
        [
            "offerings",
            "import",
            str(package),
            "--store-uri",
            store_uri,
            "--db-prefix",
            db_prefix,
            "--report",
            str(report_file),
            "--no-progress",
        ]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "locations.csv, ligne 2, champ « latitude » : nombre attendu" in err
    assert "Import refused, nothing was written" in err
    saved = json.loads(report_file.read_text())
    assert saved["ok"] is False and saved["problems"][0]["row"] == 2


def test_cli_import_then_export_csv_and_json(
    hsds_dir, store_uri, db_prefix, offerings_db, tmp_path, capsys
):
    args = ["--store-uri", store_uri, "--db-prefix", db_prefix]
    assert (
        main(
            [
                "offerings",
                "import",
                str(hsds_dir / "examples" / "csv"),
                "--no-progress",
                *args,
            ]
        )
        == 0
    )
    assert (
        main(["offerings", "export", str(tmp_path / "c"), "--format", "csv", *args])
        == 0
    )
    assert (
        main(["offerings", "export", str(tmp_path / "j"), "--format", "json", *args])
        == 0
    )
    assert (tmp_path / "c" / "services.csv").read_text().count(SERVICE) == 1
    services = json.loads((tmp_path / "j" / "services.json").read_text())
    assert [s["id"] for s in services] == [SERVICE]
