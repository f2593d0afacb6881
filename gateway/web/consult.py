"""Run a consultation from the browser: create it, load its registry, print its
one-time codes, moderate it, close it; and, for citizens, a proposal's page
(comments and replies, edit, withdraw) and the redemption of a code.

No second path: every write of these pages fills ``ctx.body`` with the API's
own schema (``gateway.routes.participation``) and calls the API's handler, so
the permission table (the page's ``action``), the MRC scope, the CSRF check
(the gateway's, on the session cookie) and the audit log (with the body, by
:func:`gateway.audit.record_request`) are the API's::

    POST /participer/4b1e…/propositions/a3/masquer   reason=Propos haineux&csrf=…
    -> routes.participation.hide(ctx, process_id="4b1e…", proposal_id="a3")
    -> 303 /participer/4b1e…/gestion?masque=a3

A form the schema refuses comes back with each field's reason in the person's
language; a refusal of the service (phase, ownership, a used code) is said on
the same page. Dates are typed in Quebec's time (``America/Toronto``, the
zone of Montreal) and sent to the service in UTC.
"""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import Schema, ValidationError
from werkzeug.wrappers import Response

from gateway import audit
from gateway.api import Context
from gateway.messages import localize
from gateway.routes import participation as papi
from gateway.web.consult_messages import CONSULT_MESSAGES
from gateway.web.core import page, page_lang, redirect, render
from gateway.web.messages import MESSAGES
from gateway.web.participation import person, process_view
from services.participation.domain import PHASES
from services.participation.schemas import ProcessInput
from services.participation.tally import METHODS
from shared.errors import Invalid, MaillageError

MESSAGES.update(CONSULT_MESSAGES)
QUEBEC = ZoneInfo("America/Toronto")
GEO = Path(
    os.environ.get("MAILLAGE_GEO_DIR")
    or Path(__file__).resolve().parents[3] / "shared" / "data" / "quebec_geo"
)
BUDGET_METHODS = ("pb-greedy", "pb-mes")
SEATS_METHODS = ("approval", "score", "dot", "stv-scottish", "stv-meek", "stv-wigm")
POINTS_METHODS = ("score", "dot")
FORM_PHASES = PHASES  # proposals, deliberation, voting, results
DEFAULT_DAYS = {"proposals": 14, "deliberation": 7, "voting": 7, "results": 60}


@lru_cache(maxsize=1)
def _division_names() -> dict[str, str]:
    try:
        with (GEO / "qc_census_divisions.csv").open(encoding="utf-8") as handle:
            return {
                row["id"].rsplit(":", 1)[1]: row["name_fr"] or row["name"]
                for row in csv.DictReader(handle)
            }
    except OSError:
        return {}


def mrc_name(code: str | None) -> str:
    """``mrc_name("2456") == "La Haute-Yamaska"``; an unknown code shows as is."""
    return _division_names().get(str(code or ""), str(code or ""))


def _fields(exc: ValidationError | Invalid, lang: str) -> dict[str, str]:
    raw = exc.fields if isinstance(exc, Invalid) else localize(exc.messages, lang)
    out = {}
    for key, value in (raw if isinstance(raw, dict) else {"_schema": raw}).items():
        if isinstance(value, dict):
            value = value.get(lang) or " ".join(map(str, value.values()))
        if isinstance(value, list | tuple):
            value = " ".join(map(str, value))
        out[str(key)] = str(value)
    return out


def through_api(ctx: Context, schema: Schema, data: dict[str, Any]) -> dict[str, Any]:
    """Read a form with the API's schema, as the gateway reads a JSON body, and
    hand it to the API's handler through ``ctx.body`` (audited as such)."""
    try:
        loaded = schema.load(data)
    except ValidationError as exc:
        raise Invalid(_fields(exc, page_lang(ctx))) from None
    # forwarded as typed once valid (an exact decimal stays a string), like
    # the API's handlers forward the JSON body
    ctx.body = {**loaded, **data}
    audit.record_request(ctx, data)
    return dict(ctx.body)


def _local(value: str) -> str:
    """A ``datetime-local`` value typed in Quebec, as UTC ISO 8601 ('' if unreadable)."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=QUEBEC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _typed(value: str | None) -> str:
    """A stored UTC time as the ``datetime-local`` value of Quebec."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.astimezone(QUEBEC).strftime("%Y-%m-%dT%H:%M")


def _over(moment: str) -> bool:
    try:
        return datetime.fromisoformat(moment.replace("Z", "+00:00")) <= datetime.now(
            UTC
        )
    except ValueError:
        return False


