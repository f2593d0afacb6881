"""Reading and writing HSDS files: 3.0 JSON, 3.0 CSV datapackage, 1.1 datapackage.

Reading never touches the directory: it returns a :class:`Parsed` (records,
where each came from, problems). The caller checks the whole and writes it in
one transaction, or writes nothing.

Accepted inputs for ``maillage offerings import PATH``:

- a JSON file: a nested document (``service_full.json``), a list of them, an
  HSDS ``Page`` (``{"total_items": …, "contents": [...]}``), a tabular
  document keyed by table (``{"service": [...], …}``, what ``export --format
  json`` writes) or by CSV file name (``{"services.csv": [...]}``);
- a directory of such JSON files;
- an HSDS 3.0 CSV datapackage directory (``services.csv``, ``locations.csv``…);
- an HSDS 1.1 datapackage directory (``services_at_location.csv``,
  ``physical_addresses.csv``, ``regular_schedules.csv``…), migrated to 3.0 by
  :mod:`services.offerings.migration`.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.offerings.domain import (
    Flattener,
    Nester,
    Origin,
    Problem,
    format_cell,
    infer_links,
    parse_cell,
)
from services.offerings.hsds import (
    HSDS_VERSION,
    PROFILE_URI,
    TABLE_BY_PATH,
    TABLES,
    Dataset,
    empty_dataset,
)

log = logging.getLogger(__name__)

Progress = Callable[[int], None]

# HSDS 1.1 files that 3.0 renamed or removed: their presence means 1.1.
V11_MARKERS = (
    "services_at_location.csv",
    "physical_addresses.csv",
    "postal_addresses.csv",
    "regular_schedules.csv",
    "holiday_schedules.csv",
    "services_taxonomy.csv",
    "taxonomy.csv",
    "eligibility.csv",
    "payments_accepted.csv",
    "accessibility_for_disabilities.csv",
)


@dataclass
class Parsed:
    dataset: Dataset = field(default_factory=empty_dataset)
    origins: dict[tuple[str, str], Origin] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    source_format: str = ""
    rows_read: int = 0


def detect(path: Path) -> str:
    """``json``, ``csv`` (3.0 datapackage) or ``hsds11`` (1.1 datapackage)."""
    if path.is_file():
        return "json" if path.suffix.lower() == ".json" else "unknown"
    if not path.is_dir():
        return "missing"
    names = {p.name for p in path.iterdir()}
    if any(marker in names for marker in V11_MARKERS):
        return "hsds11"
    if any(name in TABLE_BY_PATH for name in names):
        return "csv"
    if any(name.endswith(".json") for name in names):
        return "json"
    return "unknown"


def read(path: Path, progress: Progress | None = None) -> Parsed:
    kind = detect(path)
    if kind == "json":
        return read_json(path, progress)
    if kind == "csv":
        return read_csv_package(path, progress)
    if kind == "hsds11":
        from services.offerings.migration import read_hsds11

        return read_hsds11(path, progress)
    parsed = Parsed(source_format=kind)
    parsed.problems.append(
        Problem(
            str(path),
            None,
            None,
            "ni fichier JSON HSDS ni dossier de paquet de données CSV",
            "neither an HSDS JSON file nor a CSV datapackage directory",
        )
    )
    return parsed


# --- JSON ---------------------------------------------------------------------

_LIST_HINTS = (
    "service_at_location",
    "taxonomy_term",
    "organization",
    "service",
    "location",
    "taxonomy",
)


def _table_hint(stem: str) -> str | None:
    for name in _LIST_HINTS:
        if stem.startswith(name):
            return name
    return None


def _guess_table(doc: dict[str, Any], hint: str | None) -> str | None:
    """Which entity a nested document is, from its file name or its keys."""
    if hint:
        return hint
    keys = set(doc)
    if "status" in keys or "service_at_locations" in keys:
        return "service"
    if {"location", "service"} & keys or "location_id" in keys:
        return "service_at_location"
    if {"organization_identifiers", "services", "programs"} & keys or (
        "website" in keys or "year_incorporated" in keys
    ):
        return "organization"
    if "location_type" in keys or "addresses" in keys:
        return "location"
    if "taxonomy_detail" in keys or "term_uri" in keys or "parent_id" in keys:
        return "taxonomy_term"
    if "version" in keys and "name" in keys:
        return "taxonomy"
    return None


def read_json(path: Path, progress: Progress | None = None) -> Parsed:
    parsed = Parsed(source_format="json")
    flattener = Flattener(parsed.dataset)
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    for file in files:
        parsed.files.append(file.name)
        try:
            doc = json.loads(file.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            parsed.problems.append(
                Problem(
                    file.name,
                    getattr(exc, "lineno", None),
                    None,
                    f"JSON illisible ({exc})",
                    f"unreadable JSON ({exc})",
                )
            )
            continue
        _read_json_doc(doc, file, flattener, parsed)
        if progress:
            progress(1)
    infer_links(parsed.dataset)
    parsed.origins.update(flattener.origins)
    parsed.problems += flattener.problems
    return parsed


def read_json_document(doc: Any, name: str = "document.json") -> Parsed:
    """An HSDS JSON document already parsed (an upload through the gateway),
    read exactly as a file named ``name`` would be."""
    parsed = Parsed(source_format="json", files=[name])
    flattener = Flattener(parsed.dataset)
    _read_json_doc(doc, Path(name), flattener, parsed)
    infer_links(parsed.dataset)
    parsed.origins.update(flattener.origins)
    parsed.problems += flattener.problems
    return parsed


def _read_json_doc(doc: Any, file: Path, flattener: Flattener, parsed: Parsed) -> None:
    name = file.name
    hint = _table_hint(file.stem)
    if isinstance(doc, dict) and "openapi_url" in doc and "id" not in doc:
        return  # base.json: describes the API, holds no records
    if (
        isinstance(doc, dict)
        and doc
        and all(
            isinstance(v, list) and (k in TABLES or k in TABLE_BY_PATH)
            for k, v in doc.items()
        )
    ):
        for key, rows in doc.items():
            table = TABLES[key].name if key in TABLES else TABLE_BY_PATH[key]
            for index, row in enumerate(rows):
                parsed.rows_read += 1
                if key in TABLE_BY_PATH and isinstance(row, dict):
                    row = _as_csv_cells(table, row)
                flattener.add(table, row, Origin(name, f"/{key}/{index}"))
        return
    items: list[tuple[str, Any]]
    if isinstance(doc, dict) and "contents" in doc and "total_items" in doc:
        items = [(f"/contents/{i}", d) for i, d in enumerate(doc["contents"] or [])]
    elif isinstance(doc, list):
        items = [(f"/{i}", d) for i, d in enumerate(doc)]
    else:
        items = [("", doc)]
    for pointer, item in items:
        parsed.rows_read += 1
        entity = _guess_table(item, hint) if isinstance(item, dict) else None
        if entity is None:
            parsed.problems.append(
                Problem(
                    name,
                    pointer or "/",
                    None,
                    "type d'entité HSDS non reconnu",
                    "unrecognised HSDS entity type",
                )
            )
            continue
        flattener.add(entity, item, Origin(name, pointer or "/"))


def _as_csv_cells(table: str, row: dict[str, Any]) -> dict[str, Any]:
    """A row keyed by CSV file name (``{"locations.csv": [...]}``) renders CSV
    cells; a converter may have typed a digit string (``10092008082``) as a
    number. Such a value in a text column is taken back as the cell's text."""
    spec = TABLES[table]
    typed = spec.numbers + spec.booleans
    return {
        k: format_cell(v)
        if isinstance(v, int | float) and not isinstance(v, bool) and k not in typed
        else v
        for k, v in row.items()
    }


