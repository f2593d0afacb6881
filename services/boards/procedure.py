"""Deliberation under the Code Morin: a pure, typed procedure engine.

One :class:`ProcedureState` per agenda item, immutable; every move is an action
and :func:`apply` returns the next state and the effects the service acts on
(a resolution to record, the meeting to adjourn)::

    state = ProcedureState.begin("item-1")
    state, _ = apply(state, MoveMain("ada", "Accorder 10 000 $ au Carrefour"), ctx)
    state, _ = apply(state, Second("bob"), ctx)
    state, _ = apply(state, MoveAmendment("cy", "q1", Change("replace", 9, 17,
                                                             "12 000 $")), ctx)

Whatever the procedure does not allow is refused with :class:`ProcedureRefused`,
naming the rule (``rule``, also the error's ``field``) in French and English.
Who may act (seated, present, not recused) is the meeting's business
(:meth:`services.boards.domain.Meeting.check_voter`); the engine keeps the
order of business. The rules, as the issue states them (no published guide to
the Code Morin was found by the search tools; see ``tests/boards/test_procedure.py``):

- a main motion is moved and seconded before debate (``seconded_before_debate``);
  one at a time on an item (``one_main_motion``);
- while it is open, one amendment at a time (``one_amendment_at_a_time``); while
  an amendment is open, one sub-amendment at a time
  (``one_sub_amendment_at_a_time``); no third level (``no_sub_sub_amendment``);
  an amendment is a concrete text change (:class:`Change`); one that changes
  nothing is refused (``amendment_changes_nothing``); one that simply negates the
  motion is ruled out by the chair on a point of order with
  ``ground="negation"`` (the ruling is recorded, and may be appealed);
- votes in order, the innermost question first: the sub-amendment, then the
  amendment as sub-amended, then the main motion as amended (``vote_order``);
  the adopted text is the moved text with each adopted change applied in order
  (:attr:`ProcedureState.changes`);
- procedural motions (``previous_question``, ``postpone``, ``refer``,
  ``adjourn``, ``reconsider``, ``suspend_rule``) are moved, seconded and voted
  without debate, one at a time (``one_procedural_at_a_time``); the previous
  question, reconsideration and suspension of a rule need two thirds of the
  votes cast; a carried previous question closes debate and the questions are
  then put at once (``debate_closed``: nothing but the votes in order);
  reconsideration only at the same or the next meeting
  (``reconsideration_window``);
- a point of order or of privilege interrupts anything but a vote; nothing
  happens until the chair rules (``point_pending``); the ruling may be appealed
  at once (``appeal_at_once``), and the appeal is voted by simple majority
  (adopted: the ruling is reversed);
- the speakers' list is per question: members ask for the floor, the chair gives
  it in order; a member speaks ``speaking_turns`` times per question
  (``speak_once``) and the mover may reply once, which closes the debate on that
  question (``right_of_reply``); a turn lasts ``time_limit_seconds`` at most
  (recorded as overrun, not cut off: the chair decides);
- votes by show of hands (counts), roll call (per member) or secret ballot when
  the charter allows a member to ask for it (``secret_ballot_not_allowed``; only
  counts are kept once closed); quorum is checked when a vote opens and when it
  closes (:class:`~services.boards.exceptions.QuorumNotMet`, from the meeting's
  quorum with the per-constituency minimum).

Thresholds reuse :func:`services.boards.domain.tally`: simple majority and two
thirds on the votes cast, abstentions recorded but not counted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar

from services.boards.domain import (
    Choice,
    MajorityRule,
    ProcedureConfig,
    QuorumStatus,
    Vote,
    tally,
)
from services.boards.exceptions import InvalidState


class ProcedureRefused(InvalidState):
    """A move the procedure does not allow; ``rule`` names the rule broken.

    >>> err = ProcedureRefused("vote_order", "votez d'abord q3", "vote q3 first")
    >>> err.field, str(err)
    ('vote_order', 'règle « vote_order » : votez d'abord q3 / rule "vote_order": ...')
    """

    code = "procedure_refused"

    def __init__(self, rule: str, fr: str, en: str) -> None:
        self.rule = rule
        super().__init__(f"règle « {rule} » : {fr}", f'rule "{rule}": {en}', rule)


def _refuse(rule: str, fr: str, en: str) -> ProcedureRefused:
    return ProcedureRefused(rule, fr, en)


# --- vocabulary ---------------------------------------------------------------------


class Kind(StrEnum):
    MAIN = "main"
    AMENDMENT = "amendment"
    SUB_AMENDMENT = "sub_amendment"
    PREVIOUS_QUESTION = "previous_question"
    POSTPONE = "postpone"
    REFER = "refer"
    ADJOURN = "adjourn"
    RECONSIDER = "reconsider"
    SUSPEND_RULE = "suspend_rule"
    APPEAL = "appeal"


PROCEDURAL = frozenset(
    {
        Kind.PREVIOUS_QUESTION,
        Kind.POSTPONE,
        Kind.REFER,
        Kind.ADJOURN,
        Kind.RECONSIDER,
        Kind.SUSPEND_RULE,
    }
)
DEBATABLE = frozenset({Kind.MAIN, Kind.AMENDMENT, Kind.SUB_AMENDMENT})
TWO_THIRDS = frozenset({Kind.PREVIOUS_QUESTION, Kind.RECONSIDER, Kind.SUSPEND_RULE})
# By-law rules a two-thirds vote may suspend for the item.
SUSPENDABLE = frozenset({"speak_once", "time_limit", "right_of_reply"})

LABELS: dict[Kind, tuple[str, str]] = {
    Kind.MAIN: ("proposition principale", "main motion"),
    Kind.AMENDMENT: ("amendement", "amendment"),
    Kind.SUB_AMENDMENT: ("sous-amendement", "sub-amendment"),
    Kind.PREVIOUS_QUESTION: ("question préalable", "previous question"),
    Kind.POSTPONE: ("proposition de dépôt (report)", "motion to postpone"),
    Kind.REFER: ("proposition de renvoi", "motion to refer"),
    Kind.ADJOURN: ("proposition d'ajournement", "motion to adjourn"),
    Kind.RECONSIDER: ("proposition de reconsidération", "motion to reconsider"),
    Kind.SUSPEND_RULE: ("suspension d'une règle", "suspension of a rule"),
    Kind.APPEAL: ("appel de la décision de la présidence", "appeal of the ruling"),
}


class QStatus(StrEnum):
    MOVED = "moved"  # not yet seconded
    OPEN = "open"  # seconded: debate (or, if not debatable, the vote) may follow
    ADOPTED = "adopted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    LAPSED = "lapsed"  # died for want of a seconder
    RULED_OUT = "ruled_out"


PENDING = frozenset({QStatus.MOVED, QStatus.OPEN})


class ItemStatus(StrEnum):
    OPEN = "open"
    ADOPTED = "adopted"
    REJECTED = "rejected"
    POSTPONED = "postponed"
    REFERRED = "referred"
    ADJOURNED = "adjourned"


class Method(StrEnum):
    SHOW_OF_HANDS = "show_of_hands"
    ROLL_CALL = "roll_call"
    SECRET = "secret"


class Op(StrEnum):
    REPLACE = "replace"
    INSERT = "insert"
    DELETE = "delete"
    FULL = "full"


# --- text changes ---------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """A concrete change of a text: ``[start, end)`` are character offsets.

    ``replace`` puts ``text`` in place of the span, ``insert`` puts it at
    ``start`` (``end == start``), ``delete`` removes the span, ``full`` replaces
    the whole text. Example payload: ``{"op": "replace", "start": 9, "end": 17,
    "text": "12 000 $"}``.
    """

    op: Op
    start: int = 0
    end: int = 0
    text: str = ""

    def check(self, base: str, what: str = "text") -> None:
        n = len(base)
        bad = None
        if self.op == Op.FULL:
            bad = not self.text.strip()
        elif self.op == Op.INSERT:
            bad = not (0 <= self.start == self.end <= n) or not self.text
        elif self.op == Op.REPLACE:
            bad = not (0 <= self.start < self.end <= n) or not self.text
        else:
            bad = not (0 <= self.start < self.end <= n) or bool(self.text)
        if bad:
            raise _refuse(
                "span_out_of_text",
                f"changement « {self.op.value} » [{self.start}, {self.end}) invalide "
                f"pour un texte de {n} caractère(s) ({what}) : insert = début égal à "
                "fin et texte, replace/delete = 0 ≤ début < fin ≤ longueur, "
                "full = texte non vide",
                f'change "{self.op.value}" [{self.start}, {self.end}) is invalid for '
                f"a text of {n} character(s) ({what}): insert = start equals end "
                "with text, replace/delete = 0 <= start < end <= length, full = "
                "non-empty text",
            )

    def apply(self, base: str) -> str:
        self.check(base)
        if self.op == Op.FULL:
            return self.text
        if self.op == Op.INSERT:
            return base[: self.start] + self.text + base[self.start :]
        if self.op == Op.REPLACE:
            return base[: self.start] + self.text + base[self.end :]
        return base[: self.start] + base[self.end :]

    def as_dict(self) -> dict[str, Any]:
        return {
            "op": self.op.value,
            "start": self.start,
            "end": self.end,
            "text": self.text,
        }


def apply_changes(text: str, changes: Sequence[Change]) -> str:
    """The text after each change in order (what an adopted text is built from)."""
    for change in changes:
        text = change.apply(text)
    return text


# --- the record -----------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    """One turn of speech on a question; ``reply``: the mover's right of reply."""

    member_id: str
    reply: bool = False
    started_at: datetime | None = None
    ends_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def overran(self) -> bool:
        return bool(self.ends_at and self.ended_at and self.ended_at > self.ends_at)


@dataclass(frozen=True)
class Question:
    """Anything put to the meeting: a motion, an amendment, a procedural motion.

    ``change`` (amendments) is the change as it now stands (after adopted
    sub-amendments); ``moved_change`` as it was moved. ``target_id`` is the
    question an amendment amends, or the ruling (``r1``) an appeal is about.
    """

    question_id: str
    kind: Kind
    moved_by: str
    seconded_by: str | None = None
    text: str = ""
    change: Change | None = None
    moved_change: Change | None = None
    target_id: str | None = None
    rule: MajorityRule = MajorityRule.SIMPLE
    status: QStatus = QStatus.MOVED
    until: date | None = None
    committee: str = ""
    rule_name: str = ""
    speakers: tuple[Turn, ...] = ()
    waiting: tuple[tuple[str, bool], ...] = ()  # (member, reply) in order asked
    replied: bool = False

    @property
    def label(self) -> tuple[str, str]:
        return LABELS[self.kind]


@dataclass(frozen=True)
class Ballot:
    """One vote on one question. A roll call keeps each member's choice; a
    secret ballot only who voted (to refuse a second vote) until it closes,
    then only the counts."""

    question_id: str
    method: Method
    rule: MajorityRule
    requested_by: str | None = None
    choices: tuple[tuple[str, Choice], ...] = ()
    voters: tuple[str, ...] = ()
    votes_for: int = 0
    votes_against: int = 0
    abstentions: int = 0
    counted: bool = False
    adopted: bool | None = None
    decided_by_casting_vote: bool = False


@dataclass(frozen=True)
class Point:
    """A point of order or of privilege waiting for the chair's ruling."""

    kind: str  # "order" | "privilege"
    raised_by: str
    text: str
    target_id: str | None = None
    ground: str = ""  # "negation": the amendment simply negates the motion


@dataclass(frozen=True)
class Ruling:
    """The chair's ruling on a point; ``struck`` is the question it ruled out."""

    ruling_id: str
    point: Point
    by: str
    well_founded: bool
    reason: str = ""
    struck: str | None = None
    appeal_id: str | None = None
    reversed: bool = False


@dataclass(frozen=True)
class AdoptedChange:
    """An adopted amendment: what it changed, from which text to which."""

    question_id: str
    change: Change
    before: str
    after: str


@dataclass(frozen=True)
class ProcedureState:
    """Everything about the deliberation on one agenda item.

    ``stack`` holds the pending questions, the innermost last (the one debated
    and voted first); ``questions`` every question ever moved, in order.
    """

    item_id: str
    status: ItemStatus = ItemStatus.OPEN
    questions: tuple[Question, ...] = ()
    stack: tuple[str, ...] = ()
    ballot: Ballot | None = None
    ballots: tuple[Ballot, ...] = ()
    point: Point | None = None
    rulings: tuple[Ruling, ...] = ()
    appealable: str | None = None  # the ruling that may be appealed right now
    speaking: Turn | None = None
    speaking_on: str | None = None
    debate_closed: bool = False
    suspended: tuple[str, ...] = ()
    main_id: str | None = None
    moved_text: str = ""
    text: str = ""
    changes: tuple[AdoptedChange, ...] = ()
    postponed_until: date | None = None
    committee: str = ""
    seq: int = 0
    # what happened, in order, for the minutes: ("moved", "q2"), ("vote", "0")
    # (an index in ``ballots``), ("ruling", "r1"), ("ended", "q3")
    journal: tuple[tuple[str, str], ...] = ()

    @classmethod
    def begin(cls, item_id: str) -> ProcedureState:
        return cls(item_id=item_id)

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.question_id == question_id:
                return q
        raise _refuse(
            "unknown_question",
            f"question « {question_id} » inconnue sur ce point",
            f'question "{question_id}" is unknown on this item',
        )

    @property
    def top(self) -> Question | None:
        return self.question(self.stack[-1]) if self.stack else None

    @property
    def main(self) -> Question | None:
        return self.question(self.main_id) if self.main_id else None

    def pending_kinds(self) -> list[Kind]:
        return [self.question(q).kind for q in self.stack]

    def adopted_text(self) -> str | None:
        return self.text if self.status == ItemStatus.ADOPTED else None


# --- actions --------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    name: ClassVar[str] = "action"


@dataclass(frozen=True)
class MoveMain(Action):
    name: ClassVar[str] = "move_main_motion"
    member_id: str
    text: str
    rule: MajorityRule | None = None


@dataclass(frozen=True)
class Second(Action):
    """Second the innermost question, which must be waiting for a seconder."""

    name: ClassVar[str] = "second_question"
    member_id: str


@dataclass(frozen=True)
class MoveAmendment(Action):
    """Amend ``target_id``: the main motion (an amendment) or the open amendment
    (a sub-amendment)."""

    name: ClassVar[str] = "move_amendment"
    member_id: str
    target_id: str
    change: Change


@dataclass(frozen=True)
class MoveProcedural(Action):
    """``kind`` one of :data:`PROCEDURAL`; ``until`` (postpone, ``None``:
    indefinitely), ``committee`` (refer), ``rule_name`` (suspend_rule),
    ``meetings_since`` (reconsider: 0 at the same meeting, 1 at the next)."""

    name: ClassVar[str] = "move_procedural_motion"
    member_id: str
    kind: Kind
    until: date | None = None
    committee: str = ""
    rule_name: str = ""
    meetings_since: int = 0


@dataclass(frozen=True)
class Withdraw(Action):
    name: ClassVar[str] = "withdraw_question"
    member_id: str


@dataclass(frozen=True)
class Lapse(Action):
    """The chair declares the innermost question dead for want of a seconder."""

    name: ClassVar[str] = "lapse_question"


@dataclass(frozen=True)
class AskFloor(Action):
    name: ClassVar[str] = "ask_for_floor"
    member_id: str
    reply: bool = False


@dataclass(frozen=True)
class GiveFloor(Action):
    """The chair gives the floor to the first member waiting."""

    name: ClassVar[str] = "give_floor"
    at: datetime | None = None


@dataclass(frozen=True)
class EndTurn(Action):
    name: ClassVar[str] = "end_turn"
    at: datetime | None = None


@dataclass(frozen=True)
class CallVote(Action):
    name: ClassVar[str] = "call_vote"
    question_id: str
    method: Method = Method.SHOW_OF_HANDS
    requested_by: str | None = None


@dataclass(frozen=True)
class CastVote(Action):
    name: ClassVar[str] = "cast_vote"
    member_id: str
    choice: Choice


@dataclass(frozen=True)
class RecordCount(Action):
    name: ClassVar[str] = "record_show_of_hands"
    votes_for: int
    votes_against: int
    abstentions: int = 0


@dataclass(frozen=True)
class CloseVote(Action):
    name: ClassVar[str] = "close_vote"


@dataclass(frozen=True)
class RaisePoint(Action):
    name: ClassVar[str] = "raise_point"
    member_id: str
    kind: str = "order"
    text: str = ""
    target_id: str | None = None
    ground: str = ""


@dataclass(frozen=True)
class RuleOnPoint(Action):
    name: ClassVar[str] = "rule_on_point"
    chair_id: str
    well_founded: bool
    reason: str = ""


@dataclass(frozen=True)
class Appeal(Action):
    name: ClassVar[str] = "appeal_ruling"
    member_id: str


# --- effects --------------------------------------------------------------------------


@dataclass(frozen=True)
class Effect:
    name: ClassVar[str] = "effect"


@dataclass(frozen=True)
class MainAdopted(Effect):
    """The main motion is adopted: a resolution with this text and history."""

    name: ClassVar[str] = "main_adopted"
    question_id: str
    text: str
    ballot: Ballot


@dataclass(frozen=True)
class MainRejected(Effect):
    name: ClassVar[str] = "main_rejected"
    question_id: str


@dataclass(frozen=True)
class VoteClosed(Effect):
    name: ClassVar[str] = "vote_closed"
    ballot: Ballot


@dataclass(frozen=True)
class FloorGiven(Effect):
    name: ClassVar[str] = "floor_given"
    member_id: str
    ends_at: datetime | None


@dataclass(frozen=True)
class MeetingAdjourned(Effect):
    """An adjournment carried: the service adjourns the meeting."""

    name: ClassVar[str] = "meeting_adjourned"


@dataclass(frozen=True)
class Reconsidered(Effect):
    """A reconsideration carried: an earlier decision on the item is reopened."""

    name: ClassVar[str] = "reconsidered"
    question_id: str
    was: ItemStatus


@dataclass(frozen=True)
class Context:
    """What the engine needs from outside: the charter's variants, the quorum of
    the item now (for votes), the members whose vote breaks a tie (the chair,
    when the charter says so) and the board's default majority."""

    config: ProcedureConfig = field(default_factory=ProcedureConfig)
    quorum: QuorumStatus | None = None
    casting_voters: tuple[str, ...] = ()
    default_rule: MajorityRule = MajorityRule.SIMPLE


# --- the engine -------------------------------------------------------------------------


def _put(state: ProcedureState, q: Question) -> ProcedureState:
    return replace(
        state,
        questions=tuple(
            q if x.question_id == q.question_id else x for x in state.questions
        ),
    )


def _push(state: ProcedureState, q: Question) -> ProcedureState:
    return replace(
        state,
        questions=(*state.questions, q),
        stack=(*state.stack, q.question_id),
        seq=state.seq + 1,
        journal=(*state.journal, ("moved", q.question_id)),
    )


def _pop(state: ProcedureState, q: Question, status: QStatus) -> ProcedureState:
    state = _put(state, replace(q, status=status))
    stack = tuple(x for x in state.stack if x != q.question_id)
    speaking_on = state.speaking_on if state.speaking_on in stack else None
    journal = state.journal
    if status in (QStatus.WITHDRAWN, QStatus.LAPSED, QStatus.RULED_OUT):
        journal = (*journal, ("ended", q.question_id))
    return replace(
        state,
        stack=stack,
        speaking=state.speaking if speaking_on else None,
        speaking_on=speaking_on,
        journal=journal,
    )


def _next_id(state: ProcedureState) -> str:
    return f"q{state.seq + 1}"


def _need_top(state: ProcedureState) -> Question:
    top = state.top
    if top is None:
        raise _refuse(
            "nothing_on_the_floor",
            "aucune question n'est devant l'assemblée",
            "no question is before the meeting",
        )
    return top


def _need_seconded(q: Question) -> None:
    if q.status == QStatus.MOVED:
        label_fr, label_en = q.label
        raise _refuse(
            "seconded_before_debate",
            f"{label_fr} « {q.question_id} » non appuyée : ni débat, ni "
            "amendement, ni vote avant l'appui",
            f'{label_en} "{q.question_id}" is not seconded: no debate, amendment '
            "or vote before a seconder",
        )


def _need_open_item(state: ProcedureState) -> None:
    if state.status != ItemStatus.OPEN:
        raise _refuse(
            "procedure_closed",
            f"le point est clos ({state.status.value}) : seule une "
            "reconsidération peut le rouvrir",
            f"the item is closed ({state.status.value}): only a reconsideration "
            "may reopen it",
        )


def _need_debate(state: ProcedureState) -> None:
    if state.debate_closed:
        raise _refuse(
            "debate_closed",
            "la question préalable a été adoptée : les questions sont mises aux "
            "voix sans autre débat ni amendement",
            "the previous question carried: the questions are put to the vote "
            "with no further debate or amendment",
        )


def _pending_procedural(state: ProcedureState) -> Question | None:
    for qid in reversed(state.stack):
        q = state.question(qid)
        if q.kind in PROCEDURAL or q.kind == Kind.APPEAL:
            return q
    return None


def _guard(state: ProcedureState, action: Action) -> None:
    """Refusals common to every move: a pending point, a vote in progress."""
    if state.point is not None and not isinstance(action, RuleOnPoint):
        raise _refuse(
            "point_pending",
            "un point "
            + ("d'ordre" if state.point.kind == "order" else "de privilège")
            + " attend la décision de la présidence",
            f"a point of {state.point.kind} waits for the chair's ruling",
        )
    if state.ballot is not None and not isinstance(
        action, CastVote | RecordCount | CloseVote | RaisePoint | RuleOnPoint
    ):
        raise _refuse(
            "vote_in_progress",
            f"le vote sur « {state.ballot.question_id} » est en cours",
            f'the vote on "{state.ballot.question_id}" is in progress',
        )


def apply(
    state: ProcedureState, action: Action, ctx: Context | None = None
) -> tuple[ProcedureState, tuple[Effect, ...]]:
    """The next state and its effects, or :class:`ProcedureRefused`.

    Pure: the same state, action and context always give the same answer, and a
    refused action leaves nothing changed (the state is immutable).
    """
    ctx = ctx or Context()
    _guard(state, action)
    handler = _HANDLERS.get(type(action))
    if handler is None:
        raise _refuse(
            "unknown_action",
            f"action « {action.name} » inconnue",
            f'unknown action "{action.name}"',
        )
    appealable = state.appealable
    new_state, effects = handler(state, action, ctx)
    if (
        appealable
        and new_state.appealable == appealable
        and not isinstance(action, RaisePoint)
    ):
        new_state = replace(new_state, appealable=None)
    return new_state, effects


Result = tuple[ProcedureState, tuple[Effect, ...]]


def _move_main(state: ProcedureState, a: MoveMain, ctx: Context) -> Result:
    _need_open_item(state)
    if state.main_id is not None:
        raise _refuse(
            "one_main_motion",
            f"une proposition principale (« {state.main_id} ») est déjà saisie sur "
            "ce point",
            f'a main motion ("{state.main_id}") is already on this item',
        )
    if state.stack:
        raise _refuse(
            "one_procedural_at_a_time",
            "une proposition de procédure est pendante : votez-la d'abord",
            "a procedural motion is pending: vote on it first",
        )
    if not a.text.strip():
        raise _refuse(
            "text_required",
            "le texte de la proposition est requis",
            "the motion's text is required",
        )
    qid = _next_id(state)
    q = Question(
        qid,
        Kind.MAIN,
        a.member_id,
        text=a.text.strip(),
        rule=MajorityRule(a.rule or ctx.default_rule),
    )
    state = _push(state, q)
    return replace(state, main_id=qid, moved_text=q.text, text=q.text), ()


def _second(state: ProcedureState, a: Second, ctx: Context) -> Result:
    q = _need_top(state)
    if q.status != QStatus.MOVED:
        raise _refuse(
            "already_seconded",
            f"« {q.question_id} » est déjà appuyée",
            f'"{q.question_id}" is already seconded',
        )
    if a.member_id == q.moved_by:
        raise _refuse(
            "seconder_not_mover",
            "l'appuyeur doit être un autre membre que le proposeur",
            "the seconder must be another member than the mover",
        )
    return _put(state, replace(q, seconded_by=a.member_id, status=QStatus.OPEN)), ()


def _move_amendment(state: ProcedureState, a: MoveAmendment, ctx: Context) -> Result:
    _need_open_item(state)
    _need_debate(state)
    if _pending_procedural(state) is not None:
        raise _refuse(
            "one_procedural_at_a_time",
            "une proposition de procédure est pendante : votez-la d'abord",
            "a procedural motion is pending: vote on it first",
        )
    target = state.question(a.target_id)
    if target.kind == Kind.SUB_AMENDMENT:
        raise _refuse(
            "no_sub_sub_amendment",
            "un sous-amendement ne s'amende pas (pas de troisième niveau)",
            "a sub-amendment cannot be amended (no third level)",
        )
    if target.kind not in (Kind.MAIN, Kind.AMENDMENT) or target.status not in PENDING:
        raise _refuse(
            "amendment_target",
            f"« {a.target_id} » n'est ni la proposition principale ni un "
            "amendement en cours",
            f'"{a.target_id}" is neither the main motion nor an open amendment',
        )
    kinds = state.pending_kinds()
    if target.kind == Kind.MAIN:
        if Kind.AMENDMENT in kinds:
            raise _refuse(
                "one_amendment_at_a_time",
                "un amendement est déjà en cours : disposez-en d'abord",
                "an amendment is already open: dispose of it first",
            )
        base, kind, what = state.text, Kind.AMENDMENT, "proposition"
    else:
        if Kind.SUB_AMENDMENT in kinds:
            raise _refuse(
                "one_sub_amendment_at_a_time",
                "un sous-amendement est déjà en cours : disposez-en d'abord",
                "a sub-amendment is already open: dispose of it first",
            )
        assert target.change is not None
        if target.change.op == Op.DELETE:
            raise _refuse(
                "sub_amendment_needs_words",
                "un amendement qui retranche des mots n'a pas de texte à sous-amender",
                "an amendment that strikes out words has no words to sub-amend",
            )
        base, kind, what = target.change.text, Kind.SUB_AMENDMENT, "amendement"
    _need_seconded(target)
    a.change.check(base, what)
    if a.change.apply(base) == base:
        raise _refuse(
            "amendment_changes_nothing",
            "l'amendement ne change rien au texte",
            "the amendment changes nothing in the text",
        )
    q = Question(
        _next_id(state),
        kind,
        a.member_id,
        change=a.change,
        moved_change=a.change,
        target_id=target.question_id,
    )
    return _push(state, q), ()


def _move_procedural(state: ProcedureState, a: MoveProcedural, ctx: Context) -> Result:
    kind = Kind(a.kind)
    if kind not in PROCEDURAL:
        raise _refuse(
            "unknown_procedural_motion",
            f"« {a.kind} » n'est pas une proposition de procédure",
            f'"{a.kind}" is not a procedural motion',
        )
    if _pending_procedural(state) is not None:
        raise _refuse(
            "one_procedural_at_a_time",
            "une proposition de procédure est déjà pendante",
            "a procedural motion is already pending",
        )
    if kind == Kind.RECONSIDER:
        if state.status not in (ItemStatus.ADOPTED, ItemStatus.REJECTED):
            raise _refuse(
                "reconsideration_needs_decision",
                "seule une proposition principale déjà décidée se reconsidère",
                "only a main motion already decided may be reconsidered",
            )
        if not 0 <= a.meetings_since <= 1:
            raise _refuse(
                "reconsideration_window",
                "une reconsidération se propose à la même séance ou à la suivante",
                "a reconsideration is moved at the same meeting or the next one",
            )
    else:
        _need_open_item(state)
        top = state.top
        if top is not None:
            _need_seconded(top)
    if kind == Kind.PREVIOUS_QUESTION:
        _need_debate(state)
        if state.main_id is None or not state.stack:
            raise _refuse(
                "nothing_on_the_floor",
                "la question préalable demande une question en débat",
                "the previous question needs a question under debate",
            )
    if kind == Kind.SUSPEND_RULE and a.rule_name not in SUSPENDABLE:
        raise _refuse(
            "unknown_rule",
            f"règle « {a.rule_name} » : on ne peut suspendre que "
            f"{', '.join(sorted(SUSPENDABLE))}",
            f'rule "{a.rule_name}": only {", ".join(sorted(SUSPENDABLE))} may be '
            "suspended",
        )
    if kind == Kind.REFER and not a.committee.strip():
        raise _refuse(
            "committee_required",
            "le renvoi nomme le comité",
            "a referral names the committee",
        )
    q = Question(
        _next_id(state),
        kind,
        a.member_id,
        rule=MajorityRule.TWO_THIRDS if kind in TWO_THIRDS else MajorityRule.SIMPLE,
        until=a.until,
        committee=a.committee.strip(),
        rule_name=a.rule_name,
        target_id=state.main_id if kind == Kind.RECONSIDER else None,
    )
    return _push(state, q), ()


def _withdraw(state: ProcedureState, a: Withdraw, ctx: Context) -> Result:
    q = _need_top(state)
    if a.member_id != q.moved_by:
        raise _refuse(
            "mover_withdraws",
            "seul le proposeur retire sa proposition",
            "only the mover withdraws their motion",
        )
    state = _pop(state, q, QStatus.WITHDRAWN)
    if q.kind == Kind.MAIN:
        state = replace(state, main_id=None, moved_text="", text="", changes=())
    return state, ()


def _lapse(state: ProcedureState, a: Lapse, ctx: Context) -> Result:
    q = _need_top(state)
    if q.status != QStatus.MOVED:
        raise _refuse(
            "already_seconded",
            f"« {q.question_id} » est appuyée : elle ne meurt pas faute d'appui",
            f'"{q.question_id}" is seconded: it does not die for want of a seconder',
        )
    state = _pop(state, q, QStatus.LAPSED)
    if q.kind == Kind.MAIN:
        state = replace(state, main_id=None, moved_text="", text="")
    return state, ()


def _debated(state: ProcedureState) -> Question:
    _need_open_item(state)
    _need_debate(state)
    q = _need_top(state)
    if q.kind not in DEBATABLE:
        label_fr, label_en = q.label
        raise _refuse(
            "not_debatable",
            f"la {label_fr} se vote sans débat",
            f"the {label_en} is voted without debate",
        )
    _need_seconded(q)
    return q


def _ask_floor(state: ProcedureState, a: AskFloor, ctx: Context) -> Result:
    q = _debated(state)
    if q.replied:
        raise _refuse(
            "right_of_reply",
            "le proposeur a exercé son droit de réplique : le débat sur cette "
            "question est clos",
            "the mover has replied: the debate on this question is over",
        )
    if any(m == a.member_id for m, _ in q.waiting):
        raise _refuse(
            "already_waiting",
            "ce membre est déjà inscrit sur la liste des intervenants",
            "this member is already on the speakers' list",
        )
    if a.reply:
        if "right_of_reply" in state.suspended:
            pass
        elif not ctx.config.mover_reply or a.member_id != q.moved_by:
            raise _refuse(
                "right_of_reply",
                "seul le proposeur de la question a un droit de réplique",
                "only the mover of the question has a right of reply",
            )
    else:
        spoken = sum(
            1 for t in q.speakers if t.member_id == a.member_id and not t.reply
        )
        if spoken >= ctx.config.speaking_turns and "speak_once" not in state.suspended:
            raise _refuse(
                "speak_once",
                f"ce membre a déjà parlé {spoken} fois sur « {q.question_id} »",
                f'this member has already spoken {spoken} time(s) on "{q.question_id}"',
            )
    return _put(state, replace(q, waiting=(*q.waiting, (a.member_id, a.reply)))), ()


def _give_floor(state: ProcedureState, a: GiveFloor, ctx: Context) -> Result:
    q = _debated(state)
    if state.speaking is not None:
        raise _refuse(
            "floor_taken",
            f"« {state.speaking.member_id} » a la parole",
            f'"{state.speaking.member_id}" has the floor',
        )
    if not q.waiting:
        raise _refuse(
            "nobody_waiting",
            "personne n'a demandé la parole",
            "nobody asked for the floor",
        )
    # the right of reply comes last: others asking are heard first
    order = sorted(range(len(q.waiting)), key=lambda i: (q.waiting[i][1], i))
    index = order[0]
    member_id, reply = q.waiting[index]
    limit = ctx.config.time_limit_seconds
    ends = None
    if a.at is not None and limit and "time_limit" not in state.suspended:
        ends = a.at + timedelta(seconds=limit)
    turn = Turn(member_id, reply, a.at, ends)
    waiting = q.waiting[:index] + q.waiting[index + 1 :]
    state = _put(state, replace(q, waiting=waiting))
    state = replace(state, speaking=turn, speaking_on=q.question_id)
    return state, (FloorGiven(member_id, ends),)


def _end_turn(state: ProcedureState, a: EndTurn, ctx: Context) -> Result:
    if state.speaking is None or state.speaking_on is None:
        raise _refuse(
            "nobody_speaking",
            "personne n'a la parole",
            "nobody has the floor",
        )
    q = state.question(state.speaking_on)
    turn = replace(state.speaking, ended_at=a.at)
    q = replace(q, speakers=(*q.speakers, turn), replied=q.replied or turn.reply)
    state = _put(state, q)
    return replace(state, speaking=None, speaking_on=None), ()


def _call_vote(state: ProcedureState, a: CallVote, ctx: Context) -> Result:
    top = _need_top(state)
    if a.question_id != top.question_id:
        label_fr, label_en = top.label
        raise _refuse(
            "vote_order",
            f"on vote d'abord sur la question la plus récente : {label_fr} "
            f"« {top.question_id} », pas « {a.question_id} »",
            f'the innermost question is voted first: {label_en} "{top.question_id}"'
            f', not "{a.question_id}"',
        )
    _need_seconded(top)
    if top.kind != Kind.RECONSIDER:
        _need_open_item(state)
    if state.speaking is not None:
        raise _refuse(
            "floor_taken",
            f"« {state.speaking.member_id} » a la parole",
            f'"{state.speaking.member_id}" has the floor',
        )
    method = Method(a.method)
    if method == Method.SECRET:
        if not ctx.config.secret_ballot_on_request:
            raise _refuse(
                "secret_ballot_not_allowed",
                "la charte ne prévoit pas de vote secret sur demande",
                "the charter does not allow a secret ballot on request",
            )
        if not a.requested_by:
            raise _refuse(
                "secret_ballot_not_allowed",
                "un vote secret se tient à la demande d'un membre (requested_by)",
                "a secret ballot is held at a member's request (requested_by)",
            )
    _quorum(ctx)
    ballot = Ballot(top.question_id, method, top.rule, a.requested_by)
    return replace(state, ballot=ballot), ()


def _quorum(ctx: Context) -> None:
    if ctx.quorum is None:
        raise _refuse(
            "quorum_unknown",
            "le quorum doit être vérifié avant chaque vote",
            "quorum must be checked before each vote",
        )
    ctx.quorum.raise_if_not_met()


def _need_ballot(state: ProcedureState) -> Ballot:
    if state.ballot is None:
        raise _refuse("no_vote_open", "aucun vote n'est ouvert", "no vote is open")
    return state.ballot


def _cast(state: ProcedureState, a: CastVote, ctx: Context) -> Result:
    b = _need_ballot(state)
    if b.method == Method.SHOW_OF_HANDS:
        raise _refuse(
            "vote_method",
            "vote à main levée : la présidence consigne les nombres",
            "show of hands: the chair records the counts",
        )
    if a.member_id in b.voters:
        raise _refuse(
            "one_vote_per_member",
            f"« {a.member_id} » a déjà voté sur cette question",
            f'"{a.member_id}" has already voted on this question',
        )
    choice = Choice(a.choice)
    voters = (*b.voters, a.member_id)
    if b.method == Method.ROLL_CALL:
        b = replace(b, voters=voters, choices=(*b.choices, (a.member_id, choice)))
    else:
        counts = {
            Choice.FOR: (1, 0, 0),
            Choice.AGAINST: (0, 1, 0),
            Choice.ABSTAIN: (0, 0, 1),
        }[choice]
        b = replace(
            b,
            voters=voters,
            votes_for=b.votes_for + counts[0],
            votes_against=b.votes_against + counts[1],
            abstentions=b.abstentions + counts[2],
        )
    return replace(state, ballot=b), ()


def _count(state: ProcedureState, a: RecordCount, ctx: Context) -> Result:
    b = _need_ballot(state)
    if b.method != Method.SHOW_OF_HANDS:
        raise _refuse(
            "vote_method",
            "vote par appel nominal ou secret : chaque membre vote",
            "roll call or secret ballot: each member votes",
        )
    counts = (a.votes_for, a.votes_against, a.abstentions)
    present = ctx.quorum.present if ctx.quorum else None
    if any(c < 0 for c in counts) or (present is not None and sum(counts) > present):
        raise _refuse(
            "count_exceeds_present",
            f"nombres {counts} : entiers positifs, au plus {present} votant(s) "
            "présent(s) au total",
            f"counts {counts}: non-negative, at most {present} voting member(s) "
            "present in all",
        )
    b = replace(
        b,
        votes_for=a.votes_for,
        votes_against=a.votes_against,
        abstentions=a.abstentions,
        counted=True,
    )
    return replace(state, ballot=b), ()


def _close(state: ProcedureState, a: CloseVote, ctx: Context) -> Result:
    b = _need_ballot(state)
    if b.method == Method.SHOW_OF_HANDS and not b.counted:
        raise _refuse(
            "count_required",
            "consignez les nombres du vote à main levée avant de clore",
            "record the show-of-hands counts before closing",
        )
    _quorum(ctx)
    if b.method == Method.ROLL_CALL:
        result = tally(
            b.rule,
            [Vote(m, c) for m, c in b.choices],
            ctx.casting_voters,
        )
    else:
        synthetic = (
            [Vote(f"_{i}", Choice.FOR) for i in range(b.votes_for)]
            + [Vote(f"_a{i}", Choice.AGAINST) for i in range(b.votes_against)]
            + [Vote(f"_s{i}", Choice.ABSTAIN) for i in range(b.abstentions)]
        )
        result = tally(b.rule, synthetic)
    b = replace(
        b,
        votes_for=result.votes_for,
        votes_against=result.votes_against,
        abstentions=result.abstentions,
        adopted=result.adopted,
        decided_by_casting_vote=result.decided_by_casting_vote,
        voters=() if b.method == Method.SECRET else b.voters,
    )
    state = replace(
        state,
        ballot=None,
        ballots=(*state.ballots, b),
        journal=(*state.journal, ("vote", str(len(state.ballots)))),
    )
    q = state.question(b.question_id)
    effects: list[Effect] = [VoteClosed(b)]
    status = QStatus.ADOPTED if b.adopted else QStatus.REJECTED
    state = _pop(state, q, status)
    state, more = _decided(state, q, bool(b.adopted), b)
    effects.extend(more)
    return state, tuple(effects)


def _decided(state: ProcedureState, q: Question, adopted: bool, b: Ballot) -> Result:
    """What a vote's result does to the item."""
    effects: list[Effect] = []
    if q.kind == Kind.SUB_AMENDMENT and adopted:
        assert q.target_id and q.change
        amendment = state.question(q.target_id)
        assert amendment.change is not None
        words = q.change.apply(amendment.change.text)
        state = _put(
            state, replace(amendment, change=replace(amendment.change, text=words))
        )
    elif q.kind == Kind.AMENDMENT and adopted:
        assert q.change is not None
        before = state.text
        after = q.change.apply(before)
        state = replace(
            state,
            text=after,
            changes=(
                *state.changes,
                AdoptedChange(q.question_id, q.change, before, after),
            ),
        )
    elif q.kind == Kind.MAIN:
        state = replace(
            state,
            status=ItemStatus.ADOPTED if adopted else ItemStatus.REJECTED,
            debate_closed=False,
        )
        effects.append(
            MainAdopted(q.question_id, state.text, b)
            if adopted
            else MainRejected(q.question_id)
        )
    elif not adopted:
        pass
    elif q.kind == Kind.PREVIOUS_QUESTION:
        state = replace(state, debate_closed=True)
    elif q.kind == Kind.POSTPONE:
        state = replace(state, status=ItemStatus.POSTPONED, postponed_until=q.until)
    elif q.kind == Kind.REFER:
        state = replace(state, status=ItemStatus.REFERRED, committee=q.committee)
    elif q.kind == Kind.ADJOURN:
        state = replace(state, status=ItemStatus.ADJOURNED)
        effects.append(MeetingAdjourned())
    elif q.kind == Kind.SUSPEND_RULE:
        state = replace(state, suspended=tuple(sorted({*state.suspended, q.rule_name})))
    elif q.kind == Kind.RECONSIDER:
        was = state.status
        main = state.main
        assert main is not None
        state = _put(
            state,
            replace(main, status=QStatus.OPEN, speakers=(), waiting=(), replied=False),
        )
        state = replace(
            state,
            status=ItemStatus.OPEN,
            stack=(main.question_id,),
            debate_closed=False,
        )
        effects.append(Reconsidered(main.question_id, was))
    elif q.kind == Kind.APPEAL:
        state = _reverse(state, q)
    return state, tuple(effects)


def _raise_point(state: ProcedureState, a: RaisePoint, ctx: Context) -> Result:
    if a.kind not in ("order", "privilege"):
        raise _refuse(
            "point_kind",
            f"point « {a.kind} » : « order » ou « privilege » attendu",
            f'point "{a.kind}": "order" or "privilege" expected',
        )
    if a.ground == "negation":
        if a.kind != "order" or a.target_id is None:
            raise _refuse(
                "negation_point",
                "une objection de négation est un point d'ordre qui nomme "
                "l'amendement (target_id)",
                "a negation objection is a point of order naming the amendment "
                "(target_id)",
            )
        target = state.question(a.target_id)
        if (
            target.kind not in (Kind.AMENDMENT, Kind.SUB_AMENDMENT)
            or target.question_id not in state.stack
            or state.ballot is not None
        ):
            raise _refuse(
                "negation_point",
                f"« {a.target_id} » n'est pas un amendement en débat",
                f'"{a.target_id}" is not an amendment under debate',
            )
    elif a.ground:
        raise _refuse(
            "point_ground",
            f"motif « {a.ground} » inconnu (« negation » ou rien)",
            f'unknown ground "{a.ground}" ("negation" or none)',
        )
    point = Point(a.kind, a.member_id, a.text.strip(), a.target_id, a.ground)
    return replace(state, point=point), ()


def _rule(state: ProcedureState, a: RuleOnPoint, ctx: Context) -> Result:
    point = state.point
    if point is None:
        raise _refuse(
            "no_point_pending",
            "aucun point n'attend de décision",
            "no point waits for a ruling",
        )
    ruling_id = f"r{len(state.rulings) + 1}"
    struck = None
    state = replace(state, point=None)
    if point.ground == "negation" and a.well_founded and point.target_id:
        struck = point.target_id
        state = _strike(state, struck)
    ruling = Ruling(
        ruling_id, point, a.chair_id, a.well_founded, a.reason.strip(), struck
    )
    return replace(
        state,
        rulings=(*state.rulings, ruling),
        appealable=ruling_id,
        journal=(*state.journal, ("ruling", ruling_id)),
    ), ()


def _strike(state: ProcedureState, question_id: str) -> ProcedureState:
    """Rule a question out, with anything that amends it."""
    for qid in reversed(state.stack):
        q = state.question(qid)
        state = _pop(state, q, QStatus.RULED_OUT)
        if qid == question_id:
            break
    return state


def _appeal(state: ProcedureState, a: Appeal, ctx: Context) -> Result:
    if state.appealable is None:
        raise _refuse(
            "appeal_at_once",
            "on en appelle d'une décision de la présidence aussitôt rendue",
            "a ruling of the chair is appealed as soon as it is given",
        )
    ruling = next(r for r in state.rulings if r.ruling_id == state.appealable)
    qid = _next_id(state)
    q = Question(
        qid,
        Kind.APPEAL,
        a.member_id,
        seconded_by=None,
        status=QStatus.OPEN,
        target_id=ruling.ruling_id,
    )
    state = _push(state, q)
    rulings = tuple(
        replace(r, appeal_id=qid) if r.ruling_id == ruling.ruling_id else r
        for r in state.rulings
    )
    return replace(state, rulings=rulings, appealable=None), ()


def _reverse(state: ProcedureState, appeal: Question) -> ProcedureState:
    """An appeal carried: the ruling is reversed (a struck amendment returns to
    the floor; an amendment the chair let stand is ruled out)."""
    ruling = next(r for r in state.rulings if r.ruling_id == appeal.target_id)
    rulings = tuple(
        replace(r, reversed=True) if r.ruling_id == ruling.ruling_id else r
        for r in state.rulings
    )
    state = replace(state, rulings=rulings)
    if ruling.struck:
        q = state.question(ruling.struck)
        state = _put(state, replace(q, status=QStatus.OPEN))
        state = replace(state, stack=(*state.stack, q.question_id))
    elif ruling.point.ground == "negation" and ruling.point.target_id in state.stack:
        state = _strike(state, ruling.point.target_id)
    return state


_HANDLERS: dict[type[Action], Any] = {
    MoveMain: _move_main,
    Second: _second,
    MoveAmendment: _move_amendment,
    MoveProcedural: _move_procedural,
    Withdraw: _withdraw,
    Lapse: _lapse,
    AskFloor: _ask_floor,
    GiveFloor: _give_floor,
    EndTurn: _end_turn,
    CallVote: _call_vote,
    CastVote: _cast,
    RecordCount: _count,
    CloseVote: _close,
    RaisePoint: _raise_point,
    RuleOnPoint: _rule,
    Appeal: _appeal,
}


def run(
    actions: Sequence[Action], item_id: str = "item", ctx: Context | None = None
) -> tuple[ProcedureState, list[Effect]]:
    """Apply ``actions`` in order from a fresh state (tests, worked examples)."""
    state = ProcedureState.begin(item_id)
    effects: list[Effect] = []
    for action in actions:
        state, more = apply(state, action, ctx)
        effects.extend(more)
    return state, effects


# --- history and minutes -----------------------------------------------------------------


def _ballot_for(state: ProcedureState, question_id: str) -> Ballot | None:
    found = [b for b in state.ballots if b.question_id == question_id]
    return found[-1] if found else None


def _votes(b: Ballot | None) -> dict[str, Any] | None:
    if b is None:
        return None
    return {
        "method": b.method.value,
        "for": b.votes_for,
        "against": b.votes_against,
        "abstain": b.abstentions,
        "adopted": b.adopted,
    }


def history(state: ProcedureState, person: Any = None) -> dict[str, Any] | None:
    """How the text came to be: what was moved and what each amendment changed.

    ``person`` maps a member id to what the audience may see of them (a name
    and role for the register; ``None`` leaves people out, as events do)::

        {"moved_text": "Accorder 10 000 $ ...", "adopted_text": "...",
         "moved_by": {"name": "Ada", ...},
         "amendments": [{"question_id": "q3", "result": "adopted",
                         "moved": {"op": "replace", ...},
                         "as_voted": {"op": "replace", ...},
                         "before": "...", "after": "...",
                         "votes": {"method": "show_of_hands", "for": 5, ...},
                         "sub_amendments": [{"question_id": "q4", ...}]}]}
    """
    main = state.main
    if main is None:
        return None

    def people(q: Question) -> dict[str, Any]:
        if person is None:
            return {}
        return {
            "moved_by": person(q.moved_by),
            "seconded_by": person(q.seconded_by) if q.seconded_by else None,
        }

    adopted = {c.question_id: c for c in state.changes}
    amendments = []
    for q in state.questions:
        if q.kind != Kind.AMENDMENT or q.target_id != main.question_id:
            continue
        subs = [
            {
                "question_id": s.question_id,
                "result": s.status.value,
                "moved": s.moved_change.as_dict() if s.moved_change else None,
                "votes": _votes(_ballot_for(state, s.question_id)),
                **people(s),
            }
            for s in state.questions
            if s.kind == Kind.SUB_AMENDMENT and s.target_id == q.question_id
        ]
        entry: dict[str, Any] = {
            "question_id": q.question_id,
            "result": q.status.value,
            "moved": q.moved_change.as_dict() if q.moved_change else None,
            "as_voted": q.change.as_dict() if q.change else None,
            "votes": _votes(_ballot_for(state, q.question_id)),
            "sub_amendments": subs,
            **people(q),
        }
        if q.question_id in adopted:
            entry["before"] = adopted[q.question_id].before
            entry["after"] = adopted[q.question_id].after
        amendments.append(entry)
    return {
        "moved_text": state.moved_text,
        "adopted_text": state.adopted_text(),
        "amendments": amendments,
        **people(main),
    }


def minutes(
    state: ProcedureState, name: Mapping[str, str], title: str = ""
) -> list[str]:
    """The minutes of the item, drafted from the record, in French.

    One line per motion, amendment and sub-amendment (with mover and seconder),
    per vote with its result, per question withdrawn, lapsed or ruled out, and
    per ruling (with its appeal), in the order they happened; then the outcome of
    the item. ``name`` maps member ids to names.
    """

    def n(member_id: str | None) -> str:
        return name.get(member_id or "", member_id or "—")

    lines = [f"Point : {title}"] if title else []
    rulings = {r.ruling_id: r for r in state.rulings}
    for kind, key in state.journal:
        if kind == "moved":
            q = state.question(key)
            lines.append(_moved_line(q, n))
        elif kind == "vote":
            b = state.ballots[int(key)]
            result = "ADOPTÉE" if b.adopted else "REJETÉE"
            casting = " (voix prépondérante)" if b.decided_by_casting_vote else ""
            roll = ""
            if b.method == Method.ROLL_CALL:
                roll = " — " + ", ".join(f"{n(m)} : {c.value}" for m, c in b.choices)
            lines.append(
                f"Vote sur {b.question_id} ({b.method.value}, {b.rule.value}) : "
                f"{b.votes_for} pour, {b.votes_against} contre, "
                f"{b.abstentions} abstention(s) — {result}{casting}{roll}."
            )
        elif kind == "ended":
            q = state.question(key)
            fr = {
                QStatus.WITHDRAWN: "retirée par son proposeur",
                QStatus.LAPSED: "morte faute d'appui",
                QStatus.RULED_OUT: "jugée irrecevable par la présidence",
            }.get(q.status, q.status.value)
            lines.append(f"{q.question_id} {fr}.")
        elif kind == "ruling":
            r = rulings[key]
            verdict = "fondé" if r.well_founded else "non fondé"
            point = "d'ordre" if r.point.kind == "order" else "de privilège"
            on = f" sur {r.point.target_id}" if r.point.target_id else ""
            because = f" : {r.reason}" if r.reason else ""
            line = (
                f"Point {point} soulevé par {n(r.point.raised_by)}{on} : "
                f"{r.point.text or '—'} ; la présidence ({n(r.by)}) le juge "
                f"{verdict}{because} ({r.ruling_id})."
            )
            if r.appeal_id:
                outcome = "renversée" if r.reversed else "en appel"
                line += f" Décision {outcome} ({r.appeal_id})."
            lines.append(line)
    if state.status == ItemStatus.ADOPTED:
        lines.append(f"Texte adopté : « {state.text} »")
    elif state.status == ItemStatus.POSTPONED:
        until = state.postponed_until
        when = f"au {until.isoformat()}." if until else "indéfiniment."
        lines.append(f"Point reporté {when}")
    elif state.status == ItemStatus.REFERRED:
        lines.append(f"Point renvoyé au comité « {state.committee} ».")
    elif state.status == ItemStatus.ADJOURNED:
        lines.append("Séance ajournée.")
    return lines


def _moved_line(q: Question, n: Any) -> str:
    what = ""
    if q.kind == Kind.MAIN:
        what = f" : « {q.text} »"
    elif q.moved_change is not None:
        c = q.moved_change
        what = f" sur {q.target_id} ({c.op.value} [{c.start}, {c.end}) « {c.text} »)"
    elif q.kind == Kind.POSTPONE:
        what = f" au {q.until.isoformat()}" if q.until else " indéfiniment"
    elif q.kind == Kind.REFER:
        what = f" au comité « {q.committee} »"
    elif q.kind == Kind.SUSPEND_RULE:
        what = f" « {q.rule_name} »"
    elif q.kind == Kind.APPEAL:
        what = f" de la décision {q.target_id}"
    seconded = f", appuyée par {n(q.seconded_by)}" if q.seconded_by else ""
    return (
        f"{q.question_id} — {q.label[0].capitalize()}{what}, proposée par "
        f"{n(q.moved_by)}{seconded}."
    )
