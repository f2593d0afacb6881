"""Indicators over HTTP: the catalogue, public evaluations and dashboards, and
the MRC's own values (entry, approval before sharing, roll-up at a coordinator).

Anyone reads suppressed figures: the gateway always asks the service for the
public evaluation unless the account may enter values (practitioners, the node
administrator), who may ask ``public=false`` to see their own small cells.
A public evaluation of any formula reads only the published (suppressed and
audited) table of each count, so differencing answers recovers nothing; the
indicators a board defines itself are evaluated the same way.

The catalogue: a board secretary proposes a version (placed on a meeting of
the board of their MRC with ``meeting_id``; the resolution adopting that item
makes it current), the node administrator defines one directly; every version
is public (``/indicators/definitions/<kind>/<id>``).
Entries and approvals are scoped: the org unit must lie in the account's MRC
(``cd:2466`` or a municipality ``csd:2466023``), and ``by`` is the account.

    POST /indicators/values
    {"data_element": "home_interventions", "org_unit": "csd:2466023",
     "period": "202603", "value": 12}
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import RAISE, Schema, fields, validate

from gateway.api import Api, Context
from gateway.permissions import allowed, require_same_mrc
from gateway.routes.boards import scope_meeting
from gateway.routes.common import cached, user
from services.indicators.schemas import (
    ApprovalInput,
    DashboardQuery,
    DefinitionInput,
    EvaluateInput,
    UnapprovalInput,
    ValidateInput,
    ValueInput,
)

api = Api()
TAGS = ("indicators",)
_UNIT_MRC = re.compile(r"^(?:cd:|csd:)?(24\d\d)")


class RollupInput(Schema):
    class Meta:
        unknown = RAISE

    indicator = fields.String(required=True, validate=validate.Length(min=1, max=120))
    period = fields.String(required=True, validate=validate.Length(min=1, max=20))


def _raw(ctx: Context) -> dict[str, Any]:
    body = ctx.request.get_json(silent=True)
    return dict(body) if isinstance(body, dict) else {}


def scope_unit(ctx: Context, org_unit: str) -> None:
    match = _UNIT_MRC.match(org_unit)
    require_same_mrc(user(ctx), match.group(1) if match else None, org_unit)


def signed(ctx: Context) -> dict[str, Any]:
    """The body as sent, ``by`` set to the account (nobody signs for another)."""
    scope_unit(ctx, ctx.body["org_unit"])
    return {**_raw(ctx), "by": user(ctx)["sub"]}


@api.route(
    "/indicators/catalogue",
    action="indicators.read",
    public=True,
    tags=TAGS,
    summary="Data elements and indicators with their definitions",
)
def catalogue(ctx: Context) -> Any:
    return cached(ctx, ctx.rpc("indicators", "catalogue"))


@api.route(
    "/indicators/dashboard",
    action="indicators.read",
    query=DashboardQuery,
    public=True,
    tags=TAGS,
    summary="Dashboard of an org unit (suppressed figures)",
)
def dashboard(ctx: Context) -> Any:
    return cached(ctx, ctx.rpc("indicators", "dashboard", ctx.request.args.to_dict()))


@api.route(
    "/indicators/evaluate",
    action="indicators.read",
    query=EvaluateInput,
    public=True,
    tags=TAGS,
    summary="Evaluate an indicator for an org unit and period",
)
def evaluate(ctx: Context) -> Any:
    query: dict[str, Any] = ctx.request.args.to_dict()
    role = ctx.user.get("role") if ctx.user else None
    unsuppressed = query.get("public", "true").lower() in ("false", "0", "no")
    if unsuppressed and allowed("indicators.values.enter", role):
        scope_unit(ctx, query.get("org_unit", ""))
        query["public"] = False
    else:
        query["public"] = True
    return cached(ctx, ctx.rpc("indicators", "evaluate", query))


@api.route(
    "/indicators/values",
    ("POST",),
    action="indicators.values.enter",
    body=ValueInput,
    status=201,
    tags=TAGS,
    summary="Enter a value (refused in an approved period)",
)
def enter_value(ctx: Context) -> Any:
    return ctx.rpc("indicators", "enter_value", signed(ctx))


@api.route(
    "/indicators/approvals",
    ("POST",),
    action="indicators.values.approve",
    body=ApprovalInput,
    tags=TAGS,
    summary="Approve an MRC's period: lock it and share its suppressed counts",
)
def approve(ctx: Context) -> Any:
    return ctx.rpc("indicators", "approve", signed(ctx))


@api.route(
    "/indicators/approvals/revoke",
    ("POST",),
    action="indicators.values.approve",
    body=UnapprovalInput,
    tags=TAGS,
    summary="Withdraw an approval (reason required): the period opens again",
)
def unapprove(ctx: Context) -> Any:
    return ctx.rpc("indicators", "unapprove", signed(ctx))


@api.route(
    "/indicators/rollups",
    ("POST",),
    action="indicators.rollups.publish",
    body=RollupInput,
    tags=TAGS,
    summary="Roll received MRC counts up to regions and Quebec, then publish",
)
def publish_rollup(ctx: Context) -> Any:
    return ctx.rpc("indicators", "publish_rollup", dict(ctx.body))


# --- the local catalogue ----------------------------------------------------


class ProposalBody(DefinitionInput):
    """A secretary's proposal, placed on a meeting's agenda when ``meeting_id``
    is given (the item carries the reference its resolution adopts)."""

    meeting_id = fields.String(load_default=None, validate=validate.Length(max=120))


def _definition(ctx: Context) -> dict[str, Any]:
    body = {k: v for k, v in _raw(ctx).items() if k != "meeting_id"}
    return {**body, "by": user(ctx)["sub"]}


@api.route(
    "/indicators/definitions/<kind>/<definition_id>",
    action="indicators.read",
    public=True,
    tags=TAGS,
    summary="Every version of one definition of the catalogue",
)
def definition_history(ctx: Context, kind: str, definition_id: str) -> Any:
    return cached(
        ctx, {"items": ctx.rpc("indicators", "definition_history", kind, definition_id)}
    )


@api.route(
    "/indicators/definitions/proposals",
    ("POST",),
    action="indicators.definitions.propose",
    body=ProposalBody,
    status=201,
    tags=TAGS,
    summary="Propose a new version (the board adopts it by resolution)",
)
def propose_definition(ctx: Context) -> Any:
    meeting_id = ctx.body.get("meeting_id")
    if meeting_id:
        # the meeting's board must be the account's MRC's, before anything
        scope_meeting(ctx, meeting_id)
    proposed = ctx.rpc("indicators", "propose_definition", _definition(ctx))
    item = None
    if meeting_id:
        name = proposed.get("name") or {}
        item = ctx.rpc(
            "boards",
            "add_agenda_item",
            meeting_id,
            {
                "title": f"Catalogue : {name.get('fr') or proposed['id']} "
                f"(version {proposed['version']})",
                "definition": proposed["reference"],
            },
        )
    return {"definition": proposed, "agenda_item": item}


@api.route(
    "/indicators/definitions",
    ("POST",),
    action="indicators.definitions.define",
    body=DefinitionInput,
    status=201,
    tags=TAGS,
    summary="Define a new version directly (node administrator)",
)
def define(ctx: Context) -> Any:
    return ctx.rpc("indicators", "define", _definition(ctx))


# --- data quality ---------------------------------------------------------


@api.route(
    "/indicators/validations",
    action="indicators.quality.read",
    query=ValidateInput,
    tags=TAGS,
    summary="Validation-rule violations per org unit and period",
)
def validations(ctx: Context) -> Any:
    query: dict[str, Any] = ctx.request.args.to_dict()
    scope_unit(ctx, query.get("org_unit", ""))
    return ctx.rpc("indicators", "validate", query)


# --- questionnaires and practitioners' reports --------------------------------
# Answers and reports are anonymous: the audit log keeps no actor, address,
# body or instant finer than the month for them (gateway.audit.ANONYMOUS), the
# answer says nothing of what was sent, and public answers are rate limited in
# memory per questionnaire and client address, never stored.


class QuestionnaireBody(Schema):
    """Checked field by field by the service (:mod:`services.indicators.surveys`)."""

    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=validate.Length(max=24))
    org_unit = fields.String(required=True, validate=validate.Length(max=20))
    title = fields.Dict(required=True)
    questions = fields.List(fields.Dict(), required=True)
    service_id = fields.String(load_default="", validate=validate.Length(max=120))
    labels = fields.Dict(load_default=None)


class AnswerBody(Schema):
    class Meta:
        unknown = RAISE

    answers = fields.Dict(required=True)
    channel = fields.String(
        load_default="web", validate=validate.OneOf(("web", "kiosk"))
    )


class PaperBody(Schema):
    class Meta:
        unknown = RAISE

    answers = fields.Dict(required=True)
    period = fields.String(required=True, validate=validate.Length(max=20))


class PracticeReportBody(Schema):
    class Meta:
        unknown = RAISE

    caseload = fields.Raw(required=True)
    admin_share = fields.Raw(required=True)
    supervision = fields.String(required=True, validate=validate.Length(max=20))
    concerns = fields.String(load_default="", validate=validate.Length(max=2000))
    period = fields.String(load_default=None, validate=validate.Length(max=10))


class PracticeQuery(Schema):
    period = fields.String(load_default=None, validate=validate.Length(max=10))


def _mrc_unit(ctx: Context) -> str:
    return f"cd:{user(ctx).get('mrc') or ''}"


@api.route(
    "/indicators/questionnaires",
    ("POST",),
    action="indicators.surveys.manage",
    body=QuestionnaireBody,
    status=201,
    tags=TAGS,
    summary="Define a questionnaire and its counts (node administrator)",
)
def define_questionnaire(ctx: Context) -> Any:
    scope_unit(ctx, ctx.body["org_unit"])
    return ctx.rpc("indicators", "define_questionnaire", signed(ctx))


@api.route(
    "/indicators/questionnaires",
    action="indicators.read",
    public=True,
    tags=TAGS,
    summary="Questionnaires of an MRC (?org_unit=2437)",
)
def questionnaires(ctx: Context) -> Any:
    query = {"org_unit": ctx.request.args.get("org_unit", "")[:20]}
    return cached(ctx, ctx.rpc("indicators", "questionnaires", query))


@api.route(
    "/indicators/questionnaires/<questionnaire_id>",
    action="indicators.read",
    public=True,
    tags=TAGS,
    summary="One questionnaire, as its page shows it",
)
def questionnaire(ctx: Context, questionnaire_id: str) -> Any:
    return cached(ctx, ctx.rpc("indicators", "questionnaire", questionnaire_id))


def take_answer_token(ctx: Context, questionnaire_id: str) -> None:
    """The anonymous answers' rate limits (429 with Retry-After)."""
    limits = ctx.runtime.limits  # type: ignore[attr-defined]
    limits["survey_total"].take(f"survey:{questionnaire_id}")
    limits["survey"].take(f"survey:{questionnaire_id}:{ctx.request.remote_addr}")