# --- CSV ----------------------------------------------------------------------


def iter_csv(file: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows with their line number in the file (the header is line 1)."""
    with file.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        line = 1
        for row in reader:
            yield line + 1, row
            line = reader.line_num


def read_csv_package(path: Path, progress: Progress | None = None) -> Parsed:
    parsed = Parsed(source_format="csv")
    for file in sorted(path.glob("*.csv")):
        table = TABLE_BY_PATH.get(file.name)
        if table is None:
            parsed.problems.append(
                Problem(
                    file.name,
                    None,
                    None,
                    "fichier inconnu de HSDS 3.0",
                    "file unknown to HSDS 3.0",
                )
            )
            continue
        parsed.files.append(file.name)
        _read_csv_table(file, table, parsed)
        if progress:
            progress(1)
    return parsed


def _read_csv_table(file: Path, table: str, parsed: Parsed) -> None:
    spec = TABLES[table]
    try:
        with file.open(newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), [])
    except UnicodeDecodeError:
        parsed.problems.append(
            Problem(file.name, None, None, "encodage UTF-8 attendu", "UTF-8 expected")
        )
        return
    unknown = [c for c in header if c not in spec.all_columns]
    for column in unknown:
        parsed.problems.append(
            Problem(file.name, 1, column, "colonne inconnue", "unknown column")
        )
    if "id" not in header:
        parsed.problems.append(
            Problem(
                file.name, 1, "id", "colonne requise absente", "required column missing"
            )
        )
    if unknown or "id" not in header:
        return
    try:
        for line, raw in iter_csv(file):
            parsed.rows_read += 1
            origin = Origin(file.name, line)
            if None in raw:
                parsed.problems.append(
                    Problem(
                        file.name,
                        line,
                        None,
                        "plus de cellules que de colonnes",
                        "more cells than columns",
                    )
                )
                continue
            record: dict[str, Any] = {}
            for column, text in raw.items():
                value, problem = parse_cell(table, column, text or "")
                if problem is not None:
                    parsed.problems.append(
                        Problem(file.name, line, column, problem.fr, problem.en)
                    )
                elif value is not None:
                    record[column] = value
                elif column in spec.required:
                    record[column] = ""
            record_id = record.get("id")
            if not record_id:
                parsed.problems.append(
                    Problem(file.name, line, "id", "valeur requise", "value required")
                )
                continue
            if record_id in parsed.dataset[table]:
                parsed.problems.append(
                    Problem(
                        file.name,
                        line,
                        "id",
                        f"identifiant en double : {record_id}",
                        f"duplicate id: {record_id}",
                    )
                )
                continue
            parsed.dataset[table][record_id] = record
            parsed.origins[(table, record_id)] = origin
    except (UnicodeDecodeError, csv.Error) as exc:
        parsed.problems.append(
            Problem(
                file.name,
                None,
                None,
                f"CSV illisible ({exc})",
                f"unreadable CSV ({exc})",
            )
        )


# --- export -------------------------------------------------------------------


def write_csv_package(dataset: Dataset, directory: Path) -> list[Path]:
    """One CSV per HSDS table (Quebec profile columns after the HSDS ones) and
    a ``datapackage.json`` naming them."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    resources = []
    for name, spec in TABLES.items():
        file = directory / spec.path
        with file.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(spec.all_columns)
            for record_id in sorted(dataset[name]):
                record = dataset[name][record_id]
                writer.writerow([format_cell(record.get(c)) for c in spec.all_columns])
        written.append(file)
        resources.append(
            {
                "name": name,
                "path": spec.path,
                "profile": "tabular-data-resource",
                "schema": {
                    "fields": [{"name": c} for c in spec.all_columns],
                    "primaryKey": "id",
                },
            }
        )
    package = {
        "name": "maillage-offerings",
        "profile": "tabular-data-package",
        "hsds_version": HSDS_VERSION,
        "hsds_profile": PROFILE_URI,
        "resources": resources,
    }
    (directory / "datapackage.json").write_text(
        json.dumps(package, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    return written


def tabular_document(dataset: Dataset) -> dict[str, list[dict[str, Any]]]:
    """The whole directory as one JSON object keyed by table (the shape the
    compiled ``tabular.json`` schema describes)."""
    return {name: [dataset[name][i] for i in sorted(dataset[name])] for name in TABLES}


def write_json(dataset: Dataset, directory: Path) -> list[Path]:
    """``hsds.json`` (every record, lossless) and ``services.json`` /
    ``organizations.json`` (fully nested documents, as the HSDS API serves)."""
    directory.mkdir(parents=True, exist_ok=True)
    nester = Nester(dataset)
    outputs = {
        "hsds.json": tabular_document(dataset),
        "services.json": [
            nester.document("service", i) for i in sorted(dataset["service"])
        ],
        "organizations.json": [
            nester.document("organization", i) for i in sorted(dataset["organization"])
        ],
    }
    written = []
    for file_name, content in outputs.items():
        file = directory / file_name
        file.write_text(
            json.dumps(content, indent=2, ensure_ascii=False), encoding="utf-8"
        )
        written.append(file)
    return written
