"""Local shared-governance boards: the pure rules, no I/O.

A board (one per node, i.e. per MRC) has a *charter*: groups of seats by
constituency, each with a number of seats and a term length, a quorum rule and a
default majority rule. Members are appointed to seats for a term; appointments
are never deleted, so the history of who held which seat is the list of
appointments of that seat.

Meetings are public or closed. Each has an agenda; items come from members
(a motion), from the secretary, or from events (participation results, an
indicator crossing a threshold set by the board). During an open meeting the
secretary records attendance, declared conflicts of interest, motions (moved and
seconded), and votes (for, against, abstain). A vote is refused when:

- the member holds no seat on the meeting date, or is not recorded present;
- the member declared a conflict of interest on the item (recusal);
- quorum is not met for that item.

Choices written down here (the charter can change the numbers, not the rules):

- Quorum is a share of the *filled* seats on the meeting date (vacant seats do
  not count), ``strictly_more`` meaning "more than half" style rules, plus an
  optional minimum of members present per constituency ("at least one citizen
  seat"). Recused members do not count toward quorum on the item they are
  recused from: a board cannot decide with a quorum made of conflicted members.
- Simple majority and two thirds are computed on votes cast (for + against);
  abstentions are recorded but not counted. A tie is not adopted, unless the
  charter gives the chair a casting vote (``casting_vote: "chair"``, *voix
  prépondérante*): then, under simple majority only, the chair's own vote
  decides the tie (see :func:`tally` for why it is the chair's ordinary vote
  counted again rather than a second vote cast after the tie).
- Consensus: adopted when nobody votes against (a block) and at least one votes
  for; members may stand aside (abstain) with a recorded objection. Objection
  text given with any vote is kept with the resolution.
- A resolution adopted at a closed meeting, or on an item taken in camera, is
  marked ``closed_session`` and never appears in the public register.

Example payload of a charter, as the service receives it::

    {"board_id": "mrc-66023", "name": "Table locale de gouvernance",
     "seat_groups": [{"constituency": "citizens", "seats": 4, "term_months": 24},
                     {"constituency": "first_nations_inuit", "seats": 1}],
     "quorum": {"share": "1/2", "strictly_more": true,
                "min_present": {"citizens": 1}},
     "default_majority": "simple", "casting_vote": "chair"}
"""

from __future__ import annotations

import calendar
import io
import re
import uuid
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from typing import Any

from services.boards.exceptions import (
    AlreadyVoted,
    InvalidCharter,
    InvalidState,
    InvalidValue,
    NotPresent,
    NotSeated,
    QuorumNotMet,
    RecusedMember,
    SeatOccupied,
    UnknownDocument,
    UnknownItem,
    UnknownMember,
    UnknownMotion,
    UnknownSeat,
)

CONSTITUENCY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


class Constituency(StrEnum):
    """The constituencies every Quebec local board knows; boards may add others."""

    CITIZENS = "citizens"
    COMMUNITY_ORGANISATIONS = "community_organisations"
    PRACTITIONERS = "practitioners"
    MUNICIPAL_ELECTED = "municipal_elected"
    FIRST_NATIONS_INUIT = "first_nations_inuit"


CONSTITUENCY_LABELS: dict[str, tuple[str, str]] = {
    "citizens": ("Citoyennes et citoyens", "Citizens"),
    "community_organisations": ("Organismes communautaires", "Community organisations"),
    "practitioners": ("Intervenantes et intervenants", "Practitioners"),
    "municipal_elected": ("Élues et élus municipaux", "Municipal elected officials"),
    "first_nations_inuit": ("Premières Nations et Inuit", "First Nations and Inuit"),
}


class Office(StrEnum):
    CHAIR = "chair"
    VICE_CHAIR = "vice_chair"
    SECRETARY = "secretary"
    TREASURER = "treasurer"
    MEMBER = "member"


class MajorityRule(StrEnum):
    SIMPLE = "simple"
    TWO_THIRDS = "two_thirds"
    CONSENSUS = "consensus"


class CastingVote(StrEnum):
    """Who breaks a tie under simple majority: nobody (the motion is defeated),
    or the chair (*voix prépondérante*)."""

    NONE = "none"
    CHAIR = "chair"


class Choice(StrEnum):
    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"


class MeetingKind(StrEnum):
    PUBLIC = "public"
    CLOSED = "closed"


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    ADJOURNED = "adjourned"
    CANCELLED = "cancelled"


class ItemSource(StrEnum):
    MEMBER = "member"
    SECRETARY = "secretary"
    PARTICIPATION = "participation"
    INDICATOR = "indicator"


class Discussion(StrEnum):
    """Where an agenda item stands during the sitting: not yet taken, under
    discussion (the one item open at a time), or done with."""

    WAITING = "waiting"
    OPEN = "open"
    CLOSED = "closed"


class MotionStatus(StrEnum):
    OPEN = "open"
    ADOPTED = "adopted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class DecisionStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    DONE = "done"
    CANCELLED = "cancelled"


FINAL_STATUSES = frozenset({DecisionStatus.DONE, DecisionStatus.CANCELLED})


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, clamped to the month's last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


# --- charter ------------------------------------------------------------------------


@dataclass(frozen=True)
class SeatGroup:
    """``seats`` seats for one constituency, each held for ``term_months``."""

    constituency: str
    seats: int
    term_months: int = 24
    label: str = ""

    def __post_init__(self) -> None:
        if not CONSTITUENCY_PATTERN.match(self.constituency):
            raise InvalidCharter(
                f"collège « {self.constituency} » : minuscules, chiffres et _ attendus",
                f'constituency "{self.constituency}": lowercase, digits and _ expected',
                field="constituency",
            )
        if not 1 <= self.seats <= 100:
            raise InvalidCharter(
                f"collège « {self.constituency} », champ « seats » : entre 1 et 100",
                f'constituency "{self.constituency}", field "seats": 1 to 100',
                field="seats",
            )
        if not 1 <= self.term_months <= 120:
            raise InvalidCharter(
                f"collège « {self.constituency} », champ « term_months » : "
                "entre 1 et 120",
                f'constituency "{self.constituency}", field "term_months": 1 to 120',
                field="term_months",
            )

    @property
    def display_label(self) -> str:
        if self.label:
            return self.label
        fr, en = CONSTITUENCY_LABELS.get(self.constituency, (self.constituency, ""))
        return f"{fr} / {en}" if en else fr

    def seat_ids(self) -> list[str]:
        return [f"{self.constituency}-{n}" for n in range(1, self.seats + 1)]


@dataclass(frozen=True)
class QuorumRule:
    """Quorum: a share of filled seats, and optional minimums per constituency.

    ``QuorumRule(Fraction(1, 2), strictly_more=True)`` is "a majority of the
    members in office": 5 of 8, 5 of 9.
    """

    share: Fraction = Fraction(1, 2)
    strictly_more: bool = True
    min_present: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0 < self.share <= 1:
            raise InvalidCharter(
                "quorum, champ « share » : fraction entre 0 (exclu) et 1",
                'quorum, field "share": a fraction above 0 and at most 1',
                field="share",
            )
        for constituency, minimum in self.min_present.items():
            if minimum < 0:
                raise InvalidCharter(
                    f"quorum, minimum pour « {constituency} » : entier positif",
                    f'quorum, minimum for "{constituency}": non-negative integer',
                    field="min_present",
                )

    def required(self, filled_seats: int) -> int:
        exact = self.share * filled_seats
        if self.strictly_more:
            needed = int(exact) + 1
        else:
            needed = -(-exact.numerator // exact.denominator)
        return max(1, min(needed, max(filled_seats, 1)))


PROCEDURE_CODES = ("morin",)


@dataclass(frozen=True)
class ProcedureConfig:
    """Which deliberative procedure the board follows, and its variants.

    The charter's ``procedure`` key; every variant has a safe default, and a key
    the engine does not know is refused by name (:func:`procedure_config`)::

        {"code": "morin", "time_limit_seconds": 300,
         "secret_ballot_on_request": true, "speaking_turns": 1,
         "mover_reply": true}

    - ``time_limit_seconds``: the length of one turn of speech (``null``: none);
    - ``secret_ballot_on_request``: a member may ask for a secret ballot (off by
      default: a board's votes are public);
    - ``speaking_turns``: how many times a member speaks on one question (1);
    - ``mover_reply``: the mover of a question may reply once more, closing the
      debate on it (the Code Morin's *droit de réplique*).
    """

    code: str = "morin"
    time_limit_seconds: int | None = None
    secret_ballot_on_request: bool = False
    speaking_turns: int = 1
    mover_reply: bool = True

    def __post_init__(self) -> None:
        if self.code not in PROCEDURE_CODES:
            raise InvalidCharter(
                f"procédure, champ « code » : « {self.code} » inconnu, "
                "« morin » attendu",
                f'procedure, field "code": "{self.code}" is unknown, "morin" expected',
                field="procedure.code",
            )
        limit = self.time_limit_seconds
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or not 10 <= limit
        ):
            raise InvalidCharter(
                "procédure, champ « time_limit_seconds » : entier d'au moins 10 "
                "secondes, ou null",
                'procedure, field "time_limit_seconds": an integer of at least 10 '
                "seconds, or null",
                field="procedure.time_limit_seconds",
            )
        turns = self.speaking_turns
        if isinstance(turns, bool) or not isinstance(turns, int) or not 1 <= turns:
            raise InvalidCharter(
                "procédure, champ « speaking_turns » : entier d'au moins 1",
                'procedure, field "speaking_turns": an integer of at least 1',
                field="procedure.speaking_turns",
            )
        for name in ("secret_ballot_on_request", "mover_reply"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidCharter(
                    f"procédure, champ « {name} » : true ou false attendu",
                    f'procedure, field "{name}": true or false expected',
                    field=f"procedure.{name}",
                )

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "time_limit_seconds": self.time_limit_seconds,
            "secret_ballot_on_request": self.secret_ballot_on_request,
            "speaking_turns": self.speaking_turns,
            "mover_reply": self.mover_reply,
        }


