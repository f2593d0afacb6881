"""Running a board from the browser: secretary, members at the table, the public.

Every write a page makes is the API's own write: the page's route carries the
same action as the API route (so the one permission table decides), the
gateway's authentication checks the session's CSRF token, the audit wraps it
like any POST, and :func:`call_api` hands the form, turned into the API's JSON
body, to the API route's own handler after loading it with that route's body
schema. So the MRC scope, "members act for themselves" and every refusal are
the API's, said in the reader's language::

    POST /conseils/b1/seances/m1/votes   motion_id=mo-1&choice=for&csrf=...
    == POST /meetings/m1/votes {"motion_id": "mo-1", "member_id": <mine>,
                                "choice": "for"}

The live part of a meeting (quorum, motions, tallies, results) is one fragment,
``board_live.html``, served inside the page and, as JSON with a version, at
``.../etat.json``; ``static/boards.js`` polls it every two seconds and swaps
the fragment when the version changes. Without JavaScript a reload shows the
same.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import secrets
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import Schema, ValidationError
from werkzeug.wrappers import Request, Response

from gateway.api import Context, Route
from gateway.http import json_response
from gateway.messages import localize
from gateway.permissions import allowed
from gateway.routes import boards as board_api
from gateway.web import notices
from gateway.web.boards_agenda_messages import AGENDA_MESSAGES
from gateway.web.boards_messages import BOARD_MESSAGES
from gateway.web.core import (
    env,
    page,
    page_lang,
    redirect,
    render,
    settings,
)
from gateway.web.messages import MESSAGES, translate
from services.boards.domain import CONSTITUENCY_LABELS, MAX_DOCUMENT_BYTES
from shared.errors import Forbidden, Invalid, MaillageError, NotFound, http_status

MESSAGES.update(BOARD_MESSAGES)
MESSAGES.update(AGENDA_MESSAGES)

ZONE = ZoneInfo("America/Montreal")
SEAT_ROLES = frozenset({"board_member", "citizen_representative"})
OFFICES = ("member", "chair", "vice_chair", "secretary", "treasurer")


# --- the one path for writes ---------------------------------------------------


def _api_route(handler: Any) -> Route:
    for route in board_api.api.routes:
        if route.handler is handler:
            return route
    raise LookupError(handler)


def _as_json(request: Request, payload: dict[str, Any]) -> Request:
    """The same request (headers, address, cookies) with the API's JSON body."""
    data = json.dumps(payload).encode()
    environ = dict(request.environ)
    environ.update(
        {
            "wsgi.input": io.BytesIO(data),
            "CONTENT_LENGTH": str(len(data)),
            "CONTENT_TYPE": "application/json",
        }
    )
    return Request(environ)


def call_api(
    ctx: Context, handler: Any, payload: dict[str, Any] | None = None, **values: Any
) -> Any:
    """Run the API route ``handler`` for this page's write. The page's action
    must be the API route's (one permission decision); the body is loaded by the
    route's schema (422 naming each field, in the reader's language)."""
    route = _api_route(handler)
    if ctx.route is None or ctx.route.action != route.action:
        raise Forbidden(
            "Action de page différente de celle de l'API.",
            "The page's action differs from the API's.",
            details={"action": route.action},
        )
    payload = payload or {}
    if route.body is not None:
        schema = route.body() if isinstance(route.body, type) else route.body
        assert isinstance(schema, Schema)
        try:
            ctx.body = schema.load(payload)
        except ValidationError as exc:
            messages = exc.messages if isinstance(exc.messages, dict) else {}
            raise Invalid(localize(messages, page_lang(ctx))) from exc
    ctx.request = _as_json(ctx.request, payload)
    return handler(ctx, **values)


# --- what people read ------------------------------------------------------------


def t(ctx: Context, key: str, **values: Any) -> str:
    return translate(key, page_lang(ctx), **values)


