"""``maillage indicators`` against the real store (SecantusDB)."""

from __future__ import annotations

import json

import pymongo
import pytest

from shared.cli import main

pytestmark = pytest.mark.integration

TREE = {
    "organisationUnits": [
        {"id": "ouabcdefghA", "name": "A"},
        {"id": "ouabcdefghB", "name": "B", "parent": {"id": "ouabcdefghA"}},
        {"id": "ouabcdefghC", "name": "C", "parent": {"id": "ouabcdefghA"}},
        {"id": "ouabcdefghD", "name": "D", "parent": {"id": "ouabcdefghB"}},
        {"id": "ouabcdefghE", "name": "E", "parent": {"id": "ouabcdefghB"}},
    ]
}


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_load_geo_writes_the_whole_quebec_tree(capsys, store_uri, db_prefix, data_dir):
    code, out, _ = run(
        capsys,
        "indicators",
        "load-geo",
        "--folder",
        str(data_dir / "quebec_geo"),
        "--store-uri",
        store_uri,
        "--db-prefix",
        db_prefix,
    )
    assert code == 0
    assert json.loads(out)["by_level"] == {"1": 1, "2": 17, "3": 98, "4": 1285}
    db = pymongo.MongoClient(store_uri)[f"{db_prefix}indicators"]
    assert db.org_units.find_one({"_id": "csd:2437067"})["parent"] == "cd:2437"


def test_import_of_the_dhis2_fixture_then_evaluate_gives_308_and_29_79(
    capsys, store_uri, db_prefix, data_dir, tmp_path
):
    tree = tmp_path / "tree.json"
    tree.write_text(json.dumps(TREE))
    store = ["--store-uri", store_uri, "--db-prefix", db_prefix]
    csv_file = data_dir / "dhis2_analytics_fixture" / "dataValues.csv"
    code, out, err = run(
        capsys, "indicators", "import", str(csv_file), "--org-units", str(tree), *store
    )
    summary = json.loads(out)
    # deF..deH (boolean, text, date) are not in the catalogue: numbers by default.
    assert (code, summary["imported"], summary["ignored"]) == (1, 27, 5), err
    assert all('field "value"' in c for c in summary["conflicts"])
    code, out, _ = run(
        capsys,
        "indicators",
        "evaluate",
        "--numerator",
        "#{deabcdefghA}",
        "--org-unit",
        "ouabcdefghA",
        "--period",
        "2017Q1",
        *store,
    )
    assert (code, json.loads(out)["value"]) == (0, 308)
    code, out, _ = run(
        capsys,
        "indicators",
        "evaluate",
        "--numerator",
        "#{deabcdefghA}*#{deabcdefghC}",
        "--denominator",
        "#{deabcdefghB}",
        "--org-unit",
        "ouabcdefghA",
        "--period",
        "2017Q1",
        *store,
    )
    assert json.loads(out)["value"] == 29.79


def test_import_refuses_bad_rows_by_line_and_field_and_keeps_the_good_ones(
    capsys, store_uri, db_prefix, tmp_path
):
    tree = tmp_path / "tree.json"
    tree.write_text(json.dumps(TREE))
    values = tmp_path / "values.json"
    values.write_text(
        json.dumps(
            {
                "dataValues": [
                    {
                        "dataElement": "home_interventions",
                        "period": "201703",
                        "orgUnit": "ouabcdefghD",
                        "value": "12",
                    },
                    {
                        "dataElement": "home_interventions",
                        "period": "2017-13",
                        "orgUnit": "ouabcdefghD",
                        "value": "3",
                    },
                    {
                        "dataElement": "home_interventions",
                        "period": "201703",
                        "orgUnit": "ouabcdefghE",
                        "value": "douze",
                    },
                ]
            }
        )
    )
    code, out, _ = run(
        capsys,
        "indicators",
        "import",
        str(values),
        "--org-units",
        str(tree),
        "--store-uri",
        store_uri,
        "--db-prefix",
        db_prefix,
    )
    summary = json.loads(out)
    assert code == 1
    assert (summary["imported"], summary["ignored"]) == (1, 2)
    assert summary["conflicts"][0].startswith("ligne 2, champ « period »")
    assert 'row 3, field "value": integer value expected' in summary["conflicts"][1]


def test_import_without_a_store_says_so_in_both_languages(
    capsys, monkeypatch, tmp_path
):
    monkeypatch.delenv("MAILLAGE_STORE_URI", raising=False)
    monkeypatch.delenv("MONGODB_URI", raising=False)
    code, _, err = run(capsys, "indicators", "import", str(tmp_path / "x.csv"))
    assert code == 2
    assert "aucun magasin" in err and "no store" in err


def test_import_of_disaggregated_values_is_refused_whole_naming_file_row_and_field(
    capsys, store_uri, db_prefix, tmp_path
):
    """Two category option combos of one element, period and org unit would
    collapse into one value (the last): until disaggregation exists, the file
    is refused and nothing of it is stored."""
    tree = tmp_path / "tree.json"
    tree.write_text(json.dumps(TREE))
    values = tmp_path / "ventilé.csv"
    values.write_text(
        "dataelement,period,orgunit,categoryoptioncombo,attributeoptioncombo,value\n"
        "home_interventions,201702,ouabcdefghD,,,7\n"
        "home_interventions,201703,ouabcdefghD,femmes,,12\n"
        "home_interventions,2017-03,ouabcdefghD,hommes,,30\n"
    )
    store = ["--store-uri", store_uri, "--db-prefix", db_prefix]
    code, out, err = run(
        capsys, "indicators", "import", str(values), "--org-units", str(tree), *store
    )
    assert code != 0
    assert "ventilé.csv" in err
    assert "ligne 4, champ « categoryOptionCombo »" in err
    assert 'row 4, field "categoryOptionCombo"' in err
    assert "nothing was imported" in err and "rien n'a été importé" in err
    db = pymongo.MongoClient(store_uri)[f"{db_prefix}indicators"]
    assert db.data_values.count_documents({}) == 0


def test_the_same_combo_given_twice_still_updates_the_value(
    capsys, store_uri, db_prefix, tmp_path
):
    tree = tmp_path / "tree.json"
    tree.write_text(json.dumps(TREE))
    values = tmp_path / "values.json"
    row = {"dataElement": "home_interventions", "period": "201703"}
    row |= {"orgUnit": "ouabcdefghD", "categoryOptionCombo": "HllvX50cXC0"}
    values.write_text(
        json.dumps({"dataValues": [row | {"value": "12"}, row | {"value": "13"}]})
    )
    store = ["--store-uri", store_uri, "--db-prefix", db_prefix]
    code, out, _ = run(
        capsys, "indicators", "import", str(values), "--org-units", str(tree), *store
    )
    summary = json.loads(out)
    assert (code, summary["imported"], summary["updated"]) == (0, 1, 1)