def procedure_config(raw: Mapping[str, Any] | None) -> ProcedureConfig:
    """The charter's ``procedure`` mapping as a :class:`ProcedureConfig`.

    ``None`` or ``{}`` is the Code Morin with every default; an unknown key is
    refused by name rather than ignored (a by-law the engine would not apply).
    """
    raw = dict(raw or {})
    known = set(ProcedureConfig.__dataclass_fields__)
    for key in sorted(raw):
        if key not in known:
            raise InvalidCharter(
                f"procédure : variante « {key} » inconnue (connues : "
                f"{', '.join(sorted(known))})",
                f'procedure: unknown variant "{key}" (known: '
                f"{', '.join(sorted(known))})",
                field=f"procedure.{key}",
            )
    return ProcedureConfig(**raw)


@dataclass(frozen=True)
class Charter:
    board_id: str
    name: str
    seat_groups: tuple[SeatGroup, ...]
    quorum: QuorumRule = field(default_factory=QuorumRule)
    default_majority: MajorityRule = MajorityRule.SIMPLE
    casting_vote: CastingVote = CastingVote.NONE
    procedure: ProcedureConfig = field(default_factory=ProcedureConfig)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "casting_vote", CastingVote(self.casting_vote))
        except ValueError:
            raise InvalidCharter(
                f"champ « casting_vote » : « {self.casting_vote} » inconnu, "
                "« none » ou « chair » attendu",
                f'field "casting_vote": "{self.casting_vote}" is unknown, '
                '"none" or "chair" expected',
                field="casting_vote",
            ) from None
        if not self.name.strip():
            raise InvalidCharter(
                "champ « name » : nom du conseil requis",
                'field "name": the board\'s name is required',
                field="name",
            )
        if not self.seat_groups:
            raise InvalidCharter(
                "champ « seat_groups » : au moins un collège",
                'field "seat_groups": at least one constituency',
                field="seat_groups",
            )
        seen: set[str] = set()
        for group in self.seat_groups:
            if group.constituency in seen:
                raise InvalidCharter(
                    f"collège « {group.constituency} » déclaré deux fois",
                    f'constituency "{group.constituency}" declared twice',
                    field="seat_groups",
                )
            seen.add(group.constituency)
        for constituency, minimum in self.quorum.min_present.items():
            if constituency not in seen:
                raise InvalidCharter(
                    f"quorum : collège « {constituency} » absent de la charte",
                    f'quorum: constituency "{constituency}" is not in the charter',
                    field="min_present",
                )
            group = self.group(constituency)
            if minimum > group.seats:
                raise InvalidCharter(
                    f"quorum : minimum {minimum} pour « {constituency} » dépasse "
                    f"ses {group.seats} siège(s)",
                    f'quorum: minimum {minimum} for "{constituency}" exceeds its '
                    f"{group.seats} seat(s)",
                    field="min_present",
                )

    def group(self, constituency: str) -> SeatGroup:
        for group in self.seat_groups:
            if group.constituency == constituency:
                return group
        raise UnknownSeat(constituency)

    def seat_ids(self) -> list[str]:
        return [seat for group in self.seat_groups for seat in group.seat_ids()]

    def seat_names(self, seat_id: str) -> tuple[str, str]:
        """``citizens-1`` -> ("Citoyennes et citoyens, siège 1", "Citizens, seat 1"):
        what a refusal shows a person instead of the seat's code."""
        constituency, _, number = seat_id.rpartition("-")
        group = self.group(constituency)
        fr, en = CONSTITUENCY_LABELS.get(constituency, (constituency, constituency))
        if group.label:
            fr = en = group.label
        return f"{fr}, siège {number}", f"{en}, seat {number}"

    def constituency_of(self, seat_id: str) -> str:
        constituency, _, number = seat_id.rpartition("-")
        for group in self.seat_groups:
            if group.constituency == constituency and number.isdigit():
                if 1 <= int(number) <= group.seats:
                    return constituency
        raise UnknownSeat(seat_id)


@dataclass(frozen=True)
class IndicatorWatch:
    """The board asks to discuss an indicator when it crosses a threshold."""

    indicator_id: str
    threshold: float
    above: bool = True
    title: str = ""

    def crossed(self, previous: float | None, current: float) -> bool:
        if self.above:
            return current > self.threshold and (
                previous is None or previous <= self.threshold
            )
        return current < self.threshold and (
            previous is None or previous >= self.threshold
        )

    def item(self, period: str, current: float) -> AgendaItem:
        direction = ("au-dessus", "above") if self.above else ("sous", "below")
        label = self.title or self.indicator_id
        return AgendaItem(
            item_id=f"indicator-{self.indicator_id}-{period}",
            title=f"{label} {period}: {current:g} {direction[0]} du seuil / "
            f"{direction[1]} threshold {self.threshold:g}",
            source=ItemSource.INDICATOR,
            indicator_id=self.indicator_id,
            proposed=True,
        )


# --- members and appointments -------------------------------------------------------


@dataclass
class Member:
    """A person on the board. Contact details are private: never published."""

    member_id: str
    name: str
    email: str = ""
    phone: str = ""


@dataclass
class Appointment:
    """Who held a seat, from ``start`` to ``end`` (term end, inclusive).

    ``ended_on`` is set when the term stops early (resignation, removal): the
    last day the seat was held.
    """

    seat_id: str
    member_id: str
    start: date
    end: date
    office: Office = Office.MEMBER
    ended_on: date | None = None

    @property
    def last_day(self) -> date:
        return min(self.end, self.ended_on) if self.ended_on else self.end

    def active_on(self, day: date) -> bool:
        return self.start <= day <= self.last_day

    def overlaps(self, start: date, end: date) -> bool:
        return self.start <= end and start <= self.last_day


