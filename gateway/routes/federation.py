"""Federation over HTTP: the node's data-sharing agreements and the state of
its links to peers, for the regional coordinator and the node administrator.

Agreements are files in the node's configuration (reviewed like code), so the
API reads them and does not change them:

    GET /federation/agreements
    -> {"items": [{"peer": "2423", "event_types": ["indicators.value_approved"],
                   "aggregates_only": true, "threshold": 5, ...}], "total": 1, ...}
"""

from __future__ import annotations

from typing import Any

from gateway.api import Api, Context
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