def local_time(value: str | None) -> str:
    """``2026-12-14T23:30:00+00:00`` -> ``2026-12-14 18:30`` (Montreal)."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZONE).strftime("%Y-%m-%d %H:%M")


env.filters["local_time"] = local_time


def group_label(board: dict[str, Any], constituency: str, lang: str) -> str:
    for group in board["charter"]["seat_groups"]:
        if group["constituency"] == constituency and group.get("label"):
            return str(group["label"])
    fr, en = CONSTITUENCY_LABELS.get(constituency, (constituency, constituency))
    return en if lang == "en" else fr


def seat_label(board: dict[str, Any], seat_id: str, lang: str) -> str:
    constituency, _, number = seat_id.rpartition("-")
    return translate(
        "br.seat_n", lang, group=group_label(board, constituency, lang), n=number
    )


def people(board: dict[str, Any]) -> dict[str, str]:
    return {m["member_id"]: m["name"] for m in board.get("members") or []}


def seated(board: dict[str, Any], day: str) -> dict[str, dict[str, Any]]:
    """member_id -> appointment, for the appointments running on ``day``."""
    out: dict[str, dict[str, Any]] = {}
    for a in board.get("appointments") or []:
        last = a.get("ended_on") or a["end"]
        if a["start"] <= day <= last:
            out[a["member_id"]] = a
    return out


def seats_table(board: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    names = people(board)
    today = date.today().isoformat()
    holders = {a["seat_id"]: a for a in seated(board, today).values()}
    rows = []
    for group in board["charter"]["seat_groups"]:
        for n in range(1, int(group["seats"]) + 1):
            seat_id = f"{group['constituency']}-{n}"
            a = holders.get(seat_id)
            rows.append(
                {
                    "seat_id": seat_id,
                    "label": seat_label(board, seat_id, lang),
                    "holder": names.get(a["member_id"]) if a else None,
                    "office": translate(f"br.office.{a['office']}", lang) if a else "",
                    "end": (a.get("ended_on") or a["end"]) if a else None,
                }
            )
    return rows


def is_secretary(ctx: Context) -> bool:
    return allowed("boards.meetings.manage", (ctx.user or {}).get("role"))


def my_member(ctx: Context) -> str | None:
    user = ctx.user or {}
    if user.get("role") in SEAT_ROLES and user.get("member_id"):
        return str(user["member_id"])
    return None


def insider(ctx: Context, board_id: str) -> bool:
    return bool(ctx.user) and board_api.closed_view(ctx, board_id)


def quorum_text(
    ctx: Context, board: dict[str, Any], counts: dict[str, Any]
) -> dict[str, Any]:
    lang = page_lang(ctx)
    met = bool(counts.get("met"))
    lines = [
        t(
            ctx,
            "br.quorum_met" if met else "br.quorum_not_met",
            present=counts.get("present", 0),
            required=counts.get("required", 0),
        )
    ]
    for constituency, n in sorted((counts.get("missing") or {}).items()):
        lines.append(
            t(
                ctx,
                "br.quorum_missing",
                n=n,
                label=group_label(board, constituency, lang),
            )
        )
    return {"met": met, "text": " ".join(lines)}


def live_values(ctx: Context, board_id: str, meeting_id: str) -> dict[str, Any] | None:
    """What the live fragment shows, for an insider; ``None`` for the public."""
    if not insider(ctx, board_id):
        return None
    lang = page_lang(ctx)
    meeting = ctx.rpc("boards", "get_meeting", meeting_id)
    board = ctx.rpc("boards", "get_board", board_id)
    names = people(board)
    items = {i["item_id"]: i for i in meeting.get("agenda") or []}
    me = my_member(ctx)
    present = set(meeting.get("present") or [])
    recused = {(c["item_id"], c["member_id"]) for c in meeting.get("conflicts") or []}
    overall = quorum_text(ctx, board, ctx.rpc("boards", "quorum", meeting_id, None))
    motions = []
    for m in meeting.get("motions") or []:
        votes = m.get("votes") or []
        count = {
            c: sum(1 for v in votes if v["choice"] == c)
            for c in ("for", "against", "abstain")
        }
        mine = next((v["choice"] for v in votes if v["member_id"] == me), None)
        row: dict[str, Any] = {
            "motion_id": m["motion_id"],
            "text": m["text"],
            "item": items.get(m["item_id"], {}).get("title", ""),
            "mover": names.get(m["moved_by"], ""),
            "seconder": names.get(m["seconded_by"] or "", ""),
            "seconded": bool(m.get("seconded_by")),
            "status": m["status"],
            "rule": t(ctx, f"br.rule.{m['rule']}"),
            "tally": t(
                ctx,
                "br.tally",
                f=count["for"],
                a=count["against"],
                ab=count["abstain"],
                n=len(votes),
                present=len(present),
            ),
            "mine": t(ctx, f"br.choice.{mine}") if mine else None,
            "recused": me is not None and (m["item_id"], me) in recused,
            "can_second": me is not None
            and not m.get("seconded_by")
            and me != m["moved_by"],
        }
        if m.get("resolution_id"):
            resolution = ctx.rpc("boards", "get_resolution", m["resolution_id"])
            row["resolution"] = t(ctx, "ba.resolution", number=resolution["number"])
        if m["status"] == "open":
            row["quorum"] = quorum_text(
                ctx, board, ctx.rpc("boards", "quorum", meeting_id, m["item_id"])
            )
        motions.append(row)
    return {
        "meeting": meeting,
        "lang": lang,
        "overall": overall,
        "motions": motions,
        "me": me,
        "me_present": me in present if me else False,
        "secretary": is_secretary(ctx),
        "open": meeting.get("status") == "open",
    }


def live_html(ctx: Context, values: dict[str, Any] | None) -> str:
    if values is None:
        return ""
    from gateway.web.core import csrf_input

    lang = page_lang(ctx)
    return env.get_template("board_live.html").render(
        t=lambda key, **kw: translate(key, lang, **kw),
        csrf_field=lambda: csrf_input(ctx),
        base=f"/conseils/{values['meeting']['board_id']}/seances/"
        f"{values['meeting']['meeting_id']}",
        **values,
    )


def _version(html: str) -> str:
    return hashlib.sha256(html.encode()).hexdigest()[:16]


# --- pages -----------------------------------------------------------------------


def _board_page(
    ctx: Context, board_id: str, notice: str = "", errors: dict[str, Any] | None = None
) -> Response:
    lang = page_lang(ctx)
    board = ctx.rpc("boards", "get_board", board_id)
    meetings = sorted(
        ctx.rpc("boards", "list_meetings", board_id),
        key=lambda m: m["scheduled_at"],
        reverse=True,
    )
    names = people(board)
    today = date.today().isoformat()
    overdue = ctx.rpc("boards", "overdue", board_id, today)
    decisions = _decisions(ctx, meetings)
    charter = board["charter"]
    quorum = charter.get("quorum") or {}
    return render(
        ctx,
        "board_secretary.html",
        status=422 if errors else 200,
        board_id=board_id,
        board=board,
        name=charter["name"],
        groups=[
            {
                "label": group_label(board, g["constituency"], lang),
                "n": g["seats"],
                "months": g.get("term_months", 24),
            }
            for g in charter["seat_groups"]
        ],
        quorum=quorum,
        minimums=[
            {"label": group_label(board, c, lang), "n": n}
            for c, n in sorted((quorum.get("min_present") or {}).items())
        ],
        seats=seats_table(board, lang),
        meetings=meetings,
        waiting=[
            {**i, "by": names.get(i.get("proposed_by") or "", "")}
            for i in board.get("pending_items") or []
        ],
        decisions=decisions,
        overdue=overdue,
        smtp=notices.smtp_configured(),
        notice=notice,
        errors=errors or {},
        offices=OFFICES,
        today=today,
    )


def _decisions(ctx: Context, meetings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for m in meetings:
        for motion in m.get("motions") or []:
            if motion.get("resolution_id"):
                found.append(
                    ctx.rpc("boards", "get_resolution", motion["resolution_id"])
                )
    return sorted(found, key=lambda r: r["number"])


@page("/conseils/<board_id>/secretariat", action="boards.read", public=False)
def secretariat(ctx: Context, board_id: str) -> Response:
    """The secretary's page: charter, seats, meetings, waiting items, follow-up."""
    require_insider(ctx, board_id)
    return _board_page(ctx, board_id, notice=_notice(ctx))