@dataclass
class Board:
    """The board's charter, its people and who held which seat when."""

    charter: Charter
    members: dict[str, Member] = field(default_factory=dict)
    appointments: list[Appointment] = field(default_factory=list)
    pending_items: list[AgendaItem] = field(default_factory=list)
    resolution_seq: int = 0
    placed_sources: set[str] = field(default_factory=set)
    watches: dict[str, IndicatorWatch] = field(default_factory=dict)

    @property
    def board_id(self) -> str:
        return self.charter.board_id

    def add_member(self, member: Member) -> Member:
        if not member.name.strip():
            raise InvalidValue(
                "champ « name » : nom requis",
                'field "name": a name is required',
                field="name",
            )
        self.members[member.member_id] = member
        return member

    def member(self, member_id: str) -> Member:
        try:
            return self.members[member_id]
        except KeyError:
            raise UnknownMember(member_id) from None

    def appoint(
        self,
        seat_id: str,
        member_id: str,
        start: date,
        end: date | None = None,
        office: Office = Office.MEMBER,
    ) -> Appointment:
        """Appoint a member to a seat; the default end is the charter's term."""
        constituency = self.charter.constituency_of(seat_id)
        self.member(member_id)
        if end is None:
            months = self.charter.group(constituency).term_months
            # a term of 24 months from 2026-01-01 ends on 2027-12-31, so the
            # next term can start on 2028-01-01 without overlapping
            end = add_months(start, months) - timedelta(days=1)
        if end < start:
            raise InvalidValue(
                "champ « end » : la fin du mandat précède son début",
                'field "end": the term ends before it starts',
                field="end",
            )
        for existing in self.appointments:
            if existing.seat_id == seat_id and existing.overlaps(start, end):
                holder = self.members[existing.member_id].name
                raise SeatOccupied(seat_id, holder, self.charter.seat_names(seat_id))
            if existing.member_id == member_id and existing.overlaps(start, end):
                raise InvalidState(
                    f"« {member_id} » occupe déjà le siège « {existing.seat_id} » "
                    "pour cette période",
                    f'"{member_id}" already holds seat "{existing.seat_id}" '
                    "for that period",
                    field="member_id",
                )
        appointment = Appointment(seat_id, member_id, start, end, Office(office))
        self.appointments.append(appointment)
        return appointment

    def end_appointment(self, seat_id: str, last_day: date) -> Appointment:
        """Close the current term of a seat early (resignation, removal)."""
        self.charter.constituency_of(seat_id)
        for appointment in self.appointments:
            if appointment.seat_id == seat_id and appointment.active_on(last_day):
                appointment.ended_on = last_day
                return appointment
        raise InvalidState(
            f"le siège « {seat_id} » est vacant le {last_day.isoformat()}",
            f'seat "{seat_id}" is vacant on {last_day.isoformat()}',
            field="seat_id",
        )

    def holder(self, seat_id: str, day: date) -> Appointment | None:
        for appointment in self.appointments:
            if appointment.seat_id == seat_id and appointment.active_on(day):
                return appointment
        return None

    def seated(self, day: date) -> dict[str, Appointment]:
        """Member id -> the appointment they hold on ``day``."""
        return {a.member_id: a for a in self.appointments if a.active_on(day)}

    def vacancies(self, day: date) -> list[str]:
        return [s for s in self.charter.seat_ids() if self.holder(s, day) is None]

    def filled_count(self, day: date) -> int:
        return len(self.seated(day))

    def history(self, seat_id: str) -> list[Appointment]:
        self.charter.constituency_of(seat_id)
        return sorted(
            (a for a in self.appointments if a.seat_id == seat_id),
            key=lambda a: a.start,
        )

    def role(self, member_id: str, day: date) -> str:
        """A public description of a member: constituency and office."""
        appointment = self.seated(day).get(member_id)
        if appointment is None:
            past = [a for a in self.appointments if a.member_id == member_id]
            if not past:
                return ""
            appointment = max(past, key=lambda a: a.start)
        constituency = self.charter.constituency_of(appointment.seat_id)
        label = self.charter.group(constituency).display_label
        if appointment.office == Office.MEMBER:
            return label
        return f"{appointment.office.value} — {label}"

    def watch(self, watch: IndicatorWatch) -> IndicatorWatch:
        self.watches[watch.indicator_id] = watch
        return watch

    def unwatch(self, indicator_id: str) -> None:
        self.watches.pop(indicator_id, None)

    def next_resolution_number(self, day: date) -> str:
        self.resolution_seq += 1
        return f"{day.year}-{self.resolution_seq:03d}"


# --- meetings, agendas, motions -----------------------------------------------------


@dataclass
class AgendaItem:
    """One agenda item. Items from events keep a link to their source.

    ``in_camera`` marks an item taken behind closed doors during a public
    meeting; it is treated like closed-session content.

    ``proposed`` items (a member's motion, participation results, an indicator
    watch) await the secretary, who accepts them (they become ordinary items)
    or refuses them with a ``refusal`` reason shown to the proposer (they leave
    the agenda for :attr:`Meeting.refused`).
    """

    item_id: str
    title: str
    source: ItemSource = ItemSource.SECRETARY
    proposed_by: str | None = None
    process_id: str | None = None
    proposal_id: str | None = None
    rank: int | None = None
    indicator_id: str | None = None
    in_camera: bool = False
    proposed: bool = False
    # what another service asks the board to adopt (a catalogue definition, a
    # data-sharing agreement): carried as is to the resolution and its event,
    # checked by that service
    definition: dict[str, Any] | None = None
    discussion: Discussion = Discussion.WAITING
    refusal: str | None = None


@dataclass
class Vote:
    member_id: str
    choice: Choice
    objection: str = ""


@dataclass(frozen=True)
class Tally:
    """The counts as cast; ``decided_by_casting_vote`` when a tie was broken by
    the chair's casting vote (the counts then show the tie, e.g. 3 for, 3 against,
    adopted)."""

    rule: MajorityRule
    votes_for: int
    votes_against: int
    abstentions: int
    adopted: bool
    decided_by_casting_vote: bool = False


def tally(
    rule: MajorityRule, votes: Iterable[Vote], casting_voters: Iterable[str] = ()
) -> Tally:
    """Count votes under a majority rule (see the module docstring).

    ``casting_voters`` are the members whose vote breaks a tie under simple
    majority: the chair, when the charter says ``casting_vote: "chair"`` and the
    chair is not recused (:meth:`Meeting.casting_voters`); empty otherwise.

    The casting vote is the chair's *ordinary* vote counted a second time, not a
    separate vote cast once the tie is known. In this model the chair holds a
    seat and votes like any member (one :class:`Vote` per member and motion,
    :meth:`Meeting.cast_vote`), and the secretary closes the vote in one step
    (:meth:`Meeting.close_vote`); a second vote after the tie would need a new
    state for the motion (tied, waiting for the chair), a new command and
    permission, and could leave a motion undecided at adjournment. So:

    - a tie (as many for as against, at least one each) goes the way the chair
      voted: for, adopted; against, defeated; both recorded as decided by the
      casting vote;
    - a chair who abstained or did not vote leaves the tie as it is: defeated;
    - co-chairs (two members in office ``chair``) decide only if they voted alike;
    - two thirds and consensus are unaffected (a tie is never two thirds, and a
      consensus is blocked by any vote against).

    >>> v = [Vote("ada", Choice.FOR), Vote("bob", Choice.AGAINST)]
    >>> tally(MajorityRule.SIMPLE, v, ["ada"]).adopted
    True
    """
    votes = list(votes)
    counts = {choice: 0 for choice in Choice}
    for vote in votes:
        counts[vote.choice] += 1
    yes, no = counts[Choice.FOR], counts[Choice.AGAINST]
    casting = False
    if rule == MajorityRule.SIMPLE:
        adopted = yes > no
        if yes == no > 0:
            voters = set(casting_voters)
            chairs = {
                v.choice
                for v in votes
                if v.member_id in voters and v.choice != Choice.ABSTAIN
            }
            if len(chairs) == 1:
                adopted, casting = chairs == {Choice.FOR}, True
    elif rule == MajorityRule.TWO_THIRDS:
        adopted = yes > 0 and 3 * yes >= 2 * (yes + no)
    else:
        adopted = yes > 0 and no == 0
    return Tally(rule, yes, no, counts[Choice.ABSTAIN], adopted, casting)


@dataclass
class Motion:
    motion_id: str
    item_id: str
    text: str
    moved_by: str
    seconded_by: str | None
    rule: MajorityRule
    votes: dict[str, Vote] = field(default_factory=dict)
    status: MotionStatus = MotionStatus.OPEN
    resolution_id: str | None = None
    decided_by_casting_vote: bool = False


@dataclass(frozen=True)
class QuorumStatus:
    met: bool
    required: int
    present: int
    missing: Mapping[str, int]

    def raise_if_not_met(self) -> None:
        if not self.met:
            raise QuorumNotMet(self.required, self.present, self.missing)


