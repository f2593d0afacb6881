"""Store access for the directory: every pymongo query of the service lives here.

Layout of the ``<prefix>offerings`` database:

- ``hsds_<table>``: one collection per HSDS 3.0 table, one document per record,
  ``_id`` = the record's id, plus ``_modified`` (UTC, ISO 8601) for the HSDS
  ``modified_after`` parameter. Example ``hsds_service`` document::

      {"_id": "ac148810-…", "id": "ac148810-…", "name": "Popote roulante",
       "organization_id": "d9d5e0f5-…", "status": "active",
       "publication_status": "published", "_modified": "2026-11-23T14:00:00Z"}

- ``search``: one projection per service (:func:`domain.search_entry`), rebuilt
  in the same transaction as any change that touches the service.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, IndexModel, ReplaceOne
from pymongo.client_session import ClientSession
from pymongo.database import Database

from services.offerings.domain import (
    SearchIndex,
    SearchQuery,
    ServiceView,
    audit,
    fold,
    identifier_key,
    search_entry,
)
from services.offerings.hsds import REFERENCES, TABLES, Dataset, Record, empty_dataset
from shared.envelope import Envelope
from shared.outbox import outbox_row
from shared.store import Store

SEARCH = "search"
GENERATION = "search_meta"
REFRESH_MARGIN = timedelta(seconds=10)
_FK_COLUMNS = sorted(
    {c for links in REFERENCES.values() for c in links} | {"link_id", "resource_id"}
)


def collection_name(table: str) -> str:
    return f"hsds_{table}"


def _indexes() -> dict[str, list[IndexModel]]:
    indexes: dict[str, list[IndexModel]] = {}
    for table, spec in TABLES.items():
        columns = [c for c in _FK_COLUMNS if c in spec.all_columns]
        indexes[collection_name(table)] = [IndexModel(c) for c in columns] + [
            IndexModel("_modified")
        ]
    indexes[collection_name("organization_identifier")].append(IndexModel("identifier"))
    # Filtering and ranking happen in :class:`domain.SearchIndex`; the store
    # only serves "what changed since" to keep each process's index current.
    indexes[SEARCH] = [IndexModel("modified")]
    return indexes


INDEXES = _indexes()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _plain(doc: Mapping[str, Any]) -> Record:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


class OfferingsRepository:
    """The directory in the store. ``session`` binds a call to a transaction."""

    def __init__(self, db: Database[dict[str, Any]]) -> None:
        self.db = db

    def ensure_indexes(self) -> None:
        for collection, models in INDEXES.items():
            self.db[collection].create_indexes(models)

    # --- reading ------------------------------------------------------------

    def get(
        self, table: str, record_id: str, session: ClientSession | None = None
    ) -> Record | None:
        doc = self.db[collection_name(table)].find_one(
            {"_id": record_id}, session=session
        )
        return _plain(doc) if doc else None

    def find(
        self, table: str, query: Mapping[str, Any], session: ClientSession | None = None
    ) -> list[Record]:
        return [
            _plain(d)
            for d in self.db[collection_name(table)].find(dict(query), session=session)
        ]

    def find_stamped(self, table: str, query: Mapping[str, Any]) -> list[Record]:
        """Records with their ``_modified`` stamp (for HSDS ``minimal``)."""
        return [
            _plain(d) | {"_modified": d.get("_modified")}
            for d in self.db[collection_name(table)].find(dict(query))
        ]

    def existing_ids(
        self, wanted: Mapping[str, Iterable[str]], session: ClientSession | None = None
    ) -> dict[str, set[str]]:
        """Which of these ids (by table) the directory already holds."""
        found: dict[str, set[str]] = {}
        for table, ids in wanted.items():
            ids = list(set(ids))
            if ids:
                found[table] = {
                    d["_id"]
                    for d in self.db[collection_name(table)].find(
                        {"_id": {"$in": ids}}, {"_id": 1}, session=session
                    )
                }
        return found

    def known_identifiers(
        self, keys: Iterable[str], session: ClientSession | None = None
    ) -> dict[tuple[str, str, str], str]:
        """Organization identifiers already held, for de-duplication."""
        values = sorted(set(keys))
        docs = self.db[collection_name("organization_identifier")].find(
            {"identifier": {"$in": values}}, session=session
        )
        return {
            identifier_key(d): d["organization_id"]
            for d in docs
            if d.get("organization_id")
        }

    def load_all(self, session: ClientSession | None = None) -> Dataset:
        dataset = empty_dataset()
        for table in TABLES:
            for doc in self.db[collection_name(table)].find({}, session=session):
                dataset[table][doc["_id"]] = _plain(doc)
        return dataset

    def count(self, table: str) -> int:
        return self.db[collection_name(table)].count_documents({})

    def subset_for(
        self, table: str, ids: list[str], session: ClientSession | None = None
    ) -> Dataset:
        """The records needed to nest these services / organizations /
        service-at-locations / locations / taxonomy terms fully."""
        data = empty_dataset()

        def take(name: str, query: Mapping[str, Any]) -> list[Record]:
            rows = self.find(name, query, session)
            for row in rows:
                data[name][row["id"]] = row
            return rows

        roots = take(table, {"_id": {"$in": ids}})
        service_ids = {r["id"] for r in roots} if table == "service" else set()
        org_ids = {r["id"] for r in roots} if table == "organization" else set()
        location_ids = {r["id"] for r in roots} if table == "location" else set()
        sal_ids: set[str] = set()
        if table == "organization":
            service_ids |= {
                r["id"]
                for r in take("service", {"organization_id": {"$in": list(org_ids)}})
            }
        if table == "service_at_location":
            sal_ids = set(ids)
            service_ids |= {r["service_id"] for r in roots if r.get("service_id")}
            location_ids |= {r["location_id"] for r in roots if r.get("location_id")}
        if service_ids:
            services = take("service", {"_id": {"$in": list(service_ids)}})
            org_ids |= {
                s["organization_id"] for s in services if s.get("organization_id")
            }
            sals = take(
                "service_at_location", {"service_id": {"$in": list(service_ids)}}
            )
            sal_ids |= {s["id"] for s in sals}
            location_ids |= {s["location_id"] for s in sals if s.get("location_id")}
        if org_ids:
            take("organization", {"_id": {"$in": list(org_ids)}})
            location_ids |= {
                r["id"]
                for r in take("location", {"organization_id": {"$in": list(org_ids)}})
            }
        take("location", {"_id": {"$in": list(location_ids)}})
        owners = {
            "service_id": list(service_ids),
            "organization_id": list(org_ids),
            "location_id": list(location_ids),
            "service_at_location_id": list(sal_ids),
        }
        for name in (
            "phone",
            "contact",
            "schedule",
            "language",
            "funding",
            "cost_option",
            "service_area",
            "required_document",
            "address",
            "accessibility",
            "program",
            "organization_identifier",
        ):
            columns = [c for c in owners if c in TABLES[name].columns and owners[c]]
            if columns:
                take(name, {"$or": [{c: {"$in": owners[c]}} for c in columns]})
        program_ids = [
            s["program_id"] for s in data["service"].values() if s.get("program_id")
        ]
        take("program", {"_id": {"$in": program_ids}})
        take("phone", {"contact_id": {"$in": list(data["contact"])}})
        take("language", {"phone_id": {"$in": list(data["phone"])}})
        every_id = [i for rows in data.values() for i in rows]
        attributes = take("attribute", {"link_id": {"$in": every_id}})
        term_ids = [
            a["taxonomy_term_id"] for a in attributes if a.get("taxonomy_term_id")
        ]
        if table == "taxonomy_term":
            term_ids += ids
        terms = take("taxonomy_term", {"_id": {"$in": term_ids}})
        take(
            "taxonomy",
            {"_id": {"$in": [t["taxonomy_id"] for t in terms if t.get("taxonomy_id")]}},
        )
        take(
            "metadata",
            {"resource_id": {"$in": [i for rows in data.values() for i in rows]}},
        )
        return data

    def surroundings(
        self, fragment: Dataset, session: ClientSession | None = None
    ) -> Dataset:
        """The stored records that decide whose the fragment's records are
        (:func:`domain.territory`): each record itself, and the services,
        organizations, locations and service-at-locations it is or hangs on,
        with their locations. A few reads per table, whatever the fragment."""
        data = empty_dataset()
        wanted: dict[str, set[str]] = {t: set() for t in TABLES}
        for table, rows in fragment.items():
            wanted[table] |= set(rows)
            for record in rows.values():
                for column, target in REFERENCES.get(table, {}).items():
                    if record.get(column) and column != "parent_organization_id":
                        wanted[target].add(str(record[column]))
                for column in ("link_id", "resource_id"):
                    if record.get(column):
                        for owner in ("service", "organization", "location"):
                            wanted[owner].add(str(record[column]))
                        wanted["service_at_location"].add(str(record[column]))
        for table in ("contact", "phone"):
            for record in self.find(
                table, {"_id": {"$in": sorted(wanted[table])}}, session
            ):
                for column, target in REFERENCES[table].items():
                    if record.get(column):
                        wanted[target].add(str(record[column]))
        for table, ids in wanted.items():
            if not ids:
                continue
            if table in ("service", "organization", "location", "service_at_location"):
                found = self.subset_for(table, sorted(ids), session)
            else:
                found = empty_dataset()
                found[table] = {
                    r["id"]: r
                    for r in self.find(table, {"_id": {"$in": sorted(ids)}}, session)
                }
            for name, rows in found.items():
                data[name].update(rows)
        return data

    def list_subset(
        self, table: str, ids: list[str], session: ClientSession | None = None
    ) -> Dataset:
        """Just what HSDS list items show (no arrays): the records, and for
        services their organization and program, for service-at-locations
        their service, location and organization. Three or four reads
        instead of the dozen :meth:`subset_for` makes."""
        data = empty_dataset()

        def take(name: str, wanted: Iterable[str | None]) -> list[Record]:
            keys = sorted({w for w in wanted if w})
            rows = self.find(name, {"_id": {"$in": keys}}, session) if keys else []
            for row in rows:
                data[name][row["id"]] = row
            return rows

        roots = take(table, ids)
        services = roots if table == "service" else []
        if table == "service_at_location":
            services = take("service", (r.get("service_id") for r in roots))
            take("location", (r.get("location_id") for r in roots))
        if services:
            take("organization", (s.get("organization_id") for s in services))
            take("program", (s.get("program_id") for s in services))
        return data

    def ids_modified_after(
        self,
        table: str,
        after: str | None,
        page: int,
        per_page: int,
        query: Mapping[str, Any] | None = None,
    ) -> tuple[int, list[Record]]:
        """A page of ``(id, _modified)`` for HSDS ``minimal`` and list routes."""
        filt: dict[str, Any] = dict(query or {})
        if after:
            filt["_modified"] = {"$gte": after}
        coll = self.db[collection_name(table)]
        total = coll.count_documents(filt)
        docs = (
            coll.find(filt)
            .sort("_id", ASCENDING)
            .skip((page - 1) * per_page)
            .limit(per_page)
        )
        return total, [_plain(d) | {"_modified": d.get("_modified")} for d in docs]

    # --- writing ------------------------------------------------------------

    def upsert(
        self,
        dataset: Dataset,
        who: str,
        session: ClientSession | None,
        action: str | None = None,
        changed: dict[str, set[str]] | None = None,
        views: dict[str, ServiceView] | None = None,
        later: Collection[str] = (),
    ) -> dict[str, int]:
        """Write every record, audit each change in ``metadata``, and rebuild
        the search projection of every service the change touches.

        Returns counts: ``{"created": n, "updated": n, "unchanged": n}``;
        ``changed``, if given, receives the ids created or updated, by table;
        ``views`` the services as their projections were rebuilt. Services in
        ``later`` are left for a later transaction that writes them.
        """
        when = datetime.now(UTC)
        stamp = _now()
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        trail: list[Record] = []
        for table, rows in dataset.items():
            if not rows:
                continue
            coll = self.db[collection_name(table)]
            before = {
                d["_id"]: _plain(d)
                for d in coll.find({"_id": {"$in": list(rows)}}, session=session)
            }
            writes = []
            for record_id, record in rows.items():
                old = before.get(record_id)
                if old == record:
                    counts["unchanged"] += 1
                    continue
                counts["created" if old is None else "updated"] += 1
                if changed is not None:
                    changed.setdefault(table, set()).add(record_id)
                trail += audit(table, old, record, who, when, action)
                writes.append(
                    ReplaceOne(
                        {"_id": record_id},
                        {**record, "_id": record_id, "_modified": stamp},
                        upsert=True,
                    )
                )
            if writes:
                coll.bulk_write(writes, ordered=False, session=session)
        if trail:
            self.db[collection_name("metadata")].insert_many(
                [{**m, "_id": m["id"], "_modified": stamp} for m in trail],
                session=session,
            )
        touched = self.touched_services(dataset, session) - set(later)
        self.refresh_search(touched, session, views)
        return counts

    def add_outbox_row(
        self, envelopes: list[Envelope], session: ClientSession | None
    ) -> None:
        """The events of one transaction as one row of the service's outbox, for
        writers outside the service (the CLI import): the service's relay
        publishes them when it runs."""
        if envelopes:
            self.db[Store.OUTBOX].insert_one(outbox_row(envelopes), session=session)

    def delete(
        self, table: str, query: Mapping[str, Any], session: ClientSession | None = None
    ) -> int:
        result = self.db[collection_name(table)].delete_many(
            dict(query), session=session
        )
        return int(result.deleted_count)

    def touched_services(
        self, dataset: Dataset, session: ClientSession | None = None
    ) -> set[str]:
        services = set(dataset["service"])
        locations = set(dataset["location"])
        orgs = set(dataset["organization"])
        terms = set(dataset["taxonomy_term"])
        for table in ("language", "schedule", "service_at_location", "phone"):
            for row in dataset[table].values():
                if row.get("service_id"):
                    services.add(row["service_id"])
                if row.get("location_id"):
                    locations.add(row["location_id"])
        for row in dataset["attribute"].values():
            services.add(row.get("link_id", ""))
            terms.discard(row.get("taxonomy_term_id", ""))
        if terms:
            services |= {
                a["link_id"]
                for a in self.find(
                    "attribute", {"taxonomy_term_id": {"$in": list(terms)}}, session
                )
                if a.get("link_id")
            }
        if locations:
            services |= {
                s["service_id"]
                for s in self.find(
                    "service_at_location",
                    {"location_id": {"$in": list(locations)}},
                    session,
                )
                if s.get("service_id")
            }
        if orgs:
            services |= {
                s["id"]
                for s in self.find(
                    "service", {"organization_id": {"$in": list(orgs)}}, session
                )
            }
        services.discard("")
        return services

    def view(
        self, service_id: str, session: ClientSession | None = None
    ) -> ServiceView | None:
        service = self.get("service", service_id, session)
        if service is None:
            return None
        sals = self.find("service_at_location", {"service_id": service_id}, session)
        location_ids = [s["location_id"] for s in sals if s.get("location_id")]
        sal_ids = [s["id"] for s in sals]
        locations = self.find("location", {"_id": {"$in": location_ids}}, session)
        languages = self.find(
            "language",
            {
                "$or": [
                    {"service_id": service_id},
                    {"location_id": {"$in": location_ids}},
                ]
            },
            session,
        )
        schedules = self.find(
            "schedule",
            {
                "$or": [
                    {"service_id": service_id},
                    {"service_at_location_id": {"$in": sal_ids}},
                ]
            },
            session,
        )
        attributes = self.find("attribute", {"link_id": service_id}, session)
        term_ids = [
            a["taxonomy_term_id"] for a in attributes if a.get("taxonomy_term_id")
        ]
        terms = self.find("taxonomy_term", {"_id": {"$in": term_ids}}, session)
        organization = (
            self.get("organization", service["organization_id"], session)
            if service.get("organization_id")
            else None
        )
        return ServiceView(
            service, organization, locations, languages, schedules, term_ids, terms
        )

    def refresh_search(
        self,
        service_ids: Iterable[str],
        session: ClientSession | None = None,
        views: dict[str, ServiceView] | None = None,
    ) -> None:
        writes = []
        ids = sorted(service_ids)
        stamp = _now()  # taken last, close to the commit (see LiveIndex)
        for service_id in ids:
            view = self.view(service_id, session)
            if view is None:
                continue
            if views is not None:
                views[service_id] = view
            entry = search_entry(view)
            entry["sort_name"] = fold(entry["name"])
            entry["modified"] = stamp
            writes.append(ReplaceOne({"_id": service_id}, entry, upsert=True))
        if writes:
            self.db[SEARCH].bulk_write(writes, ordered=False, session=session)

    def insert_search_entries(self, entries: list[Record]) -> None:
        """Bulk load of ready-made projections (benchmark and rebuilds)."""
        for entry in entries:
            entry.setdefault("sort_name", fold(str(entry.get("name", ""))))
        if entries:
            self.db[SEARCH].insert_many(entries, ordered=False)

    # --- search -------------------------------------------------------------

    def search(
        self, query: SearchQuery, index: SearchIndex | None = None
    ) -> tuple[int, list[Record]]:
        """One page of search projections, most relevant first.

        ``index`` is the process's live index; without one, an index is built
        from every projection for this one call (tests, small directories).
        """
        if index is None:
            index = SearchIndex()
            for entry in self.load_entries(None):
                index.put(entry)
        return index.search(query)

    # --- keeping in-memory indexes current ---------------------------------------

    def generation(self) -> int:
        doc = self.db[GENERATION].find_one({"_id": "generation"})
        return int(doc["value"]) if doc else 0

    def bump_generation(self) -> None:
        """Called after a commit that changed projections: every process's
        :class:`LiveIndex` re-reads what changed before its next search."""
        self.db[GENERATION].update_one(
            {"_id": "generation"}, {"$inc": {"value": 1}}, upsert=True
        )

    def load_entries(self, since: str | None) -> Iterable[Record]:
        filt = {"modified": {"$gte": since}} if since else {}
        return self.db[SEARCH].find(filt)


class LiveIndex:
    """A process's :class:`SearchIndex`, refreshed from the store on demand.

    Each search first reads the directory's generation (one small document);
    if it moved, the projections modified since the previous refresh (minus a
    margin, since a projection is stamped just before its transaction
    commits) are read and put again. Putting twice is harmless.
    """

    def __init__(self) -> None:
        self.index = SearchIndex()
        self.generation: int | None = None
        self.refreshed_at: datetime | None = None
        self._lock = threading.Lock()

    def current(self, repository: OfferingsRepository) -> SearchIndex:
        generation = repository.generation()
        if generation != self.generation:
            with self._lock:
                if generation != self.generation:
                    started = datetime.now(UTC)
                    since = (
                        None
                        if self.refreshed_at is None
                        else (
                            (self.refreshed_at - REFRESH_MARGIN)
                            .isoformat(timespec="seconds")
                            .replace("+00:00", "Z")
                        )
                    )
                    for entry in repository.load_entries(since):
                        self.index.put(entry)
                    self.generation = generation
                    self.refreshed_at = started
        return self.index
