"""Boards over HTTP: charters, seats, meetings, motions, votes, minutes, follow-up.

Resource URLs map one to one on the boards service's RPC methods; the request
bodies are validated by the boards service's own marshmallow schemas (so
``/openapi.json`` documents them) and forwarded as sent. Two rules are the
gateway's, on top of the permission table:

- MRC scope: every write on a board (or on one of its meetings or resolutions)
  is refused unless the board belongs to the signer's MRC. The gateway records
  the board's MRC when the board is created through it (``mrc_code`` in the
  body, the administrator's own MRC by default).
- Seat holders act for themselves: a board member moving, seconding, voting,
  proposing an item or declaring a conflict must name their own ``member_id``
  (the account's ``member_id``); a mover may not name a seconder, who seconds
  for themself (``POST /meetings/<id>/motions/<motion_id>/second``).
- Roles outside the board (practitioners, regional coordinators), and board
  insiders of another MRC than the board's, read meetings, quorums, resolutions
  and late follow-ups as the public does: no closed-session agenda,
  attendance, conflict, vote or resolution, no member ids
  (``boards.read_closed`` in the permission table, for the board's own MRC
  only: :func:`closed_view`); a practitioner recording
  follow-up gets the same public view back, and cannot touch a closed-session
  resolution (404, as if it did not exist).

    POST /meetings/m-2026-12/votes
    {"motion_id": "mo-1", "member_id": "ada", "choice": "for"}
"""

from __future__ import annotations

import base64
import os
from typing import Any
from urllib.parse import quote

from marshmallow import RAISE, Schema, fields, validate
from werkzeug.wrappers import Response

from gateway import audit
from gateway.api import Api, Context
from gateway.permissions import allowed, require_same_mrc
from gateway.routes.common import PageQuery, cached, paginate, sorted_query, user
from services.boards.domain import MAX_DOCUMENT_BYTES
from services.boards.schemas import (
    ID,
    AgendaItemSchema,
    AmendmentInput,
    AppointInput,
    CallVoteInput,
    CharterSchema,
    CountInput,
    DocumentInput,
    DocumentSchema,
    EndTermInput,
    FloorInput,
    FollowUpInput,
    MainMotionInput,
    MeetingSchema,
    MemberMoveInput,
    MotionInput,
    PointInput,
    ProceduralInput,
    ProcedureVoteInput,
    PublicMeetingSchema,
    PublicResolutionSchema,
    ResolutionSchema,
    RulingInput,
    ScheduleInput,
    VoteInput,
)
from shared.errors import Conflict, Forbidden, Invalid, NotFound

api = Api()
TAGS = ("boards",)
SEAT_ROLES = frozenset({"board_member", "citizen_representative"})
MRC_CODE = r"^24\d\d$"


class Strict(Schema):
    class Meta:
        unknown = RAISE


class BoardCreate(CharterSchema):
    mrc_code = fields.String(validate=validate.Regexp(MRC_CODE))


class AgendaInput(Strict):
    title = fields.String(required=True, validate=validate.Length(min=1, max=500))
    in_camera = fields.Boolean(load_default=False)
    item_id = fields.String(validate=ID)


class ProposalInput(Strict):
    """A seat holder's own motion placed on the agenda (``proposed_by`` is them)."""

    title = fields.String(required=True, validate=validate.Length(min=1, max=500))
    proposed_by = fields.String(required=True, validate=ID)
    item_id = fields.String(validate=ID)


class SecondInput(Strict):
    """Who seconds: the account's own member by default."""

    member_id = fields.String(validate=ID)


class WatchInput(Strict):
    """``{"indicator_id": "attente-jours", "threshold": 30, "above": true}``"""

    indicator_id = fields.String(required=True, validate=ID)
    threshold = fields.Float(required=True, allow_nan=False)
    above = fields.Boolean(load_default=True)
    title = fields.String(load_default="", validate=validate.Length(max=300))


class IndicatorValueInput(Strict):
    """``{"indicator_id": "attente-jours", "period": "2026Q3", "value": 41.0}``"""

    indicator_id = fields.String(required=True, validate=ID)
    period = fields.String(required=True, validate=validate.Length(min=1, max=40))
    value = fields.Float(required=True, allow_nan=False)
    previous = fields.Float(allow_none=True, load_default=None, allow_nan=False)


class AttendanceInput(Strict):
    member_id = fields.String(required=True, validate=ID)
    present = fields.Boolean(load_default=True)


