"""Deliberation pages: one agenda item debated under the Code Morin.

The item's page shows the question under debate, the amendments pending (with
the text as it would read), the speakers' list, the vote in progress and the
record; a member acts from their phone (move, second, amend, ask for the floor,
raise a point, appeal, vote in a roll call or a secret ballot), the secretary
records what the chair does (give the floor, put the question, enter a show of
hands, close the vote, rule). A projector view shows the room the same in
large type. Every write is the API's own procedure route
(``/meetings/<id>/items/<item_id>/procedure/...``), run through
:func:`gateway.web.boards_run.call_api` under the same permission action, CSRF
check, audit and body schema::

    POST /conseils/b1/seances/m1/points/i1/amendement
         niveau=amendement&op=replace&mots=10 000 $&texte=12 000 $&csrf=...
    == POST /meetings/m1/items/i1/procedure/amendments
         {"member_id": <mine>, "target_id": "q1",
          "change": {"op": "replace", "start": 8, "end": 16, "text": "12 000 $"}}

A text change is entered as people say it (replace these words by those, add
these words after those, strike these words, or a whole new text) and turned
into the engine's character span here; the preview is the engine's own
:class:`~services.boards.procedure.Change` applied to the current text. A
refusal names the engine's rule by its name, in the reader's language, with
questions and members by their names, never their ids.

The live part (``procedure_live.html``; ``procedure_screen.html`` for the
projector) is served inside the page and as JSON with a version at
``.../etat.json``, polled every two seconds by ``static/boards.js``; a reload
shows the same without JavaScript.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Response

from gateway.api import Context
from gateway.http import json_response
from gateway.routes import boards as board_api
from gateway.web.boards_run import (
    _version,
    call_api,
    insider,
    is_secretary,
    local_time,
    my_member,
    people,
    quorum_text,
    require_insider,
    seated,
)
from gateway.web.core import csrf_input, env, page, page_lang, redirect, render
from gateway.web.messages import MESSAGES, translate
from gateway.web.procedure_messages import PROCEDURE_MESSAGES
from services.boards.procedure import LABELS, Change, Kind, Op, ProcedureRefused
from shared.errors import Conflict, Invalid, MaillageError, NotFound, http_status

MESSAGES.update(PROCEDURE_MESSAGES)

BASE = "/conseils/<board_id>/seances/<meeting_id>/points/<item_id>"
DEBATABLE = ("main", "amendment", "sub_amendment")
PROCEDURAL = ("previous_question", "postpone", "refer", "adjourn", "reconsider")
SUSPENDABLE = ("speak_once", "time_limit", "right_of_reply")
METHODS = ("show_of_hands", "roll_call", "secret")
MASCULINE = frozenset({"amendment", "sub_amendment", "appeal"})


# --- reading the record -------------------------------------------------------------


class Record:
    """One item's deliberation as a page shows it: people by name, questions by
    their label ("Amendement n° 1"), never an id."""

    def __init__(
        self,
        ctx: Context,
        record: dict[str, Any],
        names: dict[str, str],
        charter: dict[str, Any] | None,
    ) -> None:
        self.lang = page_lang(ctx)
        self.record = record
        self.names = names
        self.config = (charter or {}).get("procedure") or {}
        self.questions = {q["question_id"]: q for q in record.get("questions") or []}
        self.numbers: dict[str, int] = {}
        counts: dict[str, int] = {}
        for q in record.get("questions") or []:
            counts[q["kind"]] = counts.get(q["kind"], 0) + 1
            self.numbers[q["question_id"]] = counts[q["kind"]]
        self.counts = counts

    def t(self, key: str, **values: Any) -> str:
        return translate(key, self.lang, **values)

    def g(self, key: str, kind: str, **values: Any) -> str:
        """``key`` agreed with the question's gender in French: an amendment,
        a sub-amendment and an appeal are masculine (``key.m``)."""
        if kind in MASCULINE and f"{key}.m" in MESSAGES:
            key = f"{key}.m"
        return self.t(key, **values)

    def who(self, person: Any) -> str:
        """A member's name: the insider's record has ids, the public one
        ``{"name", "role"}``."""
        if isinstance(person, dict):
            return str(person.get("name") or self.t("pr.someone"))
        if not person:
            return ""
        return self.names.get(str(person)) or self.t("pr.someone")

    def same(self, person: Any, member_id: str | None) -> bool:
        return bool(member_id) and person == member_id

    def label(self, question_id: str | None) -> str:
        q = self.questions.get(question_id or "")
        if q is None:
            return self.t("pr.a_question")
        fr, en = LABELS[Kind(q["kind"])]
        text = (en if self.lang == "en" else fr).capitalize()
        if self.counts.get(q["kind"], 0) > 1 or q["kind"] in (
            "amendment",
            "sub_amendment",
        ):
            text += self.t("pr.number", n=self.numbers[q["question_id"]])
        return text

    def ruling_label(self, ruling_id: str | None) -> str:
        n = (ruling_id or "r")[1:]
        return self.t("pr.ruling_n", n=n if n.isdigit() else "")

    # what a question says ---------------------------------------------------

    def base_of(self, q: dict[str, Any]) -> str:
        """The text a change of ``q`` applies to now."""
        if q["kind"] == "sub_amendment":
            target = self.questions.get(q.get("target_id") or "") or {}
            return str((target.get("change") or {}).get("text") or "")
        return str(self.record.get("text") or "")

    def describe(self, change: dict[str, Any] | None, base: str) -> str:
        if not change:
            return ""
        op, start, end = change["op"], change["start"], change["end"]
        words, text = base[start:end], change["text"]
        if op == "replace":
            return self.t("pr.change.replace", old=words, new=text)
        if op == "delete":
            return self.t("pr.change.delete", old=words)
        if op == "insert":
            if start == 0:
                return self.t("pr.change.insert_start", new=text)
            if start >= len(base):
                return self.t("pr.change.insert_end", new=text)
            before = base[max(0, start - 30) : start].split(" ", 1)[-1]
            return self.t("pr.change.insert", new=text, after=before.strip())
        return self.t("pr.change.full", new=text)

    def would_read(self, q: dict[str, Any]) -> dict[str, str] | None:
        """The main motion as it would read if ``q`` (an amendment or a
        sub-amendment) were adopted: ``{"before", "old", "new", "after"}``."""
        if q["kind"] == "amendment":
            change = q.get("change")
        elif q["kind"] == "sub_amendment":
            target = self.questions.get(q.get("target_id") or "") or {}
            if not target.get("change") or not q.get("change"):
                return None
            words = _apply(q["change"], self.base_of(q))
            change = {**target["change"], "text": words}
        else:
            return None
        return _segments(change, str(self.record.get("text") or "")) if change else None

    def status(self, q: dict[str, Any]) -> str:
        return self.g(f"pr.qstatus.{q['status']}", q["kind"])

    def question_row(self, question_id: str, me: str | None) -> dict[str, Any]:
        q = self.questions[question_id]
        row: dict[str, Any] = {
            "id": question_id,
            "kind": q["kind"],
            "label": self.label(question_id),
            "mover": self.who(q["moved_by"]),
            "seconder": self.who(q.get("seconded_by")),
            "by": self.g("pr.by", q["kind"], mover=self.who(q["moved_by"])),
            "seconded": self.g(
                "pr.seconded_by", q["kind"], name=self.who(q.get("seconded_by"))
            )
            if q.get("seconded_by")
            else "",
            "status": q["status"],
            "status_text": self.status(q),
            "rule": self.t(f"br.rule.{q.get('rule') or 'simple'}"),
            "mine": self.same(q["moved_by"], me),
            "text": q.get("text") or "",
            "change": self.describe(q.get("change"), self.base_of(q)),
            "reads": self.would_read(q),
            "detail": self.procedural_detail(q),
        }
        return row

    def procedural_detail(self, q: dict[str, Any]) -> str:
        kind = q["kind"]
        if kind == "postpone":
            return (
                self.t("pr.until", day=q["until"])
                if q.get("until")
                else self.t("pr.indefinitely")
            )
        if kind == "refer":
            return self.t("pr.to_committee", committee=q.get("committee") or "")
        if kind == "suspend_rule":
            return self.t(f"pr.rule.{q.get('rule_name') or 'unknown_rule'}")
        if kind == "appeal":
            return self.ruling_label(q.get("target_id"))
        if kind in ("previous_question", "reconsider"):
            return self.t("pr.two_thirds_needed")
        return ""

    # the floor --------------------------------------------------------------

    def floor(self) -> dict[str, Any] | None:
        """The question under debate (the innermost debatable one) and its
        speakers' list, in the order the chair gives the floor."""
        stack = self.record.get("stack") or []
        if not stack:
            return None
        top = self.questions[stack[-1]]
        if top["kind"] not in DEBATABLE or top["status"] != "open":
            return None
        waiting = list(enumerate(top.get("waiting") or []))
        waiting.sort(key=lambda iw: (bool(iw[1].get("reply")), iw[0]))
        return {
            "id": top["question_id"],
            "label": self.label(top["question_id"]),
            "waiting": [
                {"name": self.who(w["member_id"]), "reply": bool(w.get("reply"))}
                for _, w in waiting
            ],
            "waiting_ids": [w["member_id"] for _, w in waiting],
            "spoken": [
                {
                    "name": self.who(s["member_id"]),
                    "reply": bool(s.get("reply")),
                    "overran": bool(s.get("overran")),
                }
                for s in top.get("speakers") or []
            ],
            "spoken_ids": [
                s["member_id"] for s in top.get("speakers") or [] if not s.get("reply")
            ],
            "replied": bool(top.get("replied")),
            "mover": top["moved_by"],
        }

    def speaking(self) -> dict[str, Any] | None:
        turn = self.record.get("speaking")
        if not turn:
            return None
        limit = self.config.get("time_limit_seconds")
        return {
            "name": self.who(turn["member_id"]),
            "reply": bool(turn.get("reply")),
            "on": self.label(self.record.get("speaking_on")),
            "ends_at": turn.get("ends_at") or "",
            "ends": _clock(turn.get("ends_at")),
            "limit": self.t("pr.minutes_limit", n=_minutes(limit)) if limit else "",
        }

    # votes ------------------------------------------------------------------

    def ballot_row(self, b: dict[str, Any], me: str | None) -> dict[str, Any]:
        choices = b.get("choices") or []
        voters = b.get("voters") or []
        n = len(voters) or len(choices)
        kind = self.questions.get(b["question_id"], {}).get("kind", "main")
        row = {
            "label": self.label(b["question_id"]),
            "result": self.g("pr.adopted" if b.get("adopted") else "pr.rejected", kind),
            "method": b["method"],
            "method_text": self.t(f"pr.method.{b['method']}"),
            "rule": self.t(f"br.rule.{b['rule']}"),
            "counted": bool(b.get("counted")),
            "for": b.get("votes_for", 0),
            "against": b.get("votes_against", 0),
            "abstain": b.get("abstentions", 0),
            "cast": n,
            "adopted": b.get("adopted"),
            "casting": bool(b.get("decided_by_casting_vote")),
            "roll": [
                {"name": self.who(c["member_id"]), "choice": c["choice"]}
                for c in choices
            ],
            "mine": None,
            "voted": False,
        }
        for c in choices:
            if self.same(c["member_id"], me):
                row["mine"] = c["choice"]
        row["voted"] = row["mine"] is not None or (me is not None and me in voters)
        if b["method"] == "roll_call" and b.get("adopted") is None:
            row["for"] = sum(1 for c in choices if c["choice"] == "for")
            row["against"] = sum(1 for c in choices if c["choice"] == "against")
            row["abstain"] = sum(1 for c in choices if c["choice"] == "abstain")
        return row

    def rulings(self) -> list[dict[str, Any]]:
        rows = []
        for r in self.record.get("rulings") or []:
            point = r["point"]
            rows.append(
                {
                    "id": r["ruling_id"],
                    "label": self.ruling_label(r["ruling_id"]),
                    "kind": self.t(f"pr.point.{point['kind']}"),
                    "by": self.who(point["raised_by"]),
                    "text": point.get("text") or "",
                    "verdict": self.t(
                        "pr.well_founded" if r["well_founded"] else "pr.not_founded"
                    ),
                    "reason": r.get("reason") or "",
                    "struck": self.label(r["struck"]) if r.get("struck") else "",
                    "reversed": bool(r.get("reversed")),
                    "appealed": bool(r.get("appeal_id")),
                }
            )
        return rows

    def history(self) -> list[str]:
        """What happened, in order, in sentences (the minutes' order)."""
        lines = []
        ballots = self.record.get("ballots") or []
        for entry in self.record.get("journal") or []:
            kind, key = entry["kind"], entry["key"]
            if kind == "moved" and key in self.questions:
                q = self.questions[key]
                lines.append(
                    self.g(
                        "pr.h.moved",
                        q["kind"],
                        what=self.label(key),
                        who=self.who(q["moved_by"]),
                    )
                    + (
                        self.g(
                            "pr.h.seconded", q["kind"], who=self.who(q["seconded_by"])
                        )
                        if q.get("seconded_by")
                        else ""
                    )
                )
            elif kind == "vote" and key.isdigit() and int(key) < len(ballots):
                b = ballots[int(key)]
                kind = self.questions.get(b["question_id"], {}).get("kind", "main")
                lines.append(
                    self.t(
                        "pr.h.vote",
                        what=self.label(b["question_id"]),
                        result=self.g(
                            "pr.adopted" if b.get("adopted") else "pr.rejected", kind
                        ),
                        f=b.get("votes_for", 0),
                        a=b.get("votes_against", 0),
                        ab=b.get("abstentions", 0),
                        method=self.t(f"pr.method.{b['method']}"),
                    )
                )
            elif kind == "ended" and key in self.questions:
                lines.append(
                    f"{self.label(key)} : {self.status(self.questions[key])}."
                    if self.lang == "fr"
                    else f"{self.label(key)}: {self.status(self.questions[key])}."
                )
            elif kind == "ruling":
                lines.append(self.t("pr.h.ruling", what=self.ruling_label(key)))
        return lines


