"""Take part: open processes, proposals and supports, ballots, receipts, results.

Calls the participation service; ``person`` is the signed-in account
(``ctx.user["sub"]``), which the service keeps only as a per-process
pseudonymous key::

    participation.list_processes({"mrc_code": "2466"})  # {"items": [...], "total"}
    participation.get_process("p1")  # with "phase", the phase of the moment
    participation.list_proposals("p1")
    participation.submit_proposal("p1", {"title": "...", "description": "...",
                                  "estimated_cost": "12000"}, person)
    participation.support_proposal(proposal_id, person)
    participation.cast_ballot("p1", {"ranking": ["b", "a"]}, person)
    -> {"receipt": "9f2c..."}
    participation.receipts("p1")      # published hashes, after the close
    participation.get_results("p1")   # {"priorities", "ballots", "eligible_count",
                                      #  "result": {rounds}}

A closed process's page says how many ballots were cast and, when the process
declared how many could vote, the turnout (:func:`views.vote_figures`).

Each ballot works with a keyboard and a screen reader: approval is ticks, a
ranking is a rank chosen per option (no drag-and-drop), a budget basket shows
what remains (computed here on "Recalculate", and live by ``site.js``).
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from gateway.api import Context
from gateway.permissions import allowed
from gateway.web import views
from gateway.web.core import page, page_lang, redirect, render
from shared.errors import Conflict, Invalid

APPROVAL = frozenset({"approval"})
SCORE = frozenset({"score", "dot"})
BUDGET = frozenset({"pb-greedy", "pb-mes"})
RANKED = frozenset({"irv", "stv-scottish", "stv-meek", "stv-wigm", "schulze"})


def ballot_kind(method: str) -> str:
    method = (method or "").lower()
    for kind, names in (
        ("approval", APPROVAL),
        ("score", SCORE),
        ("budget", BUDGET),
        ("ranking", RANKED),
    ):
        if method in names:
            return kind
    return "approval"


def person(ctx: Context) -> str:
    """The signed-in account; the gateway's authorization has required one."""
    user = ctx.user or {}
    return str(user.get("sub") or "")


def process_view(process: dict[str, Any]) -> dict[str, Any]:
    """The process with its current phase, whichever way the service says it."""
    phase = process.get("phase") or views.current_phase(
        process.get("phases") or {}, bool(process.get("closed")), views.utcnow_iso()
    )
    return {
        **process,
        "process_id": process.get("process_id") or process.get("id"),
        "phase": phase,
        "kind": ballot_kind(str(process.get("method", ""))),
    }