def require_insider(ctx: Context, board_id: str) -> None:
    """The board's own pages (members' contacts, closed sessions) are for its
    insiders of its MRC; another MRC is told which, others that it is the
    board's (as the API's closed view decides)."""
    if insider(ctx, board_id):
        return
    board_api.scope_board(ctx, board_id)
    raise Forbidden(
        "Cette page est réservée aux membres et au secrétariat du conseil.",
        "This page is for the board's members and secretary only.",
        details={"board_id": board_id},
    )


def _notice(ctx: Context) -> str:
    sent = ctx.request.args.get("avis")
    if sent is None:
        return t(ctx, "br.done") if ctx.request.args.get("ok") else ""
    if sent == "0" and not notices.smtp_configured():
        return t(ctx, "br.not_sent")
    return t(ctx, "br.sent", n=sent if sent.isdigit() else 0)


def _refused(ctx: Context, exc: MaillageError, back: str) -> Response:
    """A refused write: the page says why, in the reader's language, with the
    fields named; the status is the API's."""
    lang = page_lang(ctx)
    fields = exc.fields if isinstance(exc, Invalid) else {}
    return render(
        ctx,
        "board_refused.html",
        status=http_status(exc),
        message=exc.message(lang),
        fields={k: _reason(v, lang) for k, v in fields.items()},
        back=back,
    )


def _reason(value: Any, lang: str) -> str:
    if isinstance(value, dict):
        value = value.get(lang) or value.get("fr") or list(value.values())
    if isinstance(value, list | tuple):
        return " ".join(_reason(v, lang) for v in value)
    return str(value)


def _write(ctx: Context, back: str, action: Any) -> Response:
    """Run a write; on success back to ``back`` (303), on refusal say why."""
    try:
        where = action()
    except MaillageError as exc:
        return _refused(ctx, exc, back)
    return redirect(where or back)


def _form(ctx: Context) -> dict[str, str]:
    return {k: v.strip() for k, v in ctx.request.form.items() if k != "csrf"}


def _day(value: str) -> str | None:
    return value or None


@page(
    "/conseils/<board_id>/secretariat/nominations",
    ("POST",),
    action="boards.seats.manage",
    public=False,
)
def appoint(ctx: Context, board_id: str) -> Response:
    """Appoint a person to a seat (the member is added or updated)."""
    f = _form(ctx)
    member_id = f.get("member_id") or _slug(f.get("name", ""))
    payload: dict[str, Any] = {
        "seat_id": f.get("seat_id", ""),
        "member": {
            "member_id": member_id,
            "name": f.get("name", ""),
            "email": f.get("email", ""),
        },
        "start": f.get("start", ""),
        "office": f.get("office") or "member",
    }
    if f.get("end"):
        payload["end"] = f["end"]
    back = f"/conseils/{board_id}/secretariat"
    return _write(
        ctx,
        back,
        lambda: (
            call_api(ctx, board_api.appoint, payload, board_id=board_id)
            and f"{back}?ok=1#sieges"
        ),
    )


def _slug(name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40]
    return f"{base or 'membre'}-{secrets.token_hex(2)}"


