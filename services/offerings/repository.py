"""Store access for the directory: every pymongo query of the service lives here.

Layout of the ``<prefix>offerings`` database:

- ``hsds_<table>``: one collection per HSDS 3.0 table, one document per record,
  ``_id`` = the record's id, plus ``_modified`` (UTC, ISO 8601) for the HSDS
  ``modified_after`` parameter. Example ``hsds_service`` document::

      {"_id": "ac148810-…", "id": "ac148810-…", "name": "Popote roulante",
       "organization_id": "d9d5e0f5-…", "status": "active",
       "publication_status": "published", "_modified": "2026-11-23T14:00:00Z"}

- ``search``: one projection per service (:func:`domain.search_entry`), rebuilt
  in the same transaction as any change that touches the service; each
  service process's :class:`FtsIndex` file (SQLite FTS5) is kept from them.
- ``search_meta``: ``{"_id": "generation", "value": 42, "epoch": "5b0c…"}``,
  the projections' position (:meth:`OfferingsRepository.position`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
import threading
import uuid
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pymongo import ASCENDING, IndexModel, ReplaceOne
from pymongo.client_session import ClientSession
from pymongo.database import Database

from services.offerings.domain import (
    SearchIndex,
    SearchQuery,
    ServiceView,
    _hours_of,
    audit,
    distance_km,
    fold,
    identifier_key,
    is_open,
    search_entry,
    week_minute,
)
from services.offerings.hsds import REFERENCES, TABLES, Dataset, Record, empty_dataset
from shared.envelope import Envelope
from shared.outbox import outbox_row
from shared.store import Store

SEARCH = "search"
GENERATION = "search_meta"
REFRESH_MARGIN = timedelta(seconds=10)
BATCH = 2000  # projections inserted at once when the index file is rebuilt
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
    # Filtering and ranking happen in :class:`FtsIndex` (an SQLite file); the
    # store only serves "what changed since" to keep each index file current.
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
        self, query: SearchQuery, index: FtsIndex | SearchIndex | None = None
    ) -> tuple[int, list[Record]]:
        """One page of search projections, most relevant first.

        ``index`` is the process's live index; without one, an in-memory index
        is built from every projection for this one call (tests, small
        directories).
        """
        if index is None:
            index = FtsIndex()
            try:
                index.catch_up(self, self.position())
                return index.search(query)
            finally:
                index.close()
        return index.search(query)

    # --- keeping in-memory indexes current ---------------------------------------

    def generation(self) -> int:
        return self.position()[1]

    def position(self) -> tuple[str, int]:
        """``(epoch, generation)`` of the projections: the generation counts
        commits that changed them; the epoch names this store's projections
        (made with the counter), so an index file built from another or a
        re-created store is never taken as current. ``("", 0)`` before any."""
        doc = self.db[GENERATION].find_one({"_id": "generation"})
        if doc is None:
            return "", 0
        if not doc.get("epoch"):  # a counter made before epochs existed
            self.db[GENERATION].update_one(
                {"_id": "generation", "epoch": {"$exists": False}},
                {"$set": {"epoch": uuid.uuid4().hex}},
            )
            doc = self.db[GENERATION].find_one({"_id": "generation"}) or doc
        return str(doc.get("epoch") or ""), int(doc["value"])

    def bump_generation(self) -> None:
        """Called after a commit that changed projections: every process's
        :class:`LiveIndex` re-reads what changed before its next search."""
        self.db[GENERATION].update_one(
            {"_id": "generation"},
            {"$inc": {"value": 1}, "$setOnInsert": {"epoch": uuid.uuid4().hex}},
            upsert=True,
        )

    def load_entries(self, since: str | None) -> Iterable[Record]:
        filt = {"modified": {"$gte": since}} if since else {}
        return self.db[SEARCH].find(filt)


class FtsIndex:
    """The search index: SQLite FTS5 in one file, BM25 ordering.

    Why FTS5: it is in the standard library (``sqlite3``), kept by the SQLite
    project, keeps its index on disk (a restart reopens it in milliseconds
    instead of re-reading every projection from the store) and ranks by BM25.

    Each projection (:func:`domain.search_entry`) becomes one ``entry`` row
    (what a search returns, as JSON) and one ``words`` row with three columns:
    ``name`` (the name's tokens), ``body`` (every token) and ``keys`` (one
    opaque token per facet value: MRC, municipality, language, taxonomy,
    organization, outreach, flags, hours of the week). Tokens are those of
    :func:`domain.tokens` (folded, stopwords out, plurals stripped), so
    French and English match without accents exactly as before; the
    ``unicode61 remove_diacritics 2`` tokenizer then only splits on spaces.
    A projection never holds a confidential address (see ``search_entry``),
    so neither does this file.

    ``path`` ``None`` keeps the index in memory (tests, one-off searches).
    Example ``meta`` rows: ``("epoch", "5b0c…"), ("generation", "42"),
    ("refreshed_at", "2026-12-04T21:00:00Z")``.
    """

    NAME_WEIGHT, BODY_WEIGHT = 3.0, 1.0
    VERSION = 3  # of the file's layout (``pragma user_version``)
    FACETS = SearchIndex.FACETS[2:] + ("organization_id",)

    def __init__(self, path: str | None = None) -> None:
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path or ":memory:"
        self.db = sqlite3.connect(
            self.path, timeout=600, isolation_level=None, check_same_thread=False
        )
        self.db.create_function("open_at", 2, _open_at, deterministic=True)
        self.db.create_function("nearest", 3, _nearest, deterministic=True)
        self._lock = threading.RLock()
        if path:
            self.db.execute("pragma journal_mode=wal")
            self.db.execute("pragma synchronous=normal")
        version = self.db.execute("pragma user_version").fetchone()[0]
        if version != self.VERSION:  # another layout: rebuilt from the store
            self.db.executescript(
                "drop table if exists words; drop table if exists entry;"
                " drop table if exists meta;"
                f" pragma user_version = {self.VERSION};"
            )
        self.db.executescript(
            """
            create table if not exists meta(key text primary key, value text);
            create table if not exists entry(
                n integer primary key, id text unique not null, body text not null,
                published integer not null, sort_name text not null,
                modified text not null, slots text not null, points text not null);
            create index if not exists entry_order
                on entry(published, sort_name, id);
            create virtual table if not exists words using fts5(
                name, body, keys, tokenize='unicode61 remove_diacritics 2');
            """
        )

    def close(self) -> None:
        self.db.close()

    def __len__(self) -> int:
        return int(self.db.execute("select count(*) from entry").fetchone()[0])

    # --- keeping it current -------------------------------------------------------

    def meta(self) -> dict[str, str]:
        return dict(self.db.execute("select key, value from meta").fetchall())

    def put(self, entry: Mapping[str, Any]) -> None:
        """Add or replace one service's projection."""
        with self._lock:
            self.db.execute("begin")
            try:
                self._put(entry)
                self.db.execute("commit")
            except BaseException:
                self.db.execute("rollback")
                raise

    def _put(self, entry: Mapping[str, Any]) -> None:
        row = self.db.execute(
            "select n from entry where id = ?", (entry["_id"],)
        ).fetchone()
        if row is not None:
            self.db.execute("delete from words where rowid = ?", row)
            self.db.execute("delete from entry where n = ?", row)
        self._insert([entry])

    def _insert(self, entries: Iterable[Mapping[str, Any]]) -> None:
        """Insert projections not in the index yet, in one ``executemany`` each
        (a rebuild of 100,000 goes by batches of :data:`BATCH`)."""
        start = self.db.execute("select coalesce(max(n), 0) from entry").fetchone()
        rows, words = [], []
        for number, entry in enumerate(entries, start[0] + 1):
            row, word = self._rows(entry)
            rows.append((number, *row))
            words.append((number, *word))
        self.db.executemany(
            "insert into entry(n, id, body, published, sort_name, modified, slots,"
            " points) values (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        self.db.executemany(
            "insert into words(rowid, name, body, keys) values (?, ?, ?, ?)", words
        )

    def _rows(
        self, entry: Mapping[str, Any]
    ) -> tuple[tuple[Any, ...], tuple[str, ...]]:
        name = str(entry.get("name", ""))
        lite = {
            "_id": entry["_id"],
            "name": name,
            "sort_name": entry.get("sort_name") or fold(name),
            "modified": entry.get("modified", ""),
            "organization_id": entry.get("organization_id"),
        }
        slots = list(entry.get("slots") or ())
        points = [list(p) for p in entry.get("points") or ()]
        keys = ["all"]
        for facet in self.FACETS:
            values = entry.get(facet) or ()
            for value in [values] if isinstance(values, str) else values:
                keys.append(_key(facet, str(value)))
        for flag in SearchIndex.FLAGS:
            if entry.get(flag):
                keys.append(_key("flag", flag))
        if not entry.get("published"):  # rare: excluded with a short NOT list
            keys.append(_key("flag", "unpublished"))
        keys += [_key("hour", str(h)) for h in sorted(_hours_of(slots))]
        return (
            entry["_id"],
            json.dumps(lite, ensure_ascii=False),
            1 if entry.get("published") else 0,
            lite["sort_name"],
            str(lite["modified"]),
            json.dumps(slots),
            json.dumps(points),
        ), (
            " ".join(entry.get("name_tokens") or ()),
            " ".join(entry.get("tokens") or ()),
            " ".join(keys),
        )

    def catch_up(
        self, repository: OfferingsRepository, position: tuple[str, int]
    ) -> None:
        """Bring the file to the store's ``(epoch, generation)``.

        Same epoch and generation: nothing to do (a restart is ready at once).
        Same epoch, generation behind: only the projections modified since the
        last refresh (minus :data:`REFRESH_MARGIN`) are read. Another epoch
        (another or a re-created store) or a generation ahead of the store's:
        rebuilt from every projection. The write lock (``begin immediate``)
        makes processes sharing the file catch up one at a time.
        """
        epoch, generation = position
        with self._lock:
            self.db.execute("begin immediate")
            try:
                meta = self.meta()
                since: str | None = None
                known = int(meta.get("generation", -1))
                if meta.get("epoch") == epoch and known == generation:
                    self.db.execute("commit")
                    return
                if meta.get("epoch") == epoch and known < generation:
                    if meta.get("refreshed_at"):
                        moment = datetime.fromisoformat(meta["refreshed_at"])
                        since = _stamp(moment - REFRESH_MARGIN)
                if since is None:
                    self.db.execute("delete from words")
                    self.db.execute("delete from entry")
                started = _now()
                if since is None:  # empty: no replacing, straight inserts
                    batch: list[Mapping[str, Any]] = []
                    for entry in repository.load_entries(None):
                        batch.append(entry)
                        if len(batch) == BATCH:
                            self._insert(batch)
                            batch = []
                    self._insert(batch)
                else:
                    for entry in repository.load_entries(since):
                        self._put(entry)
                self.db.executemany(
                    "insert or replace into meta(key, value) values (?, ?)",
                    [
                        ("epoch", epoch),
                        ("generation", str(generation)),
                        ("refreshed_at", started),
                    ],
                )
                self.db.execute("commit")
            except BaseException:
                self.db.execute("rollback")
                raise

    # --- searching ----------------------------------------------------------------

    def search(self, query: SearchQuery) -> tuple[int, list[Record]]:
        """``(total, one page of projections)``: BM25 first (a word of the name
        weighs three times a word elsewhere), then the name, then the id; near
        a point, nearest first."""
        terms = query.terms
        positive = [f'{{name body}} : "{t}"' for t in terms]
        negative = []
        if not query.include_unpublished:
            negative.append(f"keys : {_key('flag', 'unpublished')}")
        for facet, value in (
            ("mrc", query.mrc),
            ("municipality", query.municipality),
            ("taxonomy_term", query.taxonomy_term_id),
            ("taxonomy", query.taxonomy_id),
            ("outreach", query.outreach_mode),
            ("organization_id", query.organization_id),
            ("language", fold(query.language) if query.language else None),
        ):
            if value:
                positive.append(f"keys : {_key(facet, value)}")
        for flag, wanted in (
            ("no_referral", query.no_referral_required),
            ("waiting_list_open", query.waiting_list_open),
        ):
            if wanted is True:
                positive.append(f"keys : {_key('flag', flag)}")
            elif wanted is False:
                negative.append(f"keys : {_key('flag', flag)}")
        where: list[str] = []
        args: list[Any] = []
        if query.open_at is not None:
            minute = week_minute(query.open_at)
            positive.append(f"keys : {_key('hour', str(minute // 60))}")
            where.append("open_at(e.slots, ?)")
            args.append(query.open_at.isoformat())
        if query.modified_after:
            where.append("e.modified >= ?")
            args.append(query.modified_after)
        distance, near_args = "null", []
        if query.near is not None:
            distance, near_args = "nearest(e.points, ?, ?)", list(query.near)
            if query.within_km is not None:
                where.append(f"{distance} <= ?")
                args += [*near_args, query.within_km]
        rank = ""
        if positive or len(negative) > (0 if query.include_unpublished else 1):
            expression = " AND ".join(positive) or "keys : all"
            for clause in negative:
                expression = f"({expression}) NOT {clause}"
            source = "words join entry e on e.n = words.rowid"
            where.insert(0, "words match ?")
            args.insert(0, expression)
            if terms:
                rank = f"bm25(words, {self.NAME_WEIGHT}, {self.BODY_WEIGHT}, 0.0)"
        else:  # the whole directory: the entry table's own order
            source = "entry e"
            if not query.include_unpublished:
                where.insert(0, "e.published = 1")
        filt = " and ".join(where) or "1"
        skip = (query.page - 1) * query.per_page
        with self._lock:
            if source == "entry e":  # the entry table's index gives the order
                order = "e.sort_name, e.id"
                if query.near is not None:
                    order = f"d is null, d, {order}"
                rows = self.db.execute(
                    f"select e.body, {distance} as d from {source} where {filt}"
                    f" order by {order} limit ? offset ?",
                    [*near_args, *args, query.per_page, skip],
                ).fetchall()
                total = self.db.execute(
                    f"select count(*) from {source} where {filt}", args
                ).fetchone()[0]
            else:  # one pass over the matches for the page and the total
                order = "r, s, i" if query.near is None else "d is null, d, r, s, i"
                found = self.db.execute(
                    f"with m as materialized (select e.n as n, e.sort_name as s,"
                    f" e.id as i, {rank or '0'} as r, {distance} as d"
                    f" from {source} where {filt})"
                    f" select (select count(*) from m), n, d from m"
                    f" order by {order} limit ? offset ?",
                    [*near_args, *args, query.per_page, skip],
                ).fetchall()
                if found:
                    total = found[0][0]
                    marks = ", ".join("?" * len(found))
                    bodies = dict(
                        self.db.execute(
                            f"select n, body from entry where n in ({marks})",
                            [f[1] for f in found],
                        ).fetchall()
                    )
                    rows = [(bodies[f[1]], f[2]) for f in found]
                else:
                    rows = []
                    total = self.db.execute(
                        f"select count(*) from {source} where {filt}", args
                    ).fetchone()[0]
        page = []
        for body, far in rows:
            entry = json.loads(body)
            if query.near is not None:
                entry["distance_km"] = None if far is None else round(far, 1)
            page.append(entry)
        return total, page


