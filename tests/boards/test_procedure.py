"""The Code Morin procedure engine: random sequences of moves, then worked examples.

The worked examples below are written from the rules of issue 21, not from a
published guide: the search tools (corpora ``pages`` and ``docs``, queries such
as "Code Morin amendement sous-amendement question préalable" and "règlements
généraux organisme communautaire Québec procédure d'assemblée Code Morin") found
only general guides to writing by-laws (the RQOH's *Règlements généraux : mode
d'emploi*, the COCo's fiche on general meetings) and French parliamentary
debates, none of which sets out the Code Morin's order of votes step by step.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from services.boards.domain import (
    Choice,
    MajorityRule,
    ProcedureConfig,
    QuorumStatus,
    procedure_config,
)
from services.boards.exceptions import InvalidCharter, QuorumNotMet
from services.boards.procedure import (
    Appeal,
    AskFloor,
    CallVote,
    CastVote,
    Change,
    CloseVote,
    Context,
    EndTurn,
    GiveFloor,
    ItemStatus,
    Kind,
    Lapse,
    MainAdopted,
    MeetingAdjourned,
    Method,
    MoveAmendment,
    MoveMain,
    MoveProcedural,
    Op,
    ProcedureRefused,
    ProcedureState,
    QStatus,
    RaisePoint,
    Reconsidered,
    RecordCount,
    RuleOnPoint,
    Second,
    Withdraw,
    apply,
    apply_changes,
    history,
    minutes,
    run,
)

MEMBERS = ("ada", "bob", "cy", "dan", "eve", "fay", "gus")
QUORATE = QuorumStatus(True, 4, len(MEMBERS), {})
CTX = Context(quorum=QUORATE)
TEXT = "Accorder 10 000 $ au Carrefour jeunesse"


def refused(rule: str, state: ProcedureState, action, ctx: Context = CTX) -> None:
    with pytest.raises(ProcedureRefused) as err:
        apply(state, action, ctx)
    assert err.value.rule == rule == err.value.field
    assert f"règle « {rule} »" in err.value.fr and f'rule "{rule}"' in err.value.en


def step(state: ProcedureState, *actions, ctx: Context = CTX):
    effects = []
    for action in actions:
        state, more = apply(state, action, ctx)
        effects.extend(more)
    return state, effects


def hands(qid: str, yes: int, no: int, abstain: int = 0):
    return (CallVote(qid), RecordCount(yes, no, abstain), CloseVote())


# --- random sequences of moves -----------------------------------------------------

members = st.sampled_from(MEMBERS)
choices = st.sampled_from(list(Choice))


@st.composite
def changes(draw):
    """Mostly spans that fit a short text (sub-amendments amend a few words),
    sometimes anything (to be refused)."""
    op = draw(st.sampled_from(list(Op)))
    if draw(st.integers(0, 3)) == 0:
        start, end = draw(st.integers(-2, 45)), draw(st.integers(-2, 45))
    else:
        start = draw(st.integers(0, 6))
        end = draw(st.integers(start + 1, start + 3))
    if op == Op.INSERT:
        end = start
    words = "" if op == Op.DELETE else draw(st.sampled_from(["x", "12 000 $", "ne"]))
    return Change(op, start, end, words)


class Deliberation(RuleBasedStateMachine):
    """Any sequence of moves, allowed or not: the invariants always hold."""

    def __init__(self) -> None:
        super().__init__()
        config = ProcedureConfig(time_limit_seconds=60, secret_ballot_on_request=True)
        self.ctx = Context(config=config, quorum=QUORATE)
        self.state = ProcedureState.begin("item")
        self.adopted_texts: list[str] = []
        self.clock = datetime(2026, 11, 30, 18, 30, tzinfo=UTC)

    def _try(self, action) -> None:
        before = self.state
        try:
            self.state, effects = apply(before, action, self.ctx)
        except ProcedureRefused as err:
            assert err.rule and err.fr and err.en
            assert self.state is before
            return
        if isinstance(action, CallVote):
            # never out of order: the question voted is the innermost pending one
            assert before.stack and before.stack[-1] == action.question_id
        if isinstance(action, CloseVote):
            assert before.ballot is not None
            assert before.stack[-1] == before.ballot.question_id
        for effect in effects:
            if isinstance(effect, MainAdopted):
                self.adopted_texts.append(effect.text)
                expected = apply_changes(
                    self.state.moved_text, [c.change for c in self.state.changes]
                )
                assert effect.text == expected

    def _qid(self, data) -> str:
        known = [q.question_id for q in self.state.questions] or ["q1"]
        return data.draw(st.sampled_from([*known, "q99"]))

    @rule(member=members, rule_=st.sampled_from([None, *MajorityRule]))
    def move_main(self, member, rule_):
        self._try(MoveMain(member, TEXT, rule_))

    @rule(member=members)
    def second(self, member):
        self._try(Second(member))

    @rule(member=members, data=st.data(), change=changes())
    def amend(self, member, data, change):
        self._try(MoveAmendment(member, self._qid(data), change))

    @rule(
        member=members,
        kind=st.sampled_from(sorted(Kind)),
        since=st.integers(0, 2),
        rule_name=st.sampled_from(["speak_once", "time_limit", "quorum"]),
    )
    def procedural(self, member, kind, since, rule_name):
        self._try(
            MoveProcedural(
                member,
                kind,
                until=date(2027, 1, 15),
                committee="Comité des finances",
                rule_name=rule_name,
                meetings_since=since,
            )
        )

    @rule(member=members)
    def withdraw(self, member):
        self._try(Withdraw(member))

    @rule(dice=st.integers(0, 5))
    def lapse(self, dice):
        if dice == 0:  # rare: otherwise most motions die before debate
            self._try(Lapse())

    @rule(data=st.data())
    def second_the_top(self, data):
        top = self.state.top
        if top is not None:
            others = [m for m in MEMBERS if m != top.moved_by]
            self._try(Second(data.draw(st.sampled_from(others))))

    @rule(
        method=st.sampled_from(list(Method)),
        yes=st.integers(0, 7),
        no=st.integers(0, 7),
        abstain=st.integers(0, 2),
        data=st.data(),
    )
    def vote_on_the_floor(self, method, yes, no, abstain, data):
        """Call the vote on the innermost question, vote and close it."""
        top = self.state.top
        if top is None:
            return
        self._try(CallVote(top.question_id, method, "bob"))
        if method == Method.SHOW_OF_HANDS:
            self._try(RecordCount(min(yes, 7), min(no, 7 - min(yes, 7)), 0))
        else:
            for member in MEMBERS[: data.draw(st.integers(0, len(MEMBERS)))]:
                self._try(CastVote(member, data.draw(choices)))
        self._try(CloseVote())

    @rule(
        words=st.sampled_from(["Accorder 5 000 $", "15 000 $", "ne pas"]),
        yes=st.integers(0, 7),
    )
    def amend_second_and_vote(self, words, yes):
        """An amendment of the innermost question, seconded and voted at once."""
        top = self.state.top
        if top is None:
            return
        before = self.state
        self._try(MoveAmendment("cy", top.question_id, Change(Op.FULL, text=words)))
        if self.state is before:
            return
        self._try(Second("dan"))
        top = self.state.top
        self._try(CallVote(top.question_id if top else "q1"))
        self._try(RecordCount(yes, 7 - yes, 0))
        self._try(CloseVote())

    @rule(member=members, data=st.data(), change=changes())
    def amend_the_top(self, member, data, change):
        top = self.state.top
        if top is not None:
            self._try(MoveAmendment(member, top.question_id, change))

    @rule(member=members, reply=st.booleans())
    def ask_floor(self, member, reply):
        self._try(AskFloor(member, reply))

    @rule()
    def give_floor(self):
        self.clock += timedelta(seconds=30)
        self._try(GiveFloor(self.clock))

    @rule(seconds=st.integers(1, 120))
    def end_turn(self, seconds):
        self.clock += timedelta(seconds=seconds)
        self._try(EndTurn(self.clock))

    @rule(data=st.data(), method=st.sampled_from(list(Method)), who=members)
    def call_vote(self, data, method, who):
        self._try(CallVote(self._qid(data), method, who))

    @rule(member=members, choice=choices)
    def cast(self, member, choice):
        self._try(CastVote(member, choice))

    @rule(yes=st.integers(0, 7), no=st.integers(0, 7), abstain=st.integers(0, 3))
    def count(self, yes, no, abstain):
        self._try(RecordCount(yes, no, abstain))

    @rule()
    def close(self):
        self._try(CloseVote())

    @rule(
        member=members, data=st.data(), negation=st.booleans(), dice=st.integers(0, 3)
    )
    def point(self, member, data, negation, dice):
        if dice > 1:
            return
        target = self._qid(data) if negation else None
        ground = "negation" if negation else ""
        self._try(RaisePoint(member, "order", "Hors d'ordre", target, ground))
        if data.draw(st.booleans()):
            self._try(RuleOnPoint("ada", data.draw(st.booleans())))

    @rule(well_founded=st.booleans())
    def ruling(self, well_founded):
        self._try(RuleOnPoint("ada", well_founded, "motif"))

    @rule(member=members)
    def appeal(self, member):
        self._try(Appeal(member))

    @invariant()
    def never_a_third_level(self):
        s = self.state
        kinds = s.pending_kinds()
        assert kinds.count(Kind.MAIN) <= 1
        assert kinds.count(Kind.AMENDMENT) <= 1
        assert kinds.count(Kind.SUB_AMENDMENT) <= 1
        for q in s.questions:
            if q.kind == Kind.SUB_AMENDMENT:
                assert s.question(q.target_id).kind == Kind.AMENDMENT
            if q.kind == Kind.AMENDMENT:
                assert s.question(q.target_id).kind == Kind.MAIN
        # a sub-amendment is pending only above its amendment, above the main
        order = [
            k for k in kinds if k in (Kind.MAIN, Kind.AMENDMENT, Kind.SUB_AMENDMENT)
        ]
        assert order == [Kind.MAIN, Kind.AMENDMENT, Kind.SUB_AMENDMENT][: len(order)]

    @invariant()
    def text_is_the_moved_text_with_the_adopted_changes(self):
        s = self.state
        if s.main_id is not None:
            assert s.text == apply_changes(s.moved_text, [c.change for c in s.changes])
            for c in s.changes:
                assert s.question(c.question_id).status == QStatus.ADOPTED

    @invariant()
    def two_thirds_never_passes_with_less(self):
        for b in self.state.ballots:
            cast = b.votes_for + b.votes_against
            if b.rule == MajorityRule.TWO_THIRDS and b.adopted:
                assert b.votes_for > 0 and 3 * b.votes_for >= 2 * cast
            if (
                b.rule == MajorityRule.SIMPLE
                and b.adopted
                and not (b.decided_by_casting_vote)
            ):
                assert b.votes_for > b.votes_against
            if b.method == Method.SECRET:
                assert b.choices == () and b.voters == ()

    @invariant()
    def votes_of_amendments_come_before_their_motion(self):
        voted = [b.question_id for b in self.state.ballots]
        for q in self.state.questions:
            if q.target_id in voted and q.kind in (Kind.AMENDMENT, Kind.SUB_AMENDMENT):
                # an amendment voted after its motion was voted only if the
                # motion was reopened by a reconsideration
                later = voted.index(q.target_id)
                if q.question_id in voted and voted.index(q.question_id) > later:
                    assert any(
                        x.kind == Kind.RECONSIDER and x.status == QStatus.ADOPTED
                        for x in self.state.questions
                    )


TestDeliberation = Deliberation.TestCase
TestDeliberation.settings = settings(
    max_examples=200,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


# --- worked examples, step by step ---------------------------------------------------


def test_a_sub_amended_amendment_and_a_carried_previous_question_give_the_text():
    """A motion is moved and seconded, amended, the amendment sub-amended; the
    previous question is called and carried by two thirds; then the
    sub-amendment, the amendment as sub-amended and the motion as amended are
    put at once, in that order."""
    s = ProcedureState.begin("item-1")
    s, _ = step(s, MoveMain("ada", TEXT))
    refused("seconded_before_debate", s, AskFloor("cy"))
    s, _ = step(s, Second("bob"), AskFloor("cy"), GiveFloor(), EndTurn())
    # "10 000 $" is at [9, 17)
    s, _ = step(s, MoveAmendment("cy", "q1", Change(Op.REPLACE, 9, 17, "12 000 $")))
    refused(
        "seconded_before_debate",
        s,
        MoveAmendment("dan", "q2", Change(Op.FULL, text="x")),
    )
    s, _ = step(s, Second("dan"))
    s, _ = step(
        s, MoveAmendment("eve", "q2", Change(Op.REPLACE, 0, 2, "15")), Second("ada")
    )
    refused(
        "no_sub_sub_amendment", s, MoveAmendment("fay", "q3", Change(Op.FULL, text="9"))
    )
    refused(
        "one_sub_amendment_at_a_time",
        s,
        MoveAmendment("fay", "q2", Change(Op.FULL, text="9 $")),
    )
    refused(
        "one_amendment_at_a_time",
        s,
        MoveAmendment("fay", "q1", Change(Op.FULL, text="Non")),
    )
    s, _ = step(s, MoveProcedural("fay", Kind.PREVIOUS_QUESTION), Second("gus"))
    refused("vote_order", s, CallVote("q1"))
    refused("not_debatable", s, AskFloor("bob"))
    s, _ = step(s, *hands("q4", 5, 2))  # 5 of 7 cast: two thirds, carried
    assert s.debate_closed
    refused("debate_closed", s, AskFloor("bob"))
    refused(
        "debate_closed", s, MoveAmendment("bob", "q1", Change(Op.FULL, text="Autre"))
    )
    refused("vote_order", s, CallVote("q2"))
    s, _ = step(s, *hands("q3", 4, 3))
    assert s.question("q2").change == Change(Op.REPLACE, 9, 17, "15 000 $")
    refused("vote_order", s, CallVote("q1"))
    s, _ = step(s, *hands("q2", 4, 2, 1))
    assert s.text == "Accorder 15 000 $ au Carrefour jeunesse"
    s, effects = step(s, *hands("q1", 6, 1))
    assert s.status == ItemStatus.ADOPTED
    (adopted,) = [e for e in effects if isinstance(e, MainAdopted)]
    assert adopted.text == "Accorder 15 000 $ au Carrefour jeunesse"

    record = history(s, person=lambda m: {"name": m.capitalize()})
    assert record["moved_text"] == TEXT and record["adopted_text"] == adopted.text
    (amendment,) = record["amendments"]
    assert amendment["moved"]["text"] == "12 000 $"
    assert amendment["as_voted"]["text"] == "15 000 $"
    assert amendment["before"] == TEXT and amendment["after"] == adopted.text
    assert amendment["moved_by"] == {"name": "Cy"}
    assert amendment["sub_amendments"][0]["result"] == "adopted"
    assert "moved_by" not in history(s)["amendments"][0]  # events: no people

    text = "\n".join(minutes(s, {"ada": "Ada Lovelace"}, "Subvention"))
    for expected in (
        "q1 — Proposition principale : « Accorder 10 000 $",
        "proposée par Ada Lovelace, appuyée par bob",
        "q2 — Amendement sur q1 (replace [9, 17) « 12 000 $ »)",
        "q3 — Sous-amendement sur q2",
        "q4 — Question préalable",
        "Vote sur q4 (show_of_hands, two_thirds) : 5 pour, 2 contre",
        "Texte adopté : « Accorder 15 000 $ au Carrefour jeunesse »",
    ):
        assert expected in text
    order = [
        line.split(" ")[2] for line in text.splitlines() if line.startswith("Vote")
    ]
    assert order == ["q4", "q3", "q2", "q1"]


def test_a_previous_question_short_of_two_thirds_is_lost_and_debate_goes_on():
    s, _ = run([MoveMain("ada", TEXT), Second("bob")], ctx=CTX)
    s, _ = step(s, MoveProcedural("cy", Kind.PREVIOUS_QUESTION), Second("dan"))
    s, _ = step(s, *hands("q2", 3, 2, 2))  # 3 of 5 cast: 60 %, short of two thirds
    assert s.ballots[-1].adopted is False and not s.debate_closed
    s, _ = step(s, AskFloor("eve"), GiveFloor())
    s, _ = step(
        s, EndTurn(), MoveProcedural("cy", Kind.PREVIOUS_QUESTION), Second("dan")
    )
    s, _ = step(s, *hands("q3", 4, 2, 1))  # 4 of 6: exactly two thirds
    assert s.ballots[-1].adopted is True and s.debate_closed


def test_an_amendment_that_negates_the_motion_is_ruled_out_and_the_ruling_can_be_appealed():
    s, _ = run([MoveMain("ada", TEXT), Second("bob")], ctx=CTX)
    s, _ = step(
        s, MoveAmendment("cy", "q1", Change(Op.INSERT, 0, 0, "Ne pas ")), Second("dan")
    )
    s, _ = step(
        s,
        RaisePoint("eve", "order", "L'amendement nie la proposition", "q2", "negation"),
    )
    refused("point_pending", s, AskFloor("fay"))
    refused("point_pending", s, CallVote("q2"))
    s, _ = step(s, RuleOnPoint("ada", True, "un amendement ne peut être la négation"))
    assert s.question("q2").status == QStatus.RULED_OUT and s.stack == ("q1",)
    assert s.rulings[0].struck == "q2"
    # the appeal comes at once, and is voted by simple majority
    s, _ = step(s, Appeal("cy"), *hands("q3", 4, 3))
    assert s.rulings[0].reversed and s.stack == ("q1", "q2")
    assert s.question("q2").status == QStatus.OPEN
    # a later ruling may no longer be appealed once business went on
    s, _ = step(s, RaisePoint("fay", "privilege", "On n'entend rien"))
    s, _ = step(s, RuleOnPoint("ada", True), AskFloor("gus"))
    refused("appeal_at_once", s, Appeal("gus"))
    text = "\n".join(minutes(s, {}))
    assert "Point d'ordre soulevé par eve sur q2" in text and "renversée (q3)" in text
    assert "Point de privilège soulevé par fay" in text


def test_speakers_list_once_each_the_movers_reply_last_and_the_time_limit_recorded():
    ctx = Context(config=ProcedureConfig(time_limit_seconds=120), quorum=QUORATE)
    at = datetime(2026, 11, 30, 19, 0, tzinfo=UTC)
    s, _ = run([MoveMain("ada", TEXT), Second("bob")], ctx=ctx)
    s, _ = step(
        s, AskFloor("cy"), AskFloor("ada", reply=True), AskFloor("dan"), ctx=ctx
    )
    refused("already_waiting", s, AskFloor("cy"), ctx)
    refused("right_of_reply", s, AskFloor("bob", reply=True), ctx)
    s, effects = step(s, GiveFloor(at), ctx=ctx)
    assert effects[0].member_id == "cy" and effects[0].ends_at == at + timedelta(
        seconds=120
    )
    refused("floor_taken", s, GiveFloor(at), ctx)
    s, _ = step(s, EndTurn(at + timedelta(seconds=150)), ctx=ctx)
    assert s.question("q1").speakers[0].overran
    refused("speak_once", s, AskFloor("cy"), ctx)
    s, effects = step(s, GiveFloor(at), EndTurn(at), GiveFloor(at), ctx=ctx)
    assert [e.member_id for e in effects] == ["dan", "ada"]  # the reply comes last
    s, _ = step(s, EndTurn(at), ctx=ctx)
    refused("right_of_reply", s, AskFloor("eve"), ctx)
    refused("nobody_waiting", s, GiveFloor(at), ctx)


def test_a_suspended_rule_lets_a_member_speak_again():
    s, _ = run(
        [MoveMain("ada", TEXT), Second("bob"), AskFloor("cy"), GiveFloor(), EndTurn()],
        ctx=CTX,
    )
    refused("speak_once", s, AskFloor("cy"))
    refused(
        "unknown_rule", s, MoveProcedural("dan", Kind.SUSPEND_RULE, rule_name="quorum")
    )
    s, _ = step(
        s,
        MoveProcedural("dan", Kind.SUSPEND_RULE, rule_name="speak_once"),
        Second("eve"),
    )
    s, _ = step(s, *hands("q2", 4, 3))  # 4 of 7: a majority, not two thirds
    refused("speak_once", s, AskFloor("cy"))
    s, _ = step(
        s,
        MoveProcedural("dan", Kind.SUSPEND_RULE, rule_name="speak_once"),
        Second("eve"),
    )
    s, _ = step(s, *hands("q3", 5, 2), AskFloor("cy"))
    assert s.suspended == ("speak_once",)


def test_a_secret_ballot_only_when_the_charter_allows_it_and_only_counts_are_kept():
    s, _ = run([MoveMain("ada", TEXT), Second("bob")], ctx=CTX)
    refused("secret_ballot_not_allowed", s, CallVote("q1", Method.SECRET, "cy"))
    ctx = Context(config=ProcedureConfig(secret_ballot_on_request=True), quorum=QUORATE)
    refused("secret_ballot_not_allowed", s, CallVote("q1", Method.SECRET), ctx)
    s, _ = step(s, CallVote("q1", Method.SECRET, "cy"), ctx=ctx)
    refused("vote_method", s, RecordCount(3, 1), ctx)
    s, _ = step(
        s, CastVote("ada", Choice.FOR), CastVote("bob", Choice.AGAINST), ctx=ctx
    )
    refused("one_vote_per_member", s, CastVote("ada", Choice.AGAINST), ctx)
    s, _ = step(s, CastVote("cy", Choice.FOR), CloseVote(), ctx=ctx)
    (ballot,) = s.ballots
    assert (ballot.votes_for, ballot.votes_against, ballot.adopted) == (2, 1, True)
    assert ballot.voters == () and ballot.choices == ()
    assert "ada" not in repr(ballot)


def test_a_roll_call_keeps_each_members_vote_and_quorum_is_checked_before_each_vote():
    s, _ = run([MoveMain("ada", TEXT), Second("bob")], ctx=CTX)
    short = Context(quorum=QuorumStatus(False, 4, 3, {"citizens": 1}))
    with pytest.raises(QuorumNotMet) as err:
        apply(s, CallVote("q1", Method.ROLL_CALL), short)
    assert err.value.missing == {"citizens": 1}
    refused("quorum_unknown", s, CallVote("q1"), Context())
    s, _ = step(s, CallVote("q1", Method.ROLL_CALL), CastVote("ada", Choice.FOR))
    refused("vote_in_progress", s, AskFloor("cy"))
    with pytest.raises(QuorumNotMet):
        apply(s, CloseVote(), short)  # members left meanwhile
    s, _ = step(s, CastVote("bob", Choice.AGAINST), CloseVote())
    assert s.ballots[0].choices == (("ada", Choice.FOR), ("bob", Choice.AGAINST))
    assert s.status == ItemStatus.REJECTED  # a tie, and no casting vote
    assert "ada : for, bob : against" in "\n".join(minutes(s, {}))


def test_the_chairs_casting_vote_breaks_a_roll_call_tie_when_the_charter_says_so():
    ctx = Context(quorum=QUORATE, casting_voters=("ada",))
    s, _ = run(
        [MoveMain("ada", TEXT), Second("bob"), CallVote("q1", Method.ROLL_CALL)],
        ctx=ctx,
    )
    s, _ = step(
        s,
        CastVote("ada", Choice.FOR),
        CastVote("bob", Choice.AGAINST),
        CloseVote(),
        ctx=ctx,
    )
    assert s.status == ItemStatus.ADOPTED and s.ballots[0].decided_by_casting_vote


def test_postponement_referral_and_adjournment_close_the_item():
    base, _ = run([MoveMain("ada", TEXT), Second("bob")], ctx=CTX)
    s, _ = step(
        base,
        MoveProcedural("cy", Kind.POSTPONE, until=date(2027, 2, 1)),
        Second("dan"),
        *hands("q2", 4, 1),
    )
    assert s.status == ItemStatus.POSTPONED and s.postponed_until == date(2027, 2, 1)
    refused("procedure_closed", s, AskFloor("eve"))
    s, _ = step(
        base, MoveProcedural("cy", Kind.POSTPONE), Second("dan"), *hands("q2", 4, 1)
    )
    assert s.postponed_until is None and "reporté indéfiniment" in minutes(s, {})[-1]
    refused("committee_required", base, MoveProcedural("cy", Kind.REFER))
    s, _ = step(
        base,
        MoveProcedural("cy", Kind.REFER, committee="Comité des finances"),
        Second("dan"),
        *hands("q2", 4, 1),
    )
    assert s.status == ItemStatus.REFERRED and s.committee == "Comité des finances"
    s, effects = step(
        base, MoveProcedural("cy", Kind.ADJOURN), Second("dan"), *hands("q2", 4, 1)
    )
    assert s.status == ItemStatus.ADJOURNED
    assert any(isinstance(e, MeetingAdjourned) for e in effects)
    refused("one_procedural_at_a_time", *_pending(base))


def _pending(base):
    s, _ = step(base, MoveProcedural("cy", Kind.ADJOURN))
    return s, MoveProcedural("dan", Kind.POSTPONE)


def test_reconsideration_needs_two_thirds_and_the_same_or_next_meeting():
    s, _ = run([MoveMain("ada", TEXT), Second("bob"), *hands("q1", 4, 3)], ctx=CTX)
    assert s.status == ItemStatus.ADOPTED
    refused(
        "procedure_closed", s, MoveAmendment("cy", "q1", Change(Op.FULL, text="Autre"))
    )
    refused(
        "reconsideration_window",
        s,
        MoveProcedural("cy", Kind.RECONSIDER, meetings_since=2),
    )
    s, _ = step(
        s, MoveProcedural("cy", Kind.RECONSIDER, meetings_since=1), Second("dan")
    )
    lost, _ = step(s, *hands("q2", 4, 3))
    assert lost.status == ItemStatus.ADOPTED
    s, effects = step(s, *hands("q2", 5, 2))
    assert s.status == ItemStatus.OPEN and s.stack == ("q1",)
    assert [e for e in effects if isinstance(e, Reconsidered)][
        0
    ].was == ItemStatus.ADOPTED
    s, _ = step(s, MoveAmendment("cy", "q1", Change(Op.DELETE, 30, 39)), Second("dan"))
    s, _ = step(s, *hands("q3", 4, 0), *hands("q1", 4, 0))
    assert s.text == "Accorder 10 000 $ au Carrefour"


def test_moves_out_of_turn_are_refused_by_rule():
    s = ProcedureState.begin("i")
    refused("nothing_on_the_floor", s, Second("bob"))
    refused("text_required", s, MoveMain("ada", "  "))
    s, _ = step(s, MoveMain("ada", TEXT))
    refused("seconder_not_mover", s, Second("ada"))
    refused("seconded_before_debate", s, CallVote("q1"))
    refused("one_main_motion", s, MoveMain("bob", "Autre"))
    s, _ = step(s, Second("bob"))
    refused("already_seconded", s, Second("cy"))
    refused("already_seconded", s, Lapse())
    refused(
        "span_out_of_text",
        s,
        MoveAmendment("cy", "q1", Change(Op.REPLACE, 5, 400, "x")),
    )
    refused("span_out_of_text", s, MoveAmendment("cy", "q1", Change(Op.DELETE, 3, 3)))
    refused(
        "amendment_changes_nothing",
        s,
        MoveAmendment("cy", "q1", Change(Op.FULL, text=TEXT)),
    )
    refused("unknown_question", s, MoveAmendment("cy", "q9", Change(Op.FULL, text="x")))
    s, _ = step(s, MoveAmendment("cy", "q1", Change(Op.DELETE, 30, 39)), Second("dan"))
    refused(
        "sub_amendment_needs_words",
        s,
        MoveAmendment("eve", "q2", Change(Op.FULL, text="x")),
    )
    refused("mover_withdraws", s, Withdraw("ada"))
    s, _ = step(s, Withdraw("cy"))
    assert s.stack == ("q1",) and s.question("q2").status == QStatus.WITHDRAWN
    refused("no_vote_open", s, CloseVote())
    refused("no_point_pending", s, RuleOnPoint("ada", True))
    s, _ = step(s, CallVote("q1"))
    refused("count_required", s, CloseVote())
    refused("count_exceeds_present", s, RecordCount(5, 3))
    refused("vote_method", s, CastVote("ada", Choice.FOR))


def test_charter_procedure_variants_have_safe_defaults_and_unknown_keys_are_refused():
    assert procedure_config(None) == ProcedureConfig()
    assert ProcedureConfig().secret_ballot_on_request is False
    config = procedure_config({"code": "morin", "time_limit_seconds": 300})
    assert config.time_limit_seconds == 300
    for raw, field in (
        ({"vote_electronique": True}, "procedure.vote_electronique"),
        ({"code": "robert"}, "procedure.code"),
        ({"time_limit_seconds": 2}, "procedure.time_limit_seconds"),
        ({"speaking_turns": 0}, "procedure.speaking_turns"),
        ({"mover_reply": "oui"}, "procedure.mover_reply"),
    ):
        with pytest.raises(InvalidCharter) as err:
            procedure_config(raw)
        assert err.value.field == field
        assert err.value.fr and err.value.en


def test_a_deliberation_record_survives_the_store_round_trip():
    """What the repository stores loads back equal, at every step of a full
    deliberation (points, rulings, appeals, speakers, ballots, changes)."""
    from services.boards.schemas import ProcedureStateSchema

    at = datetime(2026, 11, 30, 19, 0, tzinfo=UTC)
    ctx = Context(config=ProcedureConfig(time_limit_seconds=60), quorum=QUORATE)
    actions = [
        MoveMain("ada", TEXT),
        Second("bob"),
        AskFloor("cy"),
        GiveFloor(at),
        EndTurn(at + timedelta(seconds=90)),
        MoveAmendment("cy", "q1", Change(Op.REPLACE, 9, 17, "12 000 $")),
        Second("dan"),
        RaisePoint("eve", "order", "négation", "q2", "negation"),
        RuleOnPoint("ada", False, "recevable"),
        Appeal("eve"),
        CallVote("q3", Method.ROLL_CALL),
        CastVote("ada", Choice.AGAINST),
        CloseVote(),
        *hands("q2", 4, 1),
        MoveProcedural("fay", Kind.POSTPONE, until=date(2027, 1, 15)),
    ]
    state = ProcedureState.begin("item-1")
    schema = ProcedureStateSchema()
    for action in actions:
        state, _ = apply(state, action, ctx)
        assert schema.load(schema.dump(state)) == state
    assert schema.dump(state)["questions"][0]["speakers"][0]["overran"] is True
