"""Pure rules of the directory: validation, nesting, de-duplication, audit,
confidentiality and search. No I/O: plain records in, plain records out.

The unit of work is a :data:`~services.offerings.hsds.Dataset`: every table of
HSDS 3.0 as ``{id: record}``. An import builds one from files, checks it as a
whole (:func:`check_dataset`), and only then hands it to the repository (in
chunks of services, :func:`import_chunks`): a file with one bad row changes
nothing.

A problem found in a file, as shown to a person::

    services.csv, ligne 3, champ « minimum_age » : nombre attendu /
    services.csv, row 3, field "minimum_age": number expected
"""

from __future__ import annotations

import calendar
import heapq
import math
import re
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.offerings.events import (
    SERVICE_PUBLISHED,
    SERVICE_UPDATED,
    SERVICE_WITHDRAWN,
    WAITING_LIST_CHANGED,
)
from services.offerings.hsds import (
    HARD_REFERENCES,
    NESTING,
    OUTREACH_MODES,
    OWNED_TABLES,
    REFERENCES,
    TABLES,
    Dataset,
    Record,
    empty_dataset,
)

UNAUDITED = ("metadata", "meta_table_description")
# A creation has no previous value: HSDS requires the field, empty.
EMPTY_ALLOWED = {("metadata", "previous_value"), ("metadata", "replacement_value")}


# --- problems -----------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One reason a row cannot be taken, bilingual (French first).

    ``row`` is a CSV line number (the header is line 1) or a JSON pointer.
    ``fatal`` problems reject the whole import; the others are warnings.
    """

    file: str
    row: int | str | None
    field: str | None
    fr: str
    en: str
    fatal: bool = True

    def where(self, french: bool) -> str:
        parts = [self.file] if self.file else []
        if self.row is not None:
            parts.append(f"{'ligne' if french else 'row'} {self.row}")
        if self.field is not None:
            parts.append(
                f"champ « {self.field} »" if french else f'field "{self.field}"'
            )
        return ", ".join(parts)

    def __str__(self) -> str:
        return f"{self.where(True)} : {self.fr} / {self.where(False)}: {self.en}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "row": self.row,
            "field": self.field,
            "reason_fr": self.fr,
            "reason_en": self.en,
            "fatal": self.fatal,
            "message": str(self),
        }


@dataclass(frozen=True)
class Origin:
    """Where a record came from, to point problems at the right line."""

    file: str
    row: int | str | None


# --- values -------------------------------------------------------------------

_UUID = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
_MRC = re.compile(r"^24\d\d$")
_MUNICIPALITY = re.compile(r"^24\d{5}$")
_TRUE = {"true", "1", "yes", "oui", "vrai", "y", "o"}
_FALSE = {"false", "0", "no", "non", "faux", "n"}


def is_uuid(value: object) -> bool:
    return isinstance(value, str) and bool(_UUID.match(value))


def parse_cell(table: str, column: str, text: str) -> tuple[Any, Problem | None]:
    """Type one CSV cell; ``(None, None)`` for an empty cell."""
    spec = TABLES[table]
    if text == "":
        return None, None
    if column in spec.numbers:
        try:
            number = float(text)
        except ValueError:
            return None, Problem("", None, column, "nombre attendu", "number expected")
        return (int(number) if number.is_integer() else number), None
    if column in spec.booleans:
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return True, None
        if lowered in _FALSE:
            return False, None
        return None, Problem(
            "", None, column, "vrai/faux attendu", "true/false expected"
        )
    return text, None


def format_cell(value: Any) -> str:
    """The CSV text of a typed value (inverse of :func:`parse_cell`)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def check_record(
    table: str,
    record: Record,
    origin: Origin,
    geo: GeoReference | None = None,
) -> list[Problem]:
    """Types, required fields, enumerations and the Quebec profile of one record."""
    spec = TABLES[table]
    problems: list[Problem] = []

    def bad(column: str | None, fr: str, en: str) -> None:
        problems.append(Problem(origin.file, origin.row, column, fr, en))

    for column in spec.required:
        value = record.get(column)
        if value is None or (value == "" and (table, column) not in EMPTY_ALLOWED):
            bad(column, "valeur requise", "value required")
    if "id" in record and not is_uuid(record["id"]):
        bad("id", "UUID attendu", "UUID expected")
    for column, value in record.items():
        if column not in spec.all_columns:
            bad(column, "champ inconnu", "unknown field")
        elif column in spec.numbers:
            if isinstance(value, bool) or not isinstance(value, int | float):
                bad(column, "nombre attendu", "number expected")
        elif column in spec.booleans:
            if not isinstance(value, bool):
                bad(column, "vrai/faux attendu", "true/false expected")
        elif not isinstance(value, str):
            bad(column, "texte attendu", "text expected")
        elif column in spec.enums and value not in spec.enums[column]:
            allowed = ", ".join(spec.enums[column])
            bad(
                column,
                f"valeur hors liste ({allowed})",
                f"value not allowed ({allowed})",
            )
    if table == "service":
        problems += _check_service_profile(record, origin)
    elif table == "location":
        problems += _check_location_profile(record, origin, geo)
    return problems


def _check_service_profile(record: Record, origin: Origin) -> list[Problem]:
    problems = []
    modes = record.get("outreach_modes")
    if isinstance(modes, str) and modes:
        for mode in modes.split(","):
            if mode.strip() not in OUTREACH_MODES:
                allowed = ", ".join(OUTREACH_MODES)
                problems.append(
                    Problem(
                        origin.file,
                        origin.row,
                        "outreach_modes",
                        f"mode « {mode} » inconnu ({allowed})",
                        f'unknown mode "{mode}" ({allowed})',
                    )
                )
    for column in ("waiting_list_length", "typical_wait_days", "capacity"):
        value = record.get(column)
        if (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and (value < 0 or not float(value).is_integer())
        ):
            problems.append(
                Problem(
                    origin.file,
                    origin.row,
                    column,
                    "entier positif ou nul attendu",
                    "non-negative integer expected",
                )
            )
    updated = record.get("waiting_list_updated_at")
    if isinstance(updated, str) and updated:
        try:
            datetime.fromisoformat(updated.replace("Z", "+00:00"))
        except ValueError:
            problems.append(
                Problem(
                    origin.file,
                    origin.row,
                    "waiting_list_updated_at",
                    "date-heure ISO 8601 attendue",
                    "ISO 8601 date-time expected",
                )
            )
    return problems


@dataclass(frozen=True)
class GeoReference:
    """Quebec census divisions (MRC and equivalents) and municipalities.

    Codes are Statistics Canada's: division ``2466`` (Montréal), subdivision
    ``2466023``; a municipality's first four digits are its division.
    """

    divisions: Mapping[str, str]
    municipalities: Mapping[str, str]


def _check_location_profile(
    record: Record, origin: Origin, geo: GeoReference | None
) -> list[Problem]:
    problems = []
    mrc = record.get("mrc_code")
    municipality = record.get("municipality_code")
    if isinstance(mrc, str) and (
        not _MRC.match(mrc) or (geo is not None and mrc not in geo.divisions)
    ):
        problems.append(
            Problem(
                origin.file,
                origin.row,
                "mrc_code",
                "code de division de recensement du Québec inconnu",
                "unknown Quebec census division code",
            )
        )
    if isinstance(municipality, str):
        if not _MUNICIPALITY.match(municipality) or (
            geo is not None and municipality not in geo.municipalities
        ):
            problems.append(
                Problem(
                    origin.file,
                    origin.row,
                    "municipality_code",
                    "code de municipalité du Québec inconnu",
                    "unknown Quebec municipality code",
                )
            )
        elif isinstance(mrc, str) and not municipality.startswith(mrc):
            problems.append(
                Problem(
                    origin.file,
                    origin.row,
                    "municipality_code",
                    f"la municipalité n'est pas dans la MRC {mrc}",
                    f"the municipality is not in MRC {mrc}",
                )
            )
    return problems


# --- nested JSON <-> tabular --------------------------------------------------


