"""Citizen participation over HTTP: processes, proposals, supports, secret ballots.

The person who submits, supports, comments or votes is ALWAYS the signed-in
account (the token's subject), never a field of the body: a citizen cannot act
or vote for someone else, and no route returns a ballot. What a voter gets back
is a receipt (a hash) that appears, among all others, in the published list
after the close; results are aggregates. Management actions are scoped to the
MRC the process was created for.

    POST /proposals/4b1e.../supports          (Authorization: Bearer ...)
    -> 200 {"supports": 12, "status": "on_ballot"}
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, fields, validate

from gateway import audit
from gateway.api import Api, Context
from gateway.permissions import require_same_mrc
from gateway.routes.common import cached, paginate, sorted_query, user
from services.participation.domain import MAX_POINTS_CEILING
from services.participation.schemas import (
    POSITIVE,
    ProcessInput,
    ProcessQuery,
    ProposalInput,
)
from shared.errors import NotFound

api = Api()
TAGS = ("participation",)


class Strict(Schema):
    class Meta:
        unknown = RAISE


POINTS = (
    f"Entier de 0 à {MAX_POINTS_CEILING} attendu. / "
    f"Integer from 0 to {MAX_POINTS_CEILING} expected."
)


class BallotInput(Strict):
    """One of the three shapes, as the process's method wants it."""

    ranking = fields.List(fields.String(validate=validate.Length(min=1, max=120)))
    approve = fields.List(fields.String(validate=validate.Length(min=1, max=120)))
    points = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=120)),
        # the process's own bound (max_points, or its method's default) is the
        # service's to check; no process may declare more than this ceiling
        values=fields.Integer(
            strict=True,
            validate=validate.Range(min=0, max=MAX_POINTS_CEILING, error=POINTS),
            error_messages={"invalid": POINTS},
        ),
    )


class CommentInput(Strict):
    text = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    parent_id = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=120),
        metadata={
            "description": "The comment answered / le commentaire auquel on répond"
        },
    )


class HideInput(Strict):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class RegistryInput(Strict):
    csv = fields.String(required=True, validate=validate.Length(min=1, max=900_000))


class CodesInput(Strict):
    count = fields.Integer(required=True, validate=validate.Range(min=1, max=10_000))


class RedeemInput(Strict):
    code = fields.String(required=True, validate=validate.Length(min=1, max=64))


class EligibleCountInput(Strict):
    """``{"eligible_count": 1200}`` declares (or corrects) how many may vote;
    ``{"eligible_count": null}`` withdraws it. The key is required so that an
    empty body is not read as a withdrawal."""

    eligible_count = fields.Integer(
        required=True,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1, error=POSITIVE),
        error_messages={
            "invalid": POSITIVE,
            "required": "Champ requis (null pour retirer le nombre). / "
            "Required (null to withdraw the count).",
        },
        metadata={
            "description": "Personnes admissibles au vote (dénominateur du taux "
            "de participation), null pour le retirer / people eligible to vote "
            "(turnout denominator), null to withdraw it"
        },
    )


class ProposalBody(ProposalInput):
    """The service's schema; the cost is checked as a number here (forwarded as
    sent, so no precision is lost) because apispec writes the bound of a string
    decimal as a string, which is not valid JSON Schema."""

    estimated_cost = fields.Float(  # type: ignore[assignment]  # see docstring
        load_default=None, allow_none=True, validate=validate.Range(min=0)
    )


ProposalsQuery = sorted_query("supports", "title", "status")


def _raw(ctx: Context) -> dict[str, Any]:
    body = ctx.request.get_json(silent=True)
    return dict(body) if isinstance(body, dict) else {}


def _body(ctx: Context) -> dict[str, Any]:
    """The JSON body as sent, or (a web form) the dict the page loaded into
    ``ctx.body`` with the same schema."""
    raw = _raw(ctx)
    if raw or ctx.request.mimetype == "application/json":
        return raw
    return {k: v for k, v in (ctx.body or {}).items() if v is not None}


def person(ctx: Context) -> str:
    return str(user(ctx)["sub"])


def scope_process(ctx: Context, process_id: str) -> None:
    mrc = ctx.runtime.store.scope("process", process_id)  # type: ignore[attr-defined]
    if mrc is None:
        # created outside the gateway: the node's own MRC, if it says which
        mrc = ctx.runtime.config.get("MRC_CODE")  # type: ignore[attr-defined]
    require_same_mrc(user(ctx), mrc, f"La consultation {process_id}")


# --- public reads --------------------------------------------------------------


class ProcessesQuery(ProcessQuery):
    """``?mrc_code=2466&state=open&limit=20&offset=0``; the service's own schema,
    strict on unknown parameters like every gateway query."""

    class Meta:
        unknown = RAISE


