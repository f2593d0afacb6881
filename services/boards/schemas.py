"""marshmallow schemas: RPC payloads in and out, and the stored documents.

Each schema loads into the domain's dataclasses (``post_load``) and dumps them
back to JSON-friendly dicts. The same dump is what the store keeps (the
repository adds ``_id`` and ``version``) and what the secretary's RPC returns;
the public register is built separately from an allow-list
(:func:`services.boards.domain.public_register`).

Example meeting payload for ``schedule_meeting``::

    {"meeting_id": "m-2026-12", "kind": "public",
     "scheduled_at": "2026-12-14T23:30:00+00:00", "place": "Salle du conseil"}
"""

from __future__ import annotations

from datetime import UTC
from fractions import Fraction
from typing import Any

from marshmallow import (
    EXCLUDE,
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
)

from services.boards.domain import (
    AgendaItem,
    Appointment,
    Board,
    CastingVote,
    Charter,
    Choice,
    DecisionStatus,
    Discussion,
    Document,
    FollowUpUpdate,
    IndicatorWatch,
    ItemSource,
    MajorityRule,
    Meeting,
    MeetingKind,
    MeetingStatus,
    Member,
    Motion,
    MotionStatus,
    Office,
    QuorumRule,
    Resolution,
    SeatGroup,
    Vote,
    procedure_config,
)
from services.boards.exceptions import BoardsError
from services.boards.procedure import (
    AdoptedChange,
    Ballot,
    Change,
    ItemStatus,
    Kind,
    Method,
    Op,
    Point,
    ProcedureState,
    QStatus,
    Question,
    Ruling,
    Turn,
)

ID = validate.Length(min=1, max=120)


def _choice(enum: Any) -> validate.OneOf:
    return validate.OneOf([e.value for e in enum])


class FractionField(fields.Field):
    """A share written ``"1/2"``, ``"2/3"`` or ``0.5``; dumped as ``"1/2"``."""

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else f"{value.numerator}/{value.denominator}"

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        try:
            if isinstance(value, bool):
                raise ValueError
            share = Fraction(str(value)).limit_denominator(1000)
        except (ValueError, ZeroDivisionError):
            raise ValidationError(
                'fraction attendue, p. ex. « 1/2 » / a fraction expected, e.g. "1/2"'
            ) from None
        return share


class Base(Schema):
    class Meta:
        unknown = RAISE


def _build(factory: Any, *args: Any, **kwargs: Any) -> Any:
    """Build a domain object; its refusal becomes a field error of this schema.

    So that any reader of these schemas (the gateway validates bodies with
    them) sees a ``ValidationError`` naming the field, never a domain type.
    """
    try:
        return factory(*args, **kwargs)
    except BoardsError as exc:
        raise ValidationError(str(exc), field_name=exc.field or "_schema") from exc


class SeatGroupSchema(Base):
    constituency = fields.String(required=True)
    seats = fields.Integer(required=True, strict=True)
    term_months = fields.Integer(load_default=24, strict=True)
    label = fields.String(load_default="")

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> SeatGroup:
        return _build(SeatGroup, **data)


class QuorumSchema(Base):
    share = FractionField(load_default=Fraction(1, 2))
    strictly_more = fields.Boolean(load_default=True)
    min_present = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(strict=True),
        load_default=dict,
    )

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> QuorumRule:
        return _build(QuorumRule, **data)


class ProcedureField(fields.Field):
    """The charter's ``procedure`` variants: a mapping in, :class:`ProcedureConfig`
    dumped back as a mapping (every variant, defaults included)."""

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        return value.as_dict() if value is not None else None

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, dict):
            raise ValidationError(
                'objet attendu, p. ex. {"code": "morin"} / an object expected, '
                'e.g. {"code": "morin"}'
            )
        return dict(value)