class Flattener:
    """Turns nested HSDS 3.0 documents into tabular records.

    Nesting gives the links: a phone inside ``service.phones`` gets
    ``service_id``; a service's ``organization`` object gives the service its
    ``organization_id``. The same id met twice (the examples repeat one phone
    under a service, its location and its contact) is one record holding all
    those links; two different values for one field are a conflict.
    """

    def __init__(self, dataset: Dataset | None = None) -> None:
        self.dataset = dataset if dataset is not None else empty_dataset()
        self.origins: dict[tuple[str, str], Origin] = {}
        self.problems: list[Problem] = []

    def add(
        self,
        table: str,
        doc: object,
        origin: Origin,
        parent: tuple[str, str] | None = None,
        link: str | None = None,
    ) -> str | None:
        """Add ``doc`` (and what it nests); return its id."""
        if not isinstance(doc, dict):
            self.problems.append(
                Problem(
                    origin.file,
                    origin.row,
                    None,
                    "objet JSON attendu",
                    "JSON object expected",
                )
            )
            return None
        spec = TABLES[table]
        children = {child.prop: child for child in NESTING[table]}
        record: Record = {}
        for key, value in doc.items():
            if key in children:
                continue
            if key not in spec.all_columns:
                self.problems.append(
                    Problem(
                        origin.file, origin.row, key, "champ inconnu", "unknown field"
                    )
                )
            elif value is not None:
                record[key] = value
        record_id = record.get("id")
        if not isinstance(record_id, str) or not record_id:
            self.problems.append(
                Problem(
                    origin.file, origin.row, "id", "valeur requise", "value required"
                )
            )
            return None
        if parent is not None and link is not None:
            parent_table, parent_id = parent
            self._link(record, link, parent_id, origin)
            if table == "attribute":
                record.setdefault("link_entity", parent_table)
            if table == "metadata":
                record.setdefault("resource_type", parent_table)
        for prop, child in children.items():
            value = doc.get(prop)
            if value is None or child.many:
                continue
            if parent is not None and child.table == parent[0]:
                continue
            child_id = self.add(child.table, value, _deeper(origin, prop))
            if child_id is not None:
                self._link(record, child.fk, child_id, origin)
        self._merge(table, record, origin)
        for prop, child in children.items():
            value = doc.get(prop)
            if value is None or not child.many:
                continue
            if not isinstance(value, list):
                self.problems.append(
                    Problem(
                        origin.file, origin.row, prop, "liste attendue", "list expected"
                    )
                )
                continue
            for index, item in enumerate(value):
                self.add(
                    child.table,
                    item,
                    _deeper(origin, f"{prop}/{index}"),
                    parent=(table, record_id),
                    link=child.fk,
                )
        return record_id

    def _link(self, record: Record, column: str, value: str, origin: Origin) -> None:
        current = record.get(column)
        if current is not None and current != value:
            self.problems.append(
                Problem(
                    origin.file,
                    origin.row,
                    column,
                    f"lien contradictoire ({current} ≠ {value})",
                    f"conflicting link ({current} != {value})",
                )
            )
        record[column] = value

    def _merge(self, table: str, record: Record, origin: Origin) -> None:
        rows = self.dataset[table]
        existing = rows.get(record["id"])
        if existing is None:
            rows[record["id"]] = record
            self.origins[(table, record["id"])] = origin
            return
        for column, value in record.items():
            if column in existing and existing[column] != value:
                self.problems.append(
                    Problem(
                        origin.file,
                        origin.row,
                        column,
                        f"valeur contradictoire pour {table} {record['id']}",
                        f"conflicting value for {table} {record['id']}",
                    )
                )
            else:
                existing[column] = value


def _deeper(origin: Origin, step: str) -> Origin:
    base = origin.row.rstrip("/") if isinstance(origin.row, str) else ""
    return Origin(origin.file, f"{base}/{step}")


class Nester:
    """Rebuilds nested HSDS documents from tabular records (inverse of
    :class:`Flattener`). Every column of a record is kept, links included, so
    that flattening a nested export gives back the same records."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.index: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        links = {(c.table, c.fk) for cs in NESTING.values() for c in cs if c.many}
        for table, column in links:
            for row_id, row in dataset[table].items():
                value = row.get(column)
                if value is not None:
                    self.index[(table, column, value)].append(row_id)

    def document(
        self, table: str, record_id: str, parents: tuple[str, ...] = ()
    ) -> Record:
        row = self.dataset[table][record_id]
        doc: Record = dict(row)
        trail = (*parents, table)
        for child in NESTING[table]:
            if child.table in trail:
                continue
            if child.many:
                ids = sorted(self.index.get((child.table, child.fk, record_id), ()))
                if child.table == "attribute":
                    ids = [i for i in ids if self._links_here(i, table)]
                doc[child.prop] = [self.document(child.table, i, trail) for i in ids]
            else:
                target = row.get(child.fk)
                if target in self.dataset[child.table]:
                    doc[child.prop] = self.document(child.table, target, trail)
        return doc

    def _links_here(self, attribute_id: str, table: str) -> bool:
        # link_id alone is ambiguous across tables; link_entity says which.
        entity = self.dataset["attribute"][attribute_id].get("link_entity")
        return entity not in TABLES or entity == table


# --- whole-dataset checks -----------------------------------------------------


def infer_links(dataset: Dataset) -> None:
    """Fill links HSDS leaves implicit in nested documents: a program nested
    only under a service belongs to that service's organization."""
    for service in dataset["service"].values():
        program = dataset["program"].get(service.get("program_id", ""))
        if program is not None and "organization_id" in service:
            program.setdefault("organization_id", service["organization_id"])


def check_dataset(
    dataset: Dataset,
    origins: Mapping[tuple[str, str], Origin],
    existing: Mapping[str, set[str]] | None = None,
    geo: GeoReference | None = None,
    links: bool = True,
) -> list[Problem]:
    """Every record, then every link, checked before anything is written.

    ``existing`` holds the ids already in the directory, by table, so that a
    file may point at records imported earlier. ``links=False`` skips the
    links: when a whole file was refused, every pointer into it would be
    reported again as broken, which hides the real cause.
    """
    existing = existing or {}
    problems: list[Problem] = []
    for table, rows in dataset.items():
        spec = TABLES[table]
        for record_id, record in rows.items():
            origin = origins.get((table, record_id), Origin(table, None))
            problems += check_record(table, record, origin, geo)
            for column in spec.tabular_required:
                if record.get(column) in (None, ""):
                    problems.append(
                        Problem(
                            origin.file,
                            origin.row,
                            column,
                            "valeur requise",
                            "value required",
                        )
                    )
            if links:
                problems += _check_links(dataset, existing, table, record, origin)
    return problems


def _check_links(
    dataset: Dataset,
    existing: Mapping[str, set[str]],
    table: str,
    record: Record,
    origin: Origin,
) -> list[Problem]:
    def resolves(target: str, value: str) -> bool:
        return value in dataset[target] or value in existing.get(target, set())

    problems = []
    links = REFERENCES.get(table, {})
    present = {c: record[c] for c in links if record.get(c)}
    hard = HARD_REFERENCES.get(table, ())
    for column, value in present.items():
        if resolves(links[column], value):
            continue
        if column in hard:
            problems.append(
                Problem(
                    origin.file,
                    origin.row,
                    column,
                    f"référence introuvable : {links[column]} {value}",
                    f"broken reference: {links[column]} {value}",
                )
            )
        else:
            problems.append(
                Problem(
                    origin.file,
                    origin.row,
                    column,
                    f"référence externe gardée telle quelle : {value}",
                    f"outside reference kept as is: {value}",
                    fatal=False,
                )
            )
    if table in OWNED_TABLES:
        owners = [c for c in present if c != "parent_organization_id"]
        if not any(resolves(links[c], present[c]) for c in owners):
            problems.append(
                Problem(
                    origin.file,
                    origin.row,
                    None,
                    "enregistrement orphelin : aucun parent connu",
                    "orphan record: no known parent",
                )
            )
    return problems