@page(
    "/conseils/<board_id>/secretariat/fin-mandat",
    ("POST",),
    action="boards.seats.manage",
    public=False,
)
def end_term(ctx: Context, board_id: str) -> Response:
    """End the term of a seat's holder on a given last day."""
    f = _form(ctx)
    payload = {"seat_id": f.get("seat_id", ""), "last_day": f.get("last_day", "")}
    back = f"/conseils/{board_id}/secretariat"
    return _write(
        ctx,
        back,
        lambda: (
            call_api(ctx, board_api.end_term, payload, board_id=board_id)
            and f"{back}?ok=1#sieges"
        ),
    )


@page("/conseils/<board_id>/sieges/<seat_id>", action="boards.read", public=False)
def seat_history(ctx: Context, board_id: str, seat_id: str) -> Response:
    """Who held a seat, term by term."""
    require_insider(ctx, board_id)
    lang = page_lang(ctx)
    board = ctx.rpc("boards", "get_board", board_id)
    rows = ctx.rpc("boards", "seat_history", board_id, seat_id)
    names = people(board)
    return render(
        ctx,
        "board_seat.html",
        board_id=board_id,
        name=board["charter"]["name"],
        seat=seat_label(board, seat_id, lang),
        rows=[
            {
                **r,
                "holder": names.get(r["member_id"], ""),
                "office": translate(f"br.office.{r['office']}", lang),
            }
            for r in rows
        ],
    )