class CharterSchema(Base):
    board_id = fields.String(required=True, validate=ID)
    name = fields.String(required=True, validate=validate.Length(min=1, max=300))
    seat_groups = fields.List(
        fields.Nested(SeatGroupSchema), required=True, validate=validate.Length(min=1)
    )
    quorum = fields.Nested(QuorumSchema, load_default=QuorumRule)
    default_majority = fields.String(
        load_default=MajorityRule.SIMPLE.value, validate=_choice(MajorityRule)
    )
    # "chair": the chair's vote breaks a tie under simple majority (voix
    # prépondérante); "none" (the default): a tie defeats the motion.
    casting_vote = fields.String(
        load_default=CastingVote.NONE.value,
        validate=validate.OneOf(
            [c.value for c in CastingVote],
            error="« {input} » inconnu : « none » (égalité = rejet) ou « chair » "
            "(voix prépondérante de la présidence) attendu / "
            '"{input}" is unknown: "none" (a tie defeats the motion) or "chair" '
            "(the chair's casting vote) expected",
        ),
    )

    # the deliberative procedure and its variants (see domain.ProcedureConfig)
    procedure = ProcedureField(load_default=dict)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Charter:
        return _build(
            Charter,
            procedure=_build(procedure_config, data["procedure"]),
            board_id=data["board_id"],
            name=data["name"],
            seat_groups=tuple(data["seat_groups"]),
            quorum=data["quorum"],
            default_majority=MajorityRule(data["default_majority"]),
            casting_vote=CastingVote(data["casting_vote"]),
        )


class MemberSchema(Base):
    member_id = fields.String(required=True, validate=ID)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.String(load_default="")
    phone = fields.String(load_default="")

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Member:
        return Member(**data)


class AppointmentSchema(Base):
    seat_id = fields.String(required=True, validate=ID)
    member_id = fields.String(required=True, validate=ID)
    start = fields.Date(required=True)
    end = fields.Date(required=True)
    office = fields.String(load_default=Office.MEMBER.value, validate=_choice(Office))
    ended_on = fields.Date(allow_none=True, load_default=None)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Appointment:
        data["office"] = Office(data["office"])
        return Appointment(**data)


class AgendaItemSchema(Base):
    item_id = fields.String(required=True, validate=ID)
    title = fields.String(required=True, validate=validate.Length(min=1, max=500))
    source = fields.String(
        load_default=ItemSource.SECRETARY.value, validate=_choice(ItemSource)
    )
    proposed_by = fields.String(allow_none=True, load_default=None)
    process_id = fields.String(allow_none=True, load_default=None)
    proposal_id = fields.String(allow_none=True, load_default=None)
    rank = fields.Integer(allow_none=True, load_default=None)
    indicator_id = fields.String(allow_none=True, load_default=None)
    in_camera = fields.Boolean(load_default=False)
    proposed = fields.Boolean(load_default=False)
    definition = fields.Dict(allow_none=True, load_default=None)
    discussion = fields.String(
        load_default=Discussion.WAITING.value, validate=_choice(Discussion)
    )
    refusal = fields.String(allow_none=True, load_default=None)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> AgendaItem:
        data["source"] = ItemSource(data["source"])
        data["discussion"] = Discussion(data["discussion"])
        return AgendaItem(**data)


class IndicatorWatchSchema(Base):
    indicator_id = fields.String(required=True, validate=ID)
    threshold = fields.Float(required=True, allow_nan=False)
    above = fields.Boolean(load_default=True)
    title = fields.String(load_default="", validate=validate.Length(max=300))

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> IndicatorWatch:
        return IndicatorWatch(**data)


class IndicatorValueInput(Base):
    indicator_id = fields.String(required=True, validate=ID)
    period = fields.String(required=True, validate=validate.Length(min=1, max=40))
    value = fields.Float(required=True, allow_nan=False)
    previous = fields.Float(allow_none=True, load_default=None, allow_nan=False)


class BoardSchema(Base):
    """The stored board: charter, people, appointments, items waiting."""

    charter = fields.Nested(CharterSchema, required=True)
    members = fields.Method("_dump_members", deserialize="_load_members")
    appointments = fields.List(fields.Nested(AppointmentSchema), load_default=list)
    pending_items = fields.List(fields.Nested(AgendaItemSchema), load_default=list)
    resolution_seq = fields.Integer(load_default=0)
    placed_sources = fields.Method("_dump_placed", deserialize="_load_placed")
    watches = fields.Method("_dump_watches", deserialize="_load_watches")

    def _dump_watches(self, board: Board) -> list[dict[str, Any]]:
        return IndicatorWatchSchema(many=True).dump(list(board.watches.values()))

    def _load_watches(self, value: Any) -> dict[str, IndicatorWatch]:
        watches = IndicatorWatchSchema(many=True).load(value)
        return {w.indicator_id: w for w in watches}

    def _dump_placed(self, board: Board) -> list[str]:
        return sorted(board.placed_sources)

    def _load_placed(self, value: Any) -> set[str]:
        return set(fields.List(fields.String()).deserialize(value))

    def _dump_members(self, board: Board) -> list[dict[str, Any]]:
        return MemberSchema(many=True).dump(list(board.members.values()))

    def _load_members(self, value: Any) -> dict[str, Member]:
        members = MemberSchema(many=True).load(value)
        return {m.member_id: m for m in members}

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Board:
        data.setdefault("members", {})
        data.setdefault("placed_sources", set())
        data.setdefault("watches", {})
        return Board(**data)


