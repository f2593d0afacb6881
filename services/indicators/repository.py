"""Store access of the indicators service (pymongo; one database).

Collections::

    org_units    {"_id": "cd:2437", "name": "Francheville", "level": 3,
                  "parent": "region:04", "kind": "CDR", "name_fr": ..., "note": ...}
    data_values  {"_id": "home_interventions|cd:2437|201703",
                  "data_element": ..., "org_unit": ..., "period": "201703",
                  "value": 42.0, "source": "entered" | "import" | "computed",
                  "updated_at": datetime}
                 (a value of a non-default combo: ``_id`` ends in
                  ``|<categoryOptionCombo>|<attributeOptionCombo>`` and the
                  document holds "combo" and "attribute")
    categories   {"_id": "model", ...DHIS2 metadata: categoryOptions, categories,
                  categoryCombos, categoryOptionCombos, dataElements}
    approvals    {"_id": "cd:2437|2017Q1", "org_unit": ..., "period": ...,
                  "approved": true, "history": [{"action", "by", "reason", "at"}],
                  "published": [{"at", "cells": {"<element>": [cells as sent]}}]}
    waiting_lists {"_id": "<service_id>|201703", ...latest state in the month}
    decisions    {"_id": "<resolution_id>", "due": "2017-03-31", "done_on": ...}
    definitions  {"_id": "indicator|outreach_share|2", "kind": ..., "id": ...,
                  "version": 2, "content": {...}, "digest": "sha256:...",
                  "status": "proposed" | "adopted" | "refused", "adopted": {...}}

Every write takes an optional ``session`` so a handler's writes, its outbox
events and its processed ``event_id`` commit together.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, IndexModel, ReplaceOne, UpdateOne
from pymongo.database import Database

from services.indicators.categories import CategoryModel
from services.indicators.domain import (
    DataValue,
    Hierarchy,
    OrgUnit,
    Period,
    ValueStore,
)

INDEXES: dict[str, list[IndexModel]] = {
    "org_units": [IndexModel([("parent", ASCENDING)])],
    "data_values": [
        IndexModel([("data_element", ASCENDING), ("period", ASCENDING)]),
        IndexModel([("org_unit", ASCENDING)]),
    ],
    "waiting_lists": [IndexModel([("org_unit", ASCENDING), ("month", ASCENDING)])],
    "decisions": [IndexModel([("org_unit", ASCENDING)])],
    "definitions": [IndexModel([("kind", ASCENDING), ("id", ASCENDING)])],
}


def value_id(
    data_element: str, org_unit: str, period: str, combo: str = "", attribute: str = ""
) -> str:
    """One id per element, org unit, period and combos; the default combos
    keep the id values had before disaggregation."""
    key = f"{data_element}|{org_unit}|{period}"
    return f"{key}|{combo}|{attribute}" if combo or attribute else key


class IndicatorsRepository:
    def __init__(self, db: Database[dict[str, Any]]) -> None:
        self.db = db

    # org units -----------------------------------------------------------
    def save_org_units(self, units: Iterable[OrgUnit], session: Any = None) -> int:
        ops = [
            ReplaceOne(
                {"_id": u.id},
                {
                    "_id": u.id,
                    "name": u.name,
                    "level": u.level,
                    "parent": u.parent,
                    "kind": u.kind,
                    "name_fr": u.name_fr,
                    "note": u.note,
                },
                upsert=True,
            )
            for u in units
        ]
        if ops:
            self.db.org_units.bulk_write(ops, ordered=False, session=session)
        return len(ops)

    def hierarchy(self, session: Any = None) -> Hierarchy:
        return Hierarchy(
            OrgUnit(
                d["_id"],
                d["name"],
                d["level"],
                d.get("parent"),
                d.get("kind", ""),
                d.get("name_fr", ""),
                d.get("note", ""),
            )
            for d in self.db.org_units.find({}, session=session)
        )

    # data values ---------------------------------------------------------
    def save_values(
        self, values: Iterable[DataValue], source: str, session: Any = None
    ) -> int:
        now = datetime.now(UTC)
        ops = []
        for v in values:
            key = value_id(
                v.data_element, v.org_unit, v.period.id, v.combo, v.attribute
            )
            doc = {
                "_id": key,
                "data_element": v.data_element,
                "org_unit": v.org_unit,
                "period": v.period.id,
                "value": v.value,
                "source": source,
                "updated_at": now,
            }
            if v.combo or v.attribute:
                doc |= {"combo": v.combo, "attribute": v.attribute}
            ops.append(ReplaceOne({"_id": key}, doc, upsert=True))
        if ops:
            self.db.data_values.bulk_write(ops, ordered=False, session=session)
        return len(ops)

    def delete_computed(
        self, data_element: str, org_unit: str, period: str, session: Any = None
    ) -> None:
        """Remove a computed value that no event supports any more (a value
        entered by hand is never removed this way)."""
        self.db.data_values.delete_one(
            {"_id": value_id(data_element, org_unit, period), "source": "computed"},
            session=session,
        )

    def values(self, session: Any = None) -> list[dict[str, Any]]:
        return list(self.db.data_values.find({}, session=session))

    def value_store(
        self,
        store: ValueStore,
        session: Any = None,
        elements: Iterable[str] | None = None,
    ) -> ValueStore:
        """Load values into ``store`` (only those of ``elements`` if given)."""
        query = {} if elements is None else {"data_element": {"$in": list(elements)}}
        for doc in self.db.data_values.find(query, session=session):
            if doc["org_unit"] in store.hierarchy:
                store.put(
                    DataValue(
                        doc["data_element"],
                        Period.parse(doc["period"]),
                        doc["org_unit"],
                        doc["value"],
                        doc.get("combo", ""),
                        doc.get("attribute", ""),
                    )
                )
        return store

    # categories (disaggregation) ------------------------------------------
    def categories(self, session: Any = None) -> CategoryModel:
        doc = self.db.categories.find_one({"_id": "model"}, session=session)
        return CategoryModel.from_dict(doc or {})

    def save_categories(self, model: CategoryModel, session: Any = None) -> None:
        self.db.categories.replace_one(
            {"_id": "model"},
            {"_id": "model", **model.as_dict()},
            upsert=True,
            session=session,
        )

    # approvals -----------------------------------------------------------
    def approvals(self, session: Any = None) -> list[dict[str, Any]]:
        return list(self.db.approvals.find({}, session=session))

    def save_approval(self, doc: dict[str, Any], session: Any = None) -> None:
        self.db.approvals.replace_one(
            {"_id": doc["_id"]}, doc, upsert=True, session=session
        )

    def approval(self, key: str, session: Any = None) -> dict[str, Any] | None:
        return self.db.approvals.find_one({"_id": key}, session=session)

    # projections of other services' events -------------------------------
    def save_projection(
        self, collection: str, doc: dict[str, Any], session: Any = None
    ) -> None:
        self.db[collection].replace_one(
            {"_id": doc["_id"]}, doc, upsert=True, session=session
        )

    def projection(
        self, collection: str, key: str, session: Any = None
    ) -> dict[str, Any] | None:
        return self.db[collection].find_one({"_id": key}, session=session)

    def projections(
        self, collection: str, query: dict[str, Any], session: Any = None
    ) -> list[dict[str, Any]]:
        return list(self.db[collection].find(query, session=session))

    # the local catalogue (services.indicators.definitions) ----------------
    def definitions(self, session: Any = None) -> list[dict[str, Any]]:
        return list(self.db.definitions.find({}, session=session))

    def definition(self, key: str, session: Any = None) -> dict[str, Any] | None:
        return self.db.definitions.find_one({"_id": key}, session=session)

    def add_definition(self, doc: dict[str, Any], session: Any = None) -> None:
        """A new version; ``DuplicateKeyError`` if that version exists."""
        self.db.definitions.insert_one(doc, session=session)

    def save_definition(self, doc: dict[str, Any], session: Any = None) -> None:
        self.db.definitions.replace_one(
            {"_id": doc["_id"]}, doc, upsert=True, session=session
        )

    def seed_definitions(self, docs: Iterable[dict[str, Any]]) -> int:
        """Insert the versions not yet stored; never overwrite one (idempotent,
        and safe when two workers seed at once)."""
        ops = [
            UpdateOne({"_id": d["_id"]}, {"$setOnInsert": d}, upsert=True) for d in docs
        ]
        if not ops:
            return 0
        return self.db.definitions.bulk_write(ops, ordered=False).upserted_count

    def annotate_value(
        self,
        data_element: str,
        org_unit: str,
        period: str,
        fields: dict[str, Any],
        session: Any = None,
        combo: str = "",
        attribute: str = "",
    ) -> None:
        """Add what an entry recorded beside its value (the element's version,
        warnings confirmed), of one combo."""
        self.db.data_values.update_one(
            {"_id": value_id(data_element, org_unit, period, combo, attribute)},
            {"$set": fields},
            session=session,
        )