def answer(ctx: Context, questionnaire_id: str, body: dict[str, Any]) -> Any:
    take_answer_token(ctx, questionnaire_id)
    return ctx.rpc("indicators", "answer_questionnaire", questionnaire_id, body)


@api.route(
    "/indicators/questionnaires/<questionnaire_id>/answers",
    ("POST",),
    action="indicators.surveys.answer",
    body=AnswerBody,
    public=True,
    status=201,
    tags=TAGS,
    summary="Answer a questionnaire anonymously (only counted, never kept)",
)
def answer_questionnaire(ctx: Context, questionnaire_id: str) -> Any:
    return answer(ctx, questionnaire_id, dict(ctx.body))


def paper_answer(ctx: Context, questionnaire_id: str, body: dict[str, Any]) -> Any:
    """A paper form entered by a practitioner of the questionnaire's MRC."""
    found = ctx.rpc("indicators", "questionnaire", questionnaire_id)
    scope_unit(ctx, str(found.get("org_unit") or ""))
    return ctx.rpc(
        "indicators",
        "answer_questionnaire",
        questionnaire_id,
        {**body, "channel": "paper"},
    )


@api.route(
    "/indicators/questionnaires/<questionnaire_id>/paper",
    ("POST",),
    action="indicators.surveys.enter",
    body=PaperBody,
    status=201,
    tags=TAGS,
    summary="Enter a paper questionnaire (the month it was filled in)",
)
def enter_paper(ctx: Context, questionnaire_id: str) -> Any:
    return paper_answer(ctx, questionnaire_id, dict(ctx.body))