def _apply(change: dict[str, Any], base: str) -> str:
    try:
        return Change(
            Op(change["op"]), change["start"], change["end"], change["text"]
        ).apply(base)
    except (ProcedureRefused, ValueError, KeyError):
        return base


def _segments(change: dict[str, Any], base: str) -> dict[str, str]:
    """The text around, the words struck and the words put in."""
    op, start, end = change["op"], change["start"], change["end"]
    if op == "full":
        return {"before": "", "old": "", "new": change["text"], "after": ""}
    if op == "insert":
        end = start
    return {
        "before": base[:start],
        "old": base[start:end],
        "new": "" if op == "delete" else change["text"],
        "after": base[end:],
    }


def _clock(value: str | None) -> str:
    return local_time(value)[-5:] if value else ""


def _minutes(seconds: Any) -> str:
    if not isinstance(seconds, int):
        return ""
    m, s = divmod(seconds, 60)
    return f"{m}:{s:02d}" if s else str(m)


# --- what the pages show ----------------------------------------------------------


def _load(
    ctx: Context, board_id: str, meeting_id: str, item_id: str, inside: bool
) -> tuple[dict[str, Any], Record, dict[str, Any] | None]:
    meeting = ctx.rpc("boards", "get_meeting", meeting_id, public=not inside)
    if meeting.get("board_id", board_id) != board_id:
        raise NotFound("Séance inconnue.", "Unknown meeting.")
    board = ctx.rpc("boards", "get_board", board_id) if inside else None
    record = ctx.rpc("boards", "get_procedure", meeting_id, item_id, public=not inside)
    names = people(board) if board else {}
    return (
        meeting,
        Record(ctx, record, names, board["charter"] if board else None),
        board,
    )


