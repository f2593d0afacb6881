"""The boards nameko service: thin entrypoints over the domain.

Each RPC loads its input with a schema, runs the domain inside one store
transaction (through :class:`MongoRepository`), writes the events it causes to
the outbox in that same transaction, and dumps the result with a schema.
Refusals of the domain (:mod:`services.boards.exceptions`) leave as the shared
error types the gateway maps to HTTP (422, 404, 409, 403), with the bilingual
message and ``details: {"code": "quorum_not_met", "field": "quorum"}``.

Example call (the gateway, or ``maillage`` CLI, over RPC)::

    boards.vote("m-2026-12", {"motion_id": "motion-1", "member_id": "alice",
                              "choice": "for"})

``participation.results_published`` is consumed by
:meth:`BoardsService.add_results_to_agenda`: the ranked priorities become
proposed items of the next public meeting. Exactly once: the consumer records
the event id in the same transaction (a redelivery has no effect), and the
domain ignores a process already on an agenda (a republication under a new
event id has no effect either).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from collections.abc import Callable
from copy import copy
from datetime import date
from functools import wraps
from typing import Any, TypeVar

from marshmallow import ValidationError

from services.boards import domain, events, procedure
from services.boards.dependencies import Clock
from services.boards.exceptions import BoardsError
from services.boards.repository import (
    INDEXES,
    DocumentFiles,
    Missing,
    MongoRepository,
)
from services.boards.schemas import (
    AgendaItemSchema,
    AmendmentInput,
    AppointInput,
    AppointmentSchema,
    BoardSchema,
    CallVoteInput,
    CharterSchema,
    CountInput,
    DocumentInput,
    DocumentSchema,
    EndTermInput,
    FloorInput,
    FollowUpInput,
    IndicatorValueInput,
    IndicatorWatchSchema,
    MainMotionInput,
    MeetingSchema,
    MemberMoveInput,
    MotionInput,
    MotionSchema,
    PointInput,
    ProceduralInput,
    ProcedureStateSchema,
    ProcedureVoteInput,
    ResolutionSchema,
    ResultsPublishedPayload,
    RulingInput,
    ScheduleInput,
    VoteInput,
    VoteSchema,
)
from shared import errors
from shared.consumer import consume_batch
from shared.envelope import Envelope
from shared.outbox import Outbox
from shared.rpc import rpc
from shared.service import ServiceBase
from shared.store import Store

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

_SHARED_KIND: dict[str, type[errors.MaillageError]] = {
    "not_found": errors.NotFound,
    "conflict": errors.Conflict,
    "forbidden": errors.Forbidden,
}


def to_shared(exc: BoardsError) -> errors.MaillageError:
    """The shared error the gateway knows, keeping our code, field and messages."""
    if exc.kind == "validation":
        return errors.Invalid({exc.field or "_schema": [str(exc)]}, exc.fr, exc.en)
    cls = _SHARED_KIND[exc.kind]
    shared = cls.__new__(cls)
    errors.MaillageError.__init__(
        shared, exc.fr, exc.en, details={"code": exc.code, "field": exc.field}
    )
    return shared


def _field_errors(messages: Any) -> dict[str, Any]:
    return messages if isinstance(messages, dict) else {"_schema": messages}


def invalid(exc: ValidationError) -> errors.Invalid:
    """A schema error, naming every field in the message as well as in ``fields``."""
    fields = _field_errors(exc.messages)
    names = ", ".join(sorted(fields))
    return errors.Invalid(
        fields, f"Données invalides : {names}.", f"Invalid data: {names}."
    )


def boundary(func: F) -> F:
    """Turn domain refusals and schema errors into shared, mapped errors."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except BoardsError as exc:
            raise to_shared(exc) from exc
        except ValidationError as exc:
            raise invalid(exc) from exc

    return wrapper  # type: ignore[return-value]


def _day(value: str | None, default: date) -> date:
    if value is None:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise errors.Invalid(
            {"today": ["date AAAA-MM-JJ attendue / YYYY-MM-DD date expected"]}
        ) from None