def remap_ids(dataset: Dataset, table: str, mapping: Mapping[str, str]) -> None:
    """Rename records of ``table`` and rewrite every link that points at them."""
    if not mapping:
        return
    rows = dataset[table]
    for old, new in mapping.items():
        if old in rows:
            record = rows.pop(old)
            record["id"] = new
            if new not in rows:
                rows[new] = record
    for source, links in REFERENCES.items():
        for column, target in links.items():
            if target != table:
                continue
            for record in dataset[source].values():
                if record.get(column) in mapping:
                    record[column] = mapping[record[column]]
    for link_table, column in (("attribute", "link_id"), ("metadata", "resource_id")):
        for record in dataset[link_table].values():
            if record.get(column) in mapping:
                record[column] = mapping[record[column]]


def identifier_key(record: Record) -> tuple[str, str, str]:
    return (
        str(record.get("identifier_scheme", "")).strip().lower(),
        str(record.get("identifier_type", "")).strip().lower(),
        str(record.get("identifier", "")).strip().lower(),
    )


def deduplicate_organizations(
    dataset: Dataset,
    known: Mapping[tuple[str, str, str], str],
) -> dict[str, str]:
    """Merge organizations that share an ``organization_identifier``.

    ``known`` maps identifiers already in the directory to their organization.
    Returns ``{incoming id: kept id}``; the incoming organization's fields fill
    only what the kept one lacks, and its links are rewritten.
    """
    owner: dict[tuple[str, str, str], str] = dict(known)
    mapping: dict[str, str] = {}
    duplicate_identifiers: list[str] = []
    for ident_id, ident in list(dataset["organization_identifier"].items()):
        key = identifier_key(ident)
        raw_id = ident.get("organization_id")
        if not isinstance(raw_id, str) or not raw_id or not key[2]:
            continue
        org_id = mapping.get(raw_id, raw_id)
        kept = owner.setdefault(key, org_id)
        if kept != org_id:
            mapping[org_id] = kept
            duplicate_identifiers.append(ident_id)
    orgs = dataset["organization"]
    for old, new in mapping.items():
        incoming = orgs.pop(old, None)
        if incoming is not None and new in orgs:
            for column, value in incoming.items():
                orgs[new].setdefault(column, value)
        elif incoming is not None:
            incoming["id"] = new
            orgs[new] = incoming
    remap_ids(dataset, "organization", mapping)
    for ident_id in duplicate_identifiers:
        dataset["organization_identifier"].pop(ident_id, None)
    return mapping


# --- audit: the HSDS metadata entity ------------------------------------------


def audit(
    table: str,
    before: Record | None,
    after: Record,
    who: str,
    when: datetime,
    action: str | None = None,
) -> list[Record]:
    """Metadata records for one change: one per changed field.

    A creation is one record (``field_name`` ``"*"``) rather than one per field.

        >>> audit("service", {"id": "s1", "name": "A"}, {"id": "s1", "name": "B"},
        ...       "ana@example.org", datetime(2026, 11, 23))[0]["replacement_value"]
        'B'
    """
    if table in UNAUDITED:
        return []
    stamp = when.date().isoformat()

    def entry(action_type: str, column: str, old: Any, new: Any) -> Record:
        return {
            "id": str(uuid.uuid4()),
            "resource_id": after["id"],
            "resource_type": table,
            "last_action_date": stamp,
            "last_action_type": action_type,
            "field_name": column,
            "previous_value": format_cell(old),
            "replacement_value": format_cell(new),
            "updated_by": who,
        }

    if before is None:
        return [entry(action or "create", "*", "", after.get("name", after["id"]))]
    changed = sorted(
        column
        for column in set(before) | set(after)
        if before.get(column) != after.get(column)
    )
    return [
        entry(action or "update", column, before.get(column), after.get(column))
        for column in changed
    ]


# --- commands on one service ---------------------------------------------------

WAITING_LIST_FIELDS = (
    "waiting_list_open",
    "waiting_list_length",
    "typical_wait_days",
    "capacity",
)
LINK_FIELDS = ("languages", "location_ids", "taxonomy_term_ids")


def apply_changes(
    current: Record | None, changes: Mapping[str, Any], now: str
) -> Record:
    """The record after ``changes``; a waiting-list change stamps
    ``waiting_list_updated_at`` and any change stamps ``last_modified``.

        >>> apply_changes({"id": "s", "capacity": 4}, {"capacity": 5},
        ...               "2026-11-23T14:00:00Z")["waiting_list_updated_at"]
        '2026-11-23T14:00:00Z'
    """
    record = dict(current or {})
    for key, value in changes.items():
        if key not in LINK_FIELDS:
            record[key] = value
    if any(record.get(k) != (current or {}).get(k) for k in WAITING_LIST_FIELDS):
        record["waiting_list_updated_at"] = now
    record["last_modified"] = now
    return record


def waiting_list_changed(before: Record | None, after: Record) -> bool:
    return any((before or {}).get(k) != after.get(k) for k in WAITING_LIST_FIELDS)


def service_links(service_id: str, changes: Mapping[str, Any]) -> Dataset:
    """Records that link a service to its languages, locations and taxonomy
    terms. Ids derive from the link, so setting the same link again is a no-op.
    Only the kinds present in ``changes`` are returned."""
    links = empty_dataset()

    def link_id(kind: str, value: str) -> str:
        return str(
            uuid.uuid5(uuid.NAMESPACE_URL, f"maillage:{service_id}:{kind}:{value}")
        )

    for code in changes.get("languages", ()):
        rid = link_id("language", code)
        links["language"][rid] = {"id": rid, "service_id": service_id, "code": code}
    for location_id in changes.get("location_ids", ()):
        rid = link_id("location", location_id)
        links["service_at_location"][rid] = {
            "id": rid,
            "service_id": service_id,
            "location_id": location_id,
        }
    for term_id in changes.get("taxonomy_term_ids", ()):
        rid = link_id("taxonomy_term", term_id)
        links["attribute"][rid] = {
            "id": rid,
            "link_id": service_id,
            "link_entity": "service",
            "link_type": "taxonomy",
            "taxonomy_term_id": term_id,
        }
    return links


def replace_addresses(
    location_id: str, stored: Iterable[Record], wanted: Iterable[Mapping[str, Any]]
) -> tuple[dict[str, Record], list[str]]:
    """A location's addresses after ``wanted`` replaces them: ``(records to
    write, ids to delete)``. An address of a type already held (``physical``,
    ``postal``…) keeps that record's id, so its history shows the change field
    by field; the others are new, and stored ones left over are removed.

        >>> replace_addresses("l1", [{"id": "a1", "location_id": "l1",
        ...                           "address_type": "physical"}],
        ...                   [{"address_1": "2, rue Neuve",
        ...                     "address_type": "physical"}])[0]["a1"]["address_1"]
        '2, rue Neuve'
    """
    free: dict[str, list[str]] = defaultdict(list)
    for record in sorted(stored, key=lambda r: str(r["id"])):
        free[str(record.get("address_type") or "physical")].append(record["id"])
    kept: dict[str, Record] = {}
    for address in wanted:
        kind = str(address.get("address_type") or "physical")
        address_id = free[kind].pop(0) if free[kind] else str(uuid.uuid4())
        kept[address_id] = {"id": address_id, "location_id": location_id, **address}
    return kept, [i for ids in free.values() for i in ids]


# --- who may write what: the MRC of a record ------------------------------------

_OWNER_TABLES = ("service", "location", "organization", "service_at_location")


