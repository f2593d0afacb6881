"""An in-memory repository for unit tests: it subclasses the real port."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from services.boards.domain import Board, Meeting, MeetingStatus, Resolution
from services.boards.procedure import ProcedureState
from services.boards.repository import (
    COLLECTIONS,
    AlreadyExists,
    BoardsRepository,
    Missing,
    StaleWrite,
    ident_of,
    procedure_key,
)


class InMemoryRepository(BoardsRepository):
    """A fake for unit tests: copies in and out, like a real store would."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {k: {} for k in COLLECTIONS}
        self.parked: dict[str, dict[str, Any]] = {}

    def _add(self, kind: str, obj: Any) -> None:
        ident = ident_of(kind, obj)
        if ident in self.rows[kind]:
            raise AlreadyExists(kind, ident)
        self.rows[kind][ident] = copy.deepcopy(obj)

    def _get(self, kind: str, ident: str) -> Any:
        if ident not in self.rows[kind]:
            raise Missing(kind, ident)
        return copy.deepcopy(self.rows[kind][ident])

    def _save(self, kind: str, obj: Any) -> None:
        ident = ident_of(kind, obj)
        if ident not in self.rows[kind]:
            raise StaleWrite(kind, ident)
        self.rows[kind][ident] = copy.deepcopy(obj)

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
        wanted = None if statuses is None else {MeetingStatus(s) for s in statuses}
        found = [
            copy.deepcopy(m)
            for m in self.rows["meeting"].values()
            if m.board_id == board_id and (wanted is None or m.status in wanted)
        ]
        return sorted(found, key=lambda m: m.scheduled_at)

    def add_resolution(self, resolution: Resolution) -> None:
        self._add("resolution", resolution)

    def resolution(self, resolution_id: str) -> Resolution:
        resolution: Resolution = self._get("resolution", resolution_id)
        return resolution

    def save_resolution(self, resolution: Resolution) -> None:
        self._save("resolution", resolution)

    def resolutions(self, board_id: str) -> list[Resolution]:
        found = [
            copy.deepcopy(r)
            for r in self.rows["resolution"].values()
            if r.board_id == board_id
        ]
        return sorted(found, key=lambda r: r.number)

    def board_ids(self) -> list[str]:
        return sorted(self.rows["board"])

    def park_results(self, payload: dict[str, Any]) -> None:
        self.parked.setdefault(payload["process_id"], copy.deepcopy(payload))

    def take_parked_results(self) -> list[dict[str, Any]]:
        taken, self.parked = list(self.parked.values()), {}
        return taken

    def procedure(self, meeting_id: str, item_id: str) -> ProcedureState | None:
        found = self.rows["procedure"].get(procedure_key(meeting_id, item_id))
        return found[1] if found else None

    def save_procedure(self, meeting_id: str, state: ProcedureState) -> None:
        self.rows["procedure"][procedure_key(meeting_id, state.item_id)] = (
            meeting_id,
            state,  # immutable: no copy needed
        )

    def procedures(self, meeting_id: str) -> list[ProcedureState]:
        return [s for m, s in self.rows["procedure"].values() if m == meeting_id]
