"""HSDS 1.1 datapackage -> HSDS 3.0 records.

What 3.0 renamed or removed, and where it goes (nothing is dropped):

============================  ==================================================
1.1                           3.0
============================  ==================================================
organizations.url             organization.website
services_at_location.csv      service_at_location
physical_addresses.csv        address, ``address_type`` physical
postal_addresses.csv          address, ``address_type`` postal
  address_3, address_4        joined to ``address_2`` with ", "
regular_schedules.csv         schedule: ``freq`` WEEKLY, ``byday`` from weekday
                              (ISO numbering, 1 = Monday), opens/closes
holiday_schedules.csv         schedule: ``valid_from``/``valid_to`` from the
                              dates; closed -> description "Fermé / Closed"
eligibility.csv               service.eligibility_description (joined "; ")
payments_accepted.csv         service.fees_description ("Paiement accepté /
                              Payment accepted: cash, credit card")
accessibility_for_disabilities  accessibility (accessibility -> description)
languages.language            language.name (+ ISO 639-1 code when known)
phones.language               one language per code, linked by ``phone_id``
phones.department             appended to the phone's description
service_areas.service_area    service_area.name
taxonomy.csv                  taxonomy_term (vocabulary -> ``taxonomy``)
services_taxonomy.csv,        attribute linking the service to the term
  services.taxonomy_ids
metadata (no resource_type)   resource_type found from resource_id
locations (no location_type)  ``physical``
programs, taxonomy (no         ``description`` (required by 3.0) copied from
  description)                  ``alternate_name``, else ``name``
============================  ==================================================

Ids that are not UUIDs (3.0 requires them) and ids that two 1.1 tables share
once merged into one 3.0 table (a regular and a holiday schedule) get a
UUID v5 derived from the old id; every link is rewritten and a ``metadata``
record keeps the old id (``field_name`` "id").
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

from services.offerings.domain import Origin, Problem, is_uuid, remap_ids
from services.offerings.formats import Parsed, Progress, iter_csv
from services.offerings.hsds import TABLES, Record

NAMESPACE = uuid.UUID("6b1c3c52-4f0e-4d8e-9c8e-2a1f0d6e7b11")
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_LANGUAGE_CODES = {
    "english": "en",
    "anglais": "en",
    "french": "fr",
    "français": "fr",
    "francais": "fr",
    "spanish": "es",
    "espagnol": "es",
    "arabic": "ar",
    "mandarin": "zh",
    "chinese": "zh",
    "portuguese": "pt",
    "italian": "it",
    "german": "de",
    "cree": "cr",
    "inuktitut": "iu",
}

# 1.1 file -> (3.0 table, column renames, columns moved elsewhere)
_DIRECT: dict[str, tuple[str, dict[str, str]]] = {
    "organizations.csv": ("organization", {"url": "website"}),
    "programs.csv": ("program", {}),
    "services.csv": ("service", {}),
    "services_at_location.csv": ("service_at_location", {}),
    "locations.csv": ("location", {}),
    "phones.csv": ("phone", {}),
    "contacts.csv": ("contact", {}),
    "funding.csv": ("funding", {}),
    "service_areas.csv": ("service_area", {"service_area": "name"}),
    "required_documents.csv": ("required_document", {}),
    "languages.csv": ("language", {"language": "name"}),
    "accessibility_for_disabilities.csv": (
        "accessibility",
        {"accessibility": "description"},
    ),
    "metadata.csv": ("metadata", {}),
    "meta_table_descriptions.csv": ("meta_table_description", {}),
    "taxonomy.csv": ("taxonomy_term", {"vocabulary": "taxonomy"}),
}
_EXTRA = {
    "services.csv": ("taxonomy_ids",),
    "phones.csv": ("language", "department"),
    "taxonomy.csv": ("parent_name",),
}
_HANDLED = set(_DIRECT) | {
    "physical_addresses.csv",
    "postal_addresses.csv",
    "regular_schedules.csv",
    "holiday_schedules.csv",
    "eligibility.csv",
    "payments_accepted.csv",
    "services_taxonomy.csv",
}


def _derived_id(kind: str, old: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"hsds-1.1:{kind}:{old}"))


class _Migration:
    def __init__(self, path: Path, progress: Progress | None) -> None:
        self.path = path
        self.progress = progress
        self.parsed = Parsed(source_format="hsds11")
        self.rows: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self.renamed: dict[str, dict[str, str]] = defaultdict(dict)

    def run(self) -> Parsed:
        for file in sorted(self.path.glob("*.csv")):
            if file.name not in _HANDLED:
                self.problem(
                    file.name,
                    None,
                    None,
                    "fichier inconnu de HSDS 1.1",
                    "file unknown to HSDS 1.1",
                )
                continue
            try:
                self.rows[file.name] = list(iter_csv(file))
            except (UnicodeDecodeError, ValueError) as exc:
                self.problem(
                    file.name,
                    None,
                    None,
                    f"CSV illisible ({exc})",
                    f"unreadable CSV ({exc})",
                )
                continue
            self.parsed.files.append(file.name)
            self.parsed.rows_read += len(self.rows[file.name])
            if self.progress:
                self.progress(1)
        for file_name, (table, renames) in _DIRECT.items():
            for line, raw in self.rows.get(file_name, []):
                self.direct(file_name, line, raw, table, renames)
        self.addresses()
        self.schedules()
        self.eligibility_and_payments()
        self.service_taxonomy()
        self.fill_required()
        self.fix_ids()
        return self.parsed

    def problem(
        self, file: str, line: int | None, column: str | None, fr: str, en: str
    ) -> None:
        self.parsed.problems.append(Problem(file, line, column, fr, en))

    def put(self, table: str, record: Record, origin: Origin) -> None:
        rows = self.parsed.dataset[table]
        record_id = record.get("id")
        if not record_id:
            self.problem(
                origin.file,
                origin.row if isinstance(origin.row, int) else None,
                "id",
                "valeur requise",
                "value required",
            )
            return
        if record_id in rows:
            new_id = _derived_id(table + ":" + origin.file, record_id)
            self.renamed[table][new_id] = record_id
            record["id"] = new_id
            record_id = new_id
        rows[record_id] = record
        self.parsed.origins[(table, record_id)] = origin

    def typed(
        self,
        file: str,
        line: int,
        table: str,
        raw: dict[str, str],
        renames: dict[str, str],
        skip: tuple[str, ...] = (),
    ) -> Record:
        from services.offerings.domain import parse_cell

        record: Record = {}
        columns = TABLES[table].all_columns
        for column, text in raw.items():
            if column is None or column in skip:
                continue
            target = renames.get(column, column)
            if target not in columns:
                self.problem(file, line, column, "colonne inconnue", "unknown column")
                continue
            value, problem = parse_cell(table, target, text or "")
            if problem is not None:
                self.problem(file, line, column, problem.fr, problem.en)
            elif value is not None:
                record[target] = value
        return record

    def direct(
        self,
        file: str,
        line: int,
        raw: dict[str, str],
        table: str,
        renames: dict[str, str],
    ) -> None:
        extra = _EXTRA.get(file, ())
        record = self.typed(file, line, table, raw, renames, skip=extra)
        origin = Origin(file, line)
        if file == "phones.csv":
            department = (raw.get("department") or "").strip()
            if department:
                record["description"] = "; ".join(
                    p for p in (record.get("description", ""), department) if p
                )
            for part in (raw.get("language") or "").split(","):
                code = part.strip()
                if code:
                    self.put(
                        "language",
                        {
                            "id": _derived_id(
                                "phone-language", f"{record['id']}:{code}"
                            ),
                            "phone_id": record["id"],
                            "code": code,
                        },
                        origin,
                    )
        if file == "languages.csv" and "name" in record:
            known = _LANGUAGE_CODES.get(str(record["name"]).strip().lower())
            if known:
                record["code"] = known
        if file == "services.csv":
            for term in (raw.get("taxonomy_ids") or "").split(","):
                if term.strip():
                    self.link_term(record["id"], term.strip(), origin)
        self.put(table, record, origin)

    def link_term(self, service_id: str, term_id: str, origin: Origin) -> None:
        self.put(
            "attribute",
            {
                "id": _derived_id("service-taxonomy", f"{service_id}:{term_id}"),
                "link_id": service_id,
                "link_entity": "service",
                "link_type": "taxonomy",
                "taxonomy_term_id": term_id,
            },
            origin,
        )

    def addresses(self) -> None:
        for file, kind in (
            ("physical_addresses.csv", "physical"),
            ("postal_addresses.csv", "postal"),
        ):
            for line, raw in self.rows.get(file, []):
                extra = [
                    (raw.get(c) or "").strip()
                    for c in ("address_2", "address_3", "address_4")
                ]
                raw = {
                    k: v for k, v in raw.items() if k not in ("address_3", "address_4")
                }
                record = self.typed(file, line, "address", raw, {})
                joined = ", ".join(p for p in extra if p)
                if joined:
                    record["address_2"] = joined
                record["address_type"] = kind
                self.put("address", record, Origin(file, line))

    def schedules(self) -> None:
        file = "regular_schedules.csv"
        for line, raw in self.rows.get(file, []):
            weekday = (raw.get("weekday") or "").strip()
            fields = {k: v for k, v in raw.items() if k != "weekday"}
            record = self.typed(file, line, "schedule", fields, {})
            if weekday.isdigit() and 1 <= int(weekday) <= 7:
                record["freq"] = "WEEKLY"
                record["byday"] = _WEEKDAYS[int(weekday) - 1]
            else:
                self.problem(
                    file, line, "weekday", "jour 1 à 7 attendu", "day 1 to 7 expected"
                )
            self.put("schedule", record, Origin(file, line))
        file = "holiday_schedules.csv"
        for line, raw in self.rows.get(file, []):
            closed = (raw.get("closed") or "").strip().lower() in ("true", "1")
            fields = {
                k: v
                for k, v in raw.items()
                if k not in ("closed", "start_date", "end_date")
            }
            record = self.typed(file, line, "schedule", fields, {})
            if raw.get("start_date"):
                record["valid_from"] = raw["start_date"]
            if raw.get("end_date"):
                record["valid_to"] = raw["end_date"]
            record["description"] = (
                "Fermé (jour férié) / Closed (holiday)"
                if closed
                else "Horaire de jour férié / Holiday hours"
            )
            self.put("schedule", record, Origin(file, line))

    def eligibility_and_payments(self) -> None:
        services = self.parsed.dataset["service"]
        for file, column, target, label in (
            ("eligibility.csv", "eligibility", "eligibility_description", ""),
            (
                "payments_accepted.csv",
                "payment",
                "fees_description",
                "Paiement accepté / Payment accepted: ",
            ),
        ):
            grouped: dict[str, list[str]] = defaultdict(list)
            for line, raw in self.rows.get(file, []):
                service_id = (raw.get("service_id") or "").strip()
                if service_id not in services:
                    self.problem(
                        file,
                        line,
                        "service_id",
                        f"référence introuvable : service {service_id}",
                        f"broken reference: service {service_id}",
                    )
                    continue
                if (raw.get(column) or "").strip():
                    grouped[service_id].append(raw[column].strip())
            for service_id, values in grouped.items():
                text = label + ", ".join(values) if label else "; ".join(values)
                current = services[service_id].get(target)
                services[service_id][target] = f"{current}; {text}" if current else text

    def service_taxonomy(self) -> None:
        file = "services_taxonomy.csv"
        for line, raw in self.rows.get(file, []):
            if raw.get("service_id") and raw.get("taxonomy_id"):
                self.link_term(
                    raw["service_id"].strip(),
                    raw["taxonomy_id"].strip(),
                    Origin(file, line),
                )

    def fill_required(self) -> None:
        data = self.parsed.dataset
        for location in data["location"].values():
            location.setdefault("location_type", "physical")
        for table in ("program", "taxonomy_term"):
            for record in data[table].values():
                if not record.get("description"):
                    record["description"] = record.get(
                        "alternate_name", record.get("name", "")
                    )
        kinds = {
            rid: table
            for table in (
                "organization",
                "service",
                "location",
                "service_at_location",
                "program",
            )
            for rid in data[table]
        }
        for record in data["metadata"].values():
            found = kinds.get(str(record.get("resource_id", "")))
            if found:
                record.setdefault("resource_type", found)

    def fix_ids(self) -> None:
        data = self.parsed.dataset
        for table in TABLES:
            mapping = {
                rid: _derived_id(table, rid) for rid in data[table] if not is_uuid(rid)
            }
            remap_ids(data, table, mapping)
            for old, new in mapping.items():
                self.parsed.origins[(table, new)] = self.parsed.origins.pop(
                    (table, old), Origin(table, None)
                )
            renamed = {
                **{new: old for old, new in mapping.items()},
                **self.renamed.get(table, {}),
            }
            for new, old in sorted(renamed.items()):
                self.put(
                    "metadata", _id_change(table, old, new), Origin("migration", None)
                )


def _id_change(table: str, old: str, new: str) -> dict[str, Any]:
    return {
        "id": _derived_id("metadata", f"{table}:{old}:{new}"),
        "resource_id": new,
        "resource_type": table,
        "last_action_date": date.today().isoformat(),
        "last_action_type": "migrate",
        "field_name": "id",
        "previous_value": old,
        "replacement_value": new,
        "updated_by": "maillage hsds-1.1 migration",
    }


def read_hsds11(path: Path, progress: Progress | None = None) -> Parsed:
    return _Migration(path, progress).run()