class ConflictInput(Strict):
    member_id = fields.String(required=True, validate=ID)
    item_id = fields.String(required=True, validate=ID)
    reason = fields.String(load_default="", validate=validate.Length(max=2000))


class MinutesInput(Strict):
    text = fields.String(required=True, validate=validate.Length(min=1, max=200_000))


class AdoptInput(Strict):
    at_meeting_id = fields.String(required=True, validate=ID)


class DayQuery(Strict):
    on = fields.Date()


class TodayQuery(Strict):
    today = fields.Date()


class QuorumQuery(Strict):
    item_id = fields.String(validate=ID)


MeetingsQuery = sorted_query("scheduled_at", "status")


def _raw(ctx: Context) -> dict[str, Any]:
    """The JSON body as sent (already validated): the service loads it again."""
    body = ctx.request.get_json(silent=True)
    return dict(body) if isinstance(body, dict) else {}


# --- MRC scope ---------------------------------------------------------------------


def board_mrc(ctx: Context, board_id: str) -> str | None:
    rt = ctx.runtime  # type: ignore[attr-defined]
    mrc = rt.store.board_mrc(board_id)
    if mrc is None:
        # boards created outside the gateway (CLI, import) belong to the node's MRC
        mrc = rt.config.get("MRC_CODE") or os.environ.get("MAILLAGE_MRC_CODE")
    return mrc


def scope_board(ctx: Context, board_id: str) -> None:
    require_same_mrc(user(ctx), board_mrc(ctx, board_id), f"L'instance {board_id}")


def scope_meeting(ctx: Context, meeting_id: str) -> dict[str, Any]:
    """Scope check through the meeting's board; the meeting is the audit's before."""
    meeting = ctx.rpc("boards", "get_meeting", meeting_id)
    scope_board(ctx, meeting["board_id"])
    audit.record_before(ctx, meeting)
    return meeting


def own_member(ctx: Context, *member_ids: str | None) -> None:
    """A seat holder names only themself (the secretary records for others)."""
    account = user(ctx)
    if account.get("role") not in SEAT_ROLES:
        return
    mine = account.get("member_id")
    for member_id in member_ids:
        if member_id is not None and member_id != mine:
            raise Forbidden(
                f"Vous ne pouvez agir que pour vous-même (membre {mine}).",
                f"You may only act for yourself (member {mine}).",
                details={"member_id": member_id},
            )


def closed_view(ctx: Context, board_id: str) -> bool:
    """``True`` when the account may see what the public may not: a board insider
    (``boards.read_closed``) bound to the board's own MRC. An insider of another
    MRC reads the board as the public does."""
    account = user(ctx)
    if not allowed("boards.read_closed", account.get("role")):
        return False
    mrc = board_mrc(ctx, board_id)
    return mrc is not None and account.get("mrc") == mrc


def meeting_closed_view(ctx: Context, meeting_id: str) -> bool:
    """:func:`closed_view` for the board the meeting belongs to (a missing meeting
    is the 404 the public gets too)."""
    if not allowed("boards.read_closed", user(ctx).get("role")):
        return False
    meeting = ctx.rpc("boards", "get_meeting", meeting_id)
    return closed_view(ctx, meeting["board_id"])


def resolution_closed_view(ctx: Context, resolution_id: str) -> bool:
    """:func:`closed_view` for the board that adopted the resolution."""
    if not allowed("boards.read_closed", user(ctx).get("role")):
        return False
    resolution = ctx.rpc("boards", "get_resolution", resolution_id)
    return closed_view(ctx, resolution["board_id"])


# --- public --------------------------------------------------------------------------


@api.route(
    "/boards/<board_id>/register",
    action="boards.register",
    query=TodayQuery,
    public=True,
    tags=TAGS,
    summary="Public register: composition, public meetings, resolutions",
)
def register(ctx: Context, board_id: str) -> Any:
    today = ctx.request.args.get("today")
    return cached(ctx, ctx.rpc("boards", "public_register", board_id, today))


# --- reads ---------------------------------------------------------------------------


@api.route("/boards/<board_id>", action="boards.read", tags=TAGS, summary="One board")
def get_board(ctx: Context, board_id: str) -> Any:
    return cached(ctx, ctx.rpc("boards", "get_board", board_id))