class VoteSchema(Base):
    member_id = fields.String(required=True, validate=ID)
    choice = fields.String(required=True, validate=_choice(Choice))
    objection = fields.String(load_default="")

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Vote:
        return Vote(data["member_id"], Choice(data["choice"]), data["objection"])


class MotionSchema(Base):
    motion_id = fields.String(required=True, validate=ID)
    item_id = fields.String(required=True, validate=ID)
    text = fields.String(required=True)
    moved_by = fields.String(required=True)
    seconded_by = fields.String(allow_none=True, load_default=None)
    rule = fields.String(required=True, validate=_choice(MajorityRule))
    votes = fields.Method("_dump_votes", deserialize="_load_votes")
    status = fields.String(
        load_default=MotionStatus.OPEN.value, validate=_choice(MotionStatus)
    )
    resolution_id = fields.String(allow_none=True, load_default=None)
    decided_by_casting_vote = fields.Boolean(load_default=False)

    def _dump_votes(self, motion: Motion) -> list[dict[str, Any]]:
        return VoteSchema(many=True).dump(list(motion.votes.values()))

    def _load_votes(self, value: Any) -> dict[str, Vote]:
        return {v.member_id: v for v in VoteSchema(many=True).load(value)}

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Motion:
        data.setdefault("votes", {})
        data["rule"] = MajorityRule(data["rule"])
        data["status"] = MotionStatus(data["status"])
        return Motion(**data)


class ConflictSchema(Base):
    item_id = fields.String(required=True)
    member_id = fields.String(required=True)
    reason = fields.String(load_default="")


class DocumentSchema(Base):
    """What a meeting keeps of an attached file (its bytes are in GridFS)."""

    document_id = fields.String(required=True, validate=ID)
    file_id = fields.String(required=True)
    filename = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    attached_at = fields.AwareDateTime(required=True, default_timezone=UTC)
    item_id = fields.String(allow_none=True, load_default=None)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Document:
        return Document(**data)


class DocumentInput(Base):
    """``{"filename": "budget.pdf", "data": "<base64>", "item_id": "i1"}``;
    without ``item_id`` the file is attached to the minutes."""

    filename = fields.String(required=True, validate=validate.Length(min=1, max=200))
    data = fields.String(required=True, validate=validate.Length(min=1))
    item_id = fields.String(allow_none=True, load_default=None, validate=ID)


class MeetingSchema(Base):
    meeting_id = fields.String(required=True, validate=ID)
    board_id = fields.String(required=True, validate=ID)
    kind = fields.String(required=True, validate=_choice(MeetingKind))
    scheduled_at = fields.AwareDateTime(required=True, default_timezone=UTC)
    place = fields.String(required=True, validate=validate.Length(min=1, max=300))
    status = fields.String(
        load_default=MeetingStatus.SCHEDULED.value, validate=_choice(MeetingStatus)
    )
    agenda = fields.List(fields.Nested(AgendaItemSchema), load_default=list)
    present = fields.Method("_dump_present", deserialize="_load_present")
    conflicts = fields.Method("_dump_conflicts", deserialize="_load_conflicts")
    motions = fields.List(fields.Nested(MotionSchema), load_default=list)
    minutes = fields.String(allow_none=True, load_default=None)
    minutes_adopted_at = fields.String(allow_none=True, load_default=None)
    refused = fields.List(fields.Nested(AgendaItemSchema), load_default=list)
    documents = fields.List(fields.Nested(DocumentSchema), load_default=list)

    def _dump_present(self, meeting: Meeting) -> list[str]:
        return sorted(meeting.present)

    def _load_present(self, value: Any) -> set[str]:
        return set(fields.List(fields.String()).deserialize(value))

    def _dump_conflicts(self, meeting: Meeting) -> list[dict[str, str]]:
        return [
            {"item_id": item_id, "member_id": member_id, "reason": reason}
            for item_id, by_member in sorted(meeting.conflicts.items())
            for member_id, reason in sorted(by_member.items())
        ]

    def _load_conflicts(self, value: Any) -> dict[str, dict[str, str]]:
        conflicts: dict[str, dict[str, str]] = {}
        for row in ConflictSchema(many=True).load(value):
            conflicts.setdefault(row["item_id"], {})[row["member_id"]] = row["reason"]
        return conflicts

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Meeting:
        data.setdefault("present", set())
        data.setdefault("conflicts", {})
        data["kind"] = MeetingKind(data["kind"])
        data["status"] = MeetingStatus(data["status"])
        return Meeting(**data)