def territory(dataset: Dataset, table: str, record_id: str, depth: int = 0) -> set[str]:
    """The MRCs (``mrc_code``) a record belongs to, read from ``dataset``.

    A location belongs to its ``mrc_code``; a service to the MRCs of the
    locations it is given at (else to its organization's); an organization to
    those of its locations and of its services' locations; any other record to
    those of what it hangs on (a schedule to its service, an address to its
    location, a history row to its resource). Empty: no MRC known.

        >>> data = empty_dataset()
        >>> data["location"]["l1"] = {"id": "l1", "mrc_code": "2423"}
        >>> data["address"]["a1"] = {"id": "a1", "location_id": "l1"}
        >>> territory(data, "address", "a1")
        {'2423'}
    """
    record = dataset[table].get(record_id)
    if record is None or depth > 4:
        return set()
    if table == "location":
        return {str(record["mrc_code"])} if record.get("mrc_code") else set()
    if table == "service_at_location":
        return territory(
            dataset, "service", str(record.get("service_id")), depth + 1
        ) | territory(dataset, "location", str(record.get("location_id")), depth + 1)
    if table == "service":
        served = _served_at(dataset, {record_id})
        if served or not record.get("organization_id"):
            return served
        return territory(dataset, "organization", record["organization_id"], depth + 1)
    if table == "organization":
        services = {
            i
            for i, r in dataset["service"].items()
            if r.get("organization_id") == record_id
        }
        return _served_at(dataset, services) | {
            str(r["mrc_code"])
            for r in dataset["location"].values()
            if r.get("organization_id") == record_id and r.get("mrc_code")
        }
    owners: list[tuple[str, str]] = [
        (target, str(record[column]))
        for column, target in REFERENCES.get(table, {}).items()
        if record.get(column) and target in (*_OWNER_TABLES, "contact", "phone")
    ]
    for column in ("link_id", "resource_id"):
        if record.get(column):
            owners += [(t, str(record[column])) for t in TABLES if t != table]
    codes: set[str] = set()
    for target, target_id in owners:
        if target_id in dataset[target]:
            codes |= territory(dataset, target, target_id, depth + 1)
    return codes


def _served_at(dataset: Dataset, service_ids: set[str]) -> set[str]:
    locations = {
        str(r.get("location_id"))
        for r in dataset["service_at_location"].values()
        if r.get("service_id") in service_ids
    }
    return {
        str(dataset["location"][i]["mrc_code"])
        for i in locations
        if i in dataset["location"] and dataset["location"][i].get("mrc_code")
    }


@dataclass(frozen=True)
class Writer:
    """Who writes, as far as the directory's rules go: the MRC of their
    account, the node's own MRC (records with no MRC belong to it), and
    whether they may turn a location's confidentiality off. Built by the
    gateway from the signed-in account; callers inside the node (the CLI,
    other services) write unscoped (``Writer.from_user`` gives ``None``).

        {"id": "01J…", "mrc": "2466", "node_mrc": "2466",
         "may_lift_confidentiality": false}
    """

    mrc: str
    node_mrc: str | None
    may_lift_confidentiality: bool

    @classmethod
    def from_user(cls, user: Any) -> Writer | None:
        if not isinstance(user, Mapping) or "mrc" not in user:
            return None
        return cls(
            mrc=str(user["mrc"]),
            node_mrc=str(user["node_mrc"]) if user.get("node_mrc") else None,
            may_lift_confidentiality=user.get("may_lift_confidentiality") is True,
        )


@dataclass(frozen=True)
class Refusal:
    """Why a write is refused: ``kind`` is ``"mrc"`` or ``"confidentiality"``."""

    kind: str
    table: str
    record_id: str
    field: str
    mrcs: tuple[str, ...] = ()


def refusals(writer: Writer, before: Dataset, fragment: Dataset) -> list[Refusal]:
    """What ``writer`` may not write of ``fragment`` (records to upsert), given
    the stored records around it (``before``).

    Every record must belong, before and after the write, to the writer's MRC
    only (a record with no MRC known belongs to the node's MRC; a new record
    with no MRC yet claims nothing); a location confidential before and not
    after needs ``may_lift_confidentiality``."""
    after = {table: {**before[table], **fragment[table]} for table in before}
    found: list[Refusal] = []
    for table, rows in fragment.items():
        for record_id in rows:
            old = before[table].get(record_id)
            codes: set[str] = set()
            if old is not None:
                codes = territory(before, table, record_id) or {writer.node_mrc or "?"}
            codes |= territory(after, table, record_id)
            if codes - {writer.mrc}:
                found.append(
                    Refusal("mrc", table, record_id, "mrc_code", tuple(sorted(codes)))
                )
            elif (
                table == "location"
                and old is not None
                and old.get("confidential_location") is True
                and rows[record_id].get("confidential_location") is not True
                and not writer.may_lift_confidentiality
            ):
                found.append(
                    Refusal(
                        "confidentiality", table, record_id, "confidential_location"
                    )
                )
    return found


# --- imports: chunks of services and the events they cause ----------------------

# What points from a record at the service it belongs to (directly, through a
# service-at-location, a contact or a phone, or as an attribute or audit row).
_OWNER_COLUMNS = (
    "service_id",
    "service_at_location_id",
    "contact_id",
    "phone_id",
    "link_id",
    "resource_id",
)
_OWNER_ORDER = ("service_at_location", "contact", "phone")
# The nested property a changed child shows up as in ``changed_fields``.
SERVICE_PARTS = {c.table: c.prop for c in NESTING["service"] if c.many}


def owning_services(dataset: Dataset) -> dict[str, str]:
    """``{record id: service id}`` for every record that hangs on a service of
    the dataset (the service itself included)."""
    owner = {service_id: service_id for service_id in dataset["service"]}
    tables = [
        *_OWNER_ORDER,
        *(
            t
            for t in TABLES
            if t not in (*_OWNER_ORDER, "service", "attribute", "metadata")
        ),
        "attribute",
        "metadata",
    ]
    for table in tables:
        for record_id, record in dataset[table].items():
            for column in _OWNER_COLUMNS:
                value = record.get(column)
                if value in owner:
                    owner[record_id] = owner[value]
                    break
    return owner


def import_chunks(
    dataset: Dataset, services: int = 200, records: int = 2000
) -> list[Dataset]:
    """Split a checked import into the datasets written one transaction each.

    First the records that hang on no service of the import (organizations,
    locations, taxonomies…), ``records`` at a time; then ``services`` services
    at a time, each with everything that hangs on it, so a service, its
    schedules, links and search projection and the events they cause are
    committed together.

        >>> [count(c) for c in import_chunks(data, services=2)]  # doctest: +SKIP
        [{"organization": 1, "location": 3}, {"service": 2, "schedule": 2},
         {"service": 1}]
    """
    owner = owning_services(dataset)
    base: list[tuple[str, str]] = []
    per_service: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for table, rows in dataset.items():
        for record_id in rows:
            service_id = owner.get(record_id)
            if service_id is None:
                base.append((table, record_id))
            else:
                per_service[service_id].append((table, record_id))

    def build(keys: Iterable[tuple[str, str]]) -> Dataset:
        chunk = empty_dataset()
        for table, record_id in keys:
            chunk[table][record_id] = dataset[table][record_id]
        return chunk

    chunks = [build(base[i : i + records]) for i in range(0, len(base), records)]
    service_ids = sorted(dataset["service"])
    for i in range(0, len(service_ids), services):
        chunks.append(
            build(k for s in service_ids[i : i + services] for k in per_service[s])
        )
    return chunks


def _published(record: Record | None) -> bool:
    return record is not None and record.get("publication_status") in PUBLIC_STATUSES


def service_events(
    before: Record | None, after: Record, changed_parts: Iterable[str] = ()
) -> list[tuple[str, dict[str, Any]]]:
    """The events a written service causes, as the RPC commands emit them:
    ``(event_type, payload fields of its own)``.

    Published now and not before: published, then its waiting list. Published
    before and now: updated (``changed_fields``: its own columns that changed,
    then the nested parts, e.g. ``schedules``) and its waiting list if that
    changed. Published before, not now: withdrawn. Drafts and unchanged
    services cause nothing, so importing the same file twice emits nothing the
    second time.

        >>> service_events(None, {"id": "s", "name": "Popote",
        ...                       "publication_status": "published"})[0][0]
        'offerings.service_published'
    """
    was, now = _published(before), _published(after)
    if now and not was:
        modes = str(after.get("outreach_modes") or "").split(",")
        return [
            (
                SERVICE_PUBLISHED,
                {
                    "name": after["name"],
                    "no_referral_required": bool(after.get("no_referral_required")),
                    "outreach_modes": [m for m in modes if m],
                },
            ),
            (WAITING_LIST_CHANGED, {}),
        ]
    if was and not now:
        return [(SERVICE_WITHDRAWN, {"reason": None})]
    if not now or before is None:
        return []
    changed = sorted(
        k for k in set(before) | set(after) if before.get(k) != after.get(k)
    ) + sorted(set(changed_parts))
    if not changed:
        return []
    events: list[tuple[str, dict[str, Any]]] = [
        (SERVICE_UPDATED, {"changed_fields": changed})
    ]
    if waiting_list_changed(before, after):
        events.append((WAITING_LIST_CHANGED, {}))
    return events