@api.route(
    "/boards/<board_id>/meetings",
    action="boards.read",
    query=MeetingsQuery,
    tags=TAGS,
    summary="Meetings of a board, one page",
)
def list_meetings(ctx: Context, board_id: str) -> Any:
    if closed_view(ctx, board_id):
        rows = ctx.rpc("boards", "list_meetings", board_id)
        return cached(ctx, paginate(rows, ctx.query))
    rows = ctx.rpc("boards", "list_meetings", board_id, public=True)
    query = dict(ctx.query)
    if query.get("sort"):  # the public view names the scheduled time ``date``
        query["sort"] = query["sort"].replace("scheduled_at", "date")
    return cached(ctx, paginate(rows, query))


@api.route(
    "/boards/<board_id>/vacancies",
    action="boards.read",
    query=DayQuery,
    tags=TAGS,
    summary="Vacant seats on a day",
)
def vacancies(ctx: Context, board_id: str) -> Any:
    on = ctx.request.args.get("on")
    return cached(ctx, {"items": ctx.rpc("boards", "vacancies", board_id, on)})


@api.route(
    "/boards/<board_id>/seats/<seat_id>/history",
    action="boards.read",
    query=PageQuery,
    tags=TAGS,
    summary="Who held a seat, term by term",
)
def seat_history(ctx: Context, board_id: str, seat_id: str) -> Any:
    rows = ctx.rpc("boards", "seat_history", board_id, seat_id)
    return cached(ctx, paginate(rows, ctx.query))


@api.route(
    "/boards/<board_id>/overdue",
    action="boards.read",
    query=TodayQuery,
    tags=TAGS,
    summary="Resolutions whose follow-up is late",
)
def overdue(ctx: Context, board_id: str) -> Any:
    today = ctx.request.args.get("today")
    public = not closed_view(ctx, board_id)
    late = ctx.rpc("boards", "overdue", board_id, today, public=public)
    return cached(ctx, {"items": late})


@api.route(
    "/meetings/<meeting_id>",
    action="boards.read",
    response=(MeetingSchema, PublicMeetingSchema),
    tags=TAGS,
    summary="One meeting with its agenda, attendance and motions",
    description="Board insiders (boards.read_closed, in the board's MRC) get the whole meeting; "
    "other readers its public view: a closed meeting's id, kind, date and status "
    "only, a public one without attendance, votes, conflicts or in-camera items.",
)
def get_meeting(ctx: Context, meeting_id: str) -> Any:
    """Outside the board, the public view (see ``domain.public_meeting``)."""
    public = not meeting_closed_view(ctx, meeting_id)
    return cached(ctx, ctx.rpc("boards", "get_meeting", meeting_id, public=public))


@api.route(
    "/meetings/<meeting_id>/quorum",
    action="boards.read",
    query=QuorumQuery,
    tags=TAGS,
    summary="Is the quorum met (for an item, after recusals)?",
    description="Outside the board (no boards.read_closed in the board's MRC), a closed "
    "meeting answers its public view and no counts, and an item taken in camera "
    "counts as an unknown item (see services.boards.domain.public_quorum).",
)
def quorum(ctx: Context, meeting_id: str) -> Any:
    item_id = ctx.query.get("item_id")
    public = not meeting_closed_view(ctx, meeting_id)
    return cached(ctx, ctx.rpc("boards", "quorum", meeting_id, item_id, public=public))


@api.route(
    "/resolutions/<resolution_id>",
    action="boards.read",
    response=(ResolutionSchema, PublicResolutionSchema),
    tags=TAGS,
    summary="One resolution and its follow-up",
    description="Board insiders (boards.read_closed, in the board's MRC) get the whole resolution; "
    "other readers its entry in the public register (names and roles, no member "
    "ids), and 404 for a resolution adopted in a closed session or in camera.",
)
def get_resolution(ctx: Context, resolution_id: str) -> Any:
    """Outside the board, the public view (see ``domain.public_resolution``)."""
    public = not resolution_closed_view(ctx, resolution_id)
    return cached(
        ctx, ctx.rpc("boards", "get_resolution", resolution_id, public=public)
    )


# --- writes --------------------------------------------------------------------------


@api.route(
    "/boards",
    ("POST",),
    action="boards.create",
    body=BoardCreate,
    status=201,
    tags=TAGS,
    summary="Create a board from its charter",
)
def create_board(ctx: Context) -> Any:
    account = user(ctx)
    charter = _raw(ctx)
    mrc = charter.pop("mrc_code", None) or account["mrc"]
    require_same_mrc(account, mrc, "L'instance")
    rt = ctx.runtime  # type: ignore[attr-defined]
    known = rt.store.board_mrc(charter["board_id"])
    if known is not None and known != mrc:
        raise Conflict(
            f"L'instance {charter['board_id']} existe déjà dans une autre MRC.",
            f"Board {charter['board_id']} already exists in another MRC.",
        )
    rt.store.set_board_mrc(charter["board_id"], mrc)
    return ctx.rpc("boards", "create_board", charter)