def _default_form() -> dict[str, str]:
    start = datetime.now(QUEBEC).replace(second=0, microsecond=0) + timedelta(hours=1)
    form: dict[str, str] = {"method": "approval", "seats": "1", "threshold": "1"}
    for name in FORM_PHASES:
        end = start + timedelta(days=DEFAULT_DAYS[name])
        form[f"{name}_start"] = start.strftime("%Y-%m-%dT%H:%M")
        form[f"{name}_end"] = end.strftime("%Y-%m-%dT%H:%M")
        start = end
    return form


def _representatives(ctx: Context, names: str) -> tuple[list[str], list[str]]:
    """Account ids of the user names typed one per line; the names not found."""
    store = ctx.runtime.store  # type: ignore[attr-defined]
    found, unknown = [], []
    for name in (n.strip() for n in names.splitlines()):
        if not name:
            continue
        account = store.account_by_username(name)
        if account is None:
            unknown.append(name)
        else:
            found.append(str(account["_id"]))
    return found, unknown


def read_process_form(ctx: Context, form: dict[str, str]) -> dict[str, Any]:
    """The API's ``POST /processes`` body a creation form means."""
    user = ctx.user or {}
    data: dict[str, Any] = {
        "mrc_code": str(user.get("mrc") or ""),
        "title": form.get("title", "").strip(),
        "method": form.get("method", ""),
        "eligibility": form.get("eligibility", "residents"),
        "phases": {
            n: [_local(form.get(f"{n}_start", "")), _local(form.get(f"{n}_end", ""))]
            for n in FORM_PHASES
        },
    }
    numbers = {
        "seats": "seats",
        "threshold": "support_threshold",
        "max_points": "max_points",
        "eligible_count": "eligible_count",
    }
    errors: dict[str, str] = {}
    lang = page_lang(ctx)
    for field, key in numbers.items():
        raw = form.get(field, "").strip().replace(" ", "")
        if raw:
            if raw.isdigit() and len(raw) <= 9:
                data[key] = int(raw)
            else:
                errors[key] = (
                    "Nombre entier attendu."
                    if lang == "fr"
                    else "Whole number expected."
                )
    budget = form.get("budget", "").strip().replace(" ", "").replace(",", ".")
    if budget:
        data["budget"] = budget
    if form.get("cumulative"):
        data["cumulative"] = True
    for name in FORM_PHASES:
        if not all(data["phases"][name]):
            errors[f"phases.{name}"] = views_date_error(lang)
    if data["eligibility"] == "representatives":
        ids, unknown = _representatives(ctx, form.get("representatives", ""))
        data["representatives"] = ids
        if unknown or not ids:
            errors["representatives"] = (
                (
                    f"Comptes inconnus : {', '.join(unknown)}"
                    if lang == "fr"
                    else f"Unknown accounts: {', '.join(unknown)}"
                )
                if unknown
                else (
                    "Nommez au moins un compte."
                    if lang == "fr"
                    else "Name one account."
                )
            )
    if errors:
        raise Invalid(errors)
    return data


def views_date_error(lang: str) -> str:
    return (
        "Date et heure attendues (AAAA-MM-JJ HH:MM)."
        if lang == "fr"
        else "Date and time expected (YYYY-MM-DD HH:MM)."
    )


# --- the secretary's pages -----------------------------------------------------------


@page("/participer/gestion", action="participation.processes.manage", public=False)
def manage_list(ctx: Context) -> Response:
    """The consultations of the account's MRC, open and closed, to manage."""
    mrc = str((ctx.user or {}).get("mrc") or "")
    found = ctx.rpc(
        "participation", "list_processes", {"mrc_code": mrc, "state": "all"}
    )
    return render(
        ctx,
        "consult_list.html",
        processes=[process_view(p) for p in found.get("items", [])],
        mrc=mrc_name(mrc),
    )


def _new_form(
    ctx: Context, form: dict[str, str], errors: dict[str, str], status: int = 200
) -> Response:
    return render(
        ctx,
        "consult_new.html",
        status=status,
        form=form,
        errors=errors,
        methods=METHODS,
        phases=FORM_PHASES,
        mrc=mrc_name((ctx.user or {}).get("mrc")),
    )


@page("/participer/nouvelle", action="participation.processes.manage", public=False)
def new_process(ctx: Context) -> Response:
    """The form that creates a consultation: phases and dates, method and its
    parameters, eligibility."""
    return _new_form(ctx, _default_form(), {})