class BoardsService(ServiceBase):
    name = "boards"
    store = Store(indexes=INDEXES)
    outbox = Outbox()
    clock = Clock()

    def _run(self, body: Callable[[MongoRepository, Any], T]) -> T:
        """One store transaction, retried on write conflicts (concurrent votes).

        ``body`` may run more than once: it reloads what it changes.
        """
        return self.store.run_transaction(
            lambda session: body(MongoRepository(self.store.db, session), session)
        )

    # --- board, seats, members -------------------------------------------------------

    @rpc
    @boundary
    def create_board(self, charter: dict[str, Any]) -> dict[str, Any]:
        """Create the board from its charter; parked participation results land."""
        loaded = CharterSchema().load(charter)

        def body(repo: MongoRepository, _: Any) -> domain.Board:
            board = domain.Board(loaded)
            for payload in repo.take_parked_results():
                domain.place_participation_results(
                    board,
                    [],
                    payload["process_id"],
                    payload["title"],
                    payload["priorities"],
                    self.clock(),
                )
            repo.add_board(board)
            return board

        return BoardSchema().dump(self._run(body))

    @rpc
    @boundary
    def get_board(self, board_id: str) -> dict[str, Any]:
        return BoardSchema().dump(self._run(lambda repo, _: repo.board(board_id)))

    @rpc
    @boundary
    def appoint(self, board_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Add (or update) the member, then appoint them to a seat for a term."""
        data = AppointInput().load(payload)

        def body(repo: MongoRepository, _: Any) -> domain.Appointment:
            board = repo.board(board_id)
            member = board.add_member(data["member"])
            appointment = board.appoint(
                data["seat_id"],
                member.member_id,
                data["start"],
                data["end"],
                domain.Office(data["office"]),
            )
            repo.save_board(board)
            return appointment

        return AppointmentSchema().dump(self._run(body))

    @rpc
    @boundary
    def end_term(self, board_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        data = EndTermInput().load(payload)

        def body(repo: MongoRepository, _: Any) -> domain.Appointment:
            board = repo.board(board_id)
            appointment = board.end_appointment(data["seat_id"], data["last_day"])
            repo.save_board(board)
            return appointment

        return AppointmentSchema().dump(self._run(body))

    @rpc
    @boundary
    def seat_history(self, board_id: str, seat_id: str) -> list[dict[str, Any]]:
        history = self._run(lambda repo, _: repo.board(board_id).history(seat_id))
        return AppointmentSchema(many=True).dump(history)

    @rpc
    @boundary
    def vacancies(self, board_id: str, on: str | None = None) -> list[str]:
        day = _day(on, self.clock().date())
        return self._run(lambda repo, _: repo.board(board_id).vacancies(day))

    # --- indicators the board watches ------------------------------------------------

    @rpc
    @boundary
    def watch_indicator(self, board_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The board sets a threshold: crossing it proposes an agenda item."""
        watch = IndicatorWatchSchema().load(payload)

        def body(repo: MongoRepository, _: Any) -> domain.IndicatorWatch:
            board = repo.board(board_id)
            board.watch(watch)
            repo.save_board(board)
            return watch

        return IndicatorWatchSchema().dump(self._run(body))

    @rpc
    @boundary
    def unwatch_indicator(self, board_id: str, indicator_id: str) -> None:
        def body(repo: MongoRepository, _: Any) -> None:
            board = repo.board(board_id)
            board.unwatch(indicator_id)
            repo.save_board(board)

        self._run(body)

    @rpc
    @boundary
    def consider_indicator(
        self, board_id: str, payload: dict[str, Any]
    ) -> dict[str, Any] | None:
        """A new indicator value; returns the proposed item if a threshold was crossed.

        ``{"indicator_id": "attente-jours", "period": "2026Q3", "value": 41.0,
        "previous": 28.0}``. Called by the indicators consumer once indicators
        publishes approved values per indicator (see the final report).
        """
        data = IndicatorValueInput().load(payload)

        def body(repo: MongoRepository, _: Any) -> domain.AgendaItem | None:
            board = repo.board(board_id)
            meetings = repo.meetings(board_id, [domain.MeetingStatus.SCHEDULED])
            target, item = domain.place_indicator_value(
                board,
                meetings,
                data["indicator_id"],
                data["period"],
                data["value"],
                data["previous"],
                self.clock(),
            )
            if target is not None:
                repo.save_meeting(target)
            if item is not None:
                repo.save_board(board)
            return item

        item = self._run(body)
        return AgendaItemSchema().dump(item) if item else None

    # --- meetings --------------------------------------------------------------------

    @rpc
    @boundary
    def schedule_meeting(
        self, board_id: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """Schedule a meeting; items waiting for a public meeting are placed on it."""
        data = ScheduleInput().load(payload)

        def body(repo: MongoRepository, session: Any) -> domain.Meeting:
            meeting = domain.Meeting(
                meeting_id=data["meeting_id"],
                board_id=board_id,
                kind=domain.MeetingKind(data["kind"]),
                scheduled_at=data["scheduled_at"],
                place=data["place"],
            )
            board = repo.board(board_id)
            if domain.take_pending(board, meeting):
                repo.save_board(board)
            repo.add_meeting(meeting)
            self.outbox.add(
                events.MEETING_SCHEDULED,
                events.meeting_scheduled(meeting),
                session=session,
            )
            return meeting

        return MeetingSchema().dump(self._run(body))

    @rpc
    @boundary
    def get_meeting(self, meeting_id: str, public: bool = False) -> dict[str, Any]:
        """The whole meeting (board members, secretary), or with ``public=True``
        what anyone may see (for roles outside the board)."""

        def body(repo: MongoRepository, _: Any) -> dict[str, Any]:
            meeting = repo.meeting(meeting_id)
            if public:
                return domain.public_meeting(repo.board(meeting.board_id), meeting)
            return MeetingSchema().dump(meeting)

        return self._run(body)

    @rpc
    @boundary
    def list_meetings(
        self, board_id: str, public: bool = False
    ) -> list[dict[str, Any]]:
        def body(repo: MongoRepository, _: Any) -> list[dict[str, Any]]:
            found = repo.meetings(board_id)
            if public:
                board = repo.board(board_id)
                return [domain.public_meeting(board, m) for m in found]
            return MeetingSchema(many=True).dump(found)

        return self._run(body)

    def _on_meeting(
        self, meeting_id: str, change: Callable[[domain.Board, domain.Meeting], T]
    ) -> T:
        def body(repo: MongoRepository, _: Any) -> T:
            meeting = repo.meeting(meeting_id)
            board = repo.board(meeting.board_id)
            result = change(board, meeting)
            repo.save_meeting(meeting)
            return result

        return self._run(body)

    def _act(
        self, meeting_id: str, action: Callable[[domain.Meeting], None]
    ) -> dict[str, Any]:
        def change(board: domain.Board, meeting: domain.Meeting) -> domain.Meeting:
            action(meeting)
            return meeting

        return MeetingSchema().dump(self._on_meeting(meeting_id, change))

    @rpc
    @boundary
    def add_agenda_item(
        self, meeting_id: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """An item from the secretary, or a member's motion (``proposed_by``)."""
        payload = {"item_id": domain.new_id("item"), **payload}
        item = AgendaItemSchema().load(payload)

        def change(board: domain.Board, meeting: domain.Meeting) -> domain.AgendaItem:
            if item.proposed_by:
                return meeting.propose_motion_item(
                    board, item.proposed_by, item.title, item.item_id
                )
            return meeting.add_item(copy(item))

        return AgendaItemSchema().dump(self._on_meeting(meeting_id, change))

    def _on_agenda(
        self,
        meeting_id: str,
        change: Callable[[domain.Meeting], domain.AgendaItem | None],
    ) -> dict[str, Any]:
        """Change the agenda; a decision on another service's item is announced."""

        def body(repo: MongoRepository, session: Any) -> domain.Meeting:
            meeting = repo.meeting(meeting_id)
            item = change(meeting)
            repo.save_meeting(meeting)
            if item is not None and item.source in events.FROM_OTHER_SERVICES:
                self.outbox.add(
                    events.AGENDA_PROPOSAL_DECIDED,
                    events.agenda_proposal_decided(meeting, item),
                    session=session,
                )
            return meeting

        return MeetingSchema().dump(self._run(body))

    @rpc
    @boundary
    def accept_agenda_item(self, meeting_id: str, item_id: str) -> dict[str, Any]:
        """Accept a proposed item (a member's, participation's, an indicator's)."""
        return self._on_agenda(meeting_id, lambda m: m.accept_item(item_id))

    @rpc
    @boundary
    def refuse_agenda_item(
        self, meeting_id: str, item_id: str, reason: str
    ) -> dict[str, Any]:
        """Refuse a proposed item with the reason its proposer reads."""
        return self._on_agenda(meeting_id, lambda m: m.refuse_item(item_id, reason))

    @rpc
    @boundary
    def reorder_agenda(self, meeting_id: str, order: list[str]) -> dict[str, Any]:
        """``order``: every item id of the agenda, once, in the new order."""

        def change(meeting: domain.Meeting) -> None:
            meeting.reorder([str(i) for i in order])

        return self._on_agenda(meeting_id, change)

    @rpc
    @boundary
    def open_item(self, meeting_id: str, item_id: str) -> dict[str, Any]:
        """Take up an item during the sitting (one at a time)."""

        def change(meeting: domain.Meeting) -> None:
            meeting.open_item(item_id)

        return self._on_agenda(meeting_id, change)

    @rpc
    @boundary
    def close_item(self, meeting_id: str, item_id: str) -> dict[str, Any]:
        """Be done with an item (no motion left open on it)."""

        def change(meeting: domain.Meeting) -> None:
            meeting.close_item(item_id)

        return self._on_agenda(meeting_id, change)

    # --- documents -------------------------------------------------------------------

    @rpc
    @boundary
    def attach_document(
        self, meeting_id: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """Attach a file to an agenda item or (no ``item_id``) to the minutes.

        ``{"filename": "budget-2027.pdf", "data": "<base64>", "item_id": "i1"}``.
        The type is read from the content (:func:`domain.check_document`); the
        bytes go to GridFS, then the meeting records the document.
        """
        data = DocumentInput().load(payload)
        try:
            content = base64.b64decode(data["data"], validate=True)
        except (binascii.Error, ValueError):
            raise errors.Invalid(
                {"data": ["base64 attendu / base64 expected"]},
                "Champ « data » : le fichier doit être encodé en base64.",
                'Field "data": the file must be base64-encoded.',
            ) from None
        content_type = domain.check_document(data["filename"], content)
        files = DocumentFiles(self.store.db)
        file_id = files.put(data["filename"], content, meeting_id)
        document = domain.Document(
            document_id=domain.new_id("doc"),
            file_id=file_id,
            filename=data["filename"].strip(),
            content_type=content_type,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            attached_at=self.clock(),
            item_id=data["item_id"],
        )

        def body(repo: MongoRepository, _: Any) -> domain.Document:
            meeting = repo.meeting(meeting_id)
            domain.attach_document(meeting, document)
            repo.save_meeting(meeting)
            return document

        try:
            attached = self._run(body)
        except BaseException:
            files.delete(file_id)
            raise
        return DocumentSchema().dump(attached)

    @rpc
    @boundary
    def list_documents(
        self, meeting_id: str, public: bool = False
    ) -> list[dict[str, Any]]:
        """A meeting's documents, or with ``public=True`` those anyone may read."""

        def body(repo: MongoRepository, _: Any) -> list[domain.Document]:
            return domain.documents_for(repo.meeting(meeting_id), public)

        return DocumentSchema(many=True).dump(self._run(body))

    @rpc
    @boundary
    def get_document(
        self, meeting_id: str, document_id: str, public: bool = False
    ) -> dict[str, Any]:
        """One document with its bytes (``data``, base64); with ``public=True``
        a document the public may not read is unknown (404)."""

        def body(repo: MongoRepository, _: Any) -> domain.Document:
            meeting = repo.meeting(meeting_id)
            return domain.find_document(meeting, document_id, public)

        document = self._run(body)
        content = DocumentFiles(self.store.db).get(document.file_id)
        shown = DocumentSchema().dump(document)
        shown["data"] = base64.b64encode(content).decode("ascii")
        return shown

    @rpc
    @boundary
    def open_meeting(self, meeting_id: str) -> dict[str, Any]:
        return self._act(meeting_id, domain.Meeting.open)

    @rpc
    @boundary
    def adjourn_meeting(self, meeting_id: str) -> dict[str, Any]:
        return self._act(meeting_id, domain.Meeting.adjourn)

    @rpc
    @boundary
    def cancel_meeting(self, meeting_id: str) -> dict[str, Any]:
        return self._act(meeting_id, domain.Meeting.cancel)

    @rpc
    @boundary
    def record_attendance(
        self, meeting_id: str, member_id: str, present: bool = True
    ) -> list[str]:
        def change(board: domain.Board, meeting: domain.Meeting) -> list[str]:
            if present:
                meeting.record_arrival(board, member_id)
            else:
                meeting.record_departure(member_id)
            return sorted(meeting.present)

        return self._on_meeting(meeting_id, change)

    @rpc
    @boundary
    def declare_conflict(
        self, meeting_id: str, member_id: str, item_id: str, reason: str = ""
    ) -> dict[str, Any]:
        def change(board: domain.Board, meeting: domain.Meeting) -> dict[str, Any]:
            board.member(member_id)
            meeting.declare_conflict(member_id, item_id, reason)
            return {"member_id": member_id, "item_id": item_id, "recused": True}

        return self._on_meeting(meeting_id, change)

    @rpc
    @boundary
    def quorum(
        self, meeting_id: str, item_id: str | None = None, public: bool = False
    ) -> dict[str, Any]:
        """``{"met": true, "required": 4, "present": 5, "missing": {}}``; with
        ``public=True`` what anyone may see (:func:`domain.public_quorum`)."""

        def body(repo: MongoRepository, _: Any) -> dict[str, Any]:
            meeting = repo.meeting(meeting_id)
            board = repo.board(meeting.board_id)
            if public:
                return domain.public_quorum(board, meeting, item_id)
            return domain.quorum_counts(meeting.quorum(board, item_id))

        return self._run(body)

    # --- motions, votes, resolutions -------------------------------------------------

    @rpc
    @boundary
    def move(self, meeting_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        data = MotionInput().load(payload)
        rule = domain.MajorityRule(data["rule"]) if data["rule"] else None
        motion_id = data["motion_id"] or domain.new_id("motion")
        motion = self._on_meeting(
            meeting_id,
            lambda board, meeting: meeting.move(
                board,
                data["item_id"],
                data["text"],
                data["moved_by"],
                data["seconded_by"],
                rule,
                motion_id,
            ),
        )
        return MotionSchema().dump(motion)

    @rpc
    @boundary
    def second(self, meeting_id: str, motion_id: str, member_id: str) -> dict[str, Any]:
        """A member seconds a motion moved without a seconder (acting for themself)."""
        motion = self._on_meeting(
            meeting_id,
            lambda board, meeting: meeting.second(board, motion_id, member_id),
        )
        return MotionSchema().dump(motion)

    @rpc
    @boundary
    def vote(self, meeting_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """One member's vote; refused (403/409) when recused, absent, no quorum."""
        data = VoteInput().load(payload)
        vote = self._on_meeting(
            meeting_id,
            lambda board, meeting: meeting.cast_vote(
                board,
                data["motion_id"],
                data["member_id"],
                domain.Choice(data["choice"]),
                data["objection"],
            ),
        )
        return VoteSchema().dump(vote)

    @rpc
    @boundary
    def close_vote(self, meeting_id: str, motion_id: str) -> dict[str, Any]:
        """Tally; an adopted motion becomes a numbered resolution and an event."""
        resolution_id = domain.new_id("res")

        def body(
            repo: MongoRepository, session: Any
        ) -> tuple[domain.Tally, domain.Resolution | None]:
            meeting = repo.meeting(meeting_id)
            board = repo.board(meeting.board_id)
            result, resolution = meeting.close_vote(board, motion_id, resolution_id)
            repo.save_meeting(meeting)
            if resolution is not None:
                repo.save_board(board)
                repo.add_resolution(resolution)
                self.outbox.add(
                    events.RESOLUTION_ADOPTED,
                    events.resolution_adopted(resolution),
                    session=session,
                )
            return result, resolution

        result, resolution = self._run(body)
        return {
            "adopted": result.adopted,
            "rule": result.rule.value,
            "votes": {
                "for": result.votes_for,
                "against": result.votes_against,
                "abstain": result.abstentions,
            },
            "decided_by_casting_vote": result.decided_by_casting_vote,
            "resolution": ResolutionSchema().dump(resolution) if resolution else None,
        }

    @rpc
    @boundary
    def withdraw_motion(self, meeting_id: str, motion_id: str) -> dict[str, Any]:
        motion = self._on_meeting(meeting_id, lambda b, m: m.withdraw(motion_id))
        return MotionSchema().dump(motion)

    # --- deliberation under the procedure (services.boards.procedure) -------------
    #
    # One record per meeting item. Each move loads it, checks who acts (seated,
    # present, not recused), applies the engine with the item's quorum, stores
    # the new record and acts on the effects (a resolution and its event, the
    # meeting adjourned, a reconsidered resolution cancelled), all in one
    # transaction. Every method answers::
    #
    #     {"procedure": {...ProcedureStateSchema...},
    #      "effects": ["vote_closed", "main_adopted"],
    #      "resolution": {...ResolutionSchema...} | null}

    def _deliberate(
        self,
        meeting_id: str,
        item_id: str,
        action: procedure.Action,
        actors: tuple[str | None, ...] = (),
    ) -> dict[str, Any]:
        def body(repo: MongoRepository, session: Any) -> dict[str, Any]:
            meeting = repo.meeting(meeting_id)
            board = repo.board(meeting.board_id)
            item = meeting.item(item_id)
            meeting.require_open()
            for member_id in actors:
                if member_id is not None:
                    meeting.check_voter(board, member_id, item_id)
            state = repo.procedure(meeting_id, item_id)
            state = state or procedure.ProcedureState.begin(item_id)
            ctx = procedure.Context(
                config=board.charter.procedure,
                quorum=meeting.quorum(board, item_id),
                casting_voters=tuple(meeting.casting_voters(board, item_id)),
                default_rule=board.charter.default_majority,
            )
            new, effects = procedure.apply(state, action, ctx)
            repo.save_procedure(meeting_id, new)
            resolution = None
            for effect in effects:
                if isinstance(effect, procedure.MainAdopted):
                    resolution = self._resolve(repo, session, board, meeting, item, new)
                elif isinstance(effect, procedure.MeetingAdjourned):
                    meeting.adjourn()
                    repo.save_meeting(meeting)
                elif isinstance(effect, procedure.Reconsidered):
                    self._reconsidered(repo, session, meeting, item_id, effect)
            return {
                "procedure": ProcedureStateSchema().dump(new),
                "effects": [e.name for e in effects],
                "resolution": ResolutionSchema().dump(resolution)
                if resolution
                else None,
            }

        return self._run(body)

    def _resolve(
        self,
        repo: MongoRepository,
        session: Any,
        board: domain.Board,
        meeting: domain.Meeting,
        item: domain.AgendaItem,
        state: procedure.ProcedureState,
    ) -> domain.Resolution:
        """The adopted main motion becomes a numbered resolution, with its text's
        history, and ``boards.resolution_adopted`` (version 3) in the outbox."""
        main = state.main
        ballot = state.ballots[-1]
        assert main is not None
        resolution = domain.Resolution(
            resolution_id=domain.new_id("res"),
            number=board.next_resolution_number(meeting.day),
            board_id=board.board_id,
            meeting_id=meeting.meeting_id,
            item_id=item.item_id,
            motion_id=f"{item.item_id}/{main.question_id}",
            title=item.title,
            text=state.text,
            adopted_on=meeting.day,
            closed_session=meeting.is_closed or item.in_camera,
            rule=ballot.rule,
            votes_for=ballot.votes_for,
            votes_against=ballot.votes_against,
            abstentions=ballot.abstentions,
            decided_by_casting_vote=ballot.decided_by_casting_vote,
            moved_by=main.moved_by,
            seconded_by=main.seconded_by or "",
            process_id=item.process_id,
            history=procedure.history(state, person=lambda member_id: member_id),
            definition=item.definition,
        )
        repo.save_board(board)
        repo.add_resolution(resolution)
        self.outbox.add(
            events.RESOLUTION_ADOPTED,
            events.resolution_adopted(resolution),
            session=session,
        )
        return resolution

    def _reconsidered(
        self,
        repo: MongoRepository,
        session: Any,
        meeting: domain.Meeting,
        item_id: str,
        effect: procedure.Reconsidered,
    ) -> None:
        """A reconsidered adopted motion's resolution is cancelled (the minutes
        and the register keep it, with the note)."""
        motion_id = f"{item_id}/{effect.question_id}"
        for resolution in repo.resolutions(meeting.board_id):
            if resolution.motion_id != motion_id or resolution.meeting_id != (
                meeting.meeting_id
            ):
                continue
            if resolution.status in domain.FINAL_STATUSES:
                continue
            previous = resolution.status.value
            resolution.follow_up(
                meeting.day,
                domain.DecisionStatus.CANCELLED,
                note="reconsidérée en séance / reconsidered at the meeting",
            )
            repo.save_resolution(resolution)
            self.outbox.add(
                events.DECISION_STATUS_CHANGED,
                events.decision_status_changed(resolution, previous),
                session=session,
            )

    @rpc
    @boundary
    def get_procedure(
        self, meeting_id: str, item_id: str, public: bool = False
    ) -> dict[str, Any]:
        """The deliberation on an item: the questions pending (``stack``, the
        innermost last), the speakers' list, the vote open, the record. With
        ``public=True`` what anyone may see (:func:`domain.public_procedure`):
        an item of a closed meeting or taken in camera is then unknown (404)."""

        def body(repo: MongoRepository, _: Any) -> dict[str, Any]:
            meeting = repo.meeting(meeting_id)
            item = meeting.item(item_id)
            state = repo.procedure(meeting_id, item_id)
            record = ProcedureStateSchema().dump(
                state or procedure.ProcedureState.begin(item_id)
            )
            if public:
                board = repo.board(meeting.board_id)
                return domain.public_procedure(board, meeting, item_id, record)
            return {**record, "title": item.title}

        return self._run(body)

    @rpc
    @boundary
    def move_main_motion(
        self, meeting_id: str, item_id: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """``{"member_id": "ada", "text": "Accorder 10 000 $ au Carrefour"}``;
        ``rule`` (``simple``, ``two_thirds``, ``consensus``) defaults to the
        charter's. The motion waits for a seconder (:meth:`second_question`)."""
        data = MainMotionInput().load(payload)
        rule = domain.MajorityRule(data["rule"]) if data["rule"] else None
        action = procedure.MoveMain(data["member_id"], data["text"], rule)
        return self._deliberate(meeting_id, item_id, action, (data["member_id"],))

    @rpc
    @boundary
    def second_question(
        self, meeting_id: str, item_id: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """``{"member_id": "bob"}`` seconds the innermost question."""
        data = MemberMoveInput().load(payload)
        action = procedure.Second(data["member_id"])
        return self._deliberate(meeting_id, item_id, action, (data["member_id"],))

    @rpc
    @boundary
    def move_amendment(
        self, meeting_id: str, item_id: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """``{"member_id": "cy", "target_id": "q1", "change": {"op": "replace",
        "start": 9, "end": 17, "text": "12 000 $"}}``: amending the main motion
        is an amendment, amending the open amendment a sub-amendment."""
        data = AmendmentInput().load(payload)
        action = procedure.MoveAmendment(
            data["member_id"], data["target_id"], data["change"]
        )
        return self._deliberate(meeting_id, item_id, action, (data["member_id"],))

    @rpc
    @boundary
    def move_procedural_motion(
        self, meeting_id: str, item_id: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """``{"member_id": "fay", "kind": "previous_question"}``, or ``postpone``
        (``until``), ``refer`` (``committee``), ``adjourn``, ``reconsider`` (at
        the same meeting), ``suspend_rule`` (``rule_name``)."""
        data = ProceduralInput().load(payload)
        action = procedure.MoveProcedural(
            data["member_id"],
            procedure.Kind(data["kind"]),
            until=data["until"],
            committee=data["committee"],
            rule_name=data["rule_name"],
        )
        return self._deliberate(meeting_id, item_id, action, (data["member_id"],))

    @rpc
    @boundary
    def withdraw_question(
        self, meeting_id: str, item_id: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """``{"member_id": "cy"}``: the mover withdraws the innermost question."""
        data = MemberMoveInput().load(payload)
        action = procedure.Withdraw(data["member_id"])
        return self._deliberate(meeting_id, item_id, action, (data["member_id"],))

    @rpc
    @boundary
    def lapse_question(self, meeting_id: str, item_id: str) -> dict[str, Any]:
        """The chair declares the innermost question dead for want of a seconder."""
        return self._deliberate(meeting_id, item_id, procedure.Lapse())

    @rpc
    @boundary
    def ask_for_floor(
        self, meeting_id: str, item_id: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """``{"member_id": "cy"}`` joins the speakers' list of the question on
        the floor; ``{"member_id": "ada", "reply": true}``: the mover's reply."""
        data = FloorInput().load(payload)
        action = procedure.AskFloor(data["member_id"], data["reply"])
        return self._deliberate(meeting_id, item_id, action, (data["member_id"],))

    @rpc
    @boundary
    def give_floor(self, meeting_id: str, item_id: str) -> dict[str, Any]:
        """The chair gives the floor to the next on the list; the answer's
        ``procedure.speaking.ends_at`` is when the turn's time limit runs out."""
        action = procedure.GiveFloor(self.clock())
        return self._deliberate(meeting_id, item_id, action)

    @rpc
    @boundary
    def end_turn(self, meeting_id: str, item_id: str) -> dict[str, Any]:
        """The speaker is done (an overrun of the time limit is recorded)."""
        return self._deliberate(meeting_id, item_id, procedure.EndTurn(self.clock()))

    @rpc
    @boundary
    def call_vote(
        self, meeting_id: str, item_id: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """``{"question_id": "q3", "method": "roll_call"}``; refused unless it is
        the innermost question, and when quorum is not met."""
        data = CallVoteInput().load(payload)
        action = procedure.CallVote(
            data["question_id"], procedure.Method(data["method"]), data["requested_by"]
        )
        return self._deliberate(meeting_id, item_id, action, (data["requested_by"],))

    @rpc
    @boundary
    def cast_procedure_vote(
        self, meeting_id: str, item_id: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """``{"member_id": "ada", "choice": "for"}`` in a roll call or secret
        ballot (a secret ballot keeps only counts)."""
        data = ProcedureVoteInput().load(payload)
        action = procedure.CastVote(data["member_id"], domain.Choice(data["choice"]))
        return self._deliberate(meeting_id, item_id, action, (data["member_id"],))

    @rpc
    @boundary
    def record_show_of_hands(
        self, meeting_id: str, item_id: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """``{"for": 5, "against": 2, "abstain": 0}``, at most the members present."""
        data = CountInput().load(payload)
        action = procedure.RecordCount(
            data["votes_for"], data["votes_against"], data["abstentions"]
        )
        return self._deliberate(meeting_id, item_id, action)

    @rpc
    @boundary
    def close_procedure_vote(self, meeting_id: str, item_id: str) -> dict[str, Any]:
        """Tally (quorum checked again); an adopted main motion becomes a
        resolution with its adopted text and history (``resolution``)."""
        return self._deliberate(meeting_id, item_id, procedure.CloseVote())

    @rpc
    @boundary
    def raise_point(
        self, meeting_id: str, item_id: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """``{"member_id": "eve", "kind": "order", "text": "...", "target_id":
        "q2", "ground": "negation"}``; ``kind`` ``privilege`` for a point of
        privilege. Nothing else happens until the chair rules."""
        data = PointInput().load(payload)
        action = procedure.RaisePoint(
            data["member_id"],
            data["kind"],
            data["text"],
            data["target_id"],
            data["ground"],
        )
        return self._deliberate(meeting_id, item_id, action, (data["member_id"],))

    @rpc
    @boundary
    def rule_on_point(
        self, meeting_id: str, item_id: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """``{"well_founded": true, "reason": "..."}``, recorded in the chair's
        name (the member in office ``chair`` on the meeting day)."""
        data = RulingInput().load(payload)

        def chair(repo: MongoRepository, _: Any) -> str:
            meeting = repo.meeting(meeting_id)
            return meeting.chair(repo.board(meeting.board_id)) or "chair"

        action = procedure.RuleOnPoint(
            self._run(chair), data["well_founded"], data["reason"]
        )
        return self._deliberate(meeting_id, item_id, action)

    @rpc
    @boundary
    def appeal_ruling(
        self, meeting_id: str, item_id: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """``{"member_id": "cy"}`` appeals the ruling just given; the appeal is
        then voted by simple majority (adopted: the ruling is reversed)."""
        data = MemberMoveInput().load(payload)
        action = procedure.Appeal(data["member_id"])
        return self._deliberate(meeting_id, item_id, action, (data["member_id"],))

    @rpc
    @boundary
    def draft_minutes_from_record(self, meeting_id: str) -> dict[str, Any]:
        """Draft the meeting's minutes from the deliberation record of its items
        (agenda order): each motion, amendment with mover and seconder, vote
        with its result, ruling. The secretary may redraft them by hand after
        (:meth:`draft_minutes`)."""

        def body(repo: MongoRepository, _: Any) -> domain.Meeting:
            meeting = repo.meeting(meeting_id)
            board = repo.board(meeting.board_id)
            names = {m.member_id: m.name for m in board.members.values()}
            records = {s.item_id: s for s in repo.procedures(meeting_id)}
            parts = [
                "\n".join(procedure.minutes(records[item.item_id], names, item.title))
                for item in meeting.agenda
                if item.item_id in records
            ]
            meeting.draft_minutes("\n\n".join(parts))
            repo.save_meeting(meeting)
            return meeting

        return MeetingSchema().dump(self._run(body))

    # --- minutes ---------------------------------------------------------------------

    @rpc
    @boundary
    def draft_minutes(self, meeting_id: str, text: str) -> dict[str, Any]:
        return self._act(meeting_id, lambda m: m.draft_minutes(text))

    @rpc
    @boundary
    def adopt_minutes(self, meeting_id: str, at_meeting_id: str) -> dict[str, Any]:
        """Adopt the minutes of ``meeting_id`` at the later ``at_meeting_id``."""

        def body(repo: MongoRepository, _: Any) -> domain.Meeting:
            earlier = repo.meeting(meeting_id)
            at = repo.meeting(at_meeting_id)
            domain.adopt_minutes(repo.board(earlier.board_id), earlier, at)
            repo.save_meeting(earlier)
            return earlier

        return MeetingSchema().dump(self._run(body))

    # --- follow-up and the register -------------------------------------------------

    @rpc
    @boundary
    def follow_up(
        self, resolution_id: str, payload: dict[str, Any], public: bool = False
    ) -> dict[str, Any]:
        """Record progress; returns the whole resolution, or with ``public=True``
        (callers outside the board) its register entry, and then a resolution
        adopted in camera is as unknown as a missing one and is left unchanged.

        ``{"on": "2026-12-20", "status": "in_progress", "progress": 20}``
        """
        data = FollowUpInput().load(payload)
        today = self.clock().date()

        def body(repo: MongoRepository, session: Any) -> domain.Resolution:
            resolution = repo.resolution(resolution_id)
            if public and resolution.closed_session:
                raise Missing("resolution", resolution_id)
            previous = resolution.status.value
            changed = resolution.follow_up(
                data["on"],
                domain.DecisionStatus(data["status"]) if data["status"] else None,
                data["progress"],
                data["note"],
                data["responsible"],
                data["due"],
            )
            repo.save_resolution(resolution)
            if changed:
                self.outbox.add(
                    events.DECISION_STATUS_CHANGED,
                    events.decision_status_changed(resolution, previous),
                    session=session,
                )
            return resolution

        def shown(repo: MongoRepository, session: Any) -> dict[str, Any]:
            resolution = body(repo, session)
            if not public:
                return ResolutionSchema().dump(resolution)
            board = repo.board(resolution.board_id)
            return domain.public_resolution(board, resolution, today) or {}

        return self._run(shown)

    @rpc
    @boundary
    def get_resolution(
        self, resolution_id: str, public: bool = False
    ) -> dict[str, Any]:
        """The whole resolution, or with ``public=True`` its entry in the public
        register; one adopted in camera is then as unknown as a missing one."""
        if not public:
            found = self._run(lambda repo, _: repo.resolution(resolution_id))
            return ResolutionSchema().dump(found)
        today = self.clock().date()

        def body(repo: MongoRepository, _: Any) -> dict[str, Any]:
            resolution = repo.resolution(resolution_id)
            board = repo.board(resolution.board_id)
            shown = domain.public_resolution(board, resolution, today)
            if shown is None:
                raise Missing("resolution", resolution_id)
            return shown

        return self._run(body)

    @rpc
    @boundary
    def overdue(
        self, board_id: str, today: str | None = None, public: bool = False
    ) -> list[dict[str, Any]]:
        """Decisions past their due date and not done (secretary's view), or with
        ``public=True`` their entries in the public register: a resolution adopted
        in a closed session or in camera is then left out."""
        day = _day(today, self.clock().date())

        def body(repo: MongoRepository, _: Any) -> list[dict[str, Any]]:
            late = domain.overdue(repo.resolutions(board_id), day)
            if not public:
                return ResolutionSchema(many=True).dump(late)
            board = repo.board(board_id)
            shown = (domain.public_resolution(board, r, day) for r in late)
            return [entry for entry in shown if entry is not None]

        return self._run(body)

    @rpc
    @boundary
    def public_register(
        self, board_id: str, today: str | None = None
    ) -> dict[str, Any]:
        """What anyone may read: no closed session, names and roles only."""
        day = _day(today, self.clock().date())
        return self._run(
            lambda repo, _: domain.public_register(
                repo.board(board_id),
                repo.resolutions(board_id),
                day,
                repo.meetings(board_id),
            )
        )

    # --- events consumed -------------------------------------------------------------

    @consume_batch(events.RESULTS_PUBLISHED)
    def add_results_to_agenda(self, envelopes: list[Envelope], session: Any) -> None:
        """Ranked priorities of closed processes become proposed agenda items.

        The kit hands over a batch of events not yet processed, in delivery
        order, and records their ids in this same transaction. The board and its
        upcoming meetings are loaded once per batch and saved once.
        """
        batch = []
        for envelope in envelopes:
            try:
                batch.append(ResultsPublishedPayload().load(envelope.payload))
            except ValidationError as exc:
                raise invalid(exc) from exc
        repo = MongoRepository(self.store.db, session)
        board_ids = repo.board_ids()
        if not board_ids:
            for data in batch:
                log.info("results of %s kept until a board exists", data["process_id"])
                repo.park_results(data)
            return
        now = self.clock()
        for board_id in board_ids:
            board = repo.board(board_id)
            # Only upcoming meetings: the board remembers processes placed before.
            meetings = repo.meetings(board_id, [domain.MeetingStatus.SCHEDULED])
            changed: dict[str, domain.Meeting] = {}
            placed = 0
            for data in batch:
                target, items = domain.place_participation_results(
                    board,
                    meetings,
                    data["process_id"],
                    data["title"],
                    data["priorities"],
                    now,
                )
                placed += len(items)
                if target is not None:
                    changed[target.meeting_id] = target
                log.info(
                    "results of %s: %d item(s) for board %s, meeting %s",
                    data["process_id"],
                    len(items),
                    board_id,
                    target.meeting_id if target else None,
                )
            for meeting in changed.values():
                repo.save_meeting(meeting)
            if placed:
                repo.save_board(board)