class FollowUpUpdateSchema(Base):
    on = fields.Date(required=True)
    status = fields.String(required=True, validate=_choice(DecisionStatus))
    progress = fields.Integer(required=True)
    note = fields.String(load_default="")

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> FollowUpUpdate:
        data["status"] = DecisionStatus(data["status"])
        return FollowUpUpdate(**data)


class ObjectionSchema(Base):
    member_id = fields.String(required=True)
    objection = fields.String(required=True)


class ResolutionSchema(Base):
    resolution_id = fields.String(required=True)
    number = fields.String(required=True)
    board_id = fields.String(required=True)
    meeting_id = fields.String(required=True)
    item_id = fields.String(required=True)
    motion_id = fields.String(required=True)
    title = fields.String(required=True)
    text = fields.String(required=True)
    adopted_on = fields.Date(required=True)
    closed_session = fields.Boolean(required=True)
    rule = fields.String(required=True, validate=_choice(MajorityRule))
    votes_for = fields.Integer(required=True)
    votes_against = fields.Integer(required=True)
    abstentions = fields.Integer(required=True)
    decided_by_casting_vote = fields.Boolean(load_default=False)
    moved_by = fields.String(required=True)
    seconded_by = fields.String(required=True)
    objections = fields.Method("_dump_objections", deserialize="_load_objections")
    process_id = fields.String(allow_none=True, load_default=None)
    responsible = fields.String(allow_none=True, load_default=None)
    status = fields.String(
        load_default=DecisionStatus.PLANNED.value, validate=_choice(DecisionStatus)
    )
    progress = fields.Integer(load_default=0)
    due = fields.Date(allow_none=True, load_default=None)
    updates = fields.List(fields.Nested(FollowUpUpdateSchema), load_default=list)
    history = fields.Dict(allow_none=True, load_default=None)
    definition = fields.Dict(allow_none=True, load_default=None)

    def _dump_objections(self, res: Resolution) -> list[dict[str, str]]:
        return [{"member_id": m, "objection": text} for m, text in res.objections]

    def _load_objections(self, value: Any) -> list[tuple[str, str]]:
        rows = ObjectionSchema(many=True).load(value)
        return [(row["member_id"], row["objection"]) for row in rows]

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Resolution:
        data.setdefault("objections", [])
        data["rule"] = MajorityRule(data["rule"])
        data["status"] = DecisionStatus(data["status"])
        return Resolution(**data)


# --- what readers outside the board get -----------------------------------------
# The domain builds these views from allow-lists (``public_meeting``,
# ``public_resolution``); the schemas describe them for ``/openapi.json``, and the
# tests load the domain's output with them so the two cannot drift.


class PublicPersonSchema(Base):
    """Someone on the board as the public sees them: name and role, never an id."""

    name = fields.String(required=True)
    role = fields.String(required=True)


class PublicAgendaItemSchema(Base):
    title = fields.String(required=True)
    source = fields.String(required=True, validate=_choice(ItemSource))
    proposed_by = fields.Nested(PublicPersonSchema, required=True, allow_none=True)
    participation_process = fields.String(required=True, allow_none=True)
    rank = fields.Integer(required=True, allow_none=True)


class PublicMeetingSchema(Base):
    """A meeting outside the board; a closed one has only the first four fields."""

    meeting_id = fields.String(required=True)
    kind = fields.String(required=True, validate=_choice(MeetingKind))
    date = fields.AwareDateTime(required=True)
    status = fields.String(required=True, validate=_choice(MeetingStatus))
    place = fields.String()
    agenda = fields.List(fields.Nested(PublicAgendaItemSchema))
    minutes = fields.String(allow_none=True)