def state_values(
    ctx: Context,
    board_id: str,
    meeting_id: str,
    item_id: str,
    inside: bool,
) -> dict[str, Any]:
    """Everything the live fragment and the projector show."""
    meeting, rec, board = _load(ctx, board_id, meeting_id, item_id, inside)
    me = my_member(ctx) if inside else None
    record = rec.record
    stack = record.get("stack") or []
    pending = [rec.question_row(q, me) for q in reversed(stack)]
    top = pending[0] if pending else None
    ballot = rec.ballot_row(record["ballot"], me) if record.get("ballot") else None
    floor = rec.floor()
    present = set(meeting.get("present") or [])
    recused = {
        c["member_id"]
        for c in meeting.get("conflicts") or []
        if c["item_id"] == item_id
    }
    quorum = None
    if inside and meeting.get("status") == "open":
        quorum = quorum_text(
            ctx, board or {}, ctx.rpc("boards", "quorum", meeting_id, item_id)
        )
    main_id = record.get("main_id")
    amendment = next(
        (rec.questions[q] for q in stack if rec.questions[q]["kind"] == "amendment"),
        None,
    )
    members = []
    if board:
        names = rec.names
        members = sorted(
            (
                {"id": m, "name": names.get(m, "")}
                for m in seated(board, meeting["scheduled_at"][:10])
                if m in present
            ),
            key=lambda x: x["name"],
        )
    main = rec.questions.get(main_id or "")
    item_status = record.get("status", "open")
    values: dict[str, Any] = {
        "title": record.get("title") or "",
        "meeting": meeting,
        "open": meeting.get("status") == "open",
        "item_status": item_status,
        "item_status_text": rec.t(f"pr.item.{item_status}"),
        "postponed_until": record.get("postponed_until") or "",
        "committee": record.get("committee") or "",
        "main": rec.question_row(str(main_id), me) if main else None,
        "current_text": record.get("text") or "",
        "moved_text": record.get("moved_text") or "",
        "amended": bool(record.get("changes")),
        "pending": pending,
        "top": top,
        "floor": floor,
        "speaking": rec.speaking(),
        "ballot": ballot,
        "results": [
            rec.ballot_row(b, me) for b in reversed(record.get("ballots") or [])
        ],
        "point": (
            {
                "kind": rec.t(f"pr.point.{record['point']['kind']}"),
                "by": rec.who(record["point"]["raised_by"]),
                "text": record["point"].get("text") or "",
                "negation": record["point"].get("ground") == "negation",
                "target": rec.label(record["point"].get("target_id")),
            }
            if record.get("point")
            else None
        ),
        "rulings": rec.rulings(),
        "appealable": bool(record.get("appealable")),
        "debate_closed": bool(record.get("debate_closed")),
        "suspended": [rec.t(f"pr.rule.{r}") for r in record.get("suspended") or []],
        "history": rec.history(),
        "me": me,
        "me_present": me in present if me else False,
        "me_recused": me in recused if me else False,
        "secretary": inside and is_secretary(ctx),
        "quorum": quorum,
        "members": members,
        "secret_allowed": bool(rec.config.get("secret_ballot_on_request")),
        "mover_reply": rec.config.get("mover_reply", True),
        "turns": int(rec.config.get("speaking_turns") or 1),
        "texts": {
            "main": record.get("text") or "",
            "amendment": str((amendment or {}).get("change", {}).get("text") or "")
            if amendment
            else "",
            "amendment_change": (amendment or {}).get("change") or None,
        },
        "base": f"/conseils/{board_id}/seances/{meeting_id}/points/{item_id}",
        "meeting_url": f"/conseils/{board_id}/seances/{meeting_id}",
    }
    values["can"] = _can(values, floor, top, ballot, me)
    return values