@dataclass
class Meeting:
    meeting_id: str
    board_id: str
    kind: MeetingKind
    scheduled_at: datetime
    place: str
    status: MeetingStatus = MeetingStatus.SCHEDULED
    agenda: list[AgendaItem] = field(default_factory=list)
    present: set[str] = field(default_factory=set)
    conflicts: dict[str, dict[str, str]] = field(default_factory=dict)
    motions: list[Motion] = field(default_factory=list)
    minutes: str | None = None
    minutes_adopted_at: str | None = None
    refused: list[AgendaItem] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.scheduled_at.tzinfo is None:
            raise InvalidValue(
                "champ « scheduled_at » : fuseau horaire requis",
                'field "scheduled_at": a time zone is required',
                field="scheduled_at",
            )

    @property
    def day(self) -> date:
        return self.scheduled_at.date()

    @property
    def is_closed(self) -> bool:
        return self.kind == MeetingKind.CLOSED

    # agenda

    def item(self, item_id: str) -> AgendaItem:
        for item in self.agenda:
            if item.item_id == item_id:
                return item
        raise UnknownItem(item_id)

    def add_item(self, item: AgendaItem) -> AgendaItem:
        if self.status in (MeetingStatus.ADJOURNED, MeetingStatus.CANCELLED):
            raise InvalidState(
                "la séance est terminée : l'ordre du jour est figé",
                "the meeting is over: its agenda is frozen",
                field="meeting_id",
            )
        if not item.title.strip():
            raise InvalidValue(
                "champ « title » : titre requis",
                'field "title": a title is required',
                field="title",
            )
        if any(existing.item_id == item.item_id for existing in self.agenda):
            raise InvalidState(
                f"le point « {item.item_id} » est déjà à l'ordre du jour",
                f'item "{item.item_id}" is already on the agenda',
                field="item_id",
            )
        self.agenda.append(item)
        return item

    def propose_motion_item(
        self, board: Board, member_id: str, title: str, item_id: str | None = None
    ) -> AgendaItem:
        """A member puts an item on the agenda (a member's motion)."""
        if member_id not in board.seated(self.day):
            raise NotSeated(member_id)
        return self.add_item(
            AgendaItem(
                item_id=item_id or new_id("item"),
                title=title,
                source=ItemSource.MEMBER,
                proposed_by=member_id,
                proposed=True,
            )
        )

    def _require_agenda_open(self) -> None:
        if self.status not in (MeetingStatus.SCHEDULED, MeetingStatus.OPEN):
            raise InvalidState(
                "la séance est terminée : l'ordre du jour est figé",
                "the meeting is over: its agenda is frozen",
                field="meeting_id",
            )

    def _proposal(self, item_id: str) -> AgendaItem:
        self._require_agenda_open()
        item = self.item(item_id)
        if not item.proposed:
            raise InvalidState(
                f"le point « {item.title} » est déjà à l'ordre du jour : "
                "ce n'est plus une proposition à accepter ou refuser",
                f'item "{item.title}" is already on the agenda: it is no longer '
                "a proposal to accept or refuse",
                field="item_id",
            )
        return item

    def accept_item(self, item_id: str) -> AgendaItem:
        """The secretary accepts a proposed item: it becomes an ordinary item."""
        item = self._proposal(item_id)
        item.proposed = False
        return item

    def refuse_item(self, item_id: str, reason: str) -> AgendaItem:
        """The secretary refuses a proposed item, saying why (the proposer reads
        the reason); the item leaves the agenda and is kept in :attr:`refused`."""
        item = self._proposal(item_id)
        if not reason.strip():
            raise InvalidValue(
                "champ « reason » : dites pourquoi la proposition est refusée "
                "(la personne qui l'a proposée le lira)",
                'field "reason": say why the proposal is refused (its proposer '
                "will read it)",
                field="reason",
            )
        self.agenda.remove(item)
        item.proposed = False
        item.refusal = reason.strip()
        self.refused.append(item)
        return item

    def reorder(self, order: Sequence[str]) -> list[AgendaItem]:
        """Put the agenda in ``order``: every item id once, none unknown."""
        self._require_agenda_open()
        known = [i.item_id for i in self.agenda]
        unknown = [i for i in order if i not in known]
        missing = [i for i in known if i not in order]
        if unknown or missing or len(set(order)) != len(order):
            titles = {i.item_id: i.title for i in self.agenda}
            parts_fr, parts_en = [], []
            if unknown:
                parts_fr.append("inconnus : " + ", ".join(unknown))
                parts_en.append("unknown: " + ", ".join(unknown))
            if missing:
                names = ", ".join(f"« {titles[i]} »" for i in missing)
                parts_fr.append("manquants : " + names)
                parts_en.append(
                    "missing: " + names.replace("« ", '"').replace(" »", '"')
                )
            if len(set(order)) != len(order):
                parts_fr.append("un point figure deux fois")
                parts_en.append("an item is listed twice")
            raise InvalidValue(
                "champ « order » : chaque point de l'ordre du jour une fois ("
                + " ; ".join(parts_fr)
                + ")",
                'field "order": every agenda item once (' + "; ".join(parts_en) + ")",
                field="order",
            )
        by_id = {i.item_id: i for i in self.agenda}
        self.agenda = [by_id[i] for i in order]
        return self.agenda

    def open_item(self, item_id: str) -> AgendaItem:
        """The chair takes up an item: one item under discussion at a time."""
        self._require(MeetingStatus.OPEN)
        item = self.item(item_id)
        if item.proposed:
            raise InvalidState(
                f"le point « {item.title} » est une proposition : acceptez-la "
                "avant de l'ouvrir",
                f'item "{item.title}" is a proposal: accept it before opening it',
                field="item_id",
            )
        if item.discussion != Discussion.WAITING:
            raise InvalidState(
                f"le point « {item.title} » est déjà "
                + ("ouvert" if item.discussion == Discussion.OPEN else "clos"),
                f'item "{item.title}" is already {item.discussion.value}',
                field="item_id",
            )
        for other in self.agenda:
            if other.discussion == Discussion.OPEN:
                raise InvalidState(
                    f"le point « {other.title} » est en cours : closez-le avant "
                    f"d'ouvrir « {item.title} »",
                    f'item "{other.title}" is under discussion: close it before '
                    f'opening "{item.title}"',
                    field="item_id",
                )
        item.discussion = Discussion.OPEN
        return item

    def close_item(self, item_id: str) -> AgendaItem:
        """Done with an item; a motion still being voted on keeps it open."""
        self._require(MeetingStatus.OPEN)
        item = self.item(item_id)
        if item.discussion != Discussion.OPEN:
            raise InvalidState(
                f"le point « {item.title} » n'est pas ouvert",
                f'item "{item.title}" is not open',
                field="item_id",
            )
        for motion in self.motions:
            if motion.item_id == item_id and motion.status == MotionStatus.OPEN:
                raise InvalidState(
                    f"la proposition « {motion.text} » est en cours sur ce point : "
                    "closez le vote ou retirez-la d'abord",
                    f'the motion "{motion.text}" is open on this item: close its '
                    "vote or withdraw it first",
                    field="item_id",
                )
        item.discussion = Discussion.CLOSED
        return item

    # sitting

    def _require(self, *statuses: MeetingStatus) -> None:
        if self.status not in statuses:
            wanted = ", ".join(s.value for s in statuses)
            raise InvalidState(
                f"séance « {self.status.value} » : état attendu {wanted}",
                f'meeting is "{self.status.value}": expected {wanted}',
                field="status",
            )

    def open(self) -> None:
        self._require(MeetingStatus.SCHEDULED)
        self.status = MeetingStatus.OPEN

    def adjourn(self) -> None:
        self._require(MeetingStatus.OPEN)
        for motion in self.motions:
            if motion.status == MotionStatus.OPEN:
                raise InvalidState(
                    f"le vote sur « {motion.motion_id} » n'est pas clos",
                    f'the vote on "{motion.motion_id}" is not closed',
                    field="motion_id",
                )
        for item in self.agenda:
            if item.discussion == Discussion.OPEN:
                item.discussion = Discussion.CLOSED
        self.status = MeetingStatus.ADJOURNED

    def cancel(self) -> None:
        self._require(MeetingStatus.SCHEDULED)
        self.status = MeetingStatus.CANCELLED

    def record_arrival(self, board: Board, member_id: str) -> None:
        self._require(MeetingStatus.OPEN)
        board.member(member_id)
        if member_id not in board.seated(self.day):
            raise NotSeated(member_id)
        self.present.add(member_id)

    def record_departure(self, member_id: str) -> None:
        self._require(MeetingStatus.OPEN)
        if member_id not in self.present:
            raise NotPresent(member_id)
        self.present.discard(member_id)

    def declare_conflict(self, member_id: str, item_id: str, reason: str) -> None:
        """Record a declared conflict of interest: the member is recused.

        A vote the member already cast on a motion of that item still open is
        struck: a conflicted vote must not count, even if declared late.
        """
        self.item(item_id)
        self.conflicts.setdefault(item_id, {})[member_id] = reason.strip()
        for motion in self.motions:
            if motion.item_id == item_id and motion.status == MotionStatus.OPEN:
                motion.votes.pop(member_id, None)

    def is_recused(self, member_id: str, item_id: str) -> bool:
        return member_id in self.conflicts.get(item_id, {})

    def quorum(self, board: Board, item_id: str | None = None) -> QuorumStatus:
        """Quorum for an item: seated, present, not recused members."""
        seated = board.seated(self.day)
        voting = [
            m
            for m in self.present
            if m in seated and not (item_id and self.is_recused(m, item_id))
        ]
        rule = board.charter.quorum
        required = rule.required(len(seated))
        missing: dict[str, int] = {}
        for constituency, minimum in rule.min_present.items():
            here = sum(
                1
                for m in voting
                if board.charter.constituency_of(seated[m].seat_id) == constituency
            )
            if here < minimum:
                missing[constituency] = minimum - here
        met = len(voting) >= required and not missing
        return QuorumStatus(met, required, len(voting), missing)

    def casting_voters(self, board: Board, item_id: str) -> list[str]:
        """Whose vote breaks a tie on ``item_id``: the chair holding office on
        the meeting day, if the charter gives the chair a casting vote and the
        chair is not recused from the item; nobody otherwise."""
        if board.charter.casting_vote != CastingVote.CHAIR:
            return []
        return [
            member_id
            for member_id, appointment in board.seated(self.day).items()
            if appointment.office == Office.CHAIR
            and not self.is_recused(member_id, item_id)
        ]

    def require_open(self) -> None:
        self._require(MeetingStatus.OPEN)

    def chair(self, board: Board) -> str | None:
        """The member holding the office of chair on the meeting day."""
        for member_id, appointment in sorted(board.seated(self.day).items()):
            if appointment.office == Office.CHAIR:
                return member_id
        return None

    def check_voter(self, board: Board, member_id: str, item_id: str) -> None:
        """Refuse a member who may not move, second, speak or vote on the item:
        not a member, not seated on the meeting day, absent, or recused."""
        self._require(MeetingStatus.OPEN)
        self._check_voter(board, member_id, item_id)

    def _check_voter(self, board: Board, member_id: str, item_id: str) -> None:
        board.member(member_id)
        if member_id not in board.seated(self.day):
            raise NotSeated(member_id)
        if member_id not in self.present:
            raise NotPresent(member_id)
        if self.is_recused(member_id, item_id):
            reason = self.conflicts[item_id][member_id]
            raise RecusedMember(member_id, item_id, reason)

    def motion(self, motion_id: str) -> Motion:
        for motion in self.motions:
            if motion.motion_id == motion_id:
                return motion
        raise UnknownMotion(motion_id)

    def move(
        self,
        board: Board,
        item_id: str,
        text: str,
        moved_by: str,
        seconded_by: str | None,
        rule: MajorityRule | None = None,
        motion_id: str | None = None,
    ) -> Motion:
        """A motion, moved and seconded by two different present members.

        ``seconded_by`` may be left out when the seconder acts for themself
        afterwards (:meth:`second`); no vote is taken before a motion is seconded.
        """
        self._require(MeetingStatus.OPEN)
        item = self.item(item_id)
        if item.discussion == Discussion.CLOSED:
            raise InvalidState(
                f"le point « {item.title} » est clos : on n'y propose plus rien",
                f'item "{item.title}" is closed: nothing more is moved on it',
                field="item_id",
            )
        if not text.strip():
            raise InvalidValue(
                "champ « text » : texte de la proposition requis",
                'field "text": the motion\'s text is required',
                field="text",
            )
        if moved_by == seconded_by:
            raise InvalidValue(
                "champ « seconded_by » : l'appuyeur doit être un autre membre",
                'field "seconded_by": must be another member than the mover',
                field="seconded_by",
            )
        self._check_voter(board, moved_by, item_id)
        if seconded_by is not None:
            self._check_voter(board, seconded_by, item_id)
        if any(
            m.item_id == item_id and m.status == MotionStatus.OPEN for m in self.motions
        ):
            raise InvalidState(
                f"une proposition est déjà en cours sur le point « {item_id} »",
                f'a motion is already open on item "{item_id}"',
                field="item_id",
            )
        motion = Motion(
            motion_id=motion_id or new_id("motion"),
            item_id=item_id,
            text=text.strip(),
            moved_by=moved_by,
            seconded_by=seconded_by,
            rule=MajorityRule(rule or board.charter.default_majority),
        )
        self.motions.append(motion)
        return motion

    def second(self, board: Board, motion_id: str, member_id: str) -> Motion:
        """Another present, seated, non-recused member seconds an open motion."""
        self._require(MeetingStatus.OPEN)
        motion = self.motion(motion_id)
        if motion.status != MotionStatus.OPEN or motion.seconded_by is not None:
            raise InvalidState(
                f"la proposition « {motion_id} » est déjà appuyée ou close",
                f'motion "{motion_id}" is already seconded or closed',
                field="motion_id",
            )
        if member_id == motion.moved_by:
            raise InvalidValue(
                "champ « member_id » : l'appuyeur doit être un autre membre",
                'field "member_id": must be another member than the mover',
                field="member_id",
            )
        self._check_voter(board, member_id, motion.item_id)
        motion.seconded_by = member_id
        return motion

    def _require_seconded(self, motion: Motion) -> None:
        if motion.seconded_by is None:
            raise InvalidState(
                f"la proposition « {motion.motion_id} » n'est pas appuyée : "
                "pas de vote",
                f'motion "{motion.motion_id}" is not seconded: no vote yet',
                field="seconded_by",
            )

    def cast_vote(
        self,
        board: Board,
        motion_id: str,
        member_id: str,
        choice: Choice,
        objection: str = "",
    ) -> Vote:
        """Record one member's vote; refused with a reason when not allowed."""
        self._require(MeetingStatus.OPEN)
        motion = self.motion(motion_id)
        if motion.status != MotionStatus.OPEN:
            raise InvalidState(
                f"le vote sur « {motion_id} » est clos",
                f'the vote on "{motion_id}" is closed',
                field="motion_id",
            )
        self._require_seconded(motion)
        self._check_voter(board, member_id, motion.item_id)
        self.quorum(board, motion.item_id).raise_if_not_met()
        if member_id in motion.votes:
            raise AlreadyVoted(member_id)
        vote = Vote(member_id, Choice(choice), objection.strip())
        motion.votes[member_id] = vote
        return vote

    def withdraw(self, motion_id: str) -> Motion:
        motion = self.motion(motion_id)
        if motion.status != MotionStatus.OPEN:
            raise InvalidState(
                f"le vote sur « {motion_id} » est clos",
                f'the vote on "{motion_id}" is closed',
                field="motion_id",
            )
        motion.status = MotionStatus.WITHDRAWN
        return motion

    def close_vote(
        self, board: Board, motion_id: str, resolution_id: str | None = None
    ) -> tuple[Tally, Resolution | None]:
        """Close a vote: tally under the motion's rule; adopted makes a resolution.

        Quorum is checked again: a decision taken after members left is refused.
        A tie broken by the chair's casting vote is recorded on the motion (for
        the minutes, adopted or defeated) and on the resolution (for the register).
        """
        self._require(MeetingStatus.OPEN)
        motion = self.motion(motion_id)
        if motion.status != MotionStatus.OPEN:
            raise InvalidState(
                f"le vote sur « {motion_id} » est déjà clos",
                f'the vote on "{motion_id}" is already closed',
                field="motion_id",
            )
        self._require_seconded(motion)
        self.quorum(board, motion.item_id).raise_if_not_met()
        result = tally(
            motion.rule,
            motion.votes.values(),
            self.casting_voters(board, motion.item_id),
        )
        motion.decided_by_casting_vote = result.decided_by_casting_vote
        if not result.adopted:
            motion.status = MotionStatus.REJECTED
            return result, None
        motion.status = MotionStatus.ADOPTED
        item = self.item(motion.item_id)
        resolution = Resolution(
            resolution_id=resolution_id or new_id("res"),
            number=board.next_resolution_number(self.day),
            board_id=self.board_id,
            meeting_id=self.meeting_id,
            item_id=item.item_id,
            motion_id=motion.motion_id,
            title=item.title,
            text=motion.text,
            adopted_on=self.day,
            closed_session=self.is_closed or item.in_camera,
            rule=motion.rule,
            votes_for=result.votes_for,
            votes_against=result.votes_against,
            abstentions=result.abstentions,
            decided_by_casting_vote=result.decided_by_casting_vote,
            moved_by=motion.moved_by,
            seconded_by=motion.seconded_by or "",
            objections=[
                (v.member_id, v.objection) for v in motion.votes.values() if v.objection
            ],
            process_id=item.process_id,
            definition=item.definition,
        )
        motion.resolution_id = resolution.resolution_id
        return result, resolution

    # minutes

    def draft_minutes(self, text: str) -> None:
        self._require(MeetingStatus.OPEN, MeetingStatus.ADJOURNED)
        if self.minutes_adopted_at is not None:
            raise InvalidState(
                "le procès-verbal est déjà adopté",
                "the minutes are already adopted",
                field="minutes",
            )
        self.minutes = text