@page(
    "/participer/nouvelle",
    ("POST",),
    action="participation.processes.manage",
    public=False,
)
def create_process(ctx: Context) -> Response:
    """Create it through the API's handler, then its management page."""
    form = ctx.request.form.to_dict()
    try:
        data = read_process_form(ctx, form)
        through_api(ctx, ProcessInput(), data)
        created = papi.create_process(ctx)
    except Invalid as exc:
        return _new_form(ctx, form, _fields(exc, page_lang(ctx)), 422)
    return redirect(f"/participer/{created['id']}/gestion?cree=1")


def _manage(
    ctx: Context,
    process_id: str,
    status: int = 200,
    **extra: Any,
) -> Response:
    papi.scope_process(ctx, process_id)
    process = process_view(ctx.rpc("participation", "get_process", process_id))
    proposals = ctx.rpc("participation", "list_proposals", process_id)
    hidden = ctx.rpc("participation", "hidden_proposals", process_id)
    comments = {
        p["id"]: ctx.rpc("participation", "list_comments", p["id"], None)
        for p in proposals
        if not p.get("hidden")
    }
    turnout = ctx.rpc("participation", "turnout", process_id)
    voting_end = (process.get("phases") or {}).get("voting", ["", ""])[1]
    return render(
        ctx,
        "consult_manage.html",
        status=status,
        process=process,
        proposals=[p for p in proposals if not p.get("hidden")],
        hidden=hidden,
        comments=comments,
        turnout=turnout.get("participants", 0),
        mrc=mrc_name(process.get("mrc_code")),
        dates={n: [_typed(v) for v in d] for n, d in process["phases"].items()},
        may_close=not process.get("closed") and _over(voting_end),
        errors=extra.pop("errors", {}),
        **extra,
    )


@page(
    "/participer/<process_id>/gestion",
    action="participation.processes.manage",
    public=False,
)
def manage(ctx: Context, process_id: str) -> Response:
    """Manage one consultation of the account's MRC."""
    return _manage(ctx, process_id)


def _refused(
    ctx: Context, process_id: str, exc: MaillageError, **extra: Any
) -> Response:
    lang = page_lang(ctx)
    errors = _fields(exc, lang) if isinstance(exc, Invalid) else {}
    status = 422 if isinstance(exc, Invalid) else 409
    return _manage(
        ctx, process_id, status, refusal=exc.message(lang), errors=errors, **extra
    )


@page(
    "/participer/<process_id>/admissibles",
    ("POST",),
    action="participation.processes.manage",
    public=False,
)
def eligible_count(ctx: Context, process_id: str) -> Response:
    """Declare (or withdraw, left empty) how many may vote."""
    raw = (ctx.request.form.get("eligible_count") or "").strip().replace(" ", "")
    value: Any = None if not raw else (int(raw) if raw.isdigit() else raw)
    try:
        through_api(ctx, papi.EligibleCountInput(), {"eligible_count": value})
        papi.set_eligible_count(ctx, process_id=process_id)
    except (Invalid, MaillageError) as exc:
        return _refused(ctx, process_id, exc)
    return redirect(f"/participer/{process_id}/gestion?admissibles=1#admissibles")


@page(
    "/participer/<process_id>/registre",
    ("POST",),
    action="participation.processes.manage",
    public=False,
)
def registry(ctx: Context, process_id: str) -> Response:
    """Load the residency registry from an uploaded CSV (or pasted text); the
    page then reports what was loaded and each refused row."""
    upload = ctx.request.files.get("file")
    text = ""
    if upload is not None and upload.filename:
        text = upload.read(900_001).decode("utf-8-sig", errors="replace")
    text = _accounts_named(ctx, text or (ctx.request.form.get("csv") or ""))
    try:
        through_api(ctx, papi.RegistryInput(), {"csv": text})
        report = papi.load_registry(ctx, process_id=process_id)
    except (Invalid, MaillageError) as exc:
        return _refused(ctx, process_id, exc)
    return _manage(ctx, process_id, report=report)


