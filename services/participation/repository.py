"""Store access of the participation service; the only module with queries.

Who voted and what was voted live in two collections with nothing in common:
``participations`` ``{process_id, person_key}`` (unique: one ballot per person,
enforced by the store even for two ballots sent at the same instant) and the
ballot box ``ballot_boxes``: ``BOXES`` documents per process, made when the
process is created::

    {"_id": "<process_id>:7", "process_id": "…", "n": 41,
     "ballots": [{"ballot": {"ranking": ["a2", "a1"]}, "receipt": "9f2c…"}, …]}

A ballot carries no voter, time or id, and goes into a random box at a random
position: the stored order of ballots says nothing about the order of voting,
so the k-th participation cannot be matched with the k-th ballot.

Limit, stated plainly: both writes are one transaction (that is what makes the
double ballot impossible), so a replica set's oplog holds them together until
it rolls over. Reading the oplog is a cluster-administration privilege, not
store access: production grants the service user no ``local`` database rights
and keeps the oplog window short.
"""

from __future__ import annotations

import secrets
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.client_session import ClientSession
from pymongo.database import Database

BOXES = 16

Doc = dict[str, Any]

INDEXES: dict[str, list[IndexModel]] = {
    "proposals": [IndexModel([("process_id", ASCENDING)])],
    "supports": [
        IndexModel([("proposal_id", ASCENDING), ("person_key", ASCENDING)], unique=True)
    ],
    "registry": [
        IndexModel([("process_id", ASCENDING), ("person_key", ASCENDING)], unique=True)
    ],
    "participations": [
        IndexModel([("process_id", ASCENDING), ("person_key", ASCENDING)], unique=True)
    ],
    "ballot_boxes": [IndexModel([("process_id", ASCENDING)])],
    "comments": [IndexModel([("proposal_id", ASCENDING)])],
}