def ballot_options(proposals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What is on the ballot: visible proposals that qualified (``on_ballot``)."""
    return [
        {**p, "cost": p.get("estimated_cost")}
        for p in proposals
        if not p.get("hidden") and p.get("status", "on_ballot") == "on_ballot"
    ]


@page("/participer", action="web.participate")
def processes(ctx: Context) -> Response:
    """Open processes of the person's MRC."""
    mrc = (ctx.request.args.get("mrc") or "").strip()
    found = ctx.rpc("participation", "list_processes", {"mrc_code": mrc} if mrc else {})
    items = found.get("items", []) if isinstance(found, dict) else found
    return render(
        ctx,
        "processes.html",
        processes=[process_view(p) for p in items],
        mrc=mrc,
    )


def _process_page(
    ctx: Context,
    process_id: str,
    errors: dict[str, Any] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    process = process_view(ctx.rpc("participation", "get_process", process_id))
    proposals = ctx.rpc("participation", "list_proposals", process_id)
    figures = None
    if process.get("closed"):
        try:
            published = ctx.rpc("participation", "get_results", process_id)
        except Conflict:  # closed but not yet counted
            published = {}
        figures = views.vote_figures(published, page_lang(ctx))
    who = person(ctx)
    mine = (
        {p["id"]: p for p in ctx.rpc("participation", "my_proposals", process_id, who)}
        if who
        else {}
    )
    return render(
        ctx,
        "process.html",
        mine=mine,
        manager=allowed("participation.processes.manage", (ctx.user or {}).get("role"))
        and (ctx.user or {}).get("mrc") == process.get("mrc_code"),
        figures=figures,
        status=422 if errors else 200,
        process=process,
        proposals=[p for p in proposals if not p.get("hidden")],
        kind=process["kind"],
        errors=errors or {},
        form=form or {},
    )


@page("/participer/<process_id>", action="web.participate.process")
def process_page(ctx: Context, process_id: str) -> Response:
    """A process: its phase, its proposals with their supports, what to do now."""
    return _process_page(ctx, process_id)


@page(
    "/participer/<process_id>/propositions",
    ("POST",),
    action="participation.proposals.create",
    public=False,
)
def submit_proposal(ctx: Context, process_id: str) -> Response:
    """Submit a proposal; errors come back on the form, named per field."""
    form = ctx.request.form.to_dict()
    payload: dict[str, Any] = {
        "title": form.get("title", "").strip(),
        "description": form.get("description", "").strip(),
    }
    cost = form.get("estimated_cost", "").strip().replace(" ", "").replace(",", ".")
    if cost:
        payload["estimated_cost"] = cost
    try:
        created = ctx.rpc(
            "participation", "submit_proposal", process_id, payload, person(ctx)
        )
    except Invalid as exc:
        return _process_page(ctx, process_id, exc.fields, form)
    return redirect(f"/participer/{process_id}?soumis=1#p-{created['id']}")


@page(
    "/participer/<process_id>/propositions/<proposal_id>/appui",
    ("POST",),
    action="participation.proposals.support",
    public=False,
)
def support(ctx: Context, process_id: str, proposal_id: str) -> Response:
    """Support a proposal (once per person; the service refuses a second)."""
    ctx.rpc("participation", "support_proposal", proposal_id, person(ctx))
    return redirect(f"/participer/{process_id}?appui={proposal_id}#p-{proposal_id}")


def _ballot(
    ctx: Context,
    process: dict[str, Any],
    options: list[dict[str, Any]],
    form: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    costs = {o["id"]: o.get("cost") or 0 for o in options}
    return render(
        ctx,
        "ballot.html",
        status=status,
        process=process,
        options=options,
        kind=process["kind"],
        form=form,
        errors=errors,
        basket=views.basket(process.get("budget") or 0, costs, form.get("project", [])),
        max_score=int(process.get("max_points") or 5),
    )


def _load(ctx: Context, process_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    process = process_view(ctx.rpc("participation", "get_process", process_id))
    options = ballot_options(ctx.rpc("participation", "list_proposals", process_id))
    return process, options


@page("/participer/<process_id>/vote", action="web.participate.ballot")
def ballot(ctx: Context, process_id: str) -> Response:
    """The ballot of the process's method."""
    process, options = _load(ctx, process_id)
    return _ballot(ctx, process, options, {}, {})


def read_ballot(
    kind: str, form: Any, options: list[dict[str, Any]], budget: Any
) -> tuple[dict[str, Any], dict[str, str]]:
    """The ballot a form means (the service's shape), or errors keyed by field."""
    ids = [o["id"] for o in options]
    if kind == "ranking":
        read = views.read_ranking(form.to_dict(), ids)
        return {"ranking": read.choices}, read.errors
    if kind == "score":
        points: dict[str, int] = {}
        errors: dict[str, str] = {}
        for option in ids:
            raw = (form.get(f"score-{option}") or "").strip()
            if raw:
                if raw.isdigit():
                    # past 9 digits a number is above every bound (at most
                    # MAX_POINTS_CEILING): the service refuses it naming "points"
                    points[option] = int(raw) if len(raw) <= 9 else 10**9
                else:
                    errors[f"score-{option}"] = "score.number"
        return {"points": points}, errors
    if kind == "budget":
        picked = [p for p in form.getlist("project") if p in ids]
        costs = {o["id"]: o.get("cost") or 0 for o in options}
        errors = (
            {"project": "budget.over"}
            if views.basket(budget, costs, picked)["over"]
            else {}
        )
        if not picked:
            errors = {"project": "ballot.empty"}
        return {"approve": picked}, errors
    approved = [p for p in form.getlist("approve") if p in ids]
    return {"approve": approved}, ({} if approved else {"approve": "ballot.empty"})


@page(
    "/participer/<process_id>/vote",
    ("POST",),
    action="participation.ballots.cast",
    public=False,
)
def cast(ctx: Context, process_id: str) -> Response:
    """Cast the ballot (or, for a basket, recalculate what remains), then the receipt."""
    process, options = _load(ctx, process_id)
    form = ctx.request.form
    shown = {
        **form.to_dict(),
        "project": form.getlist("project"),
        "approve": form.getlist("approve"),
    }
    if form.get("recalculate"):
        return _ballot(ctx, process, options, shown, {})
    content, errors = read_ballot(
        process["kind"], form, options, process.get("budget") or 0
    )
    if errors:
        return _ballot(ctx, process, options, shown, errors, status=422)
    try:
        receipt = ctx.rpc(
            "participation", "cast_ballot", process_id, content, person(ctx)
        )
    except Invalid as exc:
        named = {
            k: " ".join(map(str, v)) if isinstance(v, list) else str(v)
            for k, v in exc.fields.items()
        }
        return _ballot(ctx, process, options, shown, named, status=422)
    # The receipt is shown in this answer (no-store), never put in a URL: a
    # redirect to it would leave it in the history and the access logs.
    return render(
        ctx, "receipt.html", receipt=receipt["receipt"], process=process, counted=None
    )


@page("/participer/<process_id>/recu", action="web.participate.receipt")
def receipt_page(ctx: Context, process_id: str) -> Response:
    """Check one's receipt: after the close, the published list of every
    ballot's receipt, where the voter finds theirs (find in page). The receipt
    itself is never sent to the node, so neither a URL, a log nor the audit can
    join it to the person who looks it up.
    """
    process = process_view(ctx.rpc("participation", "get_process", process_id))
    published = None
    if process["phase"] == "results":
        published = ctx.rpc("participation", "receipts", process_id)
    return render(
        ctx, "receipt.html", receipt=None, process=process, published=published
    )


@page("/participer/<process_id>/resultats", action="web.participate.results")
def results(ctx: Context, process_id: str) -> Response:
    """Results after the close, round by round."""
    process = process_view(ctx.rpc("participation", "get_process", process_id))
    outcome = ctx.rpc("participation", "get_results", process_id)
    proposals = ctx.rpc("participation", "list_proposals", process_id)
    titles = {str(p["id"]): str(p.get("title", p["id"])) for p in proposals}
    tally = outcome.get("result") or {}
    return render(
        ctx,
        "results.html",
        process=process,
        outcome=outcome,
        winners=[p.get("title") for p in outcome.get("priorities", [])]
        or [titles.get(w, w) for w in tally.get("winners", [])],
        rounds=views.follow_rounds(tally, titles),
        rules=rules_view(outcome.get("rules")),
    )


def rules_view(rules: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The rule variants the count followed, by the engine's names, values as
    the process gave them (``true``/``false`` as in an RCTab config)::

        {"batchElimination": True, "winnerElectionMode": "singleWinnerMajority"}
        -> [("batchElimination", "true"), ("winnerElectionMode", "single…")]
    """
    return [
        (name, str(value).lower() if isinstance(value, bool) else str(value))
        for name, value in sorted((rules or {}).items())
    ]


# The pages that run a consultation (secretary, moderation, codes, a proposal's
# comments) live apart; importing them here registers them with these pages.
from gateway.web import consult  # noqa: E402, F401