@api.route(
    "/boards/<board_id>/appointments",
    ("POST",),
    action="boards.seats.manage",
    body=AppointInput,
    status=201,
    tags=TAGS,
    summary="Appoint a member to a seat for a term",
)
def appoint(ctx: Context, board_id: str) -> Any:
    scope_board(ctx, board_id)
    return ctx.rpc("boards", "appoint", board_id, _raw(ctx))


@api.route(
    "/boards/<board_id>/end-term",
    ("POST",),
    action="boards.seats.manage",
    body=EndTermInput,
    tags=TAGS,
    summary="End a seat holder's term early",
)
def end_term(ctx: Context, board_id: str) -> Any:
    scope_board(ctx, board_id)
    return ctx.rpc("boards", "end_term", board_id, _raw(ctx))


@api.route(
    "/boards/<board_id>/meetings",
    ("POST",),
    action="boards.meetings.manage",
    body=ScheduleInput,
    response=MeetingSchema,
    status=201,
    tags=TAGS,
    summary="Schedule a meeting",
)
def schedule_meeting(ctx: Context, board_id: str) -> Any:
    scope_board(ctx, board_id)
    return ctx.rpc("boards", "schedule_meeting", board_id, _raw(ctx))


@api.route(
    "/meetings/<meeting_id>/agenda",
    ("POST",),
    action="boards.meetings.manage",
    body=AgendaInput,
    response=AgendaItemSchema,
    status=201,
    tags=TAGS,
    summary="Add an item to a meeting's agenda",
)
def add_agenda_item(ctx: Context, meeting_id: str) -> Any:
    scope_meeting(ctx, meeting_id)
    return ctx.rpc("boards", "add_agenda_item", meeting_id, _raw(ctx))


@api.route(
    "/meetings/<meeting_id>/agenda/proposals",
    ("POST",),
    action="boards.agenda.propose",
    body=ProposalInput,
    response=AgendaItemSchema,
    status=201,
    tags=TAGS,
    summary="Place one's own motion on a meeting's agenda",
)
def propose_item(ctx: Context, meeting_id: str) -> Any:
    own_member(ctx, ctx.body["proposed_by"])
    scope_meeting(ctx, meeting_id)
    return ctx.rpc("boards", "add_agenda_item", meeting_id, _raw(ctx))


class RefusalInput(Strict):
    """``{"reason": "Déjà financé en 2026."}``: the proposer reads it."""

    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class OrderInput(Strict):
    """``{"order": ["item-b", "item-a"]}``: every agenda item once."""

    order = fields.List(
        fields.String(validate=ID),
        required=True,
        validate=validate.Length(min=1, max=200),
    )


@api.route(
    "/meetings/<meeting_id>/items/<item_id>/accept",
    ("POST",),
    action="boards.meetings.manage",
    response=MeetingSchema,
    tags=TAGS,
    summary="Accept a proposed agenda item (a member's, participation's, a watch's)",
)
def accept_agenda_item(ctx: Context, meeting_id: str, item_id: str) -> Any:
    scope_meeting(ctx, meeting_id)
    return ctx.rpc("boards", "accept_agenda_item", meeting_id, item_id)


@api.route(
    "/meetings/<meeting_id>/items/<item_id>/refuse",
    ("POST",),
    action="boards.meetings.manage",
    body=RefusalInput,
    response=MeetingSchema,
    tags=TAGS,
    summary="Refuse a proposed agenda item, with the reason its proposer reads",
)
def refuse_agenda_item(ctx: Context, meeting_id: str, item_id: str) -> Any:
    scope_meeting(ctx, meeting_id)
    reason = ctx.body["reason"]
    return ctx.rpc("boards", "refuse_agenda_item", meeting_id, item_id, reason)


@api.route(
    "/meetings/<meeting_id>/agenda/order",
    ("POST",),
    action="boards.meetings.manage",
    body=OrderInput,
    response=MeetingSchema,
    tags=TAGS,
    summary="Reorder a meeting's agenda (every item once)",
)
def reorder_agenda(ctx: Context, meeting_id: str) -> Any:
    scope_meeting(ctx, meeting_id)
    return ctx.rpc("boards", "reorder_agenda", meeting_id, ctx.body["order"])