class ParticipationRepository:
    def __init__(self, db: Database[Doc]) -> None:
        self.db = db

    def ensure_indexes(self) -> None:
        for name, models in INDEXES.items():
            self.db[name].create_indexes(models)

    # processes
    def add_process(self, doc: Doc, session: ClientSession) -> None:
        self.db.processes.insert_one(doc, session=session)
        # Boxes exist before the vote: no upsert race between two first ballots.
        self.db.ballot_boxes.insert_many(
            [
                {
                    "_id": f"{doc['_id']}:{k}",
                    "process_id": doc["_id"],
                    "n": 0,
                    "ballots": [],
                }
                for k in range(BOXES)
            ],
            session=session,
        )

    def process(
        self, process_id: str, session: ClientSession | None = None
    ) -> Doc | None:
        return self.db.processes.find_one({"_id": process_id}, session=session)

    def processes(
        self, mrc_code: str | None, state: str, offset: int, limit: int
    ) -> tuple[list[Doc], int]:
        """One page of processes (by title) and how many there are in all."""
        query: Doc = {}
        if mrc_code is not None:
            query["mrc_code"] = mrc_code
        if state != "all":
            query["closed"] = state == "closed"
        total = self.db.processes.count_documents(query)
        docs = (
            self.db.processes.find(query)
            .sort([("title", ASCENDING), ("_id", ASCENDING)])
            .skip(offset)
            .limit(limit)
        )
        return list(docs), total

    def set_process(
        self, process_id: str, changes: Doc, session: ClientSession
    ) -> None:
        self.db.processes.update_one(
            {"_id": process_id}, {"$set": changes}, session=session
        )

    def close_process(self, process_id: str, session: ClientSession) -> bool:
        res = self.db.processes.update_one(
            {"_id": process_id, "closed": False},
            {"$set": {"closed": True}},
            session=session,
        )
        return res.modified_count == 1

    # eligibility
    def add_residents(self, rows: list[Doc], session: ClientSession) -> int:
        added = 0
        for row in rows:
            res = self.db.registry.update_one(
                {"process_id": row["process_id"], "person_key": row["person_key"]},
                {"$setOnInsert": row},
                upsert=True,
                session=session,
            )
            added += 1 if res.upserted_id is not None else 0
        return added

    def is_resident(self, process_id: str, key: str, session: ClientSession) -> bool:
        found = self.db.registry.find_one(
            {"process_id": process_id, "person_key": key}, session=session
        )
        return found is not None

    def add_codes(self, docs: list[Doc], session: ClientSession) -> None:
        self.db.codes.insert_many(docs, session=session)

    def use_code(self, code_id: str, session: ClientSession) -> bool:
        res = self.db.codes.update_one(
            {"_id": code_id, "used": False}, {"$set": {"used": True}}, session=session
        )
        return res.modified_count == 1

    # proposals
    def add_proposal(self, doc: Doc, session: ClientSession) -> None:
        self.db.proposals.insert_one(doc, session=session)

    def proposal(
        self, proposal_id: str, session: ClientSession | None = None
    ) -> Doc | None:
        return self.db.proposals.find_one({"_id": proposal_id}, session=session)

    def proposals(
        self,
        process_id: str,
        session: ClientSession | None = None,
        on_ballot_only: bool = False,
    ) -> list[Doc]:
        query: Doc = {"process_id": process_id, "hidden": False}
        if on_ballot_only:
            query["status"] = "on_ballot"
        return list(
            self.db.proposals.find(query, session=session).sort("_id", ASCENDING)
        )

    def hidden(self, process_id: str) -> list[Doc]:
        docs = self.db.proposals.find(
            {"process_id": process_id, "hidden": True}, {"hidden_reason": 1}
        ).sort("_id", ASCENDING)
        return [
            {"id": d["_id"], "hidden_reason": d.get("hidden_reason", "")} for d in docs
        ]

    def add_support(self, doc: Doc, session: ClientSession) -> int:
        self.db.supports.insert_one(doc, session=session)
        res = self.db.proposals.find_one_and_update(
            {"_id": doc["proposal_id"]},
            {"$inc": {"supports": 1}},
            session=session,
            return_document=True,
        )
        return int(res["supports"])

    def set_proposal(
        self, proposal_id: str, changes: Doc, session: ClientSession
    ) -> None:
        self.db.proposals.update_one(
            {"_id": proposal_id}, {"$set": changes}, session=session
        )

    def add_comment(self, doc: Doc, session: ClientSession) -> None:
        self.db.comments.insert_one(doc, session=session)

    def comment(self, comment_id: str, session: ClientSession) -> Doc | None:
        return self.db.comments.find_one({"_id": comment_id}, session=session)

    def comment_count(self, proposal_id: str, session: ClientSession) -> int:
        return int(
            self.db.comments.count_documents(
                {"proposal_id": proposal_id}, session=session
            )
        )

    def comments(self, proposal_id: str) -> list[Doc]:
        """A proposal's comments, oldest first, in the order they came when
        made at the same instant (replies name their parent)."""
        return list(
            self.db.comments.find({"proposal_id": proposal_id}).sort(
                [("at", ASCENDING), ("seq", ASCENDING), ("_id", ASCENDING)]
            )
        )

    def set_comment(
        self, comment_id: str, changes: Doc, session: ClientSession
    ) -> None:
        self.db.comments.update_one(
            {"_id": comment_id}, {"$set": changes}, session=session
        )

    def proposals_by(self, process_id: str, author_key: str) -> list[Doc]:
        """One author's proposals, hidden and withdrawn ones included."""
        return list(
            self.db.proposals.find(
                {"process_id": process_id, "author_key": author_key}
            ).sort("_id", ASCENDING)
        )

    # ballots: two writes with nothing in common
    def record_participation(
        self, process_id: str, key: str, session: ClientSession
    ) -> None:
        self.db.participations.insert_one(
            {"process_id": process_id, "person_key": key}, session=session
        )

    def add_ballot(self, process_id: str, entry: Doc, session: ClientSession) -> None:
        box = f"{process_id}:{secrets.randbelow(BOXES)}"
        found = self.db.ballot_boxes.find_one({"_id": box}, {"n": 1}, session=session)
        size = int(found["n"]) if found else 0
        # inserting at a uniform position keeps each box a uniform permutation
        self.db.ballot_boxes.update_one(
            {"_id": box},
            {
                "$push": {
                    "ballots": {
                        "$each": [entry],
                        "$position": secrets.randbelow(size + 1),
                    }
                },
                "$inc": {"n": 1},
            },
            session=session,
        )

    def ballots(
        self, process_id: str, session: ClientSession | None = None
    ) -> list[Doc]:
        boxes = self.db.ballot_boxes.find({"process_id": process_id}, session=session)
        return [entry for box in boxes for entry in box["ballots"]]

    def receipts(self, process_id: str) -> list[str]:
        return sorted(entry["receipt"] for entry in self.ballots(process_id))

    def participation_count(
        self, process_id: str, session: ClientSession | None = None
    ) -> int:
        return self.db.participations.count_documents(
            {"process_id": process_id}, session=session
        )

    # results
    def save_result(self, doc: Doc, session: ClientSession) -> None:
        self.db.results.insert_one(doc, session=session)

    def result(self, process_id: str) -> Doc | None:
        return self.db.results.find_one({"_id": process_id})
