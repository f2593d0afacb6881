"""Where boards, meetings and resolutions are kept.

:class:`BoardsRepository` is the port the service uses; :class:`MongoRepository`
is the real one, bound to one store transaction (every read and write goes
through the transaction's session, so a handler sees its own writes and a
consumer batch is all or nothing). Tests use an in-memory fake that subclasses
the port (``tests/boards/fakes.py``); one contract suite runs against both.

Three collections, one document per aggregate, each with a ``version`` so that
two secretaries saving the same meeting at once cannot silently overwrite each
other (the second save raises :class:`StaleWrite`)::

    boards:       {"_id": "mrc-66023", "version": 3, "charter": {...},
                   "members": [...], "appointments": [...], ...}
    meetings:     {"_id": "m-2026-12", "version": 7, "board_id": "mrc-66023",
                   "status": "open", "scheduled_at": "2026-12-14T23:30:00+00:00",
                   "agenda": [...], "motions": [...], ...}
    resolutions:  {"_id": "res-...", "version": 2, "board_id": "mrc-66023",
                   "number": "2026-001", "status": "in_progress", ...}
    procedures:   {"_id": "m-2026-12/item-1", "version": 4,
                   "meeting_id": "m-2026-12", "item_id": "item-1",
                   "state": {...}}   (services.boards.procedure, one per item)

Documents' bytes are in a GridFS bucket, ``board_documents.files`` and
``board_documents.chunks`` (pymongo's ``gridfs``; SecantusDB serves it as is),
through :class:`DocumentFiles`; the meeting keeps what it knows of each file
(name, type, size, digest, item) in ``meetings.documents``. GridFS writes
cannot join a transaction (pymongo refuses), so a file is written first and
the meeting's record in a transaction after; a refused record deletes the file.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from typing import Any

import gridfs
from bson import ObjectId
from bson.errors import InvalidId
from pymongo import ASCENDING, IndexModel
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from services.boards.domain import Board, Meeting, MeetingStatus, Resolution
from services.boards.exceptions import InvalidState, NotFound
from services.boards.procedure import ProcedureState
from services.boards.schemas import (
    BoardSchema,
    MeetingSchema,
    ProcedureStateSchema,
    ResolutionSchema,
)

INDEXES = {
    "meetings": [
        IndexModel([("board_id", ASCENDING), ("scheduled_at", ASCENDING)]),
        IndexModel([("board_id", ASCENDING), ("status", ASCENDING)]),
    ],
    "resolutions": [
        IndexModel([("board_id", ASCENDING), ("number", ASCENDING)], unique=True)
    ],
    "procedures": [IndexModel([("meeting_id", ASCENDING)])],
}


DOCUMENT_BUCKET = "board_documents"


class DocumentFiles:
    """The bytes of attached documents, in the store's GridFS bucket."""

    def __init__(self, db: Database[dict[str, Any]]) -> None:
        self.bucket = gridfs.GridFSBucket(db, bucket_name=DOCUMENT_BUCKET)

    def put(self, filename: str, data: bytes, meeting_id: str) -> str:
        file_id = self.bucket.upload_from_stream(
            filename, data, metadata={"meeting_id": meeting_id}
        )
        return str(file_id)

    def get(self, file_id: str) -> bytes:
        try:
            return self.bucket.open_download_stream(ObjectId(file_id)).read()
        except (gridfs.NoFile, InvalidId):
            raise Missing("document", file_id) from None

    def delete(self, file_id: str) -> None:
        try:
            self.bucket.delete(ObjectId(file_id))
        except (gridfs.NoFile, InvalidId):
            pass


class StaleWrite(InvalidState):
    """Someone else saved the same document since it was read."""

    code = "stale_write"

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(
            f"{kind} « {ident} » a été modifié entre-temps : rechargez et recommencez",
            f'{kind} "{ident}" was changed meanwhile: reload and try again',
            field="version",
        )


class Missing(NotFound):
    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(
            f"{kind} introuvable : « {ident} »",
            f'{kind} not found: "{ident}"',
            field=f"{kind}_id",
        )


class AlreadyExists(InvalidState):
    code = "already_exists"

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(
            f"{kind} « {ident} » existe déjà",
            f'{kind} "{ident}" already exists',
            field=f"{kind}_id",
        )


