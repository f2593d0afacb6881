"""Store access of questionnaires and practitioners' reports (indicators' database).

Collections::

    questionnaires   {"_id": "accueil", "org_unit": "cd:2437", "title": {...},
                      "questions": [{"id", "text", "scale", "positive_from"}]}
    data_values      the answers' counts, as any value of the catalogue:
                     {"_id": "q_accueil_safer_n|cd:2437|202603", "value": 12,
                      "source": "survey", ...} (incremented, no time kept)
    practice_keys    {"_id": "<HMAC(BALLOT-like secret, period, account)>"}
                     (one report per practitioner and period; nothing else)
    practice_boxes   {"_id": "cd:2437|2026Q1|7", "org_unit": "cd:2437",
                      "period": "2026Q1", "n": 3,
                      "reports": [{"caseload": 31, "admin_share": 40,
                                   "supervision": "none", "concerns": "..."}]}

A questionnaire answer is never a document: it adds to counts, so no answer,
time, address or cookie of a respondent is in the store. A practitioner's
report is written as participation writes a ballot: the key and the report in
two collections with nothing in common, the report into one of ``BOXES``
documents made beforehand, at a uniform random position, without id, time or
author; the k-th key cannot be matched with the k-th report. Keys carry no
ObjectId (its first bytes are a time) and no period: their ``_id`` is the HMAC.

Limit, stated plainly (as for ballots): the two writes are one transaction, so
a replica set's oplog holds them together until it rolls over; the service
user gets no rights on ``local`` and the oplog window is kept short.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from pymongo import ASCENDING, IndexModel, UpdateOne
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

BOXES = 16

SURVEY_INDEXES: dict[str, list[IndexModel]] = {
    "questionnaires": [IndexModel([("org_unit", ASCENDING)])],
    "practice_boxes": [IndexModel([("org_unit", ASCENDING), ("period", ASCENDING)])],
}


class SurveyRepository:
    def __init__(self, db: Database[dict[str, Any]]) -> None:
        self.db = db

    # questionnaires ------------------------------------------------------
    def add_questionnaire(self, doc: dict[str, Any], session: Any = None) -> None:
        self.db.questionnaires.insert_one(doc, session=session)

    def questionnaire(
        self, questionnaire_id: str, session: Any = None
    ) -> dict[str, Any] | None:
        return self.db.questionnaires.find_one(
            {"_id": questionnaire_id}, session=session
        )

    def questionnaires(self, org_units: list[str] | None = None) -> list[dict]:
        query = {} if org_units is None else {"org_unit": {"$in": org_units}}
        return list(self.db.questionnaires.find(query).sort("_id", ASCENDING))

    def add_counts(
        self,
        counts: Mapping[str, int],
        org_unit: str,
        period: str,
        session: Any = None,
    ) -> None:
        """Add one answer to the counts of its month (a count may be 0: a
        question answered below ``positive_from`` still makes its positive cell
        exist, so "no value" is never told apart from "none positive")."""
        ops = [
            UpdateOne(
                {"_id": f"{element}|{org_unit}|{period}"},
                {
                    "$inc": {"value": int(added)},
                    "$setOnInsert": {
                        "data_element": element,
                        "org_unit": org_unit,
                        "period": period,
                        "source": "survey",
                    },
                },
                upsert=True,
            )
            for element, added in sorted(counts.items())
        ]
        if ops:
            self.db.data_values.bulk_write(ops, ordered=True, session=session)

    # practitioners' reports ---------------------------------------------
    def ensure_boxes(self, org_unit: str, period: str) -> None:
        """The period's boxes exist before its first report (outside the
        report's transaction: no upsert race inside it)."""
        for k in range(BOXES):
            try:
                self.db.practice_boxes.update_one(
                    {"_id": f"{org_unit}|{period}|{k}"},
                    {
                        "$setOnInsert": {
                            "org_unit": org_unit,
                            "period": period,
                            "n": 0,
                            "reports": [],
                        }
                    },
                    upsert=True,
                )
            except DuplicateKeyError:  # made by a concurrent first report
                continue

    def has_key(self, key: str, session: Any = None) -> bool:
        return (
            self.db.practice_keys.find_one({"_id": key}, {"_id": 1}, session=session)
            is not None
        )

    def add_key(self, key: str, session: Any = None) -> None:
        """Raises ``DuplicateKeyError`` on a second report (the ``_id`` index
        refuses it, even for two sent at the same instant)."""
        self.db.practice_keys.insert_one({"_id": key}, session=session)

    def add_report(
        self, org_unit: str, period: str, report: dict[str, Any], session: Any = None
    ) -> None:
        box = f"{org_unit}|{period}|{secrets.randbelow(BOXES)}"
        found = self.db.practice_boxes.find_one({"_id": box}, {"n": 1}, session=session)
        size = int(found["n"]) if found else 0
        done = self.db.practice_boxes.update_one(
            {"_id": box},
            {
                "$push": {
                    "reports": {
                        "$each": [report],
                        "$position": secrets.randbelow(size + 1),
                    }
                },
                "$inc": {"n": 1},
            },
            session=session,
        )
        if done.matched_count != 1:  # never a key without its report
            raise LookupError(f"report box {box} missing")

    def reports(self, org_unit: str, period: str) -> list[dict[str, Any]]:
        boxes = self.db.practice_boxes.find({"org_unit": org_unit, "period": period})
        return [report for box in boxes for report in box["reports"]]
