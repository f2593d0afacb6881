"""Import and export of whole directories.

An import reads every file, merges organizations that share an
``organization_identifier`` (with each other and with the directory), checks
every record and link, and only if nothing is fatal writes everything.
Otherwise the directory is left exactly as it was and the report lists each
rejected row::

    {"ok": false, "format": "csv", "files": ["services.csv", ...],
     "problems": [{"file": "services.csv", "row": 3, "field": "minimum_age",
                   "reason_fr": "nombre attendu", "reason_en": "number expected",
                   "message": "services.csv, ligne 3, champ « minimum_age » : …"}]}

A checked import is written as the service writes (:func:`write_with_events`):
records, audit trail, search projections and the events the services' changes
cause (published, updated, withdrawn, waiting list) in one transaction, the
events as a row of the service's outbox that its relay publishes. The CLI
writes one transaction per chunk (:func:`domain.import_chunks`: the records
hanging on no imported service first, then 200 services at a time with their
own records) so no transaction grows with the directory. Unchanged records are
not written again and unchanged services cause no event, so an import that
stopped half-way is completed by running it again, and importing the same
file twice emits nothing the second time.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pymongo.client_session import ClientSession
from pymongo.database import Database

from services.offerings.domain import (
    SERVICE_PARTS,
    GeoReference,
    Problem,
    ServiceView,
    check_dataset,
    deduplicate_organizations,
    event_payload,
    import_chunks,
    outside_ids,
    owning_services,
    public_view,
    service_events,
)
from services.offerings.events import payload
from services.offerings.formats import (
    Parsed,
    Progress,
    read,
    write_csv_package,
    write_json,
)
from services.offerings.hsds import Dataset, count
from services.offerings.repository import OfferingsRepository
from shared.envelope import Envelope, current_version

Emit = Callable[[str, dict[str, Any]], None]

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
    events: dict[str, int] = field(default_factory=dict)
    transactions: int = 0

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
            "events": self.events,
            "transactions": self.transactions,
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


def write_with_events(
    repository: OfferingsRepository,
    dataset: Dataset,
    who: str,
    session: ClientSession | None,
    emit: Emit,
    now: str,
    action: str | None = None,
    later: Collection[str] = (),
) -> dict[str, int]:
    """Upsert a checked dataset and ``emit(event_type, payload)`` each event
    its services' changes cause (:func:`domain.service_events`), inside the
    caller's transaction. Returns the upsert's counts. The search projections
    of services in ``later`` (written by a later chunk) are left to it."""
    service_ids = sorted(dataset["service"])
    before = {
        r["id"]: r
        for r in (
            repository.find("service", {"_id": {"$in": service_ids}}, session)
            if service_ids
            else []
        )
    }
    changed: dict[str, set[str]] = {}
    views: dict[str, ServiceView] = {}
    counts = repository.upsert(
        dataset, who, session, action=action, changed=changed, views=views, later=later
    )
    owner = owning_services(dataset)
    parts: dict[str, set[str]] = {}
    for table, ids in changed.items():
        if table in ("service", "metadata"):
            continue
        for record_id in ids:
            if record_id in owner:
                parts.setdefault(owner[record_id], set()).add(
                    SERVICE_PARTS.get(table, table)
                )
    for service_id in service_ids:
        caused = service_events(
            before.get(service_id),
            dataset["service"][service_id],
            parts.get(service_id, ()),
        )
        if not caused:
            continue
        view = views.get(service_id) or repository.view(service_id, session)
        assert view is not None
        for event_type, extra in caused:
            emit(
                event_type,
                payload(event_type, event_payload(event_type, view, extra, now)),
            )
    return counts


def _stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _collect(envelopes: list[Envelope], node_id: str, correlation_id: str) -> Emit:
    """An ``emit`` that makes envelopes as the service's outbox handle does."""

    def emit(event_type: str, data: dict[str, Any]) -> None:
        envelopes.append(
            Envelope(
                event_type=event_type,
                payload=data,
                origin_node=node_id,
                schema_version=current_version(event_type),
                correlation_id=correlation_id,
            )
        )

    return emit


def import_path(
    path: Path,
    db: Database[dict[str, Any]],
    who: str,
    geo: GeoReference | None = None,
    progress: Progress | None = None,
    *,
    node_id: str = "local",
    chunk_size: int = 200,
) -> ImportReport:
    """Check, then write in transactions of ``chunk_size`` services, each with
    its events in the outbox (see the module docstring)."""
    repository = OfferingsRepository(db)
    repository.ensure_indexes()
    dataset, report = prepare(path, repository, geo, progress)
    if not report.ok:
        log.info("import of %s refused: %d problems", path, len(report.problems))
        return report
    write_checked(
        db, repository, dataset, report, who, node_id=node_id, chunk_size=chunk_size
    )
    return report


Within = Callable[[Dataset, ClientSession], None]


def write_checked(
    db: Database[dict[str, Any]],
    repository: OfferingsRepository,
    dataset: Dataset,
    report: ImportReport,
    who: str,
    *,
    node_id: str = "local",
    chunk_size: int = 200,
    within: Within | None = None,
) -> None:
    """Write a checked dataset chunk by chunk (the writing half of
    :func:`import_path`), counting into ``report``. ``within(chunk, session)``
    runs inside each chunk's transaction, so what a caller records about the
    chunk (the harvest's provenance rows) commits with it or not at all."""
    correlation_id = uuid.uuid4().hex[:16]
    report.written = {"created": 0, "updated": 0, "unchanged": 0}
    later = set(dataset["service"])  # each is refreshed in its own chunk
    for chunk in import_chunks(dataset, services=chunk_size, records=chunk_size * 10):
        later -= set(chunk["service"])
        envelopes: list[Envelope] = []
        emit = _collect(envelopes, node_id, correlation_id)
        with db.client.start_session() as session, session.start_transaction():
            counts = write_with_events(
                repository, chunk, who, session, emit, _stamp(), later=later
            )
            repository.add_outbox_row(envelopes, session)
            if within is not None:
                within(chunk, session)
        repository.bump_generation()
        report.transactions += 1
        for key, value in counts.items():
            report.written[key] += value
        for envelope in envelopes:
            report.events[envelope.event_type] = (
                report.events.get(envelope.event_type, 0) + 1
            )


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