def _accounts_named(ctx: Context, text: str) -> str:
    """The registry with each ``person`` that is a user name of this node
    replaced by its account id (what the service keys on), so a secretary
    writes people as people know them; rows and their numbers are kept."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or "person" not in rows[0]:
        return text
    column = rows[0].index("person")
    store = ctx.runtime.store  # type: ignore[attr-defined]
    for row in rows[1:]:
        name = row[column].strip() if column < len(row) else ""
        account = store.account_by_username(name) if name else None
        if account is not None:
            row[column] = str(account["_id"])
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


@page(
    "/participer/<process_id>/codes",
    ("POST",),
    action="participation.processes.manage",
    public=False,
)
def codes(ctx: Context, process_id: str) -> Response:
    """Issue one-time codes and show them once, one per slip, ready to print
    (never in a URL: the answer is no-store)."""
    raw = (ctx.request.form.get("count") or "").strip()
    try:
        through_api(
            ctx, papi.CodesInput(), {"count": int(raw) if raw.isdigit() else raw}
        )
        issued = papi.issue_codes(ctx, process_id=process_id)
    except (Invalid, MaillageError) as exc:
        return _refused(ctx, process_id, exc)
    process = process_view(ctx.rpc("participation", "get_process", process_id))
    return render(
        ctx,
        "consult_codes.html",
        process=process,
        codes=list(issued["items"]),
        mrc=mrc_name(process.get("mrc_code")),
        redeem_url=ctx.request.host_url.rstrip("/") + f"/participer/{process_id}/code",
    )


@page(
    "/participer/<process_id>/propositions/<proposal_id>/masquer",
    ("POST",),
    action="participation.processes.manage",
    public=False,
)
def hide_proposal(ctx: Context, process_id: str, proposal_id: str) -> Response:
    """Moderation: hide a proposal with its public reason."""
    reason = (ctx.request.form.get("reason") or "").strip()
    try:
        through_api(ctx, papi.HideInput(), {"reason": reason})
        papi.hide(ctx, process_id=process_id, proposal_id=proposal_id)
    except (Invalid, MaillageError) as exc:
        return _refused(ctx, process_id, exc, failed=proposal_id)
    return redirect(f"/participer/{process_id}/gestion?masque=1#moderation")


@page(
    "/participer/<process_id>/commentaires/<comment_id>/masquer",
    ("POST",),
    action="participation.processes.manage",
    public=False,
)
def hide_comment(ctx: Context, process_id: str, comment_id: str) -> Response:
    """Moderation: hide a comment with its public reason."""
    reason = (ctx.request.form.get("reason") or "").strip()
    try:
        through_api(ctx, papi.HideInput(), {"reason": reason})
        papi.hide_comment(ctx, process_id=process_id, comment_id=comment_id)
    except (Invalid, MaillageError) as exc:
        return _refused(ctx, process_id, exc, failed=comment_id)
    return redirect(f"/participer/{process_id}/gestion?masque=1#moderation")


@page(
    "/participer/<process_id>/cloture",
    ("POST",),
    action="participation.results.publish",
    public=False,
)
def close(ctx: Context, process_id: str) -> Response:
    """Close the vote, count and publish: the results page."""
    try:
        audit.record_request(ctx, {})
        papi.close_vote(ctx, process_id=process_id)
    except MaillageError as exc:
        return _refused(ctx, process_id, exc)
    return redirect(f"/participer/{process_id}/resultats?publie=1")


# --- citizens ---------------------------------------------------------------------


@page("/participer/<process_id>/code", action="web.participate.code")
def redeem_form(ctx: Context, process_id: str) -> Response:
    """The page where a resident types the one-time code of their slip."""
    process = process_view(ctx.rpc("participation", "get_process", process_id))
    return render(ctx, "consult_redeem.html", process=process, error="", done=False)


@page(
    "/participer/<process_id>/code",
    ("POST",),
    action="participation.residency.redeem",
    public=False,
)
def redeem(ctx: Context, process_id: str) -> Response:
    """Redeem the code through the API's handler (typed in any case, spaces ok)."""
    code = "".join((ctx.request.form.get("code") or "").split()).upper()
    process = process_view(ctx.rpc("participation", "get_process", process_id))
    try:
        ctx.body = papi.RedeemInput().load({"code": code})
        papi.redeem(ctx, process_id=process_id)  # the code itself is not logged
    except ValidationError as exc:
        error = " ".join(_fields(exc, page_lang(ctx)).values())
        return render(
            ctx, "consult_redeem.html", 422, process=process, error=error, done=False
        )
    except MaillageError as exc:
        return render(
            ctx,
            "consult_redeem.html",
            409,
            process=process,
            error=exc.message(page_lang(ctx)),
            done=False,
        )
    return render(ctx, "consult_redeem.html", process=process, error="", done=True)