def adopt_minutes(board: Board, earlier: Meeting, at: Meeting) -> None:
    """Minutes of a meeting are adopted at a later, open, quorate meeting."""
    if earlier.status != MeetingStatus.ADJOURNED or not earlier.minutes:
        raise InvalidState(
            "procès-verbal absent ou séance non levée",
            "no minutes drafted, or the meeting is not adjourned",
            field="minutes",
        )
    if earlier.minutes_adopted_at is not None:
        raise InvalidState(
            "le procès-verbal est déjà adopté",
            "the minutes are already adopted",
            field="minutes",
        )
    if at.scheduled_at <= earlier.scheduled_at or at.status != MeetingStatus.OPEN:
        raise InvalidState(
            "le procès-verbal s'adopte à une séance ultérieure, ouverte",
            "minutes are adopted at a later meeting that is open",
            field="at_meeting_id",
        )
    at.quorum(board).raise_if_not_met()
    earlier.minutes_adopted_at = at.meeting_id


# --- resolutions and follow-up ----------------------------------------------------


@dataclass
class FollowUpUpdate:
    on: date
    status: DecisionStatus
    progress: int
    note: str = ""


@dataclass
class Resolution:
    resolution_id: str
    number: str
    board_id: str
    meeting_id: str
    item_id: str
    motion_id: str
    title: str
    text: str
    adopted_on: date
    closed_session: bool
    rule: MajorityRule
    votes_for: int
    votes_against: int
    abstentions: int
    moved_by: str
    seconded_by: str
    objections: list[tuple[str, str]] = field(default_factory=list)
    decided_by_casting_vote: bool = False
    process_id: str | None = None
    responsible: str | None = None
    status: DecisionStatus = DecisionStatus.PLANNED
    progress: int = 0
    due: date | None = None
    updates: list[FollowUpUpdate] = field(default_factory=list)
    # how the text came to be, when it was deliberated under the procedure
    # (services.boards.procedure.history, people as member ids)
    history: dict[str, Any] | None = None
    definition: dict[str, Any] | None = None  # from its agenda item

    def is_overdue(self, today: date) -> bool:
        return (
            self.due is not None
            and self.due < today
            and self.status not in FINAL_STATUSES
        )

    def follow_up(
        self,
        on: date,
        status: DecisionStatus | None = None,
        progress: int | None = None,
        note: str = "",
        responsible: str | None = None,
        due: date | None = None,
    ) -> bool:
        """Record a follow-up update; returns whether the status changed.

        Done and cancelled are final; progress is 0 to 100 and never goes down
        (a correction is a note); "done" sets progress to 100.
        """
        if self.status in FINAL_STATUSES:
            raise InvalidState(
                f"décision « {self.number} » close ({self.status.value})",
                f'decision "{self.number}" is closed ({self.status.value})',
                field="status",
            )
        new_status = DecisionStatus(status) if status else self.status
        new_progress = self.progress if progress is None else progress
        if not 0 <= new_progress <= 100:
            raise InvalidValue(
                "champ « progress » : entier de 0 à 100",
                'field "progress": integer from 0 to 100',
                field="progress",
            )
        if new_progress < self.progress:
            raise InvalidValue(
                f"champ « progress » : {new_progress} < {self.progress} déjà atteint",
                f'field "progress": {new_progress} < {self.progress} already reached',
                field="progress",
            )
        if new_status == DecisionStatus.DONE:
            new_progress = 100
        changed = new_status != self.status
        if responsible is not None:
            self.responsible = responsible.strip() or None
        if due is not None:
            self.due = due
        self.status, self.progress = new_status, new_progress
        self.updates.append(FollowUpUpdate(on, new_status, new_progress, note.strip()))
        return changed


