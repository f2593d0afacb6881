"""Federation over HTTP: the node's data-sharing agreements and the state of
its links to peers, for the regional coordinator and the node administrator.

Agreements are files in the node's configuration (reviewed like code), so the
API reads them and does not change them:

    GET /federation/agreements
    -> {"items": [{"peer": "2423", "event_types": ["indicators.value_approved"],
                   "aggregates_only": true, "threshold": 5, ...}], "total": 1, ...}

An agreement takes effect once the node's board adopted it, as written, by
resolution: a board secretary places it on a meeting's agenda
(``POST /federation/agreements/<id>/proposals``), and the agreements in force,
with the resolution that adopted each, are public
(``GET /federation/agreements/in-force``).
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, fields, validate

from gateway.api import Api, Context
from gateway.routes.boards import scope_meeting
from gateway.routes.common import PageQuery, cached, paginate

api = Api()
TAGS = ("federation",)


@api.route(
    "/federation/agreements",
    action="federation.read",
    query=PageQuery,
    tags=TAGS,
    summary="Data-sharing agreements in force",
)
def agreements(ctx: Context) -> Any:
    return cached(ctx, paginate(ctx.rpc("federation", "agreements"), ctx.query))


@api.route(
    "/federation/links",
    action="federation.read",
    query=PageQuery,
    tags=TAGS,
    summary="Federation links to peers and their state",
)
def links(ctx: Context) -> Any:
    return cached(ctx, paginate(ctx.rpc("federation", "links"), ctx.query))


class AgreementProposal(Schema):
    class Meta:
        unknown = RAISE

    meeting_id = fields.String(required=True, validate=validate.Length(min=1, max=120))


@api.route(
    "/federation/agreements/in-force",
    action="federation.read",
    public=True,
    tags=TAGS,
    summary="Agreements the board adopted, as written, and valid now (public)",
)
def agreements_in_force(ctx: Context) -> Any:
    return cached(ctx, {"items": ctx.rpc("federation", "agreements_in_force")})


@api.route(
    "/federation/agreements/<agreement_id>/proposals",
    ("POST",),
    action="federation.agreements.propose",
    body=AgreementProposal,
    status=201,
    tags=TAGS,
    summary="Place an agreement of node.yaml before the board (its resolution "
    "puts it in force)",
)
def propose_agreement(ctx: Context, agreement_id: str) -> Any:
    meeting_id = ctx.body["meeting_id"]
    scope_meeting(ctx, meeting_id)
    reference = ctx.rpc("federation", "agreement_reference", agreement_id)
    item = ctx.rpc(
        "boards",
        "add_agenda_item",
        meeting_id,
        {
            "title": f"Entente de partage de données : {agreement_id}",
            "definition": reference,
        },
    )
    return {"agreement": reference, "agenda_item": item}
