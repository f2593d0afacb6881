"""Quebec's org-unit hierarchy: municipality -> MRC -> region -> Quebec.

Loaded from ``../shared/data/quebec_geo/`` (Statistics Canada codes, via
Open Civic Data ids): 98 census divisions (CD, ``cd:2401``..``cd:2499``) and
their 1,285 census subdivisions (municipalities, unorganised territories,
reserves, ``csd:2401023``). A subdivision's CD is the 4 first digits of its
code, which are also the first two digits of the MAMH municipal code after
``24``.

Level 3 is the census division, our "MRC or equivalent territory". It is the
MRC one to one, except for 5 combined divisions (classification ``CDR``) that
Statistics Canada keeps as one unit though they hold several MRC/TE:

==========  ====================================  ===================================
CD          name                                  what it groups
==========  ====================================  ===================================
``2437``    Francheville                          Trois-Rivières (TE) + Les Chenaux (MRC)
``2494``    Le Saguenay-et-son-Fjord              Saguenay (TE) + Le Fjord-du-Saguenay (MRC)
``2497``    Sept-Rivières—Caniapiscau             Sept-Rivières (MRC) + Caniapiscau (MRC)
``2498``    Minganie—Le Golfe-du-Saint-Laurent    Minganie (MRC) + Le Golfe-du-Saint-Laurent
``2499``    Nord-du-Québec                        Jamésie (TE), Eeyou Istchee, Kativik
==========  ====================================  ===================================

We keep them whole: every published figure (population, census) exists for
the division, not for its parts, and a rate needs both. A node serving only
one part (e.g. Les Chenaux) enters its values at its municipalities, which
still sum correctly up to the division, the region and Quebec; the division's
``note`` says what it groups so a screen can say so. The 12 ``TÉ`` (territoire
équivalent) are cities or agglomerations acting as an MRC (Montréal, Laval,
Québec, Longueuil, Lévis, Gatineau, ...). These are census divisions, not the
MAMH 3-digit MRC codes (``371`` for Trois-Rivières), which the data lacks.

Level 2, the 17 administrative regions, is not in the data: the table
``REGION_OF_DIVISION`` below assigns each division to its region (every CD,
combined ones included, lies wholly in one region). It follows the regions
as redrawn on 8 July 2021, when Brome-Missisquoi and La Haute-Yamaska moved from
Montérégie (16) to Estrie (05).

    {"id": "csd:2437067", "name": "Trois-Rivières", "level": 4,
     "parent": "cd:2437", "kind": "V"}
"""

from __future__ import annotations

import csv
from pathlib import Path

from services.indicators.domain import Hierarchy, OrgUnit

QUEBEC = "qc"

REGIONS: dict[str, str] = {
    "01": "Bas-Saint-Laurent",
    "02": "Saguenay–Lac-Saint-Jean",
    "03": "Capitale-Nationale",
    "04": "Mauricie",
    "05": "Estrie",
    "06": "Montréal",
    "07": "Outaouais",
    "08": "Abitibi-Témiscamingue",
    "09": "Côte-Nord",
    "10": "Nord-du-Québec",
    "11": "Gaspésie–Îles-de-la-Madeleine",
    "12": "Chaudière-Appalaches",
    "13": "Laval",
    "14": "Lanaudière",
    "15": "Laurentides",
    "16": "Montérégie",
    "17": "Centre-du-Québec",
}

_REGION_DIVISIONS: dict[str, tuple[int, ...]] = {
    "01": (7, 8, 9, 10, 11, 12, 13, 14),
    "02": (91, 92, 93, 94),
    "03": (15, 16, 20, 21, 22, 23, 34),
    "04": (35, 36, 37, 51, 90),
    "05": (30, 40, 41, 42, 43, 44, 45, 46, 47),
    "06": (66,),
    "07": (80, 81, 82, 83, 84),
    "08": (85, 86, 87, 88, 89),
    "09": (95, 96, 97, 98),
    "10": (99,),
    "11": (1, 2, 3, 4, 5, 6),
    "12": (17, 18, 19, 25, 26, 27, 28, 29, 31, 33),
    "13": (65,),
    "14": (52, 60, 61, 62, 63, 64),
    "15": (72, 73, 74, 75, 76, 77, 78, 79),
    "16": (48, 53, 54, 55, 56, 57, 58, 59, 67, 68, 69, 70, 71),
    "17": (32, 38, 39, 49, 50),
}

REGION_OF_DIVISION: dict[str, str] = {
    f"24{cd:02d}": region
    for region, divisions in _REGION_DIVISIONS.items()
    for cd in divisions
}

COMBINED_DIVISIONS: dict[str, str] = {
    "2437": "Trois-Rivières (TÉ) + Les Chenaux (MRC)",
    "2494": "Saguenay (TÉ) + Le Fjord-du-Saguenay (MRC)",
    "2497": "Sept-Rivières (MRC) + Caniapiscau (MRC)",
    "2498": "Minganie (MRC) + Le Golfe-du-Saint-Laurent (MRC)",
    "2499": "Jamésie (TÉ) + Eeyou Istchee + Kativik",
}

LEVELS = {1: "Québec", 2: "région", 3: "MRC / TÉ", 4: "municipalité"}


def _code(ocd_id: str) -> str:
    return ocd_id.rsplit(":", 1)[1]


def quebec_units(folder: Path | str) -> list[OrgUnit]:
    """Every org unit, root first, then regions, divisions, subdivisions."""
    folder = Path(folder)
    units = [OrgUnit(QUEBEC, "Québec", 1, None, "province", "Québec")]
    units += [
        OrgUnit(f"region:{code}", name, 2, QUEBEC, "RA", name)
        for code, name in REGIONS.items()
    ]
    with (folder / "qc_census_divisions.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code = _code(row["id"])
            region = REGION_OF_DIVISION.get(code)
            if region is None:
                raise ValueError(f"census division {code} has no region")
            units.append(
                OrgUnit(
                    f"cd:{code}",
                    row["name"],
                    3,
                    f"region:{region}",
                    row["classification"],
                    row["name_fr"],
                    COMBINED_DIVISIONS.get(code, ""),
                )
            )
    with (folder / "qc_census_subdivisions.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code = _code(row["id"])
            units.append(
                OrgUnit(
                    f"csd:{code}",
                    row["name"],
                    4,
                    f"cd:{code[:4]}",
                    row["classification"],
                    row["name_fr"],
                )
            )
    return units


def load_quebec(folder: Path | str) -> Hierarchy:
    """The whole tree: 1 + 17 + 98 + 1,285 units."""
    return Hierarchy(quebec_units(folder))