def _local_iso(value: str) -> str:
    """``2026-12-14T18:30`` (a datetime-local field, Montreal) -> aware ISO."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value  # the schema names it
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZONE)
    return moment.isoformat()


@page(
    "/conseils/<board_id>/seances",
    ("POST",),
    action="boards.meetings.manage",
    public=False,
)
def schedule(ctx: Context, board_id: str) -> Response:
    """Schedule a meeting; members are e-mailed the notice (when SMTP is set)."""
    f = _form(ctx)
    day = re.sub(r"[^0-9]", "", f.get("when", ""))[:8] or "0"
    payload = {
        "meeting_id": f"seance-{day}-{secrets.token_hex(3)}",
        "kind": f.get("kind", ""),
        "scheduled_at": _local_iso(f.get("when", "")),
        "place": f.get("place", ""),
    }

    def run() -> str:
        meeting = call_api(ctx, board_api.schedule_meeting, payload, board_id=board_id)
        sent = _mail(ctx, board_id, meeting, "scheduled")
        return f"/conseils/{board_id}/seances/{meeting['meeting_id']}?avis={sent}"

    return _write(ctx, f"/conseils/{board_id}/secretariat", run)


def _mail(ctx: Context, board_id: str, meeting: dict[str, Any], kind: str) -> int:
    """E-mail a notice about ``meeting`` to every member of the board with an
    address: scheduled, agenda (published) or minutes (adopted)."""
    lang = page_lang(ctx)
    board = ctx.rpc("boards", "get_board", board_id)
    name = board["charter"]["name"]
    when = local_time(meeting["scheduled_at"])
    url = f"{ctx.request.host_url.rstrip('/')}/conseils/{board_id}/seances/"
    url += str(meeting["meeting_id"])
    subject = translate(f"br.mail.{kind}.subject", lang, board=name, when=when)
    lines = [
        translate(
            f"br.mail.{kind}.body",
            lang,
            board=name,
            when=when,
            kind=translate(f"br.kind.{meeting['kind']}", lang),
            place=meeting["place"],
        )
    ]
    if kind == "agenda":
        lines += [f"- {i['title']}" for i in meeting.get("agenda") or []]
    if kind == "minutes":
        lines += ["", str(meeting.get("minutes") or "")]
    lines += ["", translate("br.mail.link", lang, url=url)]
    day = meeting["scheduled_at"][:10]
    members = {m["member_id"]: m for m in board.get("members") or []}
    to = [members[m].get("email", "") for m in seated(board, day) if m in members]
    return notices.send_notice(to, subject, "\n".join(lines))


def _meeting_page(
    ctx: Context, board_id: str, meeting_id: str, status: int = 200
) -> Response:
    lang = page_lang(ctx)
    inside = insider(ctx, board_id)
    meeting = ctx.rpc("boards", "get_meeting", meeting_id, public=not inside)
    if meeting.get("board_id", board_id) != board_id:
        raise NotFound("Séance inconnue.", "Unknown meeting.")
    values = live_values(ctx, board_id, meeting_id) if inside else None
    board = ctx.rpc("boards", "get_board", board_id) if inside else None
    names = people(board) if board else {}
    agenda = []
    for item in meeting.get("agenda") or []:
        source = item.get("source", "secretary")
        by = item.get("proposed_by")
        by_name = names.get(by, "") if isinstance(by, str) else (by or {}).get("name")
        agenda.append(
            {
                **item,
                "origin": translate(f"br.source.{source}", lang, name=by_name or ""),
            }
        )
    conflicts = []
    titles = {i.get("item_id"): i.get("title") for i in meeting.get("agenda") or []}
    for c in meeting.get("conflicts") or []:
        conflicts.append(
            {"name": names.get(c["member_id"], ""), "title": titles.get(c["item_id"])}
        )
    roster = []
    if board and is_secretary(ctx):
        present = set(meeting.get("present") or [])
        for member_id, a in sorted(
            seated(board, meeting["scheduled_at"][:10]).items(),
            key=lambda kv: names.get(kv[0], ""),
        ):
            roster.append(
                {
                    "member_id": member_id,
                    "name": names.get(member_id, ""),
                    "seat": seat_label(board, a["seat_id"], lang),
                    "present": member_id in present,
                }
            )
    later = []
    if board and is_secretary(ctx) and meeting.get("status") == "adjourned":
        later = [
            m
            for m in ctx.rpc("boards", "list_meetings", board_id)
            if m["status"] == "open" and m["meeting_id"] != meeting_id
        ]
    me = my_member(ctx)
    html = live_html(ctx, values)
    titles = {i.get("item_id"): i.get("title") for i in meeting.get("agenda") or []}
    documents = [
        {
            **d,
            "where": t(ctx, "ba.doc_of_item", title=titles.get(d["item_id"], ""))
            if d.get("item_id")
            else t(ctx, "ba.doc_of_minutes"),
            "kb": max(1, round(d["size"] / 1024)),
        }
        for d in ctx.rpc("boards", "list_documents", meeting_id, public=not inside)
    ]
    refused = [
        {**i, "mine": bool(me) and i.get("proposed_by") == me}
        for i in (meeting.get("refused") or [] if inside else [])
    ]
    motion_open = any(m.get("status") == "open" for m in meeting.get("motions") or [])
    sent = ctx.request.args.get("avis")
    notice = ""
    if sent is not None:
        notice = (
            t(ctx, "br.sent", n=sent if sent.isdigit() else 0)
            if notices.smtp_configured()
            else t(ctx, "br.not_sent")
        )
    elif ctx.request.args.get("ok"):
        notice = t(ctx, "br.done")
    name = (
        board["charter"]["name"]
        if board
        else ctx.rpc("boards", "public_register", board_id, None)["board"]["name"]
    )
    return render(
        ctx,
        "board_meeting.html",
        status=status,
        board_id=board_id,
        name=name,
        meeting={
            **meeting,
            "scheduled_at": meeting.get("scheduled_at") or meeting.get("date"),
        },
        agenda=agenda,
        conflicts=conflicts,
        roster=roster,
        later=later,
        inside=inside,
        secretary=is_secretary(ctx) and inside,
        me=me if inside else None,
        live=html,
        documents=documents,
        refused=refused,
        motion_open=motion_open,
        movable=[
            i
            for i in agenda
            if not i.get("proposed") and i.get("discussion") != "closed"
        ],
        max_mb=MAX_DOCUMENT_BYTES // (1024 * 1024),
        version=_version(html),
        notice=notice,
        smtp=notices.smtp_configured(),
        base=f"/conseils/{board_id}/seances/{meeting_id}",
    )


@page("/conseils/<board_id>/seances/<meeting_id>", action="web.boards.meeting")
def meeting_page(ctx: Context, board_id: str, meeting_id: str) -> Response:
    """A meeting: agenda, and for the board the live quorum, motions and votes."""
    return _meeting_page(ctx, board_id, meeting_id)


@page("/conseils/<board_id>/seances/<meeting_id>/etat.json", action="web.boards.live")
def meeting_state(ctx: Context, board_id: str, meeting_id: str) -> Response:
    """The live fragment as JSON (``version``, ``html``), polled by boards.js."""
    html = live_html(ctx, live_values(ctx, board_id, meeting_id))
    response = json_response({"version": _version(html), "html": html}, 200)
    response.headers["Cache-Control"] = "no-store"
    return response


def _meeting_write(
    ctx: Context,
    board_id: str,
    meeting_id: str,
    handler: Any,
    payload: dict[str, Any] | None = None,
    anchor: str = "",
    **values: Any,
) -> Response:
    back = f"/conseils/{board_id}/seances/{meeting_id}"

    def run() -> str:
        call_api(ctx, handler, payload, meeting_id=meeting_id, **values)
        return f"{back}?ok=1{anchor}"

    return _write(ctx, back, run)


def _meeting_post(rule: str, action: str) -> Any:
    return page(
        f"/conseils/<board_id>/seances/<meeting_id>/{rule}",
        ("POST",),
        action=action,
        public=False,
    )


@_meeting_post("ordre-du-jour", "boards.meetings.manage")
def add_item(ctx: Context, board_id: str, meeting_id: str) -> Response:
    """The secretary adds an item (in camera or not)."""
    f = _form(ctx)
    payload = {"title": f.get("title", ""), "in_camera": f.get("in_camera") == "1"}
    return _meeting_write(
        ctx, board_id, meeting_id, board_api.add_agenda_item, payload, "#odj"
    )


@_meeting_post("propositions", "boards.agenda.propose")
def propose_item(ctx: Context, board_id: str, meeting_id: str) -> Response:
    """A member proposes an item in their own name."""
    f = _form(ctx)
    payload = {"title": f.get("title", ""), "proposed_by": my_member(ctx) or ""}
    return _meeting_write(
        ctx, board_id, meeting_id, board_api.propose_item, payload, "#odj"
    )


@_meeting_post("points/<item_id>/accepter", "boards.meetings.manage")
def accept_item(ctx: Context, board_id: str, meeting_id: str, item_id: str) -> Response:
    """Accept a proposed item onto the agenda."""
    return _meeting_write(
        ctx,
        board_id,
        meeting_id,
        board_api.accept_agenda_item,
        None,
        "#odj",
        item_id=item_id,
    )


@_meeting_post("points/<item_id>/refuser", "boards.meetings.manage")
def refuse_item(ctx: Context, board_id: str, meeting_id: str, item_id: str) -> Response:
    """Refuse a proposed item, with the reason its proposer reads."""
    payload = {"reason": _form(ctx).get("reason", "")}
    return _meeting_write(
        ctx,
        board_id,
        meeting_id,
        board_api.refuse_agenda_item,
        payload,
        "#odj",
        item_id=item_id,
    )


@_meeting_post("points/<item_id>/deplacer", "boards.meetings.manage")
def shift_item(ctx: Context, board_id: str, meeting_id: str, item_id: str) -> Response:
    """Move an item one place up (``sens=haut``) or down: the API's reorder."""
    meeting = ctx.rpc("boards", "get_meeting", meeting_id)
    order = [i["item_id"] for i in meeting.get("agenda") or []]
    if item_id in order:
        at = order.index(item_id)
        to = at - 1 if _form(ctx).get("sens") == "haut" else at + 1
        if 0 <= to < len(order):
            order[at], order[to] = order[to], order[at]
    return _meeting_write(
        ctx, board_id, meeting_id, board_api.reorder_agenda, {"order": order}, "#odj"
    )