class PublicVotesSchema(Base):
    votes_for = fields.Integer(required=True, data_key="for")
    votes_against = fields.Integer(required=True, data_key="against")
    abstain = fields.Integer(required=True)


class PublicObjectionSchema(PublicPersonSchema):
    objection = fields.String(required=True)


class PublicUpdateSchema(Base):
    on = fields.Date(required=True)
    status = fields.String(required=True, validate=_choice(DecisionStatus))
    progress = fields.Integer(required=True)
    note = fields.String(required=True)


class PublicFollowUpSchema(Base):
    responsible = fields.String(required=True, allow_none=True)
    status = fields.String(required=True, validate=_choice(DecisionStatus))
    progress = fields.Integer(required=True)
    due = fields.Date(required=True, allow_none=True)
    overdue = fields.Boolean(required=True)
    updates = fields.List(fields.Nested(PublicUpdateSchema), required=True)


class PublicResolutionSchema(Base):
    """A resolution as the public register shows it (never one adopted in camera)."""

    number = fields.String(required=True)
    title = fields.String(required=True)
    text = fields.String(required=True)
    adopted_on = fields.Date(required=True)
    majority_rule = fields.String(required=True, validate=_choice(MajorityRule))
    votes = fields.Nested(PublicVotesSchema, required=True)
    decided_by_casting_vote = fields.Boolean(required=True)
    moved_by = fields.Nested(PublicPersonSchema, required=True)
    seconded_by = fields.Nested(PublicPersonSchema, required=True)
    objections = fields.List(fields.Nested(PublicObjectionSchema), required=True)
    participation_process = fields.String(required=True, allow_none=True)
    # how the text came to be (moved text, each amendment and sub-amendment with
    # its change, result, votes and people by name and role); null when the
    # motion was voted without the procedure
    history = fields.Dict(required=True, allow_none=True)
    follow_up = fields.Nested(PublicFollowUpSchema, required=True)


# --- RPC inputs that are not whole documents ----------------------------------------


class AppointInput(Base):
    seat_id = fields.String(required=True, validate=ID)
    member = fields.Nested(MemberSchema, required=True)
    start = fields.Date(required=True)
    end = fields.Date(allow_none=True, load_default=None)
    office = fields.String(load_default=Office.MEMBER.value, validate=_choice(Office))


class EndTermInput(Base):
    seat_id = fields.String(required=True, validate=ID)
    last_day = fields.Date(required=True)


class ScheduleInput(Base):
    meeting_id = fields.String(required=True, validate=ID)
    kind = fields.String(required=True, validate=_choice(MeetingKind))
    scheduled_at = fields.AwareDateTime(required=True, default_timezone=UTC)
    place = fields.String(required=True, validate=validate.Length(min=1, max=300))


class MotionInput(Base):
    item_id = fields.String(required=True, validate=ID)
    text = fields.String(required=True, validate=validate.Length(min=1, max=10000))
    moved_by = fields.String(required=True, validate=ID)
    seconded_by = fields.String(allow_none=True, load_default=None, validate=ID)
    rule = fields.String(
        allow_none=True, load_default=None, validate=_choice(MajorityRule)
    )
    motion_id = fields.String(allow_none=True, load_default=None, validate=ID)


class VoteInput(Base):
    motion_id = fields.String(required=True, validate=ID)
    member_id = fields.String(required=True, validate=ID)
    choice = fields.String(required=True, validate=_choice(Choice))
    objection = fields.String(load_default="", validate=validate.Length(max=2000))


class FollowUpInput(Base):
    on = fields.Date(required=True)
    status = fields.String(
        allow_none=True, load_default=None, validate=_choice(DecisionStatus)
    )
    progress = fields.Integer(allow_none=True, load_default=None, strict=True)
    note = fields.String(load_default="", validate=validate.Length(max=5000))
    responsible = fields.String(allow_none=True, load_default=None)
    due = fields.Date(allow_none=True, load_default=None)


class PriorityPayload(Schema):
    class Meta:
        unknown = EXCLUDE

    rank = fields.Integer(required=True, validate=validate.Range(min=1))
    proposal_id = fields.String(required=True, validate=ID)
    title = fields.String(load_default="", validate=validate.Length(max=500))