class BoardsRepository(abc.ABC):
    """The port: load and save the three aggregates."""

    @abc.abstractmethod
    def add_board(self, board: Board) -> None: ...

    @abc.abstractmethod
    def board(self, board_id: str) -> Board: ...

    @abc.abstractmethod
    def save_board(self, board: Board) -> None: ...

    @abc.abstractmethod
    def add_meeting(self, meeting: Meeting) -> None: ...

    @abc.abstractmethod
    def meeting(self, meeting_id: str) -> Meeting: ...

    @abc.abstractmethod
    def save_meeting(self, meeting: Meeting) -> None: ...

    @abc.abstractmethod
    def meetings(
        self, board_id: str, statuses: Iterable[MeetingStatus] | None = None
    ) -> list[Meeting]:
        """A board's meetings in date order, optionally only some statuses."""

    @abc.abstractmethod
    def add_resolution(self, resolution: Resolution) -> None: ...

    @abc.abstractmethod
    def resolution(self, resolution_id: str) -> Resolution: ...

    @abc.abstractmethod
    def save_resolution(self, resolution: Resolution) -> None: ...

    @abc.abstractmethod
    def resolutions(self, board_id: str) -> list[Resolution]:
        """A board's resolutions in number order."""

    @abc.abstractmethod
    def procedure(self, meeting_id: str, item_id: str) -> ProcedureState | None:
        """The deliberation on one meeting item, ``None`` before the first move."""

    @abc.abstractmethod
    def save_procedure(self, meeting_id: str, state: ProcedureState) -> None:
        """Store the item's deliberation; refused (:class:`StaleWrite`) when
        someone saved it since it was read."""

    @abc.abstractmethod
    def procedures(self, meeting_id: str) -> list[ProcedureState]:
        """Every item's deliberation at a meeting."""

    @abc.abstractmethod
    def board_ids(self) -> list[str]:
        """The boards of this node (normally one)."""

    @abc.abstractmethod
    def park_results(self, payload: dict[str, Any]) -> None:
        """Keep participation results that arrived before any board existed."""

    @abc.abstractmethod
    def take_parked_results(self) -> list[dict[str, Any]]:
        """Remove and return parked results, oldest first."""


_SCHEMAS: dict[str, Any] = {
    "board": BoardSchema(),
    "meeting": MeetingSchema(),
    "resolution": ResolutionSchema(),
}
COLLECTIONS = {
    "board": "boards",
    "meeting": "meetings",
    "resolution": "resolutions",
    "procedure": "procedures",
}
PARKED = "parked_results"


def procedure_key(meeting_id: str, item_id: str) -> str:
    return f"{meeting_id}/{item_id}"


def ident_of(kind: str, obj: Any) -> str:
    return str(getattr(obj, f"{kind}_id"))