@functools.lru_cache(maxsize=1 << 16)
def _key(facet: str, value: str) -> str:
    """One opaque token per facet value (ids hold hyphens, languages may hold
    spaces): ``_key("mrc", "2466")`` -> ``"k3f2a…"``."""
    if facet == "hour":  # up to 168 a service: short, and only ever in ``keys``
        return f"h{value}"
    digest = hashlib.blake2b(f"{facet}\x1f{value}".encode(), digest_size=8)
    return "k" + digest.hexdigest()


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _open_at(slots: str, moment: str) -> bool:
    return is_open(json.loads(slots), datetime.fromisoformat(moment))


def _nearest(points: str, lat: float, lon: float) -> float | None:
    found = json.loads(points)
    if not found:
        return None
    return min(distance_km((lat, lon), (p[0], p[1])) for p in found)


class LiveIndex:
    """A process's :class:`FtsIndex`, kept at the store's position.

    Each search first reads the directory's position (one small document:
    the store's epoch and generation); if it moved since this process last
    looked, the index catches up (:meth:`FtsIndex.catch_up`). The file
    records the position it reflects, so a restart whose file is current is
    ready at once, and one behind reads only what changed.
    """

    def __init__(
        self, path: str | None = None, directory: str | Path | None = None
    ) -> None:
        self.path, self.directory = path, directory
        self._index: FtsIndex | None = None
        self.position: tuple[str, int] | None = None
        self._lock = threading.Lock()

    def _opened(self, repository: OfferingsRepository) -> FtsIndex:
        if self._index is None:
            path = self.path
            if path is None and self.directory is not None:
                path = str(Path(self.directory) / f"{repository.db.name}.sqlite3")
            self._index = FtsIndex(path)
        return self._index

    def current(self, repository: OfferingsRepository) -> FtsIndex:
        position = repository.position()
        if position != self.position or self._index is None:
            with self._lock:
                index = self._opened(repository)
                if position != self.position:
                    index.catch_up(repository, position)
                    self.position = position
        assert self._index is not None
        return self._index

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None
            self.position = None