class ResultsPublishedPayload(Schema):
    """``participation.results_published``; unknown keys are tolerated (``EXCLUDE``)

    so that participation may add fields (``mrc_code``, ``method``, ``ballots``)
    without breaking this reader. ``title`` (of the process, and of each
    priority) may be missing or empty: the items then name the process and
    proposal ids.
    """

    class Meta:
        unknown = EXCLUDE

    process_id = fields.String(required=True, validate=ID)
    title = fields.String(load_default="", validate=validate.Length(max=500))
    priorities = fields.List(fields.Nested(PriorityPayload), required=True)


# --- deliberation (services.boards.procedure) ----------------------------------------
# The stored state of one item's deliberation, dumped as members and the
# secretary read it, and the inputs of each move.


class ChangeSchema(Base):
    """``{"op": "replace", "start": 9, "end": 17, "text": "12 000 $"}``"""

    op = fields.String(required=True, validate=_choice(Op))
    start = fields.Integer(load_default=0, strict=True)
    end = fields.Integer(load_default=0, strict=True)
    text = fields.String(load_default="", validate=validate.Length(max=10000))

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Change:
        return Change(Op(data["op"]), data["start"], data["end"], data["text"])


class TurnSchema(Base):
    member_id = fields.String(required=True)
    reply = fields.Boolean(load_default=False)
    started_at = fields.AwareDateTime(allow_none=True, load_default=None)
    ends_at = fields.AwareDateTime(allow_none=True, load_default=None)
    ended_at = fields.AwareDateTime(allow_none=True, load_default=None)
    overran = fields.Boolean(dump_only=True)

    @pre_load
    def _derived(self, data: Any, **_: Any) -> Any:
        # ``overran`` is computed from the times: shown, never stored
        if isinstance(data, dict):
            data = {k: v for k, v in data.items() if k != "overran"}
        return data

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Turn:
        return Turn(**data)


class WaitingSchema(Base):
    member_id = fields.String(required=True)
    reply = fields.Boolean(required=True)


class QuestionSchema(Base):
    question_id = fields.String(required=True)
    kind = fields.String(required=True, validate=_choice(Kind))
    moved_by = fields.String(required=True)
    seconded_by = fields.String(allow_none=True, load_default=None)
    text = fields.String(load_default="")
    change = fields.Nested(ChangeSchema, allow_none=True, load_default=None)
    moved_change = fields.Nested(ChangeSchema, allow_none=True, load_default=None)
    target_id = fields.String(allow_none=True, load_default=None)
    rule = fields.String(load_default="simple", validate=_choice(MajorityRule))
    status = fields.String(load_default="moved", validate=_choice(QStatus))
    until = fields.Date(allow_none=True, load_default=None)
    committee = fields.String(load_default="")
    rule_name = fields.String(load_default="")
    speakers = fields.List(fields.Nested(TurnSchema), load_default=list)
    waiting = fields.Method("_dump_waiting", deserialize="_load_waiting")
    replied = fields.Boolean(load_default=False)

    def _dump_waiting(self, q: Question) -> list[dict[str, Any]]:
        return [{"member_id": m, "reply": r} for m, r in q.waiting]

    def _load_waiting(self, value: Any) -> tuple[tuple[str, bool], ...]:
        rows = WaitingSchema(many=True).load(value)
        return tuple((row["member_id"], row["reply"]) for row in rows)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Question:
        data["kind"] = Kind(data["kind"])
        data["rule"] = MajorityRule(data["rule"])
        data["status"] = QStatus(data["status"])
        data["speakers"] = tuple(data["speakers"])
        data.setdefault("waiting", ())
        return Question(**data)


class ChoiceRowSchema(Base):
    member_id = fields.String(required=True)
    choice = fields.String(required=True, validate=_choice(Choice))


