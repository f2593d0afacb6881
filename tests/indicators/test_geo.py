from __future__ import annotations

from collections import Counter

import pytest

from services.indicators.geo import COMBINED_DIVISIONS, QUEBEC, load_quebec


@pytest.fixture(scope="module")
def quebec(data_dir):
    return load_quebec(data_dir / "quebec_geo")


def test_quebec_has_17_regions_98_divisions_and_every_municipality(quebec, data_dir):
    lines = (data_dir / "quebec_geo" / "qc_census_subdivisions.csv").read_text()
    municipalities = len(lines.strip().splitlines()) - 1
    assert quebec.roots() == [QUEBEC]
    assert len(quebec.at_level(2)) == 17
    assert len(quebec.at_level(3)) == 98
    assert len(quebec.at_level(4)) == municipalities


def test_divisions_are_81_mrc_12_equivalent_territories_and_5_combined(quebec):
    kinds = Counter(unit.kind for unit in quebec.at_level(3))
    assert kinds == {"MRC": 81, "TÉ": 12, "CDR": 5}
    combined = {u.id.split(":")[1] for u in quebec.at_level(3) if u.kind == "CDR"}
    assert combined == set(COMBINED_DIVISIONS)
    assert "Les Chenaux" in quebec.get("cd:2437").note


def test_every_division_has_municipalities_and_every_region_divisions(quebec):
    for unit in quebec.at_level(3):
        assert quebec.children[unit.id], unit
    for unit in quebec.at_level(2):
        assert quebec.children[unit.id], unit


def test_a_municipality_rolls_up_to_its_mrc_region_and_quebec(quebec):
    assert quebec.ancestors["csd:2437067"] == (
        "csd:2437067",
        "cd:2437",
        "region:04",
        QUEBEC,
    )
    assert quebec.ancestor_at_level("csd:2466023", 2) == "region:06"  # Montréal
    assert quebec.ancestor_at_level("csd:2447017", 2) == "region:05"  # Granby
    assert len(quebec.subtree(QUEBEC)) == len(quebec)