def overdue(resolutions: Iterable[Resolution], today: date) -> list[Resolution]:
    return sorted(
        (r for r in resolutions if r.is_overdue(today)),
        key=lambda r: (r.due or today, r.number),
    )


# --- items from events --------------------------------------------------------------


def next_meeting(
    meetings: Iterable[Meeting], now: datetime, kind: MeetingKind | None = None
) -> Meeting | None:
    """The earliest scheduled meeting at or after ``now``."""
    upcoming = [
        m
        for m in meetings
        if m.status == MeetingStatus.SCHEDULED
        and m.scheduled_at >= now
        and (kind is None or m.kind == kind)
    ]
    return min(upcoming, key=lambda m: m.scheduled_at, default=None)


def participation_items(
    process_id: str, title: str, priorities: Sequence[Mapping[str, Any]]
) -> list[AgendaItem]:
    """Proposed agenda items for published participation results, by rank.

    Item ids are derived from the process and proposal, so the same results
    always give the same items.
    """
    items = []
    seen: set[str] = set()
    process = title.strip() or f"Participation {process_id}"
    for priority in sorted(priorities, key=lambda p: int(p["rank"])):
        if str(priority["proposal_id"]) in seen:
            continue  # a proposal listed twice is discussed once, at its best rank
        seen.add(str(priority["proposal_id"]))
        rank = int(priority["rank"])
        proposal = str(priority.get("title") or "").strip()
        items.append(
            AgendaItem(
                item_id=f"participation-{process_id}-{priority['proposal_id']}",
                title=f"{process} — priorité {rank} / priority {rank}: "
                f"{proposal or priority['proposal_id']}",
                source=ItemSource.PARTICIPATION,
                process_id=process_id,
                proposal_id=str(priority["proposal_id"]),
                rank=rank,
                proposed=True,
            )
        )
    return items


def process_already_placed(
    board: Board, meetings: Iterable[Meeting], process_id: str
) -> bool:
    """The board remembers every process it placed, so that the check needs
    neither the meetings' history nor their agendas; the meetings given are
    scanned too, for items placed by hand."""
    if f"participation:{process_id}" in board.placed_sources:
        return True
    return any(i.process_id == process_id for i in board.pending_items) or any(
        i.process_id == process_id for m in meetings for i in m.agenda
    )


def place_participation_results(
    board: Board,
    meetings: Sequence[Meeting],
    process_id: str,
    title: str,
    priorities: Sequence[Mapping[str, Any]],
    now: datetime,
) -> tuple[Meeting | None, list[AgendaItem]]:
    """Put a closed process's ranked priorities on the next public meeting.

    Public, because citizens' results are discussed in public. With no public
    meeting scheduled, the items wait on the board and are placed when one is
    scheduled (:func:`take_pending`). A process already placed anywhere is
    ignored: the same results are never put twice on an agenda, whatever the
    number of deliveries or republications.

    Returns the meeting changed (``None`` if the items wait or nothing changed)
    and the items added; when items were added the board changed too.
    """
    if process_already_placed(board, meetings, process_id):
        return None, []
    items = participation_items(process_id, title, priorities)
    if not items:
        return None, []
    board.placed_sources.add(f"participation:{process_id}")
    target = next_meeting(meetings, now, MeetingKind.PUBLIC)
    if target is None:
        board.pending_items.extend(items)
        return None, items
    for item in items:
        target.add_item(item)
    return target, items