class BallotSchema(Base):
    """One vote; a secret ballot shows counts only (``choices`` stays empty)."""

    question_id = fields.String(required=True)
    method = fields.String(required=True, validate=_choice(Method))
    rule = fields.String(required=True, validate=_choice(MajorityRule))
    requested_by = fields.String(allow_none=True, load_default=None)
    choices = fields.Method("_dump_choices", deserialize="_load_choices")
    voters = fields.List(fields.String(), load_default=list)
    votes_for = fields.Integer(load_default=0)
    votes_against = fields.Integer(load_default=0)
    abstentions = fields.Integer(load_default=0)
    counted = fields.Boolean(load_default=False)
    adopted = fields.Boolean(allow_none=True, load_default=None)
    decided_by_casting_vote = fields.Boolean(load_default=False)

    def _dump_choices(self, b: Ballot) -> list[dict[str, str]]:
        return [{"member_id": m, "choice": c.value} for m, c in b.choices]

    def _load_choices(self, value: Any) -> tuple[tuple[str, Choice], ...]:
        rows = ChoiceRowSchema(many=True).load(value)
        return tuple((row["member_id"], Choice(row["choice"])) for row in rows)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Ballot:
        data["method"] = Method(data["method"])
        data["rule"] = MajorityRule(data["rule"])
        data["voters"] = tuple(data["voters"])
        data.setdefault("choices", ())
        return Ballot(**data)


class PointSchema(Base):
    kind = fields.String(required=True, validate=validate.OneOf(["order", "privilege"]))
    raised_by = fields.String(required=True)
    text = fields.String(load_default="")
    target_id = fields.String(allow_none=True, load_default=None)
    ground = fields.String(load_default="")

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Point:
        return Point(**data)


class RulingSchema(Base):
    ruling_id = fields.String(required=True)
    point = fields.Nested(PointSchema, required=True)
    by = fields.String(required=True)
    well_founded = fields.Boolean(required=True)
    reason = fields.String(load_default="")
    struck = fields.String(allow_none=True, load_default=None)
    appeal_id = fields.String(allow_none=True, load_default=None)
    reversed = fields.Boolean(load_default=False)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Ruling:
        return Ruling(**data)


class AdoptedChangeSchema(Base):
    question_id = fields.String(required=True)
    change = fields.Nested(ChangeSchema, required=True)
    before = fields.String(required=True)
    after = fields.String(required=True)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> AdoptedChange:
        return AdoptedChange(**data)


class JournalSchema(Base):
    kind = fields.String(required=True)
    key = fields.String(required=True)


class ProcedureStateSchema(Base):
    """The deliberation on one item, as stored and as the board reads it.

    Example (abridged)::

        {"item_id": "item-1", "status": "open", "stack": ["q1", "q2"],
         "questions": [{"question_id": "q1", "kind": "main", "moved_by": "ada",
                        "seconded_by": "bob", "text": "Accorder 10 000 $ ...",
                        "status": "open", "speakers": [...], "waiting": [...]},
                       {"question_id": "q2", "kind": "amendment", "target_id": "q1",
                        "change": {"op": "replace", "start": 9, "end": 17,
                                   "text": "12 000 $"}, ...}],
         "ballot": null, "ballots": [], "point": null, "rulings": [],
         "speaking": null, "debate_closed": false, "text": "Accorder ...",
         "changes": [], ...}
    """

    item_id = fields.String(required=True)
    status = fields.String(load_default="open", validate=_choice(ItemStatus))
    questions = fields.List(fields.Nested(QuestionSchema), load_default=list)
    stack = fields.List(fields.String(), load_default=list)
    ballot = fields.Nested(BallotSchema, allow_none=True, load_default=None)
    ballots = fields.List(fields.Nested(BallotSchema), load_default=list)
    point = fields.Nested(PointSchema, allow_none=True, load_default=None)
    rulings = fields.List(fields.Nested(RulingSchema), load_default=list)
    appealable = fields.String(allow_none=True, load_default=None)
    speaking = fields.Nested(TurnSchema, allow_none=True, load_default=None)
    speaking_on = fields.String(allow_none=True, load_default=None)
    debate_closed = fields.Boolean(load_default=False)
    suspended = fields.List(fields.String(), load_default=list)
    main_id = fields.String(allow_none=True, load_default=None)
    moved_text = fields.String(load_default="")
    text = fields.String(load_default="")
    changes = fields.List(fields.Nested(AdoptedChangeSchema), load_default=list)
    postponed_until = fields.Date(allow_none=True, load_default=None)
    committee = fields.String(load_default="")
    seq = fields.Integer(load_default=0)
    journal = fields.Method("_dump_journal", deserialize="_load_journal")

    def _dump_journal(self, state: ProcedureState) -> list[dict[str, str]]:
        return [{"kind": k, "key": v} for k, v in state.journal]

    def _load_journal(self, value: Any) -> tuple[tuple[str, str], ...]:
        return tuple(
            (r["kind"], r["key"]) for r in JournalSchema(many=True).load(value)
        )

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> ProcedureState:
        data["status"] = ItemStatus(data["status"])
        for name in (
            "questions",
            "stack",
            "ballots",
            "rulings",
            "suspended",
            "changes",
        ):
            data[name] = tuple(data[name])
        data.setdefault("journal", ())
        return ProcedureState(**data)


