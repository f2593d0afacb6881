"""Import and export of whole directories, all or nothing.

An import reads every file, merges organizations that share an
``organization_identifier`` (with each other and with the directory), checks
every record and link, and only if nothing is fatal writes everything in one
store transaction. Otherwise the directory is left exactly as it was and the
report lists each rejected row::

    {"ok": false, "format": "csv", "files": ["services.csv", ...],
     "problems": [{"file": "services.csv", "row": 3, "field": "minimum_age",
                   "reason_fr": "nombre attendu", "reason_en": "number expected",
                   "message": "services.csv, ligne 3, champ « minimum_age » : …"}]}
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pymongo.client_session import ClientSession
from pymongo.database import Database

from services.offerings.domain import (
    GeoReference,
    Problem,
    check_dataset,
    deduplicate_organizations,
    outside_ids,
    public_view,
)
from services.offerings.formats import (
    Parsed,
    Progress,
    read,
    write_csv_package,
    write_json,
)
from services.offerings.hsds import Dataset, count
from services.offerings.repository import OfferingsRepository

log = logging.getLogger(__name__)


@dataclass
class ImportReport:
    source: str
    format: str
    files: list[str] = field(default_factory=list)
    rows_read: int = 0
    records: dict[str, int] = field(default_factory=dict)
    written: dict[str, int] = field(default_factory=dict)
    merged_organizations: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "source": self.source,
            "format": self.format,
            "files": self.files,
            "rows_read": self.rows_read,
            "records": self.records,
            "written": self.written,
            "merged_organizations": self.merged_organizations,
            "problems": [p.as_dict() for p in self.problems],
            "warnings": [p.as_dict() for p in self.warnings],
        }


def prepare(
    path: Path,
    repository: OfferingsRepository,
    geo: GeoReference | None = None,
    progress: Progress | None = None,
) -> tuple[Dataset, ImportReport]:
    """Read and check; nothing is written."""
    return check_parsed(read(path, progress), str(path), repository, geo)


def check_parsed(
    parsed: Parsed,
    source: str,
    repository: OfferingsRepository,
    geo: GeoReference | None = None,
    session: ClientSession | None = None,
) -> tuple[Dataset, ImportReport]:
    """Publish by default, merge duplicate organizations, check everything."""
    report = ImportReport(source, parsed.source_format, parsed.files, parsed.rows_read)
    dataset = parsed.dataset
    for service in dataset["service"].values():
        service.setdefault("publication_status", "published")
    identifiers = [
        str(i.get("identifier", ""))
        for i in dataset["organization_identifier"].values()
    ]
    report.merged_organizations = deduplicate_organizations(
        dataset, repository.known_identifiers(identifiers, session)
    )
    for kept in set(report.merged_organizations.values()):
        stored = repository.get("organization", kept, session)
        if stored is not None:
            # the directory's values win; the newcomer only fills the gaps
            dataset["organization"][kept] = {
                **dataset["organization"].get(kept, {}),
                **stored,
            }
    existing = repository.existing_ids(outside_ids(dataset), session)
    whole_file_refused = any(
        p.fatal and (p.row is None or p.row == 1) for p in parsed.problems
    )
    problems = parsed.problems + check_dataset(
        dataset, parsed.origins, existing, geo, links=not whole_file_refused
    )
    report.problems = [p for p in problems if p.fatal]
    report.warnings = [p for p in problems if not p.fatal]
    report.records = count(dataset)
    return dataset, report


def import_path(
    path: Path,
    db: Database[dict[str, Any]],
    who: str,
    geo: GeoReference | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    repository = OfferingsRepository(db)
    repository.ensure_indexes()
    dataset, report = prepare(path, repository, geo, progress)
    if not report.ok:
        log.info("import of %s refused: %d problems", path, len(report.problems))
        return report
    with db.client.start_session() as session, session.start_transaction():
        report.written = repository.upsert(dataset, who, session, action=None)
    repository.bump_generation()
    return report


def export_directory(
    db: Database[dict[str, Any]],
    directory: Path,
    fmt: str,
    include_confidential: bool = False,
) -> list[Path]:
    """Write the directory as HSDS 3.0. Public unless ``include_confidential``:
    drafts, withdrawn records and confidential addresses are left out
    (:func:`domain.public_view`)."""
    dataset = OfferingsRepository(db).load_all()
    if not include_confidential:
        dataset = public_view(dataset)
    if fmt == "csv":
        return write_csv_package(dataset, directory)
    return write_json(dataset, directory)


def load_geo(directory: Path) -> GeoReference | None:
    """Quebec census divisions and subdivisions from ``quebec_geo/`` CSVs."""
    import csv

    divisions_file = directory / "qc_census_divisions.csv"
    municipalities_file = directory / "qc_census_subdivisions.csv"
    if not (divisions_file.is_file() and municipalities_file.is_file()):
        return None

    def codes(file: Path, marker: str) -> dict[str, str]:
        with file.open(newline="", encoding="utf-8") as handle:
            return {
                row["id"].rsplit(marker, 1)[1]: row.get("name_fr") or row["name"]
                for row in csv.DictReader(handle)
                if marker in row["id"]
            }

    return GeoReference(
        codes(divisions_file, "cd:"), codes(municipalities_file, "csd:")
    )