def place_indicator_value(
    board: Board,
    meetings: Sequence[Meeting],
    indicator_id: str,
    period: str,
    value: float,
    previous: float | None,
    now: datetime,
) -> tuple[Meeting | None, AgendaItem | None]:
    """An indicator the board watches crossed its threshold: propose an item.

    Once per indicator and period, on the next public meeting (or waiting on
    the board like participation results). Values that stay on the same side
    of the threshold propose nothing.
    """
    watch = board.watches.get(indicator_id)
    key = f"indicator:{indicator_id}:{period}"
    if watch is None or key in board.placed_sources:
        return None, None
    if not watch.crossed(previous, value):
        return None, None
    item = watch.item(period, value)
    board.placed_sources.add(key)
    target = next_meeting(meetings, now, MeetingKind.PUBLIC)
    if target is None:
        board.pending_items.append(item)
        return None, item
    target.add_item(item)
    return target, item


def take_pending(board: Board, meeting: Meeting) -> list[AgendaItem]:
    """Move the board's waiting items onto a newly scheduled public meeting."""
    if meeting.kind != MeetingKind.PUBLIC or not board.pending_items:
        return []
    moved, board.pending_items = board.pending_items, []
    for item in moved:
        meeting.add_item(item)
    return moved


# --- the public register ------------------------------------------------------------


def _person(board: Board, member_id: str, day: date) -> dict[str, str]:
    member = board.members.get(member_id)
    return {
        "name": member.name if member else "",
        "role": board.role(member_id, day),
    }


def public_meeting(board: Board, meeting: Meeting) -> dict[str, Any]:
    """A meeting as anyone outside the board may see it.

    A closed meeting shows only that it exists, when, and its status; a public
    one its place, open agenda items and, once adopted, its minutes. Never
    attendance, votes, conflicts or in-camera items.
    """
    if meeting.is_closed:
        return {
            "meeting_id": meeting.meeting_id,
            "kind": meeting.kind.value,
            "date": meeting.scheduled_at.isoformat(),
            "status": meeting.status.value,
        }
    agenda = []
    for item in meeting.agenda:
        if item.in_camera:
            continue
        agenda.append(
            {
                "title": item.title,
                "source": item.source.value,
                "proposed_by": _person(board, item.proposed_by, meeting.day)
                if item.proposed_by
                else None,
                "participation_process": item.process_id,
                "rank": item.rank,
            }
        )
    return {
        "meeting_id": meeting.meeting_id,
        "kind": meeting.kind.value,
        "date": meeting.scheduled_at.isoformat(),
        "place": meeting.place,
        "status": meeting.status.value,
        "agenda": agenda,
        "minutes": meeting.minutes if meeting.minutes_adopted_at else None,
    }


def public_resolution(
    board: Board, res: Resolution, today: date
) -> dict[str, Any] | None:
    """A resolution as the public register shows it, ``None`` if adopted in camera.

    An allow-list: people by name and role (never internal ids or contact
    details), the tally, the follow-up. A resolution adopted at a closed meeting
    or on an item taken in camera is not public at all. Example::

        {"number": "2026-001", "title": "Plan d'action 2027", "text": "...",
         "adopted_on": "2026-11-30", "majority_rule": "simple",
         "votes": {"for": 5, "against": 1, "abstain": 0},
         "decided_by_casting_vote": false,
         "moved_by": {"name": "Ada", "role": "chair — Citizens"}, ...,
         "follow_up": {"status": "in_progress", "overdue": false, ...}}
    """
    if res.closed_session:
        return None
    return {
        "number": res.number,
        "title": res.title,
        "text": res.text,
        "adopted_on": res.adopted_on.isoformat(),
        "majority_rule": res.rule.value,
        "votes": {
            "for": res.votes_for,
            "against": res.votes_against,
            "abstain": res.abstentions,
        },
        "decided_by_casting_vote": res.decided_by_casting_vote,
        "moved_by": _person(board, res.moved_by, res.adopted_on),
        "seconded_by": _person(board, res.seconded_by, res.adopted_on),
        "objections": [
            {**_person(board, member_id, res.adopted_on), "objection": text}
            for member_id, text in res.objections
        ],
        "participation_process": res.process_id,
        "history": people_in_history(
            res.history, lambda m: _person(board, m, res.adopted_on)
        ),
        "follow_up": {
            "responsible": res.responsible,
            "status": res.status.value,
            "progress": res.progress,
            "due": res.due.isoformat() if res.due else None,
            "overdue": res.is_overdue(today),
            "updates": [
                {
                    "on": u.on.isoformat(),
                    "status": u.status.value,
                    "progress": u.progress,
                    "note": u.note,
                }
                for u in res.updates
            ],
        },
    }


def people_in_history(
    history: Mapping[str, Any] | None, person: Any = None
) -> dict[str, Any] | None:
    """A resolution's text history for an audience: each ``moved_by`` and
    ``seconded_by`` (member ids as stored) becomes ``person(id)``, or is left out
    when ``person`` is ``None`` (events carry no personal data)."""
    if history is None:
        return None

    def walk(value: Any) -> Any:
        if isinstance(value, Mapping):
            out = {}
            for key, inner in value.items():
                if key in ("moved_by", "seconded_by"):
                    if person is not None:
                        out[key] = person(inner) if inner else None
                    continue
                out[key] = walk(inner)
            return out
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    shown: dict[str, Any] = walk(history)
    return shown


_PEOPLE_KEYS = frozenset(
    {"moved_by", "seconded_by", "member_id", "raised_by", "by", "requested_by"}
)


def public_procedure(
    board: Board, meeting: Meeting, item_id: str, record: Mapping[str, Any]
) -> dict[str, Any]:
    """An item's deliberation as anyone outside the board may see it.

    ``record`` is the stored state as dumped (``ProcedureStateSchema``). An item
    of a closed meeting or taken in camera is as unknown as a missing one
    (:class:`UnknownItem`): an in-camera debate never shows. Otherwise people
    appear by name and role (never ids), and who already voted in a ballot still
    open (``voters``) is left out, as is the internal journal.
    """
    item = meeting.item(item_id)
    if meeting.is_closed or item.in_camera:
        raise UnknownItem(item_id)

    def walk(value: Any) -> Any:
        if isinstance(value, Mapping):
            out: dict[str, Any] = {}
            for key, inner in value.items():
                if key in ("voters", "journal"):
                    continue
                if key in _PEOPLE_KEYS and isinstance(inner, str):
                    out[key] = _person(board, inner, meeting.day)
                else:
                    out[key] = walk(inner)
            return out
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    shown: dict[str, Any] = walk(record)
    shown["title"] = item.title
    return shown


def quorum_counts(status: QuorumStatus) -> dict[str, Any]:
    """``{"met": true, "required": 4, "present": 5, "missing": {}}``"""
    return {
        "met": status.met,
        "required": status.required,
        "present": status.present,
        "missing": dict(status.missing),
    }


def public_quorum(
    board: Board, meeting: Meeting, item_id: str | None = None
) -> dict[str, Any]:
    """The quorum as anyone outside the board may see it.

    A public meeting answers its counts. An item taken in camera counts as an
    unknown item (no recusal applied), so the answer cannot tell it from an
    invented id. A closed meeting answers its public view and no counts:
    attendance at a closed session is not public, but the meeting's existence,
    date and status are (:func:`public_meeting`, the public list of meetings),
    so a 404 would hide nothing and contradict ``GET /meetings/<id>``.
    """
    if meeting.is_closed:
        return public_meeting(board, meeting)
    if any(i.item_id == item_id and i.in_camera for i in meeting.agenda):
        item_id = None
    return quorum_counts(meeting.quorum(board, item_id))


