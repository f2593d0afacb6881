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
)
from services.boards.exceptions import BoardsError

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

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Charter:
        return _build(
            Charter,
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

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> AgendaItem:
        data["source"] = ItemSource(data["source"])
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