def _item_step(method: str, verb: str, summary: str) -> None:
    def handler(ctx: Context, meeting_id: str, item_id: str) -> Any:
        scope_meeting(ctx, meeting_id)
        return ctx.rpc("boards", method, meeting_id, item_id)

    handler.__name__ = method
    api.route(
        f"/meetings/<meeting_id>/items/<item_id>/{verb}",
        ("POST",),
        action="boards.meetings.manage",
        response=MeetingSchema,
        tags=TAGS,
        summary=summary,
    )(handler)


_item_step("open_item", "open", "Take up an agenda item (one at a time)")
_item_step("close_item", "close", "Be done with an agenda item")


# base64 makes 4 bytes of 3; the JSON around it is small
DOCUMENT_BODY = MAX_DOCUMENT_BYTES * 4 // 3 + 64 * 1024


@api.route(
    "/meetings/<meeting_id>/documents",
    ("POST",),
    action="boards.meetings.manage",
    body=DocumentInput,
    response=DocumentSchema,
    status=201,
    tags=TAGS,
    max_body=DOCUMENT_BODY,
    summary="Attach a document to an agenda item or to the minutes",
    description="``data`` is the file in base64; the type is read from the content "
    "(PDF, images, office documents) and the name must agree with it; at most "
    f"{MAX_DOCUMENT_BYTES // (1024 * 1024)} MB. Without ``item_id`` the file is "
    "attached to the minutes. The bytes are kept in the store (GridFS).",
)
def attach_document(ctx: Context, meeting_id: str) -> Any:
    scope_meeting(ctx, meeting_id)
    body = _raw(ctx)
    # the audit keeps what was attached, not the file itself
    audit.record_request(
        ctx,
        {
            "filename": ctx.body["filename"],
            "item_id": ctx.body.get("item_id"),
            "data_length": len(ctx.body["data"]),
        },
    )
    return ctx.rpc("boards", "attach_document", meeting_id, body)


@api.route(
    "/meetings/<meeting_id>/documents",
    action="boards.read",
    tags=TAGS,
    summary="A meeting's documents (for its audience)",
    description="Board insiders of the board's MRC see every document; other "
    "readers those of public items of public meetings and adopted minutes.",
)
def list_documents(ctx: Context, meeting_id: str) -> Any:
    public = not meeting_closed_view(ctx, meeting_id)
    return {"items": ctx.rpc("boards", "list_documents", meeting_id, public=public)}


def document_response(document: dict[str, Any], public: bool) -> Response:
    """The file as a download: its checked type, never sniffed by the browser."""
    response = Response(
        base64.b64decode(document["data"]), mimetype=document["content_type"]
    )
    name = document["filename"]
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-cache" if public else "private, no-store"
    return response


@api.route(
    "/meetings/<meeting_id>/documents/<document_id>",
    action="boards.read",
    tags=TAGS,
    summary="Download a document (404 outside its audience)",
)
def get_document(ctx: Context, meeting_id: str, document_id: str) -> Any:
    public = not meeting_closed_view(ctx, meeting_id)
    document = ctx.rpc("boards", "get_document", meeting_id, document_id, public=public)
    if not isinstance(document, dict) or "data" not in document:
        raise NotFound("document", document_id)  # an answer without the file
    return document_response(document, public)


def _meeting_step(method: str, summary: str) -> None:
    def handler(ctx: Context, meeting_id: str) -> Any:
        scope_meeting(ctx, meeting_id)
        return ctx.rpc("boards", method, meeting_id)

    handler.__name__ = method
    api.route(
        f"/meetings/<meeting_id>/{method.split('_')[0]}",
        ("POST",),
        action="boards.meetings.manage",
        tags=TAGS,
        summary=summary,
    )(handler)


_meeting_step("open_meeting", "Open a meeting")
_meeting_step("adjourn_meeting", "Adjourn a meeting")
_meeting_step("cancel_meeting", "Cancel a meeting")


@api.route(
    "/meetings/<meeting_id>/attendance",
    ("POST",),
    action="boards.meetings.manage",
    body=AttendanceInput,
    tags=TAGS,
    summary="Record an arrival or a departure",
)
def record_attendance(ctx: Context, meeting_id: str) -> Any:
    scope_meeting(ctx, meeting_id)
    present = ctx.rpc(
        "boards",
        "record_attendance",
        meeting_id,
        ctx.body["member_id"],
        ctx.body["present"],
    )
    return {"present": present}


