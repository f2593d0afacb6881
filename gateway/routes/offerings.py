"""The directory of services over HTTP: the HSDS 3.0 read API (public) and the
practitioners' writes.

Reads are public; the audience passed to the offerings service is
``"confidential"`` only for an account holding ``offerings.read_confidential``
in the permission table (practitioners, the node administrator), so a shelter's
address never reaches a citizen or an anonymous client. Query strings are the
offerings service's own schemas (``SearchInput``, ``ListInput``), validated here
and forwarded as sent:

    GET /services?search=popote&mrc=2466&no_referral_required=true&per_page=10
    -> {"total_items": 3, "page_number": 1, "size": 10, "contents": [...]}
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

from marshmallow import RAISE, Schema, fields, validate
from werkzeug.wrappers import Response

from gateway import audit
from gateway.api import Api, Context
from gateway.permissions import allowed
from gateway.routes.common import cached
from services.offerings.domain import staff_audience
from services.offerings.schemas import (
    ListInput,
    LocationInput,
    OrganizationInput,
    OrganizationListInput,
    OrganizationReadInput,
    SearchInput,
    ServiceAtLocationListInput,
    ServiceInput,
    TaxonomyListInput,
    TaxonomyTermListInput,
)

api = Api()
TAGS = ("offerings",)
CONFIDENTIAL = "confidential"
PUBLIC = "public"


class Strict(Schema):
    class Meta:
        unknown = RAISE


class ServiceChange(ServiceInput):
    """``PATCH``: every field optional (the service loads it with ``partial``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


class OrganizationChange(OrganizationInput):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


class LocationChange(LocationInput):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


class ImportInput(Strict):
    """An HSDS 3.0 JSON document (one table, several tables, or nested services)
    and the file name its problems are reported against:

        {"name": "popotes.json", "document": {"organization": [...], ...}}
    """

    document = fields.Raw(required=True)
    name = fields.String(
        load_default="document.json",
        validate=validate.Regexp(r"^[\w.-]{1,120}$"),
    )


class WithdrawInput(Strict):
    reason = fields.String(validate=validate.Length(max=2000))


MAX_PAGE = 100_000  # the store counts skips in 8 bytes; nobody reads page 10^18
# Every HSDS read is served at its HSDS 3.0 path under HSDS_ROOT (whose root
# answers the API's version, profile and OpenAPI: gateway.routes.hsds) and, as
# before, at the node's root.
HSDS_ROOT = "/hsds"
PREFIXES = ("", HSDS_ROOT)


def _paged(schema: type[Schema]) -> type[Schema]:
    """The service's query schema with the page number bounded."""
    return type(
        schema.__name__.replace("Input", "Query"),
        (schema,),
        {
            "page": fields.Integer(
                load_default=1, validate=validate.Range(min=1, max=MAX_PAGE)
            )
        },
    )


SearchQuery = _paged(SearchInput)
ListQuery = _paged(ListInput)
QUERIES: dict[str, type[Schema]] = {
    "list_organizations": _paged(OrganizationListInput),
    "list_service_at_locations": _paged(ServiceAtLocationListInput),
    "list_taxonomies": _paged(TaxonomyListInput),
    "list_taxonomy_terms": _paged(TaxonomyTermListInput),
}


def audience(ctx: Context) -> str:
    """Staff of their own MRC (``offerings.read_confidential``) or the public:
    the offerings service's :func:`~services.offerings.domain.view_for` decides
    what each sees, a shelter of another MRC included."""
    role = ctx.user.get("role") if ctx.user else None
    if not allowed("offerings.read_confidential", role):
        return PUBLIC
    assert ctx.user is not None
    return staff_audience(ctx.user.get("mrc"), _node_mrc(ctx))


def _node_mrc(ctx: Context) -> str | None:
    """The node's own MRC: records with none of their own belong to it."""
    config = ctx.runtime.config  # type: ignore[attr-defined]
    return config.get("MRC_CODE") or os.environ.get("MAILLAGE_MRC_CODE")


def actor(ctx: Context) -> dict[str, Any]:
    """Who writes, as the offerings service checks it in the write's own
    transaction: the account's MRC (a write outside it is refused), the
    node's MRC (records with no MRC of their own belong to it) and whether
    the role may turn a location's confidentiality off (the permission table).

        {"id": "01J…", "name": "Ana", "mrc": "2466", "node_mrc": "2466",
         "may_lift_confidentiality": false}
    """
    assert ctx.user is not None
    return {
        "id": ctx.user["sub"],
        "name": ctx.user.get("name", ""),
        "mrc": ctx.user.get("mrc"),
        "node_mrc": _node_mrc(ctx),
        "may_lift_confidentiality": allowed(
            "offerings.confidentiality.lift", ctx.user.get("role")
        ),
    }


def _raw(ctx: Context) -> dict[str, Any]:
    body = ctx.request.get_json(silent=True)
    return dict(body) if isinstance(body, dict) else {}


def _args(ctx: Context) -> dict[str, Any]:
    return ctx.request.args.to_dict()


# --- public reads ---------------------------------------------------------------

NDJSON_PAGE = 200  # the largest page the service serves


def _answer(ctx: Context, method: str, *tail: Any) -> Any:
    """One HSDS list answer: a ``Page`` (``format=json``, the default), or
    with ``format=ndjson`` every result, one JSON document per line and no
    pagination (the HSDS reference), read from the service page by page so
    no answer grows in memory; ``page`` and ``per_page`` are then ignored by
    definition.

        GET /hsds/services?format=ndjson&mrc=2466
        -> {"id": "…", "name": "Popote roulante", …}\n{"id": "…", …}\n
    """
    params = _args(ctx)
    if ctx.query.get("format") != "ndjson":
        return cached(ctx, ctx.rpc("offerings", method, params, *tail))
    params = {k: v for k, v in params.items() if k not in ("page", "per_page")}
    params["per_page"] = str(NDJSON_PAGE)
    first = ctx.rpc("offerings", method, {**params, "page": "1"}, *tail)

    def lines() -> Iterator[bytes]:
        page, number = first, 1
        while True:
            for item in page["contents"]:
                yield (
                    json.dumps(item, ensure_ascii=False, default=str) + "\n"
                ).encode()
            if page["last_page"] or not page["contents"] or number >= MAX_PAGE:
                return
            number += 1
            page = ctx.rpc("offerings", method, {**params, "page": str(number)}, *tail)

    control = "private, no-cache" if ctx.user else "no-cache"
    return Response(
        lines(),
        mimetype="application/x-ndjson",
        headers={"Cache-Control": control, "Vary": "Authorization, Cookie"},
    )


def search(ctx: Context) -> Any:
    return _answer(ctx, "search", audience(ctx))


def get_service(ctx: Context, service_id: str) -> Any:
    return cached(ctx, ctx.rpc("offerings", "get_service", service_id, audience(ctx)))


def get_organization(ctx: Context, record_id: str) -> Any:
    return cached(
        ctx,
        ctx.rpc(
            "offerings",
            "get_organization",
            record_id,
            audience(ctx),
            ctx.query["full_service"],
        ),
    )


for _prefix in PREFIXES:
    api.route(
        f"{_prefix}/services",
        action="offerings.search",
        query=SearchQuery,
        public=True,
        tags=TAGS,
        summary="Search services (HSDS /services with the Quebec filters)",
    )(search)
    api.route(
        f"{_prefix}/services/<service_id>",
        action="offerings.read",
        public=True,
        tags=TAGS,
        summary="One service (HSDS)",
    )(get_service)
    api.route(
        f"{_prefix}/organizations/<record_id>",
        action="offerings.read",
        query=OrganizationReadInput,
        public=True,
        tags=TAGS,
        summary="One organization (HSDS; full_service nests its services)",
    )(get_organization)


def _list_route(path: str, method: str, summary: str, audiences: bool = True) -> None:
    def handler(ctx: Context) -> Any:
        return _answer(ctx, method, *([audience(ctx)] if audiences else []))

    handler.__name__ = method
    for prefix in PREFIXES:
        api.route(
            prefix + path,
            action="offerings.read",
            query=QUERIES[method],
            public=True,
            tags=TAGS,
            summary=summary,
        )(handler)


def _one_route(path: str, method: str, summary: str, audiences: bool = True) -> None:
    def handler(ctx: Context, record_id: str) -> Any:
        args: list[Any] = [record_id]
        if audiences:
            args.append(audience(ctx))
        return cached(ctx, ctx.rpc("offerings", method, *args))

    handler.__name__ = method
    for prefix in PREFIXES:
        api.route(
            f"{prefix}{path}/<record_id>",
            action="offerings.read",
            public=True,
            tags=TAGS,
            summary=summary,
        )(handler)


_list_route("/organizations", "list_organizations", "Organizations (HSDS)")
# HSDS 3.0 spells these paths with underscores (``../shared/data/hsds/schema``).
_list_route(
    "/service_at_locations", "list_service_at_locations", "Where services are given"
)
_one_route(
    "/service_at_locations", "get_service_at_location", "One service at a location"
)
_list_route("/taxonomies", "list_taxonomies", "Taxonomies", audiences=False)
_one_route("/taxonomies", "get_taxonomy", "One taxonomy", audiences=False)
_list_route("/taxonomy_terms", "list_taxonomy_terms", "Taxonomy terms", audiences=False)
_one_route("/taxonomy_terms", "get_taxonomy_term", "One taxonomy term", audiences=False)


# --- writes (practitioners, node administrator) -----------------------------------


def _write_routes(
    kind: str, plural: str, body: type[Schema], change: type[Schema]
) -> None:
    def create(ctx: Context) -> Any:
        return ctx.rpc("offerings", f"create_{kind}", _raw(ctx), actor(ctx))

    def update(ctx: Context, record_id: str) -> Any:
        if kind == "location":
            # the audit keeps a location's state before, confidentiality included
            before = ctx.rpc("offerings", "get_location", record_id, CONFIDENTIAL)
            audit.record_before(
                ctx, {k: v for k, v in before.items() if k != "metadata"}
            )
        return ctx.rpc("offerings", f"update_{kind}", record_id, _raw(ctx), actor(ctx))

    def publish(ctx: Context, record_id: str) -> Any:
        return ctx.rpc("offerings", f"publish_{kind}", record_id, actor(ctx))

    def withdraw(ctx: Context, record_id: str) -> Any:
        if kind == "service":
            reason = (ctx.body or {}).get("reason")
            return ctx.rpc(
                "offerings", "withdraw_service", record_id, actor(ctx), reason
            )
        return ctx.rpc("offerings", f"withdraw_{kind}", record_id, actor(ctx))

    action = "offerings.services.manage"
    for handler, verb in (
        (create, "create"),
        (update, "update"),
        (publish, "publish"),
        (withdraw, "withdraw"),
    ):
        handler.__name__ = f"{verb}_{kind}"
    api.route(
        f"/{plural}",
        ("POST",),
        action=action,
        body=body,
        status=201,
        tags=TAGS,
        summary=f"Create a {kind} (draft)",
    )(create)
    api.route(
        f"/{plural}/<record_id>",
        ("PATCH",),
        action=action,
        body=change,
        tags=TAGS,
        summary=f"Change a {kind}",
    )(update)
    api.route(
        f"/{plural}/<record_id>/publish",
        ("POST",),
        action=action,
        tags=TAGS,
        summary=f"Publish a {kind}",
    )(publish)
    api.route(
        f"/{plural}/<record_id>/withdraw",
        ("POST",),
        action=action,
        body=WithdrawInput if kind == "service" else None,
        tags=TAGS,
        summary=f"Withdraw a {kind}",
    )(withdraw)


_write_routes("organization", "organizations", OrganizationInput, OrganizationChange)
_write_routes("location", "locations", LocationInput, LocationChange)
_write_routes("service", "services", ServiceInput, ServiceChange)


@api.route(
    "/imports",
    ("POST",),
    action="offerings.import",
    body=ImportInput,
    status=201,
    tags=TAGS,
    summary="Import an HSDS 3.0 document, all or nothing (422 with the report)",
)
def import_document(ctx: Context) -> Any:
    """A refusal is 422 ``validation_error`` whose ``report.problems`` name the
    file, row, field and reason of each problem; nothing is written then."""
    body = ctx.body
    return ctx.rpc(
        "offerings", "import_document", body["document"], actor(ctx), body["name"]
    )