@_meeting_post("points/<item_id>/ouvrir", "boards.meetings.manage")
def open_item(ctx: Context, board_id: str, meeting_id: str, item_id: str) -> Response:
    """Take up an item."""
    return _meeting_write(
        ctx, board_id, meeting_id, _step("open_item"), None, "#odj", item_id=item_id
    )


@_meeting_post("points/<item_id>/clore", "boards.meetings.manage")
def close_item(ctx: Context, board_id: str, meeting_id: str, item_id: str) -> Response:
    """Be done with an item."""
    return _meeting_write(
        ctx, board_id, meeting_id, _step("close_item"), None, "#odj", item_id=item_id
    )


@page(
    "/conseils/<board_id>/seances/<meeting_id>/documents",
    ("POST",),
    action="boards.meetings.manage",
    public=False,
    max_body=board_api.DOCUMENT_BODY,
)
def attach_document(ctx: Context, board_id: str, meeting_id: str) -> Response:
    """Attach a file to an item or the minutes (multipart form): the API's own
    write, the file in base64 as the API takes it."""
    upload = ctx.request.files.get("file")
    content = upload.read() if upload else b""
    f = _form(ctx)
    payload: dict[str, Any] = {
        "filename": (upload.filename or "") if upload else "",
        "data": base64.b64encode(content).decode("ascii"),
    }
    if f.get("item_id"):
        payload["item_id"] = f["item_id"]
    if not content:
        payload["data"] = ""
    return _meeting_write(
        ctx, board_id, meeting_id, board_api.attach_document, payload, "#documents"
    )


@page(
    "/conseils/<board_id>/seances/<meeting_id>/documents/<document_id>",
    action="web.boards.document",
)
def document(
    ctx: Context, board_id: str, meeting_id: str, document_id: str
) -> Response:
    """Download a document: the board's insiders of its MRC get every one,
    others only what the public may read (404 otherwise)."""
    inside = insider(ctx, board_id)
    if inside:
        meeting = ctx.rpc("boards", "get_meeting", meeting_id)
        if meeting["board_id"] != board_id:
            raise NotFound("Séance inconnue.", "Unknown meeting.")
    found = ctx.rpc(
        "boards", "get_document", meeting_id, document_id, public=not inside
    )
    return board_api.document_response(found, public=not inside)


@_meeting_post("ouvrir", "boards.meetings.manage")
def open_meeting(ctx: Context, board_id: str, meeting_id: str) -> Response:
    """Open the meeting."""
    return _meeting_write(
        ctx, board_id, meeting_id, _step("open_meeting"), None, "#direct"
    )


@_meeting_post("lever", "boards.meetings.manage")
def adjourn_meeting(ctx: Context, board_id: str, meeting_id: str) -> Response:
    """Adjourn the meeting."""
    return _meeting_write(ctx, board_id, meeting_id, _step("adjourn_meeting"))


def _step(name: str) -> Any:
    for route in board_api.api.routes:
        if route.handler.__name__ == name:
            return route.handler
    raise LookupError(name)


@_meeting_post("avis", "boards.meetings.manage")
def publish(ctx: Context, board_id: str, meeting_id: str) -> Response:
    """Publish the notice with the agenda: e-mailed to the members."""
    meeting = board_api.scope_meeting(ctx, meeting_id)
    sent = _mail(ctx, board_id, meeting, "agenda")
    return redirect(f"/conseils/{board_id}/seances/{meeting_id}?avis={sent}")