def _can(
    v: dict[str, Any],
    floor: dict[str, Any] | None,
    top: dict[str, Any] | None,
    ballot: dict[str, Any] | None,
    me: str | None,
) -> dict[str, Any]:
    """Which buttons a person sees now (the engine still decides: a stale page
    is refused with the rule)."""
    live = v["open"] and v["item_status"] == "open" and not v["point"]
    member = bool(me) and not v["me_recused"]
    seconded = top is not None and top["status"] == "open"
    can: dict[str, Any] = {
        "second": live
        and member
        and not ballot
        and top is not None
        and top["status"] == "moved"
        and not top["mine"],
        "withdraw": live and member and not ballot and top is not None and top["mine"],
        "lapse": live
        and v["secretary"]
        and not ballot
        and top is not None
        and top["status"] == "moved",
        "ask": False,
        "reply": False,
        "give": False,
        "end_turn": bool(v["speaking"]) and v["secretary"],
        "call": live
        and v["secretary"]
        and not ballot
        and seconded
        and not v["speaking"],
        "count": ballot is not None
        and v["secretary"]
        and ballot["method"] == "show_of_hands",
        "close": bool(ballot) and v["secretary"],
        "vote": ballot is not None
        and bool(member)
        and ballot["method"] != "show_of_hands"
        and not ballot["voted"],
        "rule": bool(v["point"]) and v["secretary"],
        "appeal": v["appealable"] and member and not ballot and not v["point"],
    }
    if (
        floor
        and live
        and not ballot
        and not v["debate_closed"]
        and not floor["replied"]
    ):
        waiting = me in floor["waiting_ids"]
        spoken = floor["spoken_ids"].count(me) if me else 0
        can["ask"] = member and not waiting and spoken < v["turns"]
        can["reply"] = (
            member
            and not waiting
            and v["mover_reply"]
            and floor["mover"] == me
            and spoken >= 1
        )
        can["give"] = v["secretary"] and bool(floor["waiting"]) and not v["speaking"]
        can["next"] = floor["waiting"][0]["name"] if floor["waiting"] else ""
    return can