def event_payload(
    event_type: str, view: ServiceView, extra: Mapping[str, Any], now: str
) -> dict[str, Any]:
    """An event's payload: the service's ids and territory (MRC and
    municipality codes, never an address), its own fields, and for
    ``waiting_list_changed`` the waiting list as it now stands."""
    service = view.service
    data: dict[str, Any] = {
        "service_id": service["id"],
        "organization_id": service["organization_id"],
        "mrc_codes": sorted(
            {loc["mrc_code"] for loc in view.locations if loc.get("mrc_code")}
        ),
        "municipality_codes": sorted(
            {
                loc["municipality_code"]
                for loc in view.locations
                if loc.get("municipality_code")
            }
        ),
        **extra,
    }
    if event_type == WAITING_LIST_CHANGED:
        data.update({k: service.get(k) for k in WAITING_LIST_FIELDS})
        data["updated_at"] = service.get("waiting_list_updated_at") or now
    return data


# --- confidentiality: what the public sees of each entity ---------------------

Insider = Callable[[str, str], bool]


def _nobody(table: str, record_id: str) -> bool:
    return False


@dataclass(frozen=True)
class Audience:
    """Who reads, as the ``audience`` argument of every read names it.

    - ``"public"`` (and anything unknown: reads fail closed): :func:`public_view`;
    - ``"staff:2466:2466"`` (see :func:`staff_audience`): a practitioner or node
      administrator of MRC 2466 on a node whose own MRC is 2466 — drafts too,
      and the records of their own MRC in full, but another MRC's shelters and
      history as the public sees them;
    - ``"confidential"``: callers inside the node (the CLI, the gateway's audit
      of a change), everything.
    """

    public: bool
    mrc: str | None = None
    node_mrc: str | None = None

    @property
    def whole_node(self) -> bool:
        return not self.public and self.mrc is None


def staff_audience(mrc: str | None, node_mrc: str | None) -> str:
    """The audience string of staff of ``mrc`` (``"staff:2466:2466"``)."""
    return f"staff:{mrc or ''}:{node_mrc or ''}"


def parse_audience(text: str) -> Audience:
    """>>> parse_audience("staff:2423:2466")
    Audience(public=False, mrc='2423', node_mrc='2466')
    """
    if text == "confidential":
        return Audience(public=False)
    parts = str(text).split(":")
    if len(parts) == 3 and parts[0] == "staff" and parts[1]:
        return Audience(public=False, mrc=parts[1], node_mrc=parts[2] or None)
    return Audience(public=True)


def view_for(dataset: Dataset, audience: Audience) -> Dataset:
    """What ``audience`` sees of ``dataset``: the one decision every read makes.

    Staff see drafts and withdrawn records, and in full only the records that
    belong to their own MRC alone (:func:`territory`; a record with no MRC
    belongs to the node's): a shelter of another MRC shows them what it shows
    the public, and the history of another MRC's records names no editor."""
    if audience.public:
        return public_view(dataset)
    if audience.whole_node:
        return dataset

    def insider(table: str, record_id: str) -> bool:
        codes = territory(dataset, table, record_id) or {audience.node_mrc or ""}
        return codes == {audience.mrc}

    return redact(dataset, insider)


# Every editor of a record is this to the public: a history row never names a
# person or an account (the staff view keeps who it was).
PUBLIC_EDITOR = "maillage"


def hidden_columns(table: str, record: Mapping[str, Any]) -> frozenset[str]:
    """The columns of ``record`` the public may not see, today or in its history.

    >>> sorted(hidden_columns("location", {"confidential_location": True}))
    ['external_identifier', 'external_identifier_type', 'latitude', 'longitude']
    """
    if table == "location" and record.get("confidential_location") is True:
        return _LOCATING
    return frozenset()


def public_history(
    row: Record, resource_table: str | None, resource: Mapping[str, Any] | None
) -> Record | None:
    """A ``metadata`` row as the public sees it, or ``None``.

    The history is part of the record it is about: a row about a record the
    public does not see (a draft, a shelter's address) or about a column it
    may not see (a shelter's coordinates) is gone, whatever the values were
    when the change was made; the editor is :data:`PUBLIC_EDITOR`.

        >>> public_history({"field_name": "latitude", "replacement_value": "46.8"},
        ...                "location", {"confidential_location": True}) is None
        True
    """
    if resource_table is None or resource is None:
        return None
    if row.get("field_name") in hidden_columns(resource_table, resource):
        return None
    return {**row, "updated_by": PUBLIC_EDITOR}


def redact(dataset: Dataset, insider: Insider | None = None) -> Dataset:
    """The public face of every record left in ``dataset``, history included.

    A confidential location (a shelter) keeps its name, MRC and services but
    loses its addresses (and everything hanging on them), coordinates and
    external identifier; every ``metadata`` row goes through
    :func:`public_history`, so the old and new values of those columns and the
    account of whoever changed them are gone too. :func:`public_view` (the one
    entry point of every public output) calls this last.

    ``insider(table, record_id)`` names the records the reader is staff of
    (their own MRC's, see :func:`view_for`): those keep their addresses,
    coordinates and history as stored."""
    inside = insider or _nobody
    public = {table: dict(rows) for table, rows in dataset.items()}
    hidden = {
        row_id
        for row_id, row in dataset["location"].items()
        if row.get("confidential_location") is True and not inside("location", row_id)
    }
    for row_id in hidden:
        public["location"][row_id] = public_location(dataset["location"][row_id])
    public["address"] = {
        row_id: row
        for row_id, row in dataset["address"].items()
        if row.get("location_id") not in hidden
    }
    gone = set(dataset["address"]) - set(public["address"])
    public["attribute"] = {
        row_id: row
        for row_id, row in dataset["attribute"].items()
        if row.get("link_id") not in gone
    }
    where = {
        row_id: table
        for table, rows in public.items()
        if table != "metadata"
        for row_id in rows
    }
    known = {row_id for rows in dataset.values() for row_id in rows}
    history: dict[str, Record] = {}
    for row_id, row in dataset["metadata"].items():
        resource_id = str(row.get("resource_id"))
        table = where.get(resource_id)
        shown: Record | None
        if table is not None and inside(table, resource_id):
            shown = row
        elif table is not None:
            shown = public_history(row, table, public[table][resource_id])
        elif resource_id in known or row.get("resource_type") == "address":
            # about a record hidden here, or a removed address (a shelter's?)
            shown = None
        else:
            # HSDS lets a history row point outside the dataset: nothing of
            # ours to hide but the editor
            shown = {**row, "updated_by": PUBLIC_EDITOR}
        if shown is not None:
            history[row_id] = shown
    public["metadata"] = history
    return public


PUBLIC_STATUSES = (None, "published")


def public_view(dataset: Dataset) -> Dataset:
    """What anyone may see, the ONE function every public output goes through
    (HTTP answers, search results, exports): published services,
    organizations and locations only (drafts and withdrawn ones are gone, with
    the records and history hanging on them), then :func:`redact` for
    confidential locations and every history row."""
    hidden: dict[str, set[str]] = {
        table: {
            i
            for i, r in dataset[table].items()
            if r.get("publication_status") not in PUBLIC_STATUSES
        }
        for table in ("organization", "location", "service")
    }
    hidden["service"] |= {
        i
        for i, r in dataset["service"].items()
        if r.get("organization_id") in hidden["organization"]
    }
    if not any(hidden.values()):
        return redact(dataset)
    view = {table: dict(rows) for table, rows in dataset.items()}
    for table, ids in hidden.items():
        for row_id in ids:
            view[table].pop(row_id, None)
    gone = set().union(*hidden.values())
    view["service_at_location"] = {
        i: r
        for i, r in view["service_at_location"].items()
        if r.get("service_id") not in gone and r.get("location_id") not in gone
    }
    gone |= set(dataset["service_at_location"]) - set(view["service_at_location"])
    for table in (*OWNED_TABLES, "attribute", "metadata"):
        links = [
            c
            for c in (*REFERENCES.get(table, {}), "link_id", "resource_id")
            if c not in ("parent_organization_id", "taxonomy_term_id")
        ]
        view[table] = {
            i: r
            for i, r in view[table].items()
            if not (
                any(r.get(c) in gone for c in links)
                and all(r.get(c) in gone or not r.get(c) for c in links)
            )
        }
    return redact(view)