@_meeting_post("presences", "boards.meetings.manage")
def attendance(ctx: Context, board_id: str, meeting_id: str) -> Response:
    """Record an arrival or a departure."""
    f = _form(ctx)
    payload = {"member_id": f.get("member_id", ""), "present": f.get("present") == "1"}
    return _meeting_write(
        ctx, board_id, meeting_id, board_api.record_attendance, payload, "#presences"
    )


@_meeting_post("conflits", "boards.conflicts.declare")
def declare_conflict(ctx: Context, board_id: str, meeting_id: str) -> Response:
    """A member declares a conflict of interest on an item and is recused."""
    f = _form(ctx)
    payload = {
        "member_id": my_member(ctx) or "",
        "item_id": f.get("item_id", ""),
        "reason": f.get("reason", ""),
    }
    return _meeting_write(
        ctx, board_id, meeting_id, board_api.declare_conflict, payload, "#conflits"
    )


@_meeting_post("motions", "boards.motions.move")
def move(ctx: Context, board_id: str, meeting_id: str) -> Response:
    """A member moves a motion on an item (seconded afterwards by another)."""
    f = _form(ctx)
    payload = {
        "item_id": f.get("item_id", ""),
        "text": f.get("text", ""),
        "moved_by": my_member(ctx) or "",
    }
    return _meeting_write(ctx, board_id, meeting_id, board_api.move, payload, "#direct")


@_meeting_post("motions/<motion_id>/appui", "boards.motions.second")
def second(ctx: Context, board_id: str, meeting_id: str, motion_id: str) -> Response:
    """Second a motion, in one's own name."""
    return _meeting_write(
        ctx,
        board_id,
        meeting_id,
        board_api.second,
        {"member_id": my_member(ctx) or ""},
        "#direct",
        motion_id=motion_id,
    )


@_meeting_post("votes", "boards.motions.vote")
def vote(ctx: Context, board_id: str, meeting_id: str) -> Response:
    """Vote for, against, or abstain on an open motion, from one's phone."""
    f = _form(ctx)
    payload = {
        "motion_id": f.get("motion_id", ""),
        "member_id": my_member(ctx) or "",
        "choice": f.get("choice", ""),
    }
    return _meeting_write(ctx, board_id, meeting_id, board_api.vote, payload, "#direct")


@_meeting_post("motions/<motion_id>/cloture", "boards.motions.close")
def close_vote(
    ctx: Context, board_id: str, meeting_id: str, motion_id: str
) -> Response:
    """The secretary closes the vote (quorum checked again)."""
    return _meeting_write(
        ctx,
        board_id,
        meeting_id,
        board_api.close_vote,
        None,
        "#direct",
        motion_id=motion_id,
    )


@_meeting_post("proces-verbal", "boards.minutes.manage")
def draft_minutes(ctx: Context, board_id: str, meeting_id: str) -> Response:
    """Save the draft minutes."""
    payload = {"text": _form(ctx).get("text", "")}
    return _meeting_write(
        ctx, board_id, meeting_id, board_api.draft_minutes, payload, "#pv"
    )


@_meeting_post("proces-verbal/adoption", "boards.minutes.manage")
def adopt_minutes(ctx: Context, board_id: str, meeting_id: str) -> Response:
    """Adopt the minutes at a later meeting in progress; members are e-mailed."""
    payload = {"at_meeting_id": _form(ctx).get("at_meeting_id", "")}
    back = f"/conseils/{board_id}/seances/{meeting_id}"

    def run() -> str:
        adopted = call_api(ctx, board_api.adopt_minutes, payload, meeting_id=meeting_id)
        sent = _mail(ctx, board_id, adopted, "minutes")
        return f"{back}?avis={sent}#pv"

    return _write(ctx, back, run)


def minutes_draft(ctx: Context, meeting: dict[str, Any], board: dict[str, Any]) -> str:
    """A first draft of the minutes from what was recorded."""
    lang = page_lang(ctx)
    names = people(board)
    lines = [
        translate("br.meeting_title", lang, when=local_time(meeting["scheduled_at"])),
        f"{translate('br.attendance', lang)} : "
        + ", ".join(sorted(names.get(m, "") for m in meeting.get("present") or [])),
        "",
    ]
    items = {i["item_id"]: i["title"] for i in meeting.get("agenda") or []}
    for n, item in enumerate(meeting.get("agenda") or [], 1):
        lines.append(f"{n}. {item['title']}")
        for c in meeting.get("conflicts") or []:
            if c["item_id"] == item["item_id"]:
                lines.append(
                    "   "
                    + translate(
                        "br.recused",
                        lang,
                        name=names.get(c["member_id"], ""),
                        title=items[c["item_id"]],
                    )
                )
        for m in meeting.get("motions") or []:
            if m["item_id"] != item["item_id"]:
                continue
            votes = m.get("votes") or []
            count = {
                c: sum(1 for v in votes if v["choice"] == c)
                for c in ("for", "against", "abstain")
            }
            lines.append(
                f"   {m['text']} — "
                + translate("br.moved_by", lang, mover=names.get(m["moved_by"], ""))
                + ", "
                + translate(
                    "br.seconded_by", lang, name=names.get(m["seconded_by"] or "", "")
                )
                + f". {translate('br.motion.' + m['status'], lang)} "
                + f"({count['for']}/{count['against']}/{count['abstain']})"
            )
    return "\n".join(lines)