@api.route(
    "/meetings/<meeting_id>/conflicts",
    ("POST",),
    action="boards.conflicts.declare",
    body=ConflictInput,
    tags=TAGS,
    summary="Declare a conflict of interest on an item (recusal)",
)
def declare_conflict(ctx: Context, meeting_id: str) -> Any:
    own_member(ctx, ctx.body["member_id"])
    scope_meeting(ctx, meeting_id)
    b = ctx.body
    return ctx.rpc(
        "boards",
        "declare_conflict",
        meeting_id,
        b["member_id"],
        b["item_id"],
        b["reason"],
    )


@api.route(
    "/meetings/<meeting_id>/motions",
    ("POST",),
    action="boards.motions.move",
    body=MotionInput,
    status=201,
    tags=TAGS,
    summary="Move a motion on an agenda item",
)
def move(ctx: Context, meeting_id: str) -> Any:
    own_member(ctx, ctx.body["moved_by"])
    if ctx.body.get("seconded_by") is not None:
        raise Forbidden(
            "Le proposeur ne nomme pas d'appuyeur : l'appuyeur appuie lui-même "
            "(POST …/motions/<motion_id>/second).",
            "A mover may not name a seconder: the seconder seconds for themself "
            "(POST …/motions/<motion_id>/second).",
            details={"field": "seconded_by"},
        )
    scope_meeting(ctx, meeting_id)
    return ctx.rpc("boards", "move", meeting_id, _raw(ctx))


@api.route(
    "/meetings/<meeting_id>/motions/<motion_id>/second",
    ("POST",),
    action="boards.motions.second",
    body=SecondInput,
    tags=TAGS,
    summary="Second a motion moved without a seconder (in one's own name)",
)
def second(ctx: Context, meeting_id: str, motion_id: str) -> Any:
    member_id = ctx.body.get("member_id") or user(ctx).get("member_id")
    if not member_id:
        raise Invalid(
            {
                "member_id": [
                    "Requis : votre compte n'est lié à aucun membre. / "
                    "Required: your account is linked to no member."
                ]
            }
        )
    own_member(ctx, member_id)
    scope_meeting(ctx, meeting_id)
    return ctx.rpc("boards", "second", meeting_id, motion_id, member_id)


@api.route(
    "/meetings/<meeting_id>/votes",
    ("POST",),
    action="boards.motions.vote",
    body=VoteInput,
    tags=TAGS,
    summary="Vote on an open motion",
)
def vote(ctx: Context, meeting_id: str) -> Any:
    own_member(ctx, ctx.body["member_id"])
    scope_meeting(ctx, meeting_id)
    return ctx.rpc("boards", "vote", meeting_id, _raw(ctx))


@api.route(
    "/meetings/<meeting_id>/motions/<motion_id>/close",
    ("POST",),
    action="boards.motions.close",
    tags=TAGS,
    summary="Close the vote on a motion (adopted motions become resolutions)",
)
def close_vote(ctx: Context, meeting_id: str, motion_id: str) -> Any:
    scope_meeting(ctx, meeting_id)
    return ctx.rpc("boards", "close_vote", meeting_id, motion_id)


@api.route(
    "/meetings/<meeting_id>/motions/<motion_id>/withdraw",
    ("POST",),
    action="boards.motions.close",
    tags=TAGS,
    summary="Withdraw a motion",
)
def withdraw_motion(ctx: Context, meeting_id: str, motion_id: str) -> Any:
    scope_meeting(ctx, meeting_id)
    return ctx.rpc("boards", "withdraw_motion", meeting_id, motion_id)


@api.route(
    "/meetings/<meeting_id>/minutes",
    ("PUT",),
    action="boards.minutes.manage",
    body=MinutesInput,
    tags=TAGS,
    summary="Draft (or redraft) a meeting's minutes",
)
def draft_minutes(ctx: Context, meeting_id: str) -> Any:
    scope_meeting(ctx, meeting_id)
    return ctx.rpc("boards", "draft_minutes", meeting_id, ctx.body["text"])


@api.route(
    "/meetings/<meeting_id>/minutes/adopt",
    ("POST",),
    action="boards.minutes.manage",
    body=AdoptInput,
    tags=TAGS,
    summary="Adopt a meeting's minutes at a later meeting",
)
def adopt_minutes(ctx: Context, meeting_id: str) -> Any:
    scope_meeting(ctx, meeting_id)
    at = ctx.body["at_meeting_id"]
    return ctx.rpc("boards", "adopt_minutes", meeting_id, at)