def outside_ids(dataset: Dataset) -> dict[str, set[str]]:
    """Ids the dataset points at but does not hold, by table."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for table, links in REFERENCES.items():
        for record in dataset[table].values():
            for column, target in links.items():
                value = record.get(column)
                if value and value not in dataset[target]:
                    wanted[target].add(value)
    return wanted


_LOCATING = frozenset(
    ("latitude", "longitude", "external_identifier", "external_identifier_type")
)


def public_location(location: Record) -> Record:
    if location.get("confidential_location") is not True:
        return location
    return {k: v for k, v in location.items() if k not in _LOCATING}


# --- search -------------------------------------------------------------------

_STOPWORDS = frozenset(
    """a au aux avec ce ces dans de des du elle en et eux il je la le les leur
    lui ma mais me meme mes moi mon ne nos notre nous on ou par pas pour qu que
    qui sa se ses son sur ta te tes toi ton tu un une vos votre vous c d j l m n
    s t y an and are as at be by for from has have in is it its of on or that
    the this to was were will with""".split()
)
_WORD = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """Lower case without accents: ``"Aînés à Québec"`` -> ``"aines a quebec"``."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _stem(word: str) -> str:
    # A light, language-neutral plural strip: "services" and "service" meet,
    # "aînés" and "aîné" too; enough for a directory, no dictionary needed.
    if len(word) > 3 and word[-1] in "sx" and not word.endswith("ss"):
        return word[:-1]
    return word