def _fragment(ctx: Context, template: str, values: dict[str, Any]) -> str:
    lang = page_lang(ctx)
    return env.get_template(template).render(
        t=lambda key, **kw: translate(key, lang, **kw),
        csrf_field=lambda: csrf_input(ctx),
        **values,
    )


def _live_json(html: str) -> Response:
    response = json_response({"version": _version(html), "html": html}, 200)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- pages --------------------------------------------------------------------------


@page(BASE, action="boards.read", public=False)
def item_page(ctx: Context, board_id: str, meeting_id: str, item_id: str) -> Response:
    """The deliberation on an item: the floor, the speakers, the votes, the
    forms to move, amend, raise a point (members) and to chair (secretary)."""
    require_insider(ctx, board_id)
    values = state_values(ctx, board_id, meeting_id, item_id, True)
    html = _fragment(ctx, "procedure_live.html", values)
    preview = _preview(ctx, values)
    return render(
        ctx,
        "procedure.html",
        board_id=board_id,
        live=html,
        version=_version(html),
        notice=translate("br.done", page_lang(ctx))
        if ctx.request.args.get("ok")
        else "",
        preview=preview,
        form=_form(ctx) if preview else {},
        procedurals=PROCEDURAL,
        suspendable=SUSPENDABLE,
        **values,
    )


@page(f"{BASE}/etat.json", action="web.boards.procedure.live")
def item_state(ctx: Context, board_id: str, meeting_id: str, item_id: str) -> Response:
    """The live fragment as JSON (``version``, ``html``), polled by boards.js;
    empty for anyone outside the board."""
    html = ""
    if insider(ctx, board_id):
        values = state_values(ctx, board_id, meeting_id, item_id, True)
        html = _fragment(ctx, "procedure_live.html", values)
    return _live_json(html)


@page(f"{BASE}/projection", action="web.boards.procedure.screen")
def screen_page(ctx: Context, board_id: str, meeting_id: str, item_id: str) -> Response:
    """The projector view for the room: the question under debate with its
    pending amendments, the speakers' list and the live result, in large type.
    Outside the board, the public view (an in-camera item is unknown)."""
    values = state_values(ctx, board_id, meeting_id, item_id, insider(ctx, board_id))
    html = _fragment(ctx, "procedure_screen.html", values)
    return render(
        ctx,
        "procedure_projector.html",
        live=html,
        version=_version(html),
        **values,
    )


@page(f"{BASE}/projection/etat.json", action="web.boards.procedure.screen.live")
def screen_state(
    ctx: Context, board_id: str, meeting_id: str, item_id: str
) -> Response:
    """The projector's live part as JSON, polled by boards.js."""
    values = state_values(ctx, board_id, meeting_id, item_id, insider(ctx, board_id))
    return _live_json(_fragment(ctx, "procedure_screen.html", values))


# --- writes -------------------------------------------------------------------------


def _form(ctx: Context) -> dict[str, str]:
    return {k: v.strip() for k, v in ctx.request.form.items() if k != "csrf"}


def _write(
    ctx: Context,
    board_id: str,
    meeting_id: str,
    item_id: str,
    method: str,
    payload: Callable[[], dict[str, Any] | None],
    anchor: str = "#deroulement",
) -> Response:
    """Run the API's procedure route ``method``; back to the item (303), or a
    page that names the rule refused."""
    back = f"/conseils/{board_id}/seances/{meeting_id}/points/{item_id}"
    try:
        call_api(
            ctx, _handler(method), payload(), meeting_id=meeting_id, item_id=item_id
        )
    except MaillageError as exc:
        return _refused(ctx, exc, board_id, meeting_id, item_id, back)
    return redirect(f"{back}?ok=1{anchor}")


def _handler(name: str) -> Any:
    for route in board_api.api.routes:
        if route.handler.__name__ == name and "/procedure" in route.rule:
            return route.handler
    raise LookupError(name)