@api.route(
    "/resolutions/<resolution_id>/follow-up",
    ("POST",),
    action="boards.follow_up",
    body=FollowUpInput,
    response=(ResolutionSchema, PublicResolutionSchema),
    tags=TAGS,
    summary="Record progress on a resolution",
    description="Board insiders (boards.read_closed, in the board's MRC) get the whole resolution "
    "back; other callers (practitioners) its entry in the public register, and "
    "404 for a resolution adopted in a closed session or in camera, as for a "
    "missing one (nothing is recorded).",
)
def follow_up(ctx: Context, resolution_id: str) -> Any:
    """Outside the board, the caller sees what ``GET /resolutions/<id>`` shows."""
    public = not resolution_closed_view(ctx, resolution_id)
    if public:
        # before the MRC scope check, whose 403 would tell a closed-session
        # resolution from a missing one
        ctx.rpc("boards", "get_resolution", resolution_id, public=True)
    resolution = ctx.rpc("boards", "get_resolution", resolution_id)
    scope_board(ctx, resolution["board_id"])
    audit.record_before(ctx, resolution)
    return ctx.rpc("boards", "follow_up", resolution_id, _raw(ctx), public=public)


# --- indicators the board watches ------------------------------------------------


@api.route(
    "/boards/<board_id>/watched-indicators",
    ("POST",),
    action="boards.indicators.manage",
    body=WatchInput,
    status=201,
    tags=TAGS,
    summary="Watch an indicator: crossing the threshold proposes an agenda item",
)
def watch_indicator(ctx: Context, board_id: str) -> Any:
    scope_board(ctx, board_id)
    return ctx.rpc("boards", "watch_indicator", board_id, _raw(ctx))


@api.route(
    "/boards/<board_id>/watched-indicators/<indicator_id>",
    ("DELETE",),
    action="boards.indicators.manage",
    tags=TAGS,
    summary="Stop watching an indicator",
)
def unwatch_indicator(ctx: Context, board_id: str, indicator_id: str) -> Any:
    scope_board(ctx, board_id)
    ctx.rpc("boards", "unwatch_indicator", board_id, indicator_id)
    return {"board_id": board_id, "indicator_id": indicator_id, "watched": False}


@api.route(
    "/boards/<board_id>/indicator-values",
    ("POST",),
    action="boards.indicators.manage",
    body=IndicatorValueInput,
    tags=TAGS,
    summary="Consider a new indicator value (an agenda item if a threshold is crossed)",
)
def consider_indicator(ctx: Context, board_id: str) -> Any:
    scope_board(ctx, board_id)
    item = ctx.rpc("boards", "consider_indicator", board_id, _raw(ctx))
    return {"item": item}


# --- deliberation under the procedure (Code Morin) ---------------------------------
# One record per agenda item: ``/meetings/<meeting_id>/items/<item_id>/procedure``.
# Seat holders move, second, ask for the floor, raise points, appeal and vote in
# their own name (``member_id`` is theirs); the secretary records what the chair
# does (gives the floor, calls and counts votes, rules). Same permission table
# and MRC scope as the motion routes. Every write answers
# ``{"procedure": {...}, "effects": ["vote_closed", "main_adopted"],
# "resolution": {...} | null}``; an example session:
#
#     POST .../procedure/main-motion  {"member_id": "ada", "text": "Accorder ..."}
#     POST .../procedure/second       {"member_id": "bob"}
#     POST .../procedure/amendments   {"member_id": "cy", "target_id": "q1",
#                                      "change": {"op": "replace", "start": 9,
#                                                 "end": 17, "text": "12 000 $"}}
#     POST .../procedure/vote-calls   {"question_id": "q2"}         (secretary)
#     POST .../procedure/show-of-hands {"for": 5, "against": 2}      (secretary)
#     POST .../procedure/close-vote                                  (secretary)

PROCEDURE = "/meetings/<meeting_id>/items/<item_id>/procedure"