def tokens(text: str) -> list[str]:
    """Search tokens of a French or English text, in order, without repeats."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(fold(text)):
        if word not in _STOPWORDS and len(word) > 1:
            seen.setdefault(_stem(word), None)
    return list(seen)


_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
MINUTES_PER_WEEK = 7 * 24 * 60
QUEBEC = "America/Toronto"  # Quebec's civil time (America/Montreal is its alias)
_BYDAY = re.compile(r"^([+-]?\d)?(MO|TU|WE|TH|FR|SA|SU)$")


def quebec_time(moment: datetime) -> datetime:
    """The Quebec wall-clock time (naive) of an instant: opening hours are
    read in it, so 09:00 is 09:00 in winter (EST) and in summer (EDT).

        >>> from datetime import UTC
        >>> quebec_time(datetime(2026, 7, 6, 13, 30, tzinfo=UTC))
        datetime.datetime(2026, 7, 6, 9, 30)
    """
    return moment.astimezone(ZoneInfo(QUEBEC)).replace(tzinfo=None)


def _minutes(text: Any) -> int | None:
    if not isinstance(text, str):
        return None
    match = re.match(r"^(\d{1,2}):(\d{2})", text)
    if not match:
        return None
    return int(match.group(1)) * 60 + int(match.group(2))


def _day(value: Any) -> str:
    """``YYYY-MM-DD`` of a date or date-time cell, or ``""``."""
    text = str(value or "")[:10]
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        return ""


def _numbers(value: Any) -> list[int]:
    found = []
    for part in str(value or "").split(","):
        try:
            found.append(int(float(part)))
        except ValueError:
            continue
    return found


def opening_slots(schedules: Iterable[Record]) -> list[dict[str, Any]]:
    """Opening slots in minutes since Monday 00:00, Quebec local time.

    Weekly schedules (or schedules without ``freq``) and monthly ones with
    ``opens_at`` and ``closes_at`` describe opening hours. ``byday`` absent
    means every day. A slot past midnight runs into the next day (cut in two
    at the end of the week); ``d`` is the weekday it opened, whose date the
    rules below are checked on.

    Monthly (RFC 5545 as HSDS uses it): ``byday`` ``1MO`` is the first Monday
    of the month, ``-1FR`` the last Friday (``nth``); ``bymonthday`` ``15`` /
    ``-1`` the 15th / last day (``mday``); both given, a day must match both;
    neither, the day of the month of ``dtstart``. ``interval`` counts weeks or
    months from ``dtstart`` (or ``valid_from``) (``every``). Validity is
    ``valid_from`` / ``dtstart`` to ``valid_to`` / ``until``; ``count``,
    ``byweekno``, ``byyearday`` and ``timezone`` are not used (times are Quebec
    civil time).

        >>> opening_slots([{"freq": "MONTHLY", "byday": "-1FR",
        ...                 "opens_at": "09:00", "closes_at": "17:00"}])
        [{'s': 6300, 'e': 6780, 'from': '', 'to': '', 'd': 4, 'nth': [-1]}]
    """
    slots = []
    for schedule in schedules:
        freq = schedule.get("freq") or "WEEKLY"
        if freq not in ("WEEKLY", "MONTHLY"):
            continue
        opens, closes = (
            _minutes(schedule.get("opens_at")),
            _minutes(schedule.get("closes_at")),
        )
        if opens is None or closes is None:
            continue
        days: dict[int, set[int]] = {}  # weekday -> nth occurrences, 0 = every
        for part in str(schedule.get("byday") or "").split(","):
            match = _BYDAY.match(part.strip().upper())
            if not match:
                continue
            nth = int(match.group(1) or 0) if freq == "MONTHLY" else 0
            days.setdefault(_DAYS.index(match.group(2)), set()).add(nth)
        month_days: list[int] = []
        if freq == "MONTHLY":
            month_days = [n for n in _numbers(schedule.get("bymonthday")) if n]
            if not days and not month_days:
                first = _day(schedule.get("dtstart"))
                if not first:
                    continue  # which day of the month is unknowable
                month_days = [int(first[8:])]
        if not days:
            days = {day: {0} for day in range(7)}
        starts = [_day(schedule.get(k)) for k in ("valid_from", "dtstart")]
        ends = [_day(schedule.get(k)) for k in ("valid_to", "until")]
        rule: dict[str, Any] = {
            "from": max(starts),
            "to": min([e for e in ends if e] or [""]),
        }
        interval = (_numbers(schedule.get("interval")) or [1])[0]
        anchor = _day(schedule.get("dtstart")) or _day(schedule.get("valid_from"))
        if interval > 1 and anchor:
            rule["every"] = [interval, anchor, freq]
        if month_days:
            rule["mday"] = sorted(set(month_days))
        for day, nths in sorted(days.items()):
            extra = dict(rule, d=day)
            if 0 not in nths:
                extra["nth"] = sorted(nths)
            start = day * 1440 + opens
            end = day * 1440 + closes
            if closes <= opens:
                end += 1440
            if end > MINUTES_PER_WEEK:
                slots.append({"s": start, "e": MINUTES_PER_WEEK, **extra})
                slots.append({"s": 0, "e": end - MINUTES_PER_WEEK, **extra})
            else:
                slots.append({"s": start, "e": end, **extra})
    return slots


def week_minute(local: datetime) -> int:
    return local.weekday() * 1440 + local.hour * 60 + local.minute


def _occurs(slot: Mapping[str, Any], day: date) -> bool:
    """Whether the slot's monthly and interval rules allow an opening on ``day``."""
    last = calendar.monthrange(day.year, day.month)[1]
    nth = slot.get("nth")
    if (
        nth
        and (day.day - 1) // 7 + 1 not in nth
        and -((last - day.day) // 7 + 1) not in nth
    ):
        return False
    month_days = slot.get("mday")
    if (
        month_days
        and day.day not in month_days
        and day.day - last - 1 not in month_days
    ):
        return False
    every = slot.get("every")
    if every:
        interval, anchor_text, freq = every
        anchor = date.fromisoformat(anchor_text)
        if freq == "MONTHLY":
            steps = (day.year - anchor.year) * 12 + day.month - anchor.month
        else:
            monday = anchor - timedelta(days=anchor.weekday())
            steps = (day - timedelta(days=day.weekday()) - monday).days // 7
        if steps % int(interval):
            return False
    return True


def is_open(slots: Iterable[Mapping[str, Any]], local: datetime) -> bool:
    """Open at this Quebec wall-clock time (:func:`quebec_time`) per the slots.

    Validity and monthly rules are checked on the day the opening began (an
    opening from 22:00 to 02:00 belongs to the day it opened).
    """
    minute, today = week_minute(local), local.date()
    for slot in slots:
        if not slot["s"] <= minute < slot["e"]:
            continue
        day = today
        if "d" in slot:  # slots stored before the weekday was kept lack it
            day = today - timedelta(days=(local.weekday() - slot["d"]) % 7)
        iso = day.isoformat()
        if slot["from"] and slot["from"] > iso or slot["to"] and slot["to"] < iso:
            continue
        if _occurs(slot, day):
            return True
    return False


@dataclass(frozen=True)
class ServiceView:
    """What search needs to know about one service, gathered by the repository."""

    service: Record
    organization: Record | None
    locations: list[Record]
    languages: list[Record]
    schedules: list[Record]
    taxonomy_term_ids: list[str]
    taxonomy_terms: list[Record]


def search_entry(view: ServiceView) -> Record:
    """The search projection of a service, one document per service.

    Free text is folded and tokenised once, here; a confidential location
    contributes its MRC and municipality but none of its address text.

    Example::

        {"_id": "…", "name_tokens": ["aide", "alimentaire"],
         "tokens": ["aide", "alimentaire", "repas", …], "mrc": ["2466"],
         "municipality": ["2466023"], "language": ["fr", "en"],
         "taxonomy_term": ["…"], "no_referral": True,
         "outreach": ["at_home"], "waiting_list_open": False,
         "slots": [{"s": 540, "e": 1020, "from": "", "to": ""}],
         "published": True, "last_modified": "2026-11-23T14:00:00Z"}
    """
    service = view.service
    text_parts = [
        service.get(column, "")
        for column in (
            "name",
            "name_en",
            "alternate_name",
            "description",
            "description_en",
            "eligibility_description",
            "eligibility_description_en",
            "application_process",
        )
    ]
    if view.organization:
        text_parts += [
            view.organization.get("name", ""),
            view.organization.get("alternate_name", ""),
        ]
    locations = [
        loc
        for loc in view.locations
        if loc.get("publication_status") in PUBLIC_STATUSES
    ]
    for location in locations:
        text_parts.append(location.get("name", ""))
    for term in view.taxonomy_terms:
        text_parts += [term.get("name", ""), term.get("code", "")]
    name_tokens = tokens(
        " ".join(str(service.get(c, "")) for c in ("name", "name_en", "alternate_name"))
    )
    all_tokens = tokens(" ".join(str(p) for p in text_parts if p))
    language_codes: dict[str, None] = {}
    for language in view.languages:
        for value in (language.get("code"), language.get("name")):
            if value:
                language_codes.setdefault(fold(str(value)), None)
    outreach = [
        m.strip()
        for m in str(service.get("outreach_modes") or "").split(",")
        if m.strip()
    ]
    return {
        "_id": service["id"],
        "name_tokens": name_tokens,
        "tokens": all_tokens,
        "mrc": sorted({loc["mrc_code"] for loc in locations if loc.get("mrc_code")}),
        "municipality": sorted(
            {
                loc["municipality_code"]
                for loc in locations
                if loc.get("municipality_code")
            }
        ),
        "language": list(language_codes),
        "taxonomy_term": sorted(set(view.taxonomy_term_ids)),
        "taxonomy": sorted(
            {t["taxonomy_id"] for t in view.taxonomy_terms if t.get("taxonomy_id")}
        ),
        "no_referral": service.get("no_referral_required") is True,
        "outreach": outreach,
        "waiting_list_open": service.get("waiting_list_open") is True,
        "slots": opening_slots(view.schedules),
        "published": service.get("publication_status") in PUBLIC_STATUSES
        and (view.organization or {}).get("publication_status") in PUBLIC_STATUSES,
        "last_modified": str(service.get("last_modified") or ""),
        "organization_id": service.get("organization_id"),
        "name": service.get("name", ""),
        "points": public_points(locations),
    }


def public_points(locations: Iterable[Record]) -> list[list[float]]:
    """``[[lat, lon], ...]`` of the locations as the public sees them
    (:func:`public_location`, the function :func:`view_for` applies): a
    confidential location has no coordinates there, so it is never in a
    distance, whoever searches.

        >>> public_points([{"latitude": 45.3, "longitude": -73.2},
        ...                {"latitude": 45.4, "longitude": -73.3,
        ...                 "confidential_location": True}])
        [[45.3, -73.2]]
    """
    points = []
    for location in locations:
        shown = public_location(location)
        lat, lon = shown.get("latitude"), shown.get("longitude")
        if isinstance(lat, int | float) and isinstance(lon, int | float):
            points.append([float(lat), float(lon)])
    return points


@dataclass(frozen=True)
class SearchQuery:
    """A search, as the HSDS ``/services`` route and the Quebec profile define it.

    ``page`` starts at 1 (HSDS ``page_number``); ``per_page`` is capped at 200.
    """

    text: str = ""
    taxonomy_term_id: str | None = None
    taxonomy_id: str | None = None
    mrc: str | None = None
    municipality: str | None = None
    language: str | None = None
    no_referral_required: bool | None = None
    outreach_mode: str | None = None
    open_at: datetime | None = None
    waiting_list_open: bool | None = None
    organization_id: str | None = None
    modified_after: str | None = None
    page: int = 1
    per_page: int = 20
    include_unpublished: bool = False
    # "near me": services nearest to this point first (their public locations)
    near: tuple[float, float] | None = None
    within_km: float | None = None

    @property
    def terms(self) -> list[str]:
        return tokens(self.text)


class SearchIndex:
    """An in-memory inverted index over the search projections: the reference
    the service's index file (``repository.FtsIndex``, SQLite FTS5) replaced,
    kept pure for the domain tests and as the search bench's "before" row.

    Why it was replaced: it lived in each process's memory, so every restart
    re-read every projection from the store and rebuilt it before the first
    search (about 140 s at 100,000 services).

    Services are numbered once; every facet is a posting set of numbers; a
    query intersects the smallest sets first, then ranks the survivors.
    Hours are bucketed by hour of the week, so "open now" only checks the
    exact slots of services open at some time in the current hour.
    """

    FACETS = (
        "tokens",
        "name_tokens",
        "mrc",
        "municipality",
        "language",
        "taxonomy_term",
        "taxonomy",
        "outreach",
    )
    FLAGS = ("published", "no_referral", "waiting_list_open")

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}
        self.entries: dict[int, Record] = {}
        self.postings: dict[str, dict[str, set[int]]] = {f: {} for f in self.FACETS}
        self.postings["organization_id"] = {}
        self.flags: dict[str, set[int]] = {f: set() for f in self.FLAGS}
        self.hours: list[set[int]] = [set() for _ in range(168)]
        self.everything: set[int] = set()

    def __len__(self) -> int:
        return len(self.entries)

    def put(self, entry: Mapping[str, Any]) -> None:
        """Add or replace one service's projection."""
        number = self.numbers.setdefault(entry["_id"], len(self.numbers))
        if number in self.entries:
            self._unlink(number)
        lite = {
            "_id": entry["_id"],
            "name": entry.get("name", ""),
            "sort_name": entry.get("sort_name") or fold(str(entry.get("name", ""))),
            "name_tokens": list(entry.get("name_tokens", ())),
            "slots": list(entry.get("slots", ())),
            "modified": entry.get("modified", ""),
            "keys": {f: list(entry.get(f) or ()) for f in self.FACETS},
            "organization_id": entry.get("organization_id"),
            "points": [list(p) for p in entry.get("points") or ()],
        }
        self.entries[number] = lite
        self.everything.add(number)
        for facet, values in lite["keys"].items():
            postings = self.postings[facet]
            for value in values:
                postings.setdefault(value, set()).add(number)
        if lite["organization_id"]:
            self.postings["organization_id"].setdefault(
                lite["organization_id"], set()
            ).add(number)
        for flag in self.FLAGS:
            if entry.get(flag):
                self.flags[flag].add(number)
        for hour in _hours_of(lite["slots"]):
            self.hours[hour].add(number)

    def _unlink(self, number: int) -> None:
        old = self.entries.pop(number)
        for facet, values in old["keys"].items():
            for value in values:
                self.postings[facet].get(value, set()).discard(number)
        if old["organization_id"]:
            self.postings["organization_id"].get(old["organization_id"], set()).discard(
                number
            )
        for members in self.flags.values():
            members.discard(number)
        for hour in _hours_of(old["slots"]):
            self.hours[hour].discard(number)

    def search(self, query: SearchQuery) -> tuple[int, list[Record]]:
        """``(total, one page of projections)``, most relevant first."""
        terms = query.terms
        sets: list[set[int]] = []
        if not query.include_unpublished:
            sets.append(self.flags["published"])
        for term in terms:
            sets.append(self.postings["tokens"].get(term, set()))
        for facet, value in (
            ("mrc", query.mrc),
            ("municipality", query.municipality),
            ("taxonomy_term", query.taxonomy_term_id),
            ("taxonomy", query.taxonomy_id),
            ("outreach", query.outreach_mode),
            ("organization_id", query.organization_id),
        ):
            if value:
                sets.append(self.postings[facet].get(value, set()))
        if query.language:
            sets.append(self.postings["language"].get(fold(query.language), set()))
        for flag, wanted in (
            ("no_referral", query.no_referral_required),
            ("waiting_list_open", query.waiting_list_open),
        ):
            if wanted is True:
                sets.append(self.flags[flag])
        if query.open_at is not None:
            sets.append(self.hours[week_minute(query.open_at) // 60])
        found = _intersect(sets, self.everything)
        for flag, wanted in (
            ("no_referral", query.no_referral_required),
            ("waiting_list_open", query.waiting_list_open),
        ):
            if wanted is False:
                found -= self.flags[flag]
        if query.modified_after:
            found = {
                n for n in found if self.entries[n]["modified"] >= query.modified_after
            }
        if query.open_at is not None:
            found = {
                n for n in found if is_open(self.entries[n]["slots"], query.open_at)
            }
        score: dict[int, int] = {}
        for term in terms:
            for number in self.postings["name_tokens"].get(term, set()) & found:
                score[number] = score.get(number, 0) + 3
        skip = (query.page - 1) * query.per_page
        if query.near is not None:
            return self._by_distance(query, found, score, skip)

        def key(number: int) -> tuple[int, str, str]:
            entry = self.entries[number]
            return (-score.get(number, 0), entry["sort_name"], entry["_id"])

        if score:
            best = sorted(score, key=key)
            rest = heapq.nsmallest(
                max(0, skip + query.per_page - len(best)), found - set(best), key=key
            )
            ordered = best + rest
        else:
            ordered = heapq.nsmallest(skip + query.per_page, found, key=key)
        return len(found), [
            self.entries[n] for n in ordered[skip : skip + query.per_page]
        ]

    def _by_distance(
        self, query: SearchQuery, found: set[int], score: dict[int, int], skip: int
    ) -> tuple[int, list[Record]]:
        """Nearest first (then relevance and name); services without a public
        location come last, without a distance; ``within_km`` drops farther
        ones (and those with no distance). Each entry of the page carries
        ``distance_km`` (rounded to 0.1 km) or ``None``."""
        assert query.near is not None
        distance: dict[int, float | None] = {}
        for number in found:
            points = self.entries[number]["points"]
            distance[number] = (
                min(distance_km(query.near, (p[0], p[1])) for p in points)
                if points
                else None
            )
        if query.within_km is not None:
            limit = query.within_km
            found = {
                n for n in found if (far := distance[n]) is not None and far <= limit
            }

        def key(number: int) -> tuple[bool, float, int, str, str]:
            entry, far = self.entries[number], distance[number]
            return (
                far is None,
                far if far is not None else 0.0,
                -score.get(number, 0),
                entry["sort_name"],
                entry["_id"],
            )

        ordered = heapq.nsmallest(skip + query.per_page, found, key=key)
        page = []
        for number in ordered[skip : skip + query.per_page]:
            far = distance[number]
            page.append(
                {
                    **self.entries[number],
                    "distance_km": None if far is None else round(far, 1),
                }
            )
        return len(found), page


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in km (haversine, mean Earth radius 6371 km).

    >>> round(distance_km((46.81, -71.21), (45.50, -73.57)))  # Québec-Montréal
    233
    """
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def _intersect(sets: list[set[int]], everything: set[int]) -> set[int]:
    if not sets:
        return set(everything)
    ordered = sorted(sets, key=len)
    result = set(ordered[0])
    for other in ordered[1:]:
        if not result:
            break
        result &= other
    return result


def _hours_of(slots: Iterable[Mapping[str, Any]]) -> set[int]:
    hours: set[int] = set()
    for slot in slots:
        hours.update(range(slot["s"] // 60, min(168, -(-slot["e"] // 60))))
    return hours


_GEOMETRY_EXTENTS = frozenset(("geojson", "topojson", "kml", "wkt"))


def _postcode(text: Any) -> str:
    return re.sub(r"[\s-]", "", str(text or "")).upper()


def covers_postcode(dataset: Dataset, sal_id: str, postcode: str) -> bool:
    """Whether the service at a location serves ``postcode`` (HSDS
    ``/service_at_locations?postcode=``), read from what the reader sees.

    The service's ``service_area`` rows answer when it has any: one covers the
    postcode when its ``name`` or a non-geometric ``extent`` lists the postcode
    or its forward sortation area (``J4P 0A2`` -> ``J4P``), as Canada Post's
    first three characters. Without a service area, the location's own
    addresses answer (the same postal code). ``dataset`` is already what the
    audience may see (:func:`view_for`), so a shelter's hidden address never
    matches for the public.

        >>> data = empty_dataset()
        >>> data["service_at_location"]["s1"] = {"id": "s1", "location_id": "l1"}
        >>> data["address"]["a1"] = {"id": "a1", "location_id": "l1",
        ...                          "postal_code": "j4p 0a2"}
        >>> covers_postcode(data, "s1", "J4P0A2"), covers_postcode(data, "s1", "H2X")
        (True, False)
    """
    wanted = _postcode(postcode)
    sal = dataset["service_at_location"].get(sal_id)
    if sal is None or not wanted:
        return False
    areas = [
        a
        for a in dataset["service_area"].values()
        if a.get("service_id") and a.get("service_id") == sal.get("service_id")
    ]
    if areas:
        accepted = {wanted, wanted[:3]}
        for area in areas:
            texts = [area.get("name")]
            if str(area.get("extent_type") or "").lower() not in _GEOMETRY_EXTENTS:
                texts.append(area.get("extent"))
            for text in texts:
                listed = {_postcode(t) for t in re.split(r"[,;/\n]", str(text or ""))}
                if accepted & listed:
                    return True
        return False
    return any(
        _postcode(a.get("postal_code")) == wanted
        for a in dataset["address"].values()
        if a.get("location_id") and a.get("location_id") == sal.get("location_id")
    )


def page_envelope(
    total: int, page: int, per_page: int, contents: list[Any]
) -> dict[str, Any]:
    """The HSDS 3.0 ``Page`` object around ``contents``."""
    total_pages = max(1, -(-total // per_page)) if per_page else 1
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": page,
        "size": len(contents),
        "first_page": page == 1,
        "last_page": page >= total_pages,
        "empty": total == 0,
        "contents": contents,
    }


def today() -> date:
    return date.today()