def _proposal_page(
    ctx: Context,
    process_id: str,
    proposal_id: str,
    status: int = 200,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    refusal: str = "",
) -> Response:
    process = process_view(ctx.rpc("participation", "get_process", process_id))
    who = person(ctx) or None
    mine = {}
    if who:
        mine = {
            p["id"]: p
            for p in ctx.rpc("participation", "my_proposals", process_id, who)
        }
    listed = {
        p["id"]: p for p in ctx.rpc("participation", "list_proposals", process_id)
    }
    proposal = mine.get(proposal_id) or listed.get(proposal_id)
    if proposal is None or (proposal.get("hidden") and proposal_id not in mine):
        from shared.errors import NotFound

        raise NotFound("proposal", proposal_id)
    comments = (
        []
        if proposal.get("hidden")
        else ctx.rpc("participation", "list_comments", proposal_id, who)
    )
    replies: dict[str, list[dict[str, Any]]] = {}
    for c in comments:
        replies.setdefault(str(c.get("parent_id") or ""), []).append(c)
    return render(
        ctx,
        "consult_proposal.html",
        status=status,
        process=process,
        proposal=proposal,
        mine=proposal_id in mine,
        threads=replies.get("", []),
        replies=replies,
        count=len(comments),
        errors=errors or {},
        form=form or {},
        refusal=refusal,
        editing=ctx.request.args.get("modifier") == "1" or bool(errors),
        quebec=lambda v: _typed(v).replace("T", " "),
    )


@page(
    "/participer/<process_id>/propositions/<proposal_id>",
    action="web.participate.proposal",
)
def proposal_page(ctx: Context, process_id: str, proposal_id: str) -> Response:
    """A proposal, its comments and replies; its author may edit or withdraw it."""
    return _proposal_page(ctx, process_id, proposal_id)


def _citizen_write(
    ctx: Context, process_id: str, proposal_id: str, write: Any, anchor: str
) -> Response:
    form = ctx.request.form.to_dict()
    try:
        write(form)
    except Invalid as exc:
        return _proposal_page(
            ctx, process_id, proposal_id, 422, _fields(exc, page_lang(ctx)), form
        )
    except MaillageError as exc:
        return _proposal_page(
            ctx,
            process_id,
            proposal_id,
            409,
            form=form,
            refusal=exc.message(page_lang(ctx)),
        )
    return redirect(f"/participer/{process_id}/propositions/{proposal_id}?{anchor}")


@page(
    "/participer/<process_id>/propositions/<proposal_id>/commentaires",
    ("POST",),
    action="participation.proposals.comment",
    public=False,
)
def comment(ctx: Context, process_id: str, proposal_id: str) -> Response:
    """Comment on a proposal, or reply to a comment (``parent_id``)."""

    def write(form: dict[str, str]) -> None:
        body = {"text": form.get("text", "").strip()}
        if form.get("parent_id"):
            body["parent_id"] = form["parent_id"]
        through_api(ctx, papi.CommentInput(), body)
        papi.comment(ctx, proposal_id=proposal_id)

    return _citizen_write(
        ctx, process_id, proposal_id, write, "commente=1#commentaires"
    )


@page(
    "/participer/<process_id>/propositions/<proposal_id>/modifier",
    ("POST",),
    action="participation.proposals.create",
    public=False,
)
def edit(ctx: Context, process_id: str, proposal_id: str) -> Response:
    """Its author edits a proposal (the API's ``PUT /proposals/<id>``)."""

    def write(form: dict[str, str]) -> None:
        body = {
            "title": form.get("title", "").strip(),
            "description": form.get("description", "").strip(),
        }
        cost = form.get("estimated_cost", "").strip().replace(" ", "").replace(",", ".")
        if cost:
            body["estimated_cost"] = cost
        through_api(ctx, papi.ProposalBody(), body)
        papi.edit_proposal(ctx, proposal_id=proposal_id)

    return _citizen_write(ctx, process_id, proposal_id, write, "modifie=1")


@page(
    "/participer/<process_id>/propositions/<proposal_id>/retirer",
    ("POST",),
    action="participation.proposals.create",
    public=False,
)
def withdraw(ctx: Context, process_id: str, proposal_id: str) -> Response:
    """Its author withdraws a proposal."""

    def write(form: dict[str, str]) -> None:
        audit.record_request(ctx, {})
        papi.withdraw_proposal(ctx, proposal_id=proposal_id)

    return _citizen_write(ctx, process_id, proposal_id, write, "retire=1")
