"""The offerings nameko service: the directory of proximity social services.

Entrypoints are thin: load with a schema, apply the domain, write through the
repository and the outbox in one transaction, answer with HSDS 3.0 documents.

``audience`` on reads is ``"public"`` (default: published records only,
confidential addresses removed) or ``"confidential"`` (staff allowed to see
shelters' addresses; the gateway passes it only to roles holding
``offerings.read_confidential``). ``user`` is who acts, recorded in metadata.

    rpc.offerings.create_service({"organization_id": "…", "name": "Popote"},
                                 user={"id": "ana@example.org"})
    -> {"id": "…", "name": "Popote", "publication_status": "draft", …}
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema
from pymongo.client_session import ClientSession

from services.offerings.dependencies import Geo, Places, SearchIndexProvider
from services.offerings.domain import (
    LINK_FIELDS,
    Nester,
    SearchQuery,
    Writer,
    apply_changes,
    check_dataset,
    covers_postcode,
    event_payload,
    fold,
    identifier_key,
    outside_ids,
    page_envelope,
    parse_audience,
    quebec_time,
    refusals,
    replace_addresses,
    service_events,
    service_links,
    tokens,
    view_for,
    waiting_list_changed,
)
from services.offerings.events import (
    SERVICE_UPDATED,
    SERVICE_WITHDRAWN,
    WAITING_LIST_CHANGED,
    payload,
)
from services.offerings.exceptions import (
    Conflict,
    NotFound,
    import_refused,
    invalid_from,
    write_refused,
)
from services.offerings.formats import read_json_document
from services.offerings.gazetteer import resolve_near
from services.offerings.hsds import Dataset, Record, empty_dataset
from services.offerings.imports import check_parsed, write_with_events
from services.offerings.repository import INDEXES, OfferingsRepository
from services.offerings.schemas import (
    AddressesInput,
    LocationInput,
    OrganizationInput,
    OrganizationListInput,
    SearchInput,
    ServiceAtLocationListInput,
    ServiceInput,
    TaxonomyListInput,
    TaxonomyTermListInput,
    load,
)
from shared.outbox import Outbox
from shared.rpc import rpc
from shared.service import ServiceBase
from shared.store import Store

PUBLIC = "public"
CONFIDENTIAL = "confidential"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _near(query: dict[str, Any]) -> bool:
    """Whether the search needs the gazetteer (read on first use)."""
    return any(
        query.get(k) is not None for k in ("near_municipality", "near_postal_code")
    )


def _who(user: Any) -> str:
    if isinstance(user, dict):
        return str(user.get("email") or user.get("id") or user.get("name") or "?")
    return str(user or "system")


class OfferingsService(ServiceBase):
    name = "offerings"
    store = Store(indexes=INDEXES)
    outbox = Outbox()
    geo = Geo()
    places = Places()
    search_index = SearchIndexProvider()

    @property
    def repository(self) -> OfferingsRepository:
        return OfferingsRepository(self.store.db)

    # --- organizations and locations --------------------------------------------

    @rpc
    def create_organization(self, data: dict[str, Any], user: Any = None) -> Record:
        loaded = load(OrganizationInput(), data)
        identifiers = loaded.pop("identifiers", [])
        org_id = str(uuid.uuid4())
        fragment = empty_dataset()
        fragment["organization"][org_id] = {
            "id": org_id,
            **loaded,
            "publication_status": "draft",
        }
        for ident in identifiers:
            ident_id = str(uuid.uuid4())
            fragment["organization_identifier"][ident_id] = {
                "id": ident_id,
                "organization_id": org_id,
                **ident,
            }
        with self._changing() as session:
            known = self.repository.known_identifiers(
                [i.get("identifier", "") for i in identifiers], session
            )
            for ident in fragment["organization_identifier"].values():
                if identifier_key(ident) in known:
                    raise Conflict(
                        f"Organisme déjà inscrit : {known[identifier_key(ident)]}",
                        f"Organization already listed: {known[identifier_key(ident)]}",
                        details={"organization_id": known[identifier_key(ident)]},
                    )
            self._write(fragment, user, session)
        return fragment["organization"][org_id]

    @rpc
    def update_organization(
        self, organization_id: str, changes: dict[str, Any], user: Any = None
    ) -> Record:
        loaded = load(OrganizationInput(), changes, partial=True)
        loaded.pop("identifiers", None)
        return self._update("organization", organization_id, loaded, user)

    @rpc
    def create_location(self, data: dict[str, Any], user: Any = None) -> Record:
        loaded = load(LocationInput(), data)
        addresses = loaded.pop("addresses", [])
        location_id = str(uuid.uuid4())
        fragment = empty_dataset()
        fragment["location"][location_id] = {"id": location_id, **loaded}
        for address in addresses:
            address_id = str(uuid.uuid4())
            fragment["address"][address_id] = {
                "id": address_id,
                "location_id": location_id,
                **address,
            }
        with self._changing() as session:
            self._write(fragment, user, session)
        return fragment["location"][location_id]

    @rpc
    def update_location(
        self, location_id: str, changes: dict[str, Any], user: Any = None
    ) -> Record:
        """Change a location; ``addresses``, when given, replace its addresses
        (:func:`domain.replace_addresses`), each checked in full."""
        changes = dict(changes)
        addresses = None
        if "addresses" in changes:
            wanted = {"addresses": changes.pop("addresses")}
            addresses = load(AddressesInput(), wanted)["addresses"]
        loaded = load(LocationInput(), changes, partial=True)
        with self._changing() as session:
            current = self._existing("location", location_id, session)
            fragment = empty_dataset()
            fragment["location"][location_id] = {**current, **loaded}
            stored = self.repository.find(
                "address", {"location_id": location_id}, session
            )
            if addresses is not None:
                kept, removed = replace_addresses(location_id, stored, addresses)
                fragment["address"] = kept
                self._write(fragment, user, session)
                if removed:
                    self.repository.delete(
                        "address", {"_id": {"$in": removed}}, session
                    )
                stored = list(kept.values())
            else:
                self._write(fragment, user, session)
        return {
            **fragment["location"][location_id],
            "addresses": sorted(stored, key=lambda a: str(a["id"])),
        }

    @rpc
    def publish_organization(self, organization_id: str, user: Any = None) -> Record:
        return self._update(
            "organization", organization_id, {"publication_status": "published"}, user
        )

    @rpc
    def withdraw_organization(self, organization_id: str, user: Any = None) -> Record:
        return self._update(
            "organization", organization_id, {"publication_status": "withdrawn"}, user
        )

    @rpc
    def publish_location(self, location_id: str, user: Any = None) -> Record:
        return self._update(
            "location", location_id, {"publication_status": "published"}, user
        )

    @rpc
    def withdraw_location(self, location_id: str, user: Any = None) -> Record:
        return self._update(
            "location", location_id, {"publication_status": "withdrawn"}, user
        )

    # --- services ------------------------------------------------------------------

    @rpc
    def create_service(self, data: dict[str, Any], user: Any = None) -> Record:
        """A new service starts as a draft: nobody outside sees it until
        :meth:`publish_service`."""
        changes = load(ServiceInput(), data)
        service_id = str(uuid.uuid4())
        with self._changing() as session:
            record = self._save_service(
                service_id,
                None,
                {**changes, "publication_status": "draft"},
                user,
                session,
            )
        return record

    @rpc
    def update_service(
        self, service_id: str, changes: dict[str, Any], user: Any = None
    ) -> Record:
        loaded = load(ServiceInput(), changes, partial=True)
        with self._changing() as session:
            current = self._existing("service", service_id, session)
            record = self._save_service(service_id, current, loaded, user, session)
            if record.get("publication_status") == "published":
                changed = sorted(
                    k
                    for k in set(record) | set(current)
                    if record.get(k) != current.get(k) and k != "last_modified"
                ) + sorted(k for k in LINK_FIELDS if k in loaded)
                self._emit(SERVICE_UPDATED, service_id, session, changed_fields=changed)
                if waiting_list_changed(current, record):
                    self._emit(WAITING_LIST_CHANGED, service_id, session)
        return record

    @rpc
    def publish_service(self, service_id: str, user: Any = None) -> Record:
        with self._changing() as session:
            current = self._existing("service", service_id, session)
            self._authorise(_alone("service", current), user, session)
            if current.get("publication_status") == "published":
                raise Conflict("Service déjà publié.", "Service already published.")
            record = self._save_service(
                service_id, current, {"publication_status": "published"}, user, session
            )
            for event_type, extra in service_events(current, record):
                self._emit(event_type, service_id, session, **extra)
        return record

    @rpc
    def withdraw_service(
        self, service_id: str, user: Any = None, reason: str | None = None
    ) -> Record:
        with self._changing() as session:
            current = self._existing("service", service_id, session)
            self._authorise(_alone("service", current), user, session)
            if current.get("publication_status") == "withdrawn":
                raise Conflict("Service déjà retiré.", "Service already withdrawn.")
            record = self._save_service(
                service_id, current, {"publication_status": "withdrawn"}, user, session
            )
            self._emit(SERVICE_WITHDRAWN, service_id, session, reason=reason)
        return record

    # --- bulk ------------------------------------------------------------------------

    @rpc
    def import_document(
        self, document: Any, user: Any = None, name: str = "document.json"
    ) -> dict[str, Any]:
        """Import an HSDS 3.0 JSON document (an upload), all or nothing, in
        one transaction with the events its services cause.

        Same rules as ``maillage offerings import``; a refusal raises
        ``Invalid`` (422) whose ``report`` lists every problem.
        Returns the report: ``{"ok": true, "written": {"created": 21, …}, …}``.
        """
        parsed = read_json_document(document, name)
        with self._changing() as session:
            dataset, report = check_parsed(
                parsed, name, self.repository, self.geo, session
            )
            if not report.ok:
                raise import_refused(report.as_dict())
            self._authorise(dataset, user, session)
            emitted: list[str] = []

            def emit(event_type: str, data: dict[str, Any]) -> None:
                self.outbox.add(event_type, data, session=session)
                emitted.append(event_type)

            report.written = write_with_events(
                self.repository, dataset, _who(user), session, emit, _now()
            )
            report.transactions = 1
            for event_type in emitted:
                report.events[event_type] = report.events.get(event_type, 0) + 1
        return report.as_dict()

    # --- reading (HSDS 3.0 API) --------------------------------------------------

    @rpc
    def search(
        self, params: dict[str, Any] | None = None, audience: str = PUBLIC
    ) -> dict[str, Any]:
        """HSDS ``GET /services``: a ``Page`` of services, most relevant first.

        Near a place (``near_municipality``, ``near_latitude`` and
        ``near_longitude``, or ``near_postal_code``; ``within_km`` optional),
        nearest first: each item then carries ``distance_km`` (to its nearest
        public location; ``null`` without one: a shelter's location never
        counts) and the page says where from (``near``)."""
        query = load(SearchInput(), params or {})
        near = resolve_near(query, self.places.gazetteer if _near(query) else None)
        search = SearchQuery(
            text=query["search"],
            taxonomy_term_id=query.get("taxonomy_term_id"),
            taxonomy_id=query.get("taxonomy_id"),
            mrc=query.get("mrc"),
            municipality=query.get("municipality"),
            language=query.get("language"),
            no_referral_required=query.get("no_referral_required"),
            outreach_mode=query.get("outreach_mode"),
            open_at=quebec_time(datetime.now(UTC)) if query["open_now"] else None,
            waiting_list_open=query.get("waiting_list_open"),
            organization_id=query.get("organization_id"),
            modified_after=_iso(query.get("modified_after")),
            page=query["page"],
            per_page=query["per_page"],
            include_unpublished=not parse_audience(audience).public,
            near=near[0] if near else None,
            within_km=query.get("within_km"),
        )
        index = self.search_index.current(self.repository)
        total, entries = self.repository.search(search, index)
        ids = [e["_id"] for e in entries]
        if query["minimal"]:
            contents = [
                {"id": e["_id"], "modified_date": e.get("modified")} for e in entries
            ]
        else:
            contents = self._documents("service", ids, audience, full=query["full"])
        envelope = page_envelope(total, search.page, search.per_page, contents)
        if near is not None:
            distances = {e["_id"]: e.get("distance_km") for e in entries}
            for item in contents:
                item["distance_km"] = distances.get(item["id"])
            envelope["near"] = near[1]
        return envelope

    @rpc
    def find_places(self, text: str = "") -> dict[str, Any]:
        """Quebec municipalities by name, for "near me" (a person never types a
        census code): ``text`` given, the matches (exact name first, else by
        prefix); empty, every placed municipality. Also whether a postal-code
        file is loaded (the page offers postal codes only then)::

            {"places": [{"code": "2456083", "name": "Saint-Jean-sur-Richelieu",
                         "mrc_code": "2456", "mrc_name": "Le Haut-Richelieu",
                         "placed": true, "latitude": 45.3, "longitude": -73.3}],
             "postal_codes": false, "gazetteer": true}
        """
        gazetteer = self.places.gazetteer
        if gazetteer is None:
            return {"places": [], "postal_codes": False, "gazetteer": False}
        text = str(text or "")[:200]
        found = gazetteer.find(text) if text.strip() else gazetteer.placed()
        return {
            "places": [p.as_dict() for p in found],
            "postal_codes": bool(gazetteer.postal_codes),
            "gazetteer": True,
        }

    @rpc
    def get_service(self, service_id: str, audience: str = PUBLIC) -> Record:
        return self._one("service", service_id, audience)

    @rpc
    def list_organizations(
        self, params: dict[str, Any] | None = None, audience: str = PUBLIC
    ) -> dict[str, Any]:
        return self._list("organization", params, audience, OrganizationListInput())

    @rpc
    def get_organization(
        self, organization_id: str, audience: str = PUBLIC, full_service: bool = False
    ) -> Record:
        doc = self._one("organization", organization_id, audience)
        return doc if full_service else _services_listed(doc)

    @rpc
    def get_location(self, location_id: str, audience: str = PUBLIC) -> Record:
        """One location with its addresses and history (no HTTP route of its
        own: the gateway reads it as the audit's state before a change)."""
        return self._one("location", location_id, audience)

    @rpc
    def list_service_at_locations(
        self, params: dict[str, Any] | None = None, audience: str = PUBLIC
    ) -> dict[str, Any]:
        """HSDS ``GET /service_at_locations``: the service filters of
        ``/services`` (``search``, ``taxonomy_term_id``, ``taxonomy_id``,
        ``organization_id``), ``modified_after`` (of the link), ``postcode``
        (:func:`domain.covers_postcode`, on what ``audience`` sees only: a
        shelter's address is never matched for the public) and ``full``.
        Filters are cumulative (AND), and the total counts only what
        ``audience`` may see."""
        query = load(ServiceAtLocationListInput(), params or {})
        who = parse_audience(audience)
        filt: dict[str, Any] = {}
        criteria = ("search", "taxonomy_term_id", "taxonomy_id", "organization_id")
        if any(query.get(c) for c in criteria):
            index = self.search_index.current(self.repository)
            _, entries = self.repository.search(
                SearchQuery(
                    text=query.get("search") or "",
                    taxonomy_term_id=query.get("taxonomy_term_id"),
                    taxonomy_id=query.get("taxonomy_id"),
                    organization_id=query.get("organization_id"),
                    per_page=max(1, len(index)),
                    include_unpublished=not who.public,
                ),
                index,
            )
            filt["service_id"] = {"$in": [e["_id"] for e in entries]}
        after = _iso(query.get("modified_after"))
        if after:
            filt["_modified"] = {"$gte": after}
        rows = sorted(
            self.repository.find_stamped("service_at_location", filt),
            key=lambda r: str(r["id"]),
        )
        ids = [str(r["id"]) for r in rows]
        seen = view_for(self.repository.list_subset("service_at_location", ids), who)
        ids = [i for i in ids if i in seen["service_at_location"]]
        if query.get("postcode") and ids:
            shown = view_for(
                self.repository.subset_for("service_at_location", ids), who
            )
            ids = [i for i in ids if covers_postcode(shown, i, query["postcode"])]
        start = (query["page"] - 1) * query["per_page"]
        page_ids = ids[start : start + query["per_page"]]
        if query["minimal"]:
            stamps = {str(r["id"]): r.get("_modified") for r in rows}
            contents = [{"id": i, "modified_date": stamps[i]} for i in page_ids]
        else:
            full = query["full"] or query["full_service"]
            contents = self._documents(
                "service_at_location", page_ids, audience, full=full
            )
        return page_envelope(len(ids), query["page"], query["per_page"], contents)

    @rpc
    def get_service_at_location(self, sal_id: str, audience: str = PUBLIC) -> Record:
        return self._one("service_at_location", sal_id, audience)

    @rpc
    def list_taxonomies(self, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._list("taxonomy", params, PUBLIC, TaxonomyListInput())

    @rpc
    def get_taxonomy(self, taxonomy_id: str) -> Record:
        return self._one("taxonomy", taxonomy_id, PUBLIC)

    @rpc
    def list_taxonomy_terms(
        self, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return self._list("taxonomy_term", params, PUBLIC, TaxonomyTermListInput())

    @rpc
    def get_taxonomy_term(self, term_id: str) -> Record:
        return self._one("taxonomy_term", term_id, PUBLIC)

    # --- helpers -----------------------------------------------------------------

    @contextmanager
    def _changing(self) -> Iterator[ClientSession]:
        """One transaction; once committed, other processes' search indexes
        are told to catch up, and this process's index file catches up now."""
        with self.store.transaction() as session:
            yield session
        self.repository.bump_generation()
        self.search_index.current(self.repository)

    def _existing(
        self, table: str, record_id: str, session: ClientSession | None = None
    ) -> Record:
        record = self.repository.get(table, record_id, session)
        if record is None:
            raise NotFound(table, record_id)
        return record

    def _authorise(self, fragment: Dataset, user: Any, session: ClientSession) -> None:
        """Refuse (403) a write outside the writer's MRC or lifting a shelter's
        confidentiality without the right, inside the write's transaction."""
        writer = Writer.from_user(user)
        if writer is None:
            return  # a caller inside the node: the CLI, a test, another service
        found = refusals(
            writer, self.repository.surroundings(fragment, session), fragment
        )
        if found:
            raise write_refused(found, writer)

    def _write(
        self,
        fragment: Dataset,
        user: Any,
        session: ClientSession,
        authorised: bool = False,
    ) -> None:
        if not authorised:
            self._authorise(fragment, user, session)
        existing = self.repository.existing_ids(outside_ids(fragment), session)
        problems = [
            p for p in check_dataset(fragment, {}, existing, self.geo) if p.fatal
        ]
        if problems:
            raise invalid_from(problems)
        self.repository.upsert(fragment, _who(user), session)

    def _update(
        self, table: str, record_id: str, changes: dict[str, Any], user: Any
    ) -> Record:
        with self._changing() as session:
            current = self._existing(table, record_id, session)
            fragment = empty_dataset()
            fragment[table][record_id] = {**current, **changes}
            self._write(fragment, user, session)
        return fragment[table][record_id]

    def _save_service(
        self,
        service_id: str,
        current: Record | None,
        changes: dict[str, Any],
        user: Any,
        session: ClientSession,
    ) -> Record:
        record = apply_changes(current, changes, _now())
        record["id"] = service_id
        fragment = service_links(service_id, changes)
        fragment["service"][service_id] = record
        self._authorise(fragment, user, session)  # before any link is removed
        for table, column, kind in (
            ("language", "service_id", "languages"),
            ("service_at_location", "service_id", "location_ids"),
            ("attribute", "link_id", "taxonomy_term_ids"),
        ):
            if kind in changes:
                query: dict[str, Any] = {
                    column: service_id,
                    "_id": {"$nin": list(fragment[table])},
                }
                if table == "attribute":
                    query["link_type"] = "taxonomy"
                self.repository.delete(table, query, session)
        self._write(fragment, user, session, authorised=True)
        return record

    def _emit(
        self, event_type: str, service_id: str, session: ClientSession, **extra: Any
    ) -> None:
        view = self.repository.view(service_id, session)
        assert view is not None
        data = event_payload(event_type, view, extra, _now())
        self.outbox.add(event_type, payload(event_type, data), session=session)

    def _documents(
        self, table: str, ids: list[str], audience: str, full: bool = True
    ) -> list[Record]:
        if not ids:
            return []
        if full:
            subset = self.repository.subset_for(table, ids)
        else:
            subset = self.repository.list_subset(table, ids)
        subset = view_for(subset, parse_audience(audience))
        nester = Nester(subset)
        docs = []
        for record_id in ids:
            if record_id not in subset[table]:
                continue
            if full:
                docs.append(nester.document(table, record_id))
            else:
                docs.append(_list_item(nester.document(table, record_id)))
        return docs

    def _one(self, table: str, record_id: str, audience: str) -> Record:
        docs = self._documents(table, [record_id], audience)
        if not docs:
            raise NotFound(table, record_id)
        return docs[0]

    def _text_page(
        self, table: str, query: dict[str, Any], filt: dict[str, Any]
    ) -> tuple[int, list[Record]]:
        """``search`` on a list route: organizations, taxonomies and terms are
        few, so their names and descriptions are matched here, accent-free."""
        terms = tokens(query["search"])
        after = _iso(query.get("modified_after"))
        if after:
            filt = {**filt, "_modified": {"$gte": after}}
        found = sorted(
            (
                r
                for r in self.repository.find_stamped(table, filt)
                if _matches(terms, r)
            ),
            key=lambda r: (fold(str(r.get("name", ""))), r["id"]),
        )
        start = (query["page"] - 1) * query["per_page"]
        return len(found), found[start : start + query["per_page"]]

    def _list(
        self,
        table: str,
        params: dict[str, Any] | None,
        audience: str,
        schema: Schema,
    ) -> dict[str, Any]:
        """A page of organizations, taxonomies or taxonomy terms, each filter
        the route's schema declares applied (AND)."""
        query = load(schema, params or {})
        filt: dict[str, Any] = {}
        if parse_audience(audience).public and table == "organization":
            filt["publication_status"] = {"$nin": ["draft", "withdrawn"]}
        for column in ("taxonomy_id", "parent_id"):
            if query.get(column):
                filt[column] = query[column]
        if query.get("top_only"):
            filt["parent_id"] = {"$in": [None, ""]}
        if query.get("search"):
            total, rows = self._text_page(table, query, filt)
        else:
            total, rows = self.repository.ids_modified_after(
                table,
                _iso(query.get("modified_after")),
                query["page"],
                query["per_page"],
                filt,
            )
        ids = [r["id"] for r in rows]
        if query["minimal"]:
            contents = [
                {"id": r["id"], "modified_date": r.get("_modified")} for r in rows
            ]
        elif table != "organization":
            contents = self._documents(table, ids, audience)
        elif query["full"] or query["full_service"]:
            contents = self._documents(table, ids, audience)
            if not query["full_service"]:
                contents = [_services_listed(doc) for doc in contents]
        else:
            contents = self._documents(table, ids, audience, full=False)
        return page_envelope(total, query["page"], query["per_page"], contents)


def _services_listed(organization: Record) -> Record:
    """An organization whose services are their own fields only (HSDS
    ``/organizations/{id}`` without ``full_service``)."""
    return {
        **organization,
        "services": [
            {k: v for k, v in s.items() if not isinstance(v, list | dict)}
            for s in organization.get("services", [])
        ],
    }


def _alone(table: str, record: Record) -> Dataset:
    fragment = empty_dataset()
    fragment[table][record["id"]] = record
    return fragment


def _matches(terms: list[str], record: Record) -> bool:
    text = " ".join(
        str(record.get(c) or "") for c in ("name", "alternate_name", "description")
    )
    return set(terms) <= set(tokens(text))


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _list_item(doc: Record) -> Record:
    """The HSDS list shape: the record's own fields and its single-object
    children (a service's organization and program), no arrays."""
    return {
        k: (_list_item(v) if isinstance(v, dict) else v)
        for k, v in doc.items()
        if not isinstance(v, list)
    }
