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


SEX = {
    "categoryOptions": [
        {"id": "femmes", "name": "Femmes"},
        {"id": "hommes", "name": "Hommes"},
    ],
    "categories": [
        {"id": "sexe", "categoryOptions": [{"id": "femmes"}, {"id": "hommes"}]}
    ],
    "categoryCombos": [{"id": "par_sexe", "categories": [{"id": "sexe"}]}],
    "dataElements": [{"id": "home_interventions", "categoryCombo": {"id": "par_sexe"}}],
}


def test_disaggregated_values_are_stored_per_combo_and_sum_to_the_total(
    capsys, store_uri, db_prefix, tmp_path
):
    """Two combos of one element, period and org unit are two values (the
    stopgap that refused such a file whole is replaced by real storage); the
    element's total is their sum, as in DHIS2."""
    tree = tmp_path / "tree.json"
    tree.write_text(json.dumps(TREE))
    metadata = tmp_path / "categories.json"
    metadata.write_text(json.dumps(SEX))
    values = tmp_path / "ventilé.csv"
    values.write_text(
        "dataelement,period,orgunit,categoryoptioncombo,attributeoptioncombo,value\n"
        "home_interventions,201702,ouabcdefghD,hommes,,7\n"
        "home_interventions,201703,ouabcdefghD,femmes,,12\n"
        "home_interventions,2017-03,ouabcdefghD,hommes,,30\n"
    )
    store = ["--store-uri", store_uri, "--db-prefix", db_prefix]
    code, out, err = run(
        capsys,
        "indicators",
        "import",
        str(values),
        "--org-units",
        str(tree),
        "--metadata",
        str(metadata),
        *store,
    )
    assert code == 0, err
    assert (json.loads(out)["imported"], json.loads(out)["updated"]) == (3, 0)
    db = pymongo.MongoClient(store_uri)[f"{db_prefix}indicators"]
    assert db.data_values.count_documents({}) == 3
    evaluate = ["indicators", "evaluate", "--org-unit", "ouabcdefghA", *store]
    for numerator, expected in (
        ("#{home_interventions}", 49),
        ("#{home_interventions.femmes}", 12),
        ("#{home_interventions.hommes}", 37),
    ):
        code, out, _ = run(
            capsys, *evaluate, "--numerator", numerator, "--period", "2017Q1"
        )
        assert (code, json.loads(out)["value"]) == (0, expected), numerator


def test_import_of_an_unknown_combo_is_refused_naming_the_row_in_both_languages(
    capsys, store_uri, db_prefix, tmp_path
):
    tree = tmp_path / "tree.json"
    tree.write_text(json.dumps(TREE))
    metadata = tmp_path / "categories.json"
    metadata.write_text(json.dumps(SEX))
    values = tmp_path / "values.csv"
    values.write_text(
        "dataelement,period,orgunit,categoryoptioncombo,attributeoptioncombo,value\n"
        "home_interventions,201703,ouabcdefghD,femmes,,12\n"
        "home_interventions,201703,ouabcdefghD,autres,,3\n"
        "home_interventions,201703,ouabcdefghE,femmes,partenaire,4\n"
        "group_interventions,201703,ouabcdefghE,femmes,,5\n"
    )
    store = ["--store-uri", store_uri, "--db-prefix", db_prefix]
    code, out, _ = run(
        capsys,
        "indicators",
        "import",
        str(values),
        "--org-units",
        str(tree),
        "--metadata",
        str(metadata),
        *store,
    )
    summary = json.loads(out)
    assert (code, summary["imported"], summary["ignored"]) == (1, 1, 3)
    first, second, third = summary["conflicts"]
    assert first.startswith("ligne 3, champ « categoryOptionCombo » : ")
    assert "« autres » inconnue pour home_interventions" in first
    assert 'row 3, field "categoryOptionCombo": unknown combo "autres"' in first
    assert "allowed: femmes, hommes" in first
    assert 'row 4, field "attributeOptionCombo"' in second
    # an element not disaggregated only has the default combo
    assert 'row 5, field "categoryOptionCombo"' in third
    assert "allowed: HllvX50cXC0" in third
    db = pymongo.MongoClient(store_uri)[f"{db_prefix}indicators"]
    assert db.data_values.count_documents({}) == 1


@pytest.mark.parametrize("suffix", ["json", "csv"])
def test_export_then_import_keeps_every_value_and_both_combos(
    capsys, store_uri, db_prefix, tmp_path, suffix
):
    """DHIS2 data-value set out and in again: every value comes back with its
    categoryOptionCombo and attributeOptionCombo (the default spelled out)."""
    tree = tmp_path / "tree.json"
    tree.write_text(json.dumps(TREE))
    metadata = dict(SEX)
    metadata["categoryOptions"] = SEX["categoryOptions"] + [{"id": "cisss"}]
    metadata["categories"] = SEX["categories"] + [
        {
            "id": "partenaire",
            "dataDimensionType": "ATTRIBUTE",
            "categoryOptions": [{"id": "cisss"}],
        }
    ]
    metadata["categoryCombos"] = SEX["categoryCombos"] + [
        {
            "id": "partenaires",
            "dataDimensionType": "ATTRIBUTE",
            "categories": [{"id": "partenaire"}],
        }
    ]
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps(metadata))
    row = {"dataElement": "home_interventions", "orgUnit": "ouabcdefghD"}
    rows = [
        row | {"period": "201701", "categoryOptionCombo": "femmes", "value": "3"},
        row | {"period": "201701", "categoryOptionCombo": "hommes", "value": "8"},
        row
        | {
            "period": "201701",
            "categoryOptionCombo": "femmes",
            "attributeOptionCombo": "cisss",
            "value": "2",
        },
        {
            "dataElement": "deabcdefghB",  # not in the catalogue: a number
            "orgUnit": "ouabcdefghB",
            "period": "2017",
            "value": "1234.5",
        },
    ]
    source = tmp_path / "in.json"
    source.write_text(json.dumps({"dataValues": rows}))
    store = ["--store-uri", store_uri, "--db-prefix", db_prefix]
    imported = ["--org-units", str(tree), "--metadata", str(meta), *store]
    code, out, err = run(capsys, "indicators", "import", str(source), *imported)
    assert (code, json.loads(out)["imported"]) == (0, 4), out + err
    exported = tmp_path / f"out.{suffix}"
    code, out, err = run(capsys, "indicators", "export", str(exported), *store)
    assert (code, json.loads(out)["exported"]) == (0, 4), err
    text = exported.read_text()
    assert "HllvX50cXC0" in text and "cisss" in text
    db = pymongo.MongoClient(store_uri)[f"{db_prefix}indicators"]
    before = sorted(
        (d["_id"], d["value"]) for d in db.data_values.find({}, {"value": 1})
    )
    db.data_values.delete_many({})
    code, out, err = run(capsys, "indicators", "import", str(exported), *imported)
    assert (code, json.loads(out)["imported"]) == (0, 4), out + err
    after = sorted(
        (d["_id"], d["value"]) for d in db.data_values.find({}, {"value": 1})
    )
    assert after == before and len(after) == 4


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