class MongoRepository(BoardsRepository):
    """The store, through one transaction's session."""

    def __init__(
        self, db: Database[dict[str, Any]], session: ClientSession | None
    ) -> None:
        self.db = db
        self.session = session
        self._versions: dict[tuple[str, str], int] = {}

    def _load(self, kind: str, doc: dict[str, Any]) -> Any:
        ident = str(doc.pop("_id"))
        self._versions[(kind, ident)] = int(doc.pop("version"))
        return _SCHEMAS[kind].load(doc)

    def _get(self, kind: str, ident: str) -> Any:
        doc = self.db[COLLECTIONS[kind]].find_one({"_id": ident}, session=self.session)
        if doc is None:
            raise Missing(kind, ident)
        return self._load(kind, doc)

    def _add(self, kind: str, obj: Any) -> None:
        ident = ident_of(kind, obj)
        doc = {"_id": ident, "version": 1, **_SCHEMAS[kind].dump(obj)}
        try:
            self.db[COLLECTIONS[kind]].insert_one(doc, session=self.session)
        except DuplicateKeyError:
            raise AlreadyExists(kind, ident) from None
        self._versions[(kind, ident)] = 1

    def _save(self, kind: str, obj: Any) -> None:
        ident = ident_of(kind, obj)
        version = self._versions.get((kind, ident))
        if version is None:
            raise StaleWrite(kind, ident)
        doc = {"_id": ident, "version": version + 1, **_SCHEMAS[kind].dump(obj)}
        result = self.db[COLLECTIONS[kind]].replace_one(
            {"_id": ident, "version": version}, doc, session=self.session
        )
        if result.matched_count != 1:
            raise StaleWrite(kind, ident)
        self._versions[(kind, ident)] = version + 1

    def add_board(self, board: Board) -> None:
        self._add("board", board)

    def board(self, board_id: str) -> Board:
        board: Board = self._get("board", board_id)
        return board

    def save_board(self, board: Board) -> None:
        self._save("board", board)

    def add_meeting(self, meeting: Meeting) -> None:
        self._add("meeting", meeting)

    def meeting(self, meeting_id: str) -> Meeting:
        meeting: Meeting = self._get("meeting", meeting_id)
        return meeting

    def save_meeting(self, meeting: Meeting) -> None:
        self._save("meeting", meeting)

    def meetings(
        self, board_id: str, statuses: Iterable[MeetingStatus] | None = None
    ) -> list[Meeting]:
        query: dict[str, Any] = {"board_id": board_id}
        if statuses is not None:
            query["status"] = {"$in": [MeetingStatus(s).value for s in statuses]}
        docs = self.db.meetings.find(query, session=self.session)
        found = [self._load("meeting", doc) for doc in docs]
        return sorted(found, key=lambda m: m.scheduled_at)

    def add_resolution(self, resolution: Resolution) -> None:
        self._add("resolution", resolution)

    def resolution(self, resolution_id: str) -> Resolution:
        resolution: Resolution = self._get("resolution", resolution_id)
        return resolution

    def save_resolution(self, resolution: Resolution) -> None:
        self._save("resolution", resolution)

    def resolutions(self, board_id: str) -> list[Resolution]:
        docs = self.db.resolutions.find({"board_id": board_id}, session=self.session)
        found = [self._load("resolution", doc) for doc in docs]
        return sorted(found, key=lambda r: r.number)

    def procedure(self, meeting_id: str, item_id: str) -> ProcedureState | None:
        ident = procedure_key(meeting_id, item_id)
        doc = self.db.procedures.find_one({"_id": ident}, session=self.session)
        if doc is None:
            return None
        self._versions[("procedure", ident)] = int(doc["version"])
        state: ProcedureState = ProcedureStateSchema().load(doc["state"])
        return state

    def save_procedure(self, meeting_id: str, state: ProcedureState) -> None:
        ident = procedure_key(meeting_id, state.item_id)
        doc = {
            "_id": ident,
            "meeting_id": meeting_id,
            "item_id": state.item_id,
            "state": ProcedureStateSchema().dump(state),
        }
        version = self._versions.get(("procedure", ident))
        if version is None:
            try:
                self.db.procedures.insert_one(
                    {**doc, "version": 1}, session=self.session
                )
            except DuplicateKeyError:
                raise StaleWrite("procedure", ident) from None
            self._versions[("procedure", ident)] = 1
            return
        result = self.db.procedures.replace_one(
            {"_id": ident, "version": version},
            {**doc, "version": version + 1},
            session=self.session,
        )
        if result.matched_count != 1:
            raise StaleWrite("procedure", ident)
        self._versions[("procedure", ident)] = version + 1

    def procedures(self, meeting_id: str) -> list[ProcedureState]:
        docs = self.db.procedures.find({"meeting_id": meeting_id}, session=self.session)
        return [ProcedureStateSchema().load(d["state"]) for d in docs]

    def board_ids(self) -> list[str]:
        docs = self.db.boards.find({}, {"_id": 1}, session=self.session)
        return sorted(str(doc["_id"]) for doc in docs)

    def park_results(self, payload: dict[str, Any]) -> None:
        self.db[PARKED].update_one(
            {"_id": payload["process_id"]},
            {"$setOnInsert": {"payload": payload, "seq": self._next_parked()}},
            upsert=True,
            session=self.session,
        )

    def _next_parked(self) -> int:
        last = self.db[PARKED].find_one(
            {}, sort=[("seq", -1)], projection={"seq": 1}, session=self.session
        )
        return 1 if last is None else int(last["seq"]) + 1

    def take_parked_results(self) -> list[dict[str, Any]]:
        docs = list(self.db[PARKED].find({}, session=self.session).sort("seq", 1))
        if docs:
            self.db[PARKED].delete_many(
                {"_id": {"$in": [d["_id"] for d in docs]}}, session=self.session
            )
        return [d["payload"] for d in docs]