def _refused(
    ctx: Context,
    exc: MaillageError,
    board_id: str,
    meeting_id: str,
    item_id: str,
    back: str,
) -> Response:
    """Why the move was refused: the rule by its name, the engine's reason with
    questions and people named, the fields in words."""
    lang = page_lang(ctx)
    rule = ""
    message = exc.message(lang)
    if exc.details.get("code") == "procedure_refused":
        rule = str(exc.details.get("field") or "")
        message = re.sub(r"^(règle « [^»]+ »|rule \"[^\"]+\") : ?", "", message)
        message = _humane(ctx, message, board_id, meeting_id, item_id)
    elif rule == "" and exc.details.get("code"):
        message = _humane(ctx, message, board_id, meeting_id, item_id)
    fields = exc.fields if isinstance(exc, Invalid) else {}
    return render(
        ctx,
        "procedure_refused.html",
        status=http_status(exc),
        rule=translate(f"pr.rule.{rule}", lang) if rule else "",
        message=message[:1].upper() + message[1:],
        fields={
            translate(f"pr.f.{k}", lang) if f"pr.f.{k}" in MESSAGES else k: _reason(
                v, lang
            )
            for k, v in fields.items()
        },
        back=back,
        status_code=http_status(exc),
    )


def _reason(value: Any, lang: str) -> str:
    if isinstance(value, dict):
        value = value.get(lang) or value.get("fr") or list(value.values())
    if isinstance(value, list | tuple):
        return " ".join(_reason(v, lang) for v in value)
    return str(value)


def _humane(
    ctx: Context, message: str, board_id: str, meeting_id: str, item_id: str
) -> str:
    """Ids in an engine message replaced by what people call them."""
    try:
        _, rec, _ = _load(ctx, board_id, meeting_id, item_id, True)
    except MaillageError:
        return message
    lang = rec.lang

    def swap(match: re.Match[str]) -> str:
        key = match.group(2)
        if key in rec.questions:
            return rec.label(key)
        if re.fullmatch(r"r\d+", key):
            return rec.ruling_label(key)
        if key in rec.names:
            return rec.names[key]
        status = f"pr.item.{key}"
        if status in MESSAGES:
            return translate(status, lang).lower()
        return match.group(0)

    message = re.sub(r"(« |\")([A-Za-z0-9_.-]+)( »|\")", swap, message)
    message = re.sub(
        r"\((open|adopted|rejected|postponed|referred|adjourned)\)",
        lambda m: "(" + translate(f"pr.item.{m.group(1)}", lang).lower() + ")",
        message,
    )
    return message


def _post(suffix: str, action: str) -> Any:
    return page(f"{BASE}/{suffix}", ("POST",), action=action, public=False)


def _mine(ctx: Context) -> str:
    return my_member(ctx) or ""


@_post("proposition", "boards.motions.move")
def move_main(ctx: Context, board_id: str, meeting_id: str, item_id: str) -> Response:
    """A member moves the main motion on the item (a seconder follows)."""
    f = _form(ctx)
    return _write(
        ctx,
        board_id,
        meeting_id,
        item_id,
        "move_main_motion",
        lambda: {"member_id": _mine(ctx), "text": f.get("text", "")},
    )


@_post("appui", "boards.motions.second")
def second(ctx: Context, board_id: str, meeting_id: str, item_id: str) -> Response:
    """Second the question waiting for a seconder, in one's own name."""
    return _write(
        ctx,
        board_id,
        meeting_id,
        item_id,
        "second_question",
        lambda: {"member_id": _mine(ctx)},
    )


@_post("retrait", "boards.motions.move")
def withdraw(ctx: Context, board_id: str, meeting_id: str, item_id: str) -> Response:
    """The mover withdraws their own question."""
    return _write(
        ctx,
        board_id,
        meeting_id,
        item_id,
        "withdraw_question",
        lambda: {"member_id": _mine(ctx)},
    )


def change_from_form(f: dict[str, str], base: str, lang: str) -> dict[str, Any]:
    """``op`` (replace, insert, delete, full), ``mots`` (the words aimed at;
    for an insertion, the words it follows, empty: at the end) and ``texte``
    (the new words, or the whole new text) -> the engine's change.

    >>> change_from_form({"op": "replace", "mots": "10 000 $", "texte": "12 000 $"},
    ...                  "Accorder 10 000 $ au Carrefour", "fr")
    {'op': 'replace', 'start': 9, 'end': 17, 'text': '12 000 $'}
    """
    op = f.get("op", "")
    words = f.get("mots", "")
    text = f.get("texte", "")
    if op == "full":
        return {"op": "full", "start": 0, "end": 0, "text": text}
    if op not in ("replace", "insert", "delete"):
        raise Invalid(
            {"op": [translate("pr.err.op", lang)]},
            translate("pr.err.op", "fr"),
            translate("pr.err.op", "en"),
        )
    if op == "insert" and not words:
        at = len(base)
        return {"op": "insert", "start": at, "end": at, "text": _spaced(base, at, text)}
    n = base.count(words) if words else 0
    if n != 1:
        key = "pr.err.words_missing" if n == 0 else "pr.err.words_twice"
        raise Invalid(
            {"mots": [translate(key, lang, words=words, n=n)]},
            translate(key, "fr", words=words, n=n),
            translate(key, "en", words=words, n=n),
        )
    start = base.index(words)
    end = start + len(words)
    if op == "insert":
        return {
            "op": "insert",
            "start": end,
            "end": end,
            "text": _spaced(base, end, text),
        }
    if op == "delete":
        return {"op": "delete", "start": start, "end": end, "text": ""}
    return {"op": "replace", "start": start, "end": end, "text": text}


