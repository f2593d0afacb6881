"""Indicators over HTTP: the catalogue, public evaluations and dashboards, and
the MRC's own values (entry, approval before sharing, roll-up at a coordinator).

Anyone reads suppressed figures: the gateway always asks the service for the
public evaluation unless the account may enter values (practitioners, the node
administrator), who may ask ``public=false`` to see their own small cells.
A public evaluation of any formula reads only the published (suppressed and
audited) table of each count, so differencing answers recovers nothing.
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
from gateway.routes.common import cached, user
from services.indicators.schemas import (
    ApprovalInput,
    DashboardQuery,
    EvaluateInput,
    UnapprovalInput,
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