@api.route(
    "/processes",
    action="participation.read",
    query=ProcessesQuery,
    public=True,
    tags=TAGS,
    summary="Processes of an MRC (open ones unless state says), one page",
)
def list_processes(ctx: Context) -> Any:
    query = {k: v for k, v in ctx.query.items() if v is not None}
    return cached(ctx, ctx.rpc("participation", "list_processes", query))


@api.route(
    "/processes/<process_id>",
    action="participation.read",
    public=True,
    tags=TAGS,
    summary="A process: title, MRC, phases and dates, current phase, method",
)
def get_process(ctx: Context, process_id: str) -> Any:
    return cached(ctx, ctx.rpc("participation", "get_process", process_id))


@api.route(
    "/processes/<process_id>/hidden-proposals",
    action="participation.read",
    public=True,
    tags=TAGS,
    summary="The public moderation record: hidden proposals and why",
)
def hidden_proposals(ctx: Context, process_id: str) -> Any:
    rows = ctx.rpc("participation", "hidden_proposals", process_id)
    return cached(ctx, {"items": rows})


@api.route(
    "/processes/<process_id>/proposals",
    action="participation.read",
    query=ProposalsQuery,
    public=True,
    tags=TAGS,
    summary="Proposals of a process (hidden ones left out), one page",
)
def list_proposals(ctx: Context, process_id: str) -> Any:
    rows = ctx.rpc("participation", "list_proposals", process_id)
    return cached(ctx, paginate([r for r in rows if not r.get("hidden")], ctx.query))


@api.route(
    "/processes/<process_id>/results",
    action="participation.read",
    public=True,
    tags=TAGS,
    summary="Published results (after the close)",
)
def results(ctx: Context, process_id: str) -> Any:
    return cached(ctx, ctx.rpc("participation", "get_results", process_id))


@api.route(
    "/processes/<process_id>/receipts",
    action="participation.read",
    public=True,
    tags=TAGS,
    summary="Every ballot's receipt hash (after the close), to check one's own",
)
def receipts(ctx: Context, process_id: str) -> Any:
    return cached(ctx, {"items": ctx.rpc("participation", "receipts", process_id)})


@api.route(
    "/processes/<process_id>/turnout",
    action="participation.read",
    public=True,
    tags=TAGS,
    summary="How many took part",
)
def turnout(ctx: Context, process_id: str) -> Any:
    return cached(ctx, ctx.rpc("participation", "turnout", process_id))


# --- citizens -------------------------------------------------------------------


@api.route(
    "/processes/<process_id>/proposals",
    ("POST",),
    action="participation.proposals.create",
    body=ProposalBody,
    status=201,
    tags=TAGS,
    summary="Submit a proposal (as the signed-in person)",
)
def submit_proposal(ctx: Context, process_id: str) -> Any:
    return ctx.rpc(
        "participation", "submit_proposal", process_id, _raw(ctx), person(ctx)
    )


@api.route(
    "/proposals/<proposal_id>/supports",
    ("POST",),
    action="participation.proposals.support",
    tags=TAGS,
    summary="Support a proposal (once per person)",
)
def support(ctx: Context, proposal_id: str) -> Any:
    return ctx.rpc("participation", "support_proposal", proposal_id, person(ctx))


@api.route(
    "/proposals/<proposal_id>/comments",
    ("POST",),
    action="participation.proposals.comment",
    body=CommentInput,
    status=201,
    tags=TAGS,
    summary="Comment on a proposal",
)
def comment(ctx: Context, proposal_id: str) -> Any:
    text = ctx.body["text"]
    parent = ctx.body.get("parent_id")
    return ctx.rpc("participation", "comment", proposal_id, text, person(ctx), parent)


@api.route(
    "/proposals/<proposal_id>/comments",
    action="participation.read",
    public=True,
    tags=TAGS,
    summary="A proposal's comments and replies (a hidden one shows its reason)",
)
def list_comments(ctx: Context, proposal_id: str) -> Any:
    """Signed in, one's own comments say ``mine`` and a hidden one of one's own
    keeps its text; the answer then is private (``cached`` decides)."""
    who = str(ctx.user["sub"]) if ctx.user else None
    rows = ctx.rpc("participation", "list_comments", proposal_id, who)
    return cached(ctx, {"items": rows})


@api.route(
    "/proposals/<proposal_id>",
    ("PUT",),
    action="participation.proposals.create",
    body=ProposalBody,
    tags=TAGS,
    summary="Edit one's own proposal (during the proposals phase)",
)
def edit_proposal(ctx: Context, proposal_id: str) -> Any:
    return ctx.rpc(
        "participation", "edit_proposal", proposal_id, _body(ctx), person(ctx)
    )


@api.route(
    "/proposals/<proposal_id>/withdraw",
    ("POST",),
    action="participation.proposals.create",
    tags=TAGS,
    summary="Withdraw one's own proposal (during the proposals phase)",
)
def withdraw_proposal(ctx: Context, proposal_id: str) -> Any:
    return ctx.rpc("participation", "withdraw_proposal", proposal_id, person(ctx))