def report(ctx: Context, body: dict[str, Any]) -> Any:
    payload = {
        **{k: v for k, v in body.items() if v is not None},
        "account": user(ctx)["sub"],
        "org_unit": _mrc_unit(ctx),
    }
    return ctx.rpc("indicators", "report_practice", payload)


@api.route(
    "/indicators/practice/reports",
    ("POST",),
    action="indicators.practice.report",
    body=PracticeReportBody,
    status=201,
    tags=TAGS,
    summary="Report one's conditions of practice for the quarter (anonymous)",
)
def report_practice(ctx: Context) -> Any:
    return report(ctx, dict(ctx.body))


@api.route(
    "/indicators/practice/status",
    action="indicators.practice.report",
    tags=TAGS,
    summary="Whether I reported in the quarters open to reports",
)
def practice_status(ctx: Context) -> Any:
    return ctx.rpc("indicators", "practice_status", {"account": user(ctx)["sub"]})


def practice_aggregates(ctx: Context, period: str | None) -> Any:
    """The account's MRC only; concerns for the board alone."""
    concerns = allowed("indicators.practice.concerns", user(ctx).get("role"))
    query = {"org_unit": _mrc_unit(ctx), "period": period, "concerns": concerns}
    return ctx.rpc("indicators", "practice_aggregates", query)


@api.route(
    "/indicators/practice/aggregates",
    action="indicators.practice.read",
    query=PracticeQuery,
    tags=TAGS,
    summary="Practitioners' reports of my MRC, aggregated above the threshold",
)
def practice_read(ctx: Context) -> Any:
    return practice_aggregates(ctx, ctx.request.args.get("period"))