# inputs of the moves (RPC and HTTP bodies); who acts is named by ``member_id``


class MemberMoveInput(Base):
    """``{"member_id": "ada"}``: second, withdraw, appeal."""

    member_id = fields.String(required=True, validate=ID)


class MainMotionInput(Base):
    """``{"member_id": "ada", "text": "Accorder 10 000 $ au Carrefour"}``"""

    member_id = fields.String(required=True, validate=ID)
    text = fields.String(required=True, validate=validate.Length(min=1, max=10000))
    rule = fields.String(
        allow_none=True, load_default=None, validate=_choice(MajorityRule)
    )


class AmendmentInput(Base):
    """``{"member_id": "cy", "target_id": "q1", "change": {"op": "replace",
    "start": 9, "end": 17, "text": "12 000 $"}}``: ``target_id`` the main motion
    (an amendment) or the open amendment (a sub-amendment)."""

    member_id = fields.String(required=True, validate=ID)
    target_id = fields.String(required=True, validate=ID)
    change = fields.Nested(ChangeSchema, required=True)


PROCEDURAL_KINDS = [
    "previous_question",
    "postpone",
    "refer",
    "adjourn",
    "reconsider",
    "suspend_rule",
]


class ProceduralInput(Base):
    """``{"member_id": "fay", "kind": "postpone", "until": "2027-02-01"}``;
    ``committee`` for ``refer``, ``rule_name`` for ``suspend_rule``
    (``speak_once``, ``time_limit``, ``right_of_reply``)."""

    member_id = fields.String(required=True, validate=ID)
    kind = fields.String(required=True, validate=validate.OneOf(PROCEDURAL_KINDS))
    until = fields.Date(allow_none=True, load_default=None)
    committee = fields.String(load_default="", validate=validate.Length(max=300))
    rule_name = fields.String(load_default="", validate=validate.Length(max=60))


class FloorInput(Base):
    """``{"member_id": "cy"}``, or ``{"member_id": "ada", "reply": true}`` for
    the mover's right of reply."""

    member_id = fields.String(required=True, validate=ID)
    reply = fields.Boolean(load_default=False)


class CallVoteInput(Base):
    """``{"question_id": "q3", "method": "show_of_hands"}``; a secret ballot
    names the member who asked for it: ``{"question_id": "q1", "method":
    "secret", "requested_by": "eve"}``."""

    question_id = fields.String(required=True, validate=ID)
    method = fields.String(load_default="show_of_hands", validate=_choice(Method))
    requested_by = fields.String(allow_none=True, load_default=None, validate=ID)


class ProcedureVoteInput(Base):
    """``{"member_id": "ada", "choice": "for"}`` (roll call, secret ballot)."""

    member_id = fields.String(required=True, validate=ID)
    choice = fields.String(required=True, validate=_choice(Choice))


class CountInput(Base):
    """``{"for": 5, "against": 2, "abstain": 0}`` (show of hands)."""

    votes_for = fields.Integer(
        required=True, strict=True, data_key="for", validate=validate.Range(min=0)
    )
    votes_against = fields.Integer(
        required=True, strict=True, data_key="against", validate=validate.Range(min=0)
    )
    abstentions = fields.Integer(
        load_default=0, strict=True, data_key="abstain", validate=validate.Range(min=0)
    )


class PointInput(Base):
    """``{"member_id": "eve", "kind": "order", "text": "L'amendement nie la
    proposition", "target_id": "q2", "ground": "negation"}``"""

    member_id = fields.String(required=True, validate=ID)
    kind = fields.String(
        load_default="order", validate=validate.OneOf(["order", "privilege"])
    )
    text = fields.String(load_default="", validate=validate.Length(max=2000))
    target_id = fields.String(allow_none=True, load_default=None, validate=ID)
    ground = fields.String(load_default="", validate=validate.OneOf(["", "negation"]))


class RulingInput(Base):
    """``{"well_founded": true, "reason": "un amendement ne nie pas"}``"""

    well_founded = fields.Boolean(required=True)
    reason = fields.String(load_default="", validate=validate.Length(max=2000))