@api.route(
    PROCEDURE,
    action="boards.read",
    tags=TAGS,
    summary="The deliberation on an item: questions pending, speakers, votes, record",
    description="Board insiders (boards.read_closed, in the board's MRC) get the whole "
    "record with member ids; other readers its public view (people by name and role, "
    "who voted in an open ballot left out), and 404 for an item of a closed meeting "
    "or taken in camera, as for an unknown item.",
)
def get_procedure(ctx: Context, meeting_id: str, item_id: str) -> Any:
    public = not meeting_closed_view(ctx, meeting_id)
    return cached(
        ctx, ctx.rpc("boards", "get_procedure", meeting_id, item_id, public=public)
    )


def _member_move(
    suffix: str, method: str, body: type[Schema], action: str, summary: str
) -> None:
    """A move made by a seat holder in their own name (``member_id``)."""

    def handler(ctx: Context, meeting_id: str, item_id: str) -> Any:
        own_member(ctx, ctx.body.get("member_id"))
        scope_meeting(ctx, meeting_id)
        return ctx.rpc("boards", method, meeting_id, item_id, _raw(ctx))

    handler.__name__ = method
    handler.__doc__ = (body.__doc__ or "").strip() or summary
    api.route(
        f"{PROCEDURE}/{suffix}",
        ("POST",),
        action=action,
        body=body,
        tags=TAGS,
        summary=summary,
    )(handler)


def _chair_move(
    suffix: str, method: str, summary: str, body: type[Schema] | None = None
) -> None:
    """What the chair does, recorded by the secretary."""

    def handler(ctx: Context, meeting_id: str, item_id: str) -> Any:
        scope_meeting(ctx, meeting_id)
        if body is None:
            return ctx.rpc("boards", method, meeting_id, item_id)
        return ctx.rpc("boards", method, meeting_id, item_id, _raw(ctx))

    handler.__name__ = method
    api.route(
        f"{PROCEDURE}/{suffix}",
        ("POST",),
        action="boards.motions.close",
        body=body,
        tags=TAGS,
        summary=summary,
    )(handler)


_member_move(
    "main-motion",
    "move_main_motion",
    MainMotionInput,
    "boards.motions.move",
    "Move the main motion on an item (it waits for a seconder)",
)
_member_move(
    "second",
    "second_question",
    MemberMoveInput,
    "boards.motions.second",
    "Second the innermost question (in one's own name)",
)
_member_move(
    "amendments",
    "move_amendment",
    AmendmentInput,
    "boards.motions.move",
    "Move an amendment of the main motion, or a sub-amendment of the amendment",
)
_member_move(
    "procedural-motions",
    "move_procedural_motion",
    ProceduralInput,
    "boards.motions.move",
    "Move a procedural motion (previous question, postpone, refer, adjourn, "
    "reconsider, suspend a rule)",
)
_member_move(
    "withdraw",
    "withdraw_question",
    MemberMoveInput,
    "boards.motions.move",
    "Withdraw one's own innermost question",
)
_member_move(
    "floor-requests",
    "ask_for_floor",
    FloorInput,
    "boards.motions.move",
    "Ask for the floor on the question being debated (or the mover's reply)",
)
_member_move(
    "points",
    "raise_point",
    PointInput,
    "boards.motions.move",
    "Raise a point of order or of privilege (the chair rules)",
)
_member_move(
    "appeals",
    "appeal_ruling",
    MemberMoveInput,
    "boards.motions.move",
    "Appeal the chair's ruling just given (voted by simple majority)",
)
_member_move(
    "votes",
    "cast_procedure_vote",
    ProcedureVoteInput,
    "boards.motions.vote",
    "Vote in a roll call or a secret ballot",
)
_chair_move("lapse", "lapse_question", "The innermost question dies unseconded")
_chair_move("give-floor", "give_floor", "Give the floor to the next speaker")
_chair_move("end-turn", "end_turn", "End the current turn of speech")
_chair_move(
    "vote-calls", "call_vote", "Put the innermost question to the vote", CallVoteInput
)
_chair_move(
    "show-of-hands", "record_show_of_hands", "Record a show of hands", CountInput
)
_chair_move("close-vote", "close_procedure_vote", "Close the vote and tally it")
_chair_move("rulings", "rule_on_point", "Rule on the pending point", RulingInput)


@api.route(
    "/meetings/<meeting_id>/minutes/from-record",
    ("POST",),
    action="boards.minutes.manage",
    tags=TAGS,
    summary="Draft a meeting's minutes from its deliberation record",
)
def draft_minutes_from_record(ctx: Context, meeting_id: str) -> Any:
    scope_meeting(ctx, meeting_id)
    return ctx.rpc("boards", "draft_minutes_from_record", meeting_id)