@api.route(
    "/processes/<process_id>/residency",
    ("POST",),
    action="participation.residency.redeem",
    body=RedeemInput,
    tags=TAGS,
    summary="Prove residency with a one-time code",
)
def redeem(ctx: Context, process_id: str) -> Any:
    code = ctx.body["code"]
    return ctx.rpc("participation", "redeem_code", process_id, code, person(ctx))


@api.route(
    "/processes/<process_id>/ballots",
    ("POST",),
    action="participation.ballots.cast",
    body=BallotInput,
    status=201,
    tags=TAGS,
    summary="Cast a secret ballot; returns only a receipt",
)
def cast_ballot(ctx: Context, process_id: str) -> Any:
    answer = ctx.rpc("participation", "cast_ballot", process_id, _raw(ctx), person(ctx))
    # the audit keeps that this person voted, never what (audit.SECRET_BODIES)
    return _Receipt(answer)


class _Receipt(dict[str, Any]):
    audit_after = {"receipt": "***"}


# --- management -----------------------------------------------------------------


@api.route(
    "/processes",
    ("POST",),
    action="participation.processes.manage",
    body=ProcessInput,
    status=201,
    tags=TAGS,
    summary="Create a participation process for the account's MRC",
)
def create_process(ctx: Context) -> Any:
    data = _body(ctx)
    require_same_mrc(user(ctx), data.get("mrc_code"), "La consultation")
    created = ctx.rpc("participation", "create_process", data)
    ctx.runtime.store.claim_scope("process", created["id"], data["mrc_code"])  # type: ignore[attr-defined]
    return created


@api.route(
    "/processes/<process_id>/eligible-count",
    ("PUT",),
    action="participation.processes.manage",
    body=EligibleCountInput,
    tags=TAGS,
    summary="Declare, correct or withdraw (null) how many may vote, until the close",
)
def set_eligible_count(ctx: Context, process_id: str) -> Any:
    """Never fewer than the ballots already cast (422 on ``eligible_count``);
    refused once the vote is closed (409). Answers the updated process."""
    scope_process(ctx, process_id)
    before = ctx.rpc("participation", "get_process", process_id)
    audit.record_before(ctx, {"eligible_count": before.get("eligible_count")})
    count = ctx.body["eligible_count"]
    return ctx.rpc("participation", "set_eligible_count", process_id, count)


@api.route(
    "/processes/<process_id>/registry",
    ("POST",),
    action="participation.processes.manage",
    body=RegistryInput,
    tags=TAGS,
    summary="Load the residents' registry (CSV person,municipality_code)",
)
def load_registry(ctx: Context, process_id: str) -> Any:
    scope_process(ctx, process_id)
    return ctx.rpc("participation", "load_registry", process_id, ctx.body["csv"])


@api.route(
    "/processes/<process_id>/codes",
    ("POST",),
    action="participation.processes.manage",
    body=CodesInput,
    status=201,
    tags=TAGS,
    summary="Issue one-time residency codes (shown once)",
)
def issue_codes(ctx: Context, process_id: str) -> Any:
    scope_process(ctx, process_id)
    codes = ctx.rpc("participation", "issue_codes", process_id, ctx.body["count"])
    return _Codes({"items": codes})


class _Codes(dict[str, Any]):
    audit_after = {"items": "***"}


@api.route(
    "/processes/<process_id>/proposals/<proposal_id>/hide",
    ("POST",),
    action="participation.processes.manage",
    body=HideInput,
    tags=TAGS,
    summary="Moderate: hide a proposal with a public reason",
)
def hide(ctx: Context, process_id: str, proposal_id: str) -> Any:
    scope_process(ctx, process_id)
    proposals = ctx.rpc("participation", "list_proposals", process_id)
    found = [p for p in proposals if p.get("id") == proposal_id]
    if not found:
        raise NotFound("proposal", proposal_id)
    audit.record_before(ctx, found[0])
    reason = ctx.body["reason"]
    return ctx.rpc("participation", "hide_proposal", proposal_id, reason)


@api.route(
    "/processes/<process_id>/comments/<comment_id>/hide",
    ("POST",),
    action="participation.processes.manage",
    body=HideInput,
    tags=TAGS,
    summary="Moderate: hide a comment with a public reason (its author sees why)",
)
def hide_comment(ctx: Context, process_id: str, comment_id: str) -> Any:
    scope_process(ctx, process_id)
    reason = ctx.body["reason"]
    return ctx.rpc("participation", "hide_comment", process_id, comment_id, reason)


@api.route(
    "/processes/<process_id>/close",
    ("POST",),
    action="participation.results.publish",
    tags=TAGS,
    summary="Close the vote, count and publish the results",
)
def close_vote(ctx: Context, process_id: str) -> Any:
    scope_process(ctx, process_id)
    return ctx.rpc("participation", "close_vote", process_id)