def public_register(
    board: Board,
    resolutions: Iterable[Resolution],
    today: date,
    meetings: Iterable[Meeting] = (),
) -> dict[str, Any]:
    """What the public may see: composition, public meetings, resolutions.

    Built from an allow-list of fields: members appear by name and role only
    (never contact details or internal ids); closed meetings, items taken in
    camera and resolutions adopted in either are left out entirely; minutes
    appear once adopted. Example::

        {"board": {"name": "...", "seats": [{"seat": "citizens-1",
                   "constituency": "Citoyennes et citoyens / Citizens",
                   "holder": {"name": "Ada", "role": "..."},
                   "term_end": "2027-01-01"}], "vacancies": 2},
         "meetings": [{"date": "2026-12-14T23:30:00+00:00", "place": "...",
                       "status": "scheduled", "agenda": [...], "minutes": null}],
         "resolutions": [{"number": "2026-001", "title": "...", ...,
                          "follow_up": {"status": "in_progress", "overdue": true}}]}
    """
    seats = []
    for seat_id in board.charter.seat_ids():
        appointment = board.holder(seat_id, today)
        constituency = board.charter.constituency_of(seat_id)
        seats.append(
            {
                "seat": seat_id,
                "constituency": board.charter.group(constituency).display_label,
                "holder": _person(board, appointment.member_id, today)
                if appointment
                else None,
                "term_end": appointment.last_day.isoformat() if appointment else None,
            }
        )
    entries = [
        shown
        for res in sorted(resolutions, key=lambda r: (r.adopted_on, r.number))
        if res.board_id == board.board_id
        and (shown := public_resolution(board, res, today)) is not None
    ]
    return {
        "board": {
            "name": board.charter.name,
            "seats": seats,
            "vacancies": sum(1 for s in seats if s["holder"] is None),
        },
        "meetings": [
            public_meeting(board, m)
            for m in sorted(meetings, key=lambda m: m.scheduled_at)
            if m.board_id == board.board_id and not m.is_closed
        ],
        "resolutions": entries,
    }


# --- documents ----------------------------------------------------------------------

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
MAX_DOCUMENTS_PER_MEETING = 100

# what the content is -> (media type, what a person calls it, the names it may have)
DOCUMENT_KINDS: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "pdf": ("application/pdf", "un PDF", "a PDF", (".pdf",)),
    "png": ("image/png", "une image PNG", "a PNG image", (".png",)),
    "jpeg": ("image/jpeg", "une image JPEG", "a JPEG image", (".jpg", ".jpeg")),
    "gif": ("image/gif", "une image GIF", "a GIF image", (".gif",)),
    "webp": ("image/webp", "une image WebP", "a WebP image", (".webp",)),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "un document Word",
        "a Word document",
        (".docx",),
    ),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "un classeur Excel",
        "an Excel workbook",
        (".xlsx",),
    ),
    "pptx": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "une présentation PowerPoint",
        "a PowerPoint presentation",
        (".pptx",),
    ),
    "odt": (
        "application/vnd.oasis.opendocument.text",
        "un texte OpenDocument",
        "an OpenDocument text",
        (".odt",),
    ),
    "ods": (
        "application/vnd.oasis.opendocument.spreadsheet",
        "un classeur OpenDocument",
        "an OpenDocument spreadsheet",
        (".ods",),
    ),
    "odp": (
        "application/vnd.oasis.opendocument.presentation",
        "une présentation OpenDocument",
        "an OpenDocument presentation",
        (".odp",),
    ),
    # the older binary office formats share one container: the name says which
    "ole": (
        "application/x-ole-storage",
        "un document Office 97-2003",
        "an Office 97-2003 document",
        (".doc", ".xls", ".ppt"),
    ),
}
OLE_TYPES = {
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
}
ALLOWED_NAMES = ", ".join(e for k in DOCUMENT_KINDS.values() for e in k[3])


def _zip_kind(data: bytes) -> str | None:
    """An office document is a zip: OOXML by its parts, OpenDocument by the
    ``mimetype`` entry written first."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                declared = archive.read("mimetype").decode("ascii", "replace").strip()
                for kind in ("odt", "ods", "odp"):
                    if declared == DOCUMENT_KINDS[kind][0]:
                        return kind
                return None
            if "[Content_Types].xml" in names:
                for prefix, kind in (
                    ("word/", "docx"),
                    ("xl/", "xlsx"),
                    ("ppt/", "pptx"),
                ):
                    if any(n.startswith(prefix) for n in names):
                        return kind
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        return None
    return None


def content_kind(data: bytes) -> str | None:
    """What the bytes are, read from the content itself, never from the name."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    return None


def check_document(filename: str, data: bytes) -> str:
    """The media type of an upload, or the refusal naming the field and why.

    The type is read from the content; the name's extension must agree with it
    (a PNG named ``ordre.pdf`` is refused, and so is an executable named
    ``ordre.pdf``), so a reader's browser never opens a file as what it is not.
    """
    name = filename.strip()
    if not name or len(name) > 200 or any(c in name for c in '/\\\x00"\r\n'):
        raise InvalidValue(
            "champ « filename » : un nom de fichier de 1 à 200 caractères, sans / \\ "
            "ni guillemets",
            'field "filename": a file name of 1 to 200 characters, without / \\ '
            "or quotes",
            field="filename",
        )
    if not data:
        raise InvalidValue(
            "champ « file » : le fichier est vide",
            'field "file": the file is empty',
            field="file",
        )
    if len(data) > MAX_DOCUMENT_BYTES:
        mb = MAX_DOCUMENT_BYTES // (1024 * 1024)
        size = f"{len(data) / (1024 * 1024):.1f}"
        raise InvalidValue(
            f"champ « file » : {size.replace('.', ',')} Mo, au plus {mb} Mo",
            f'field "file": {size} MB, at most {mb} MB',
            field="file",
        )
    kind = content_kind(data)
    if kind is None:
        raise InvalidValue(
            "champ « file » : le contenu n'est ni un PDF, ni une image, ni un "
            f"document de bureautique reconnu ({ALLOWED_NAMES})",
            'field "file": the content is neither a PDF, an image nor a known '
            f"office document ({ALLOWED_NAMES})",
            field="file",
        )
    media, fr, en, extensions = DOCUMENT_KINDS[kind]
    extension = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in extensions:
        raise InvalidValue(
            f"champ « file » : le contenu est {fr}, mais le nom « {name} » ne finit "
            f"pas par {' ou '.join(extensions)}",
            f'field "file": the content is {en}, but the name "{name}" does not '
            f"end in {' or '.join(extensions)}",
            field="file",
        )
    return OLE_TYPES[extension] if kind == "ole" else media


@dataclass(frozen=True)
class Document:
    """A file attached to an agenda item (``item_id``) or to the minutes
    (``item_id`` is ``None``); its bytes are in the store's file bucket."""

    document_id: str
    file_id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    attached_at: datetime
    item_id: str | None = None


def attach_document(meeting: Meeting, document: Document) -> Document:
    """Attach to a meeting not cancelled, to an item on its agenda or the minutes."""
    if meeting.status == MeetingStatus.CANCELLED:
        raise InvalidState(
            "la séance est annulée : on n'y joint plus de document",
            "the meeting is cancelled: no document is attached to it",
            field="meeting_id",
        )
    if document.item_id is not None:
        meeting.item(document.item_id)
    if len(meeting.documents) >= MAX_DOCUMENTS_PER_MEETING:
        raise InvalidState(
            f"la séance a déjà {MAX_DOCUMENTS_PER_MEETING} documents",
            f"the meeting already has {MAX_DOCUMENTS_PER_MEETING} documents",
            field="file",
        )
    meeting.documents.append(document)
    return document


def document_public(meeting: Meeting, document: Document) -> bool:
    """Whether anyone may read the document: the one place that decides.

    Never a closed meeting's; an item's only if the item is on the public
    agenda (not in camera); the minutes' only once the minutes are adopted
    (as the minutes themselves, :func:`public_meeting`).
    """
    if meeting.is_closed:
        return False
    if document.item_id is None:
        return meeting.minutes_adopted_at is not None
    item = next((i for i in meeting.agenda if i.item_id == document.item_id), None)
    return item is not None and not item.in_camera


def find_document(meeting: Meeting, document_id: str, public: bool) -> Document:
    """The document, or 404 when unknown or (``public``) not for this audience."""
    for document in meeting.documents:
        if document.document_id == document_id:
            if public and not document_public(meeting, document):
                break
            return document
    raise UnknownDocument(document_id)


def documents_for(meeting: Meeting, public: bool) -> list[Document]:
    return [d for d in meeting.documents if not public or document_public(meeting, d)]