def _spaced(base: str, at: int, text: str) -> str:
    """Words added after a word get the space between them."""
    if text and at > 0 and not base[at - 1].isspace() and not text[0].isspace():
        if text[0] not in ",.;:)":
            return " " + text
    return text


def refusal(rule: str, fr: str, en: str) -> MaillageError:
    """A refusal the page makes before the engine could (nothing to amend), in
    the engine's form: a conflict naming the rule."""
    return Conflict(
        f"règle « {rule} » : {fr}",
        f'rule "{rule}": {en}',
        details={"code": "procedure_refused", "field": rule},
    )


def _target(values: dict[str, Any], level: str) -> tuple[str, str]:
    """The question amended and its text: the main motion (an amendment) or
    the amendment pending (a sub-amendment)."""
    rec_main = values["main"]
    if level == "sous-amendement":
        amendment = next(
            (q for q in values["pending"] if q["kind"] == "amendment"), None
        )
        if amendment is None:
            raise refusal(
                "amendment_target",
                "aucun amendement n'est en cours : il n'y a rien à sous-amender",
                "no amendment is open: there is nothing to sub-amend",
            )
        return amendment["id"], values["texts"]["amendment"]
    if rec_main is None:
        raise refusal(
            "amendment_target",
            "aucune proposition principale n'est devant l'assemblée",
            "no main motion is before the meeting",
        )
    return rec_main["id"], values["current_text"]


def _texts(ctx: Context, meeting_id: str, item_id: str) -> dict[str, Any]:
    """What :func:`_target` reads, from the record alone (one call)."""
    record = ctx.rpc("boards", "get_procedure", meeting_id, item_id)
    questions = {q["question_id"]: q for q in record.get("questions") or []}
    stack = [questions[q] for q in record.get("stack") or []]
    amendment = next((q for q in stack if q["kind"] == "amendment"), None)
    return {
        "main": {"id": record["main_id"]} if record.get("main_id") else None,
        "pending": [
            {"id": q["question_id"], "kind": q["kind"]} for q in reversed(stack)
        ],
        "current_text": record.get("text") or "",
        "texts": {
            "amendment": str(((amendment or {}).get("change") or {}).get("text") or "")
        },
    }


def _preview(ctx: Context, values: dict[str, Any]) -> dict[str, Any] | None:
    """``?apercu=1`` after the amendment form's preview button (no JavaScript):
    the text as it would read."""
    if ctx.request.method != "POST":
        return None
    f = _form(ctx)
    lang = page_lang(ctx)
    try:
        _, base = _target(values, f.get("niveau", ""))
        change = change_from_form(f, base, lang)
        Change(Op(change["op"]), change["start"], change["end"], change["text"]).check(
            base
        )
    except ProcedureRefused as exc:
        return {"error": exc.en if lang == "en" else exc.fr}
    except MaillageError as exc:
        fields = exc.fields if isinstance(exc, Invalid) else {}
        said = " ".join(_reason(v, lang) for v in fields.values())
        return {"error": said or exc.message(lang)}
    words = _apply(change, base)
    if f.get("niveau") == "sous-amendement":
        amendment = values["texts"]["amendment_change"] or {}
        change = {**amendment, "text": words}
    return _segments(change, values["current_text"])


@_post("amendement", "boards.motions.move")
def amend(ctx: Context, board_id: str, meeting_id: str, item_id: str) -> Response:
    """Move an amendment of the main motion or a sub-amendment of the amendment
    pending; ``apercu`` shows the resulting text instead (nothing recorded)."""
    f = _form(ctx)
    if f.get("apercu"):
        require_insider(ctx, board_id)
        return item_page.__wrapped__(ctx, board_id, meeting_id, item_id)  # type: ignore[attr-defined]
    lang = page_lang(ctx)

    def payload() -> dict[str, Any]:
        target, base = _target(_texts(ctx, meeting_id, item_id), f.get("niveau", ""))
        return {
            "member_id": _mine(ctx),
            "target_id": target,
            "change": change_from_form(f, base, lang),
        }

    return _write(ctx, board_id, meeting_id, item_id, "move_amendment", payload)


@_post("procedure", "boards.motions.move")
def procedural(ctx: Context, board_id: str, meeting_id: str, item_id: str) -> Response:
    """Move a procedural motion: previous question, postponement (to a date or
    indefinitely), referral to a committee, adjournment, reconsideration,
    suspension of a rule."""
    f = _form(ctx)

    def payload() -> dict[str, Any]:
        body: dict[str, Any] = {"member_id": _mine(ctx), "kind": f.get("kind", "")}
        if body["kind"] == "postpone" and f.get("until"):
            body["until"] = f["until"]
        if body["kind"] == "refer":
            body["committee"] = f.get("committee", "")
        if body["kind"] == "suspend_rule":
            body["rule_name"] = f.get("rule_name", "")
        return body

    return _write(ctx, board_id, meeting_id, item_id, "move_procedural_motion", payload)