@page(
    "/conseils/<board_id>/seances/<meeting_id>/proces-verbal",
    action="boards.read",
    public=False,
)
def minutes_page(ctx: Context, board_id: str, meeting_id: str) -> Response:
    """The minutes form, pre-filled from the record (secretary)."""
    require_insider(ctx, board_id)
    meeting = ctx.rpc("boards", "get_meeting", meeting_id)
    board = ctx.rpc("boards", "get_board", board_id)
    later = [
        m
        for m in ctx.rpc("boards", "list_meetings", board_id)
        if m["status"] == "open" and m["meeting_id"] != meeting_id
    ]
    return render(
        ctx,
        "board_minutes.html",
        board_id=board_id,
        name=board["charter"]["name"],
        meeting=meeting,
        draft=meeting.get("minutes") or minutes_draft(ctx, meeting, board),
        later=later,
        secretary=is_secretary(ctx),
        base=f"/conseils/{board_id}/seances/{meeting_id}",
    )


@page(
    "/conseils/<board_id>/suivi/<resolution_id>",
    ("POST",),
    action="boards.follow_up",
    public=False,
)
def follow_up(ctx: Context, board_id: str, resolution_id: str) -> Response:
    """Record progress on a decision: status, progress, note, responsible, due."""
    f = _form(ctx)
    payload: dict[str, Any] = {"on": f.get("on") or date.today().isoformat()}
    for key in ("status", "responsible", "due"):
        if f.get(key):
            payload[key] = f[key]
    if f.get("note"):
        payload["note"] = f["note"]
    if f.get("progress"):
        payload["progress"] = (
            int(f["progress"]) if f["progress"].isdigit() else f["progress"]
        )
    back = f"/conseils/{board_id}/secretariat"
    return _write(
        ctx,
        back,
        lambda: (
            call_api(ctx, board_api.follow_up, payload, resolution_id=resolution_id)
            and f"{back}?ok=1#suivi"
        ),
    )


# --- members -----------------------------------------------------------------------


@page("/conseils/<board_id>/moi", action="boards.read", public=False)
def member_page(ctx: Context, board_id: str) -> Response:
    """A member's page: their seat, the next meetings, their private calendar."""
    lang = page_lang(ctx)
    me = my_member(ctx)
    inside = insider(ctx, board_id)
    board = ctx.rpc("boards", "get_board", board_id) if inside else None
    seat = None
    meetings: list[dict[str, Any]] = []
    feed = ""
    if board and me:
        a = seated(board, date.today().isoformat()).get(me)
        if a:
            seat = {
                "label": seat_label(board, a["seat_id"], lang),
                "office": translate(f"br.office.{a['office']}", lang),
                "start": a["start"],
                "end": a.get("ended_on") or a["end"],
            }
        now = datetime.now(UTC).isoformat()
        meetings = sorted(
            (
                m
                for m in ctx.rpc("boards", "list_meetings", board_id)
                if m["status"] in ("scheduled", "open")
                and m["scheduled_at"] >= now[:10]
            ),
            key=lambda m: m["scheduled_at"],
        )
        token = notices.member_token(settings["_secret"], board_id, me)
        feed = f"/conseils/{board_id}/membres/{me}/{token}.ics"
    return render(
        ctx,
        "board_member.html",
        board_id=board_id,
        name=board["charter"]["name"] if board else board_id,
        seat=seat,
        meetings=meetings,
        feed=feed,
        member=bool(board and me),
    )


# --- calendars -------------------------------------------------------------------


def _ics(body: bytes, private: bool) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Cache-Control"] = "private, no-store" if private else "no-cache"
    return response


@page("/conseils/<board_id>/calendrier.ics", action="web.boards.calendar")
def public_feed(ctx: Context, board_id: str) -> Response:
    """The board's public meetings as an iCalendar feed (RFC 5545)."""
    register = ctx.rpc("boards", "public_register", board_id, None)
    url = f"{ctx.request.host_url.rstrip('/')}/conseils/{board_id}"
    return _ics(
        notices.calendar(
            board_id, register["board"]["name"], register["meetings"], url
        ),
        private=False,
    )


@page(
    "/conseils/<board_id>/membres/<member_id>/<token>.ics",
    action="web.boards.calendar.member",
)
def member_feed(ctx: Context, board_id: str, member_id: str, token: str) -> Response:
    """A member's own feed: every meeting held while they sit, closed ones too.
    The address is the key (a calendar application sends no session)."""
    if not notices.token_valid(settings["_secret"], board_id, member_id, token):
        raise NotFound("Calendrier inconnu.", "Unknown calendar.")
    board = ctx.rpc("boards", "get_board", board_id)
    mine = [
        m
        for m in ctx.rpc("boards", "list_meetings", board_id)
        if member_id in seated(board, m["scheduled_at"][:10])
    ]
    url = f"{ctx.request.host_url.rstrip('/')}/conseils/{board_id}"
    return _ics(
        notices.calendar(board_id, board["charter"]["name"], mine, url), private=True
    )