@_post("parole", "boards.motions.move")
def ask_floor(ctx: Context, board_id: str, meeting_id: str, item_id: str) -> Response:
    """Ask for the floor (``reponse=1``: the mover's right of reply)."""
    reply = _form(ctx).get("reponse") == "1"
    return _write(
        ctx,
        board_id,
        meeting_id,
        item_id,
        "ask_for_floor",
        lambda: {"member_id": _mine(ctx), "reply": reply},
        "#parole",
    )


@_post("point", "boards.motions.move")
def raise_point(ctx: Context, board_id: str, meeting_id: str, item_id: str) -> Response:
    """Raise a point of order or of privilege; a point of order may object that
    the amendment pending simply negates the motion."""
    f = _form(ctx)

    def payload() -> dict[str, Any]:
        body: dict[str, Any] = {
            "member_id": _mine(ctx),
            "kind": f.get("kind", "order"),
            "text": f.get("text", ""),
        }
        if f.get("negation") == "1":
            values = _texts(ctx, meeting_id, item_id)
            target = next(
                (
                    q["id"]
                    for q in values["pending"]
                    if q["kind"] in ("amendment", "sub_amendment")
                ),
                None,
            )
            body.update(ground="negation", target_id=target)
        return body

    return _write(ctx, board_id, meeting_id, item_id, "raise_point", payload)


@_post("appel", "boards.motions.move")
def appeal(ctx: Context, board_id: str, meeting_id: str, item_id: str) -> Response:
    """Appeal the chair's ruling just given."""
    return _write(
        ctx,
        board_id,
        meeting_id,
        item_id,
        "appeal_ruling",
        lambda: {"member_id": _mine(ctx)},
    )


@_post("vote", "boards.motions.vote")
def cast(ctx: Context, board_id: str, meeting_id: str, item_id: str) -> Response:
    """A member votes in a roll call or a secret ballot, from their phone."""
    choice = _form(ctx).get("choice", "")
    return _write(
        ctx,
        board_id,
        meeting_id,
        item_id,
        "cast_procedure_vote",
        lambda: {"member_id": _mine(ctx), "choice": choice},
        "#vote",
    )


# the chair's moves, recorded by the secretary


def _chair(suffix: str, method: str, doc: str, body: Any = None) -> None:
    def handler(ctx: Context, board_id: str, meeting_id: str, item_id: str) -> Response:
        f = _form(ctx)
        return _write(
            ctx,
            board_id,
            meeting_id,
            item_id,
            method,
            (lambda: body(f)) if body else (lambda: None),
        )

    handler.__name__ = f"chair_{method}"
    handler.__doc__ = doc
    _post(suffix, "boards.motions.close")(handler)


def _vote_call(f: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "question_id": f.get("question_id", ""),
        "method": f.get("method") or "show_of_hands",
    }
    if f.get("requested_by"):
        body["requested_by"] = f["requested_by"]
    return body


def _count(f: dict[str, str]) -> dict[str, Any]:
    def number(key: str) -> Any:
        value = f.get(key, "")
        return int(value) if value.isdigit() else value

    return {
        "for": number("for"),
        "against": number("against"),
        "abstain": number("abstain") or 0,
    }


def _ruling(f: dict[str, str]) -> dict[str, Any]:
    return {"well_founded": f.get("well_founded") == "1", "reason": f.get("reason", "")}


_chair("sans-appui", "lapse_question", "The question dies for want of a seconder.")
_chair("donner-parole", "give_floor", "Give the floor to the next speaker.")
_chair("fin-intervention", "end_turn", "End the current turn of speech.")
_chair(
    "mise-aux-voix", "call_vote", "Put the innermost question to the vote.", _vote_call
)
_chair("main-levee", "record_show_of_hands", "Record a show of hands.", _count)
_chair("cloture", "close_procedure_vote", "Close the vote and tally it.")
_chair("decision", "rule_on_point", "Record the chair's ruling on the point.", _ruling)


@page(
    "/conseils/<board_id>/seances/<meeting_id>/proces-verbal/deroulement",
    ("POST",),
    action="boards.minutes.manage",
    public=False,
)
def minutes_from_record(ctx: Context, board_id: str, meeting_id: str) -> Response:
    """Draft the minutes from the deliberation record, then edit them."""
    back = f"/conseils/{board_id}/seances/{meeting_id}/proces-verbal"
    try:
        call_api(ctx, board_api.draft_minutes_from_record, None, meeting_id=meeting_id)
    except MaillageError as exc:
        return render(
            ctx,
            "procedure_refused.html",
            status=http_status(exc),
            rule="",
            message=exc.message(page_lang(ctx)),
            fields={},
            back=back,
            status_code=http_status(exc),
        )
    return redirect(back)


__all__ = ["change_from_form", "refusal", "state_values"]
