"""What every route module shares: pagination, sorting, ETags, the signed-in user.

A list answer is one page:

    {"items": [...], "total": 42, "offset": 20, "limit": 20}

``?limit=`` is 1..100 (default 20) and ``?offset=`` at least 0: no client can
ask for an unbounded list. A read answers with a strong ``ETag`` (hash of the
JSON body) and ``304 Not Modified`` when ``If-None-Match`` names it, so a
client polling a register costs one RPC and no body transfer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

from marshmallow import RAISE, Schema, fields, validate
from werkzeug.wrappers import Response

from gateway.api import Context
from gateway.http import json_response
from shared.errors import Unauthenticated

MAX_LIMIT = 100


class PageQuery(Schema):
    class Meta:
        unknown = RAISE

    limit = fields.Integer(
        load_default=20, validate=validate.Range(min=1, max=MAX_LIMIT)
    )
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10**6))


def sorted_query(*keys: str) -> type[Schema]:
    """A page query that also accepts ``sort`` among ``keys`` (``-key`` descends)."""
    choices = [*keys, *(f"-{k}" for k in keys)]
    return type(
        "SortedPageQuery",
        (PageQuery,),
        {"sort": fields.String(load_default=None, validate=validate.OneOf(choices))},
    )


def page_schema(item: type[Schema] | Schema | None, name: str) -> type[Schema]:
    """The response schema of a page of ``item`` (for ``/openapi.json``)."""
    items: fields.Field = (
        fields.List(fields.Nested(item))
        if item is not None
        else fields.List(fields.Raw())
    )
    return type(
        name,
        (Schema,),
        {
            "items": items,
            "total": fields.Integer(required=True),
            "offset": fields.Integer(required=True),
            "limit": fields.Integer(required=True),
        },
    )


def paginate(
    rows: Sequence[Any],
    query: dict[str, Any],
    key: Callable[[Any], Any] | None = None,
) -> dict[str, Any]:
    """One page of a list the service returned whole (small lists: meetings...)."""
    items = list(rows)
    sort = query.get("sort")
    if sort:
        field = sort.lstrip("-")
        items.sort(
            key=key or (lambda r: (r.get(field) is None, str(r.get(field, "")))),
            reverse=sort.startswith("-"),
        )
    offset, limit = int(query.get("offset", 0)), int(query.get("limit", 20))
    return {
        "items": items[offset : offset + limit],
        "total": len(items),
        "offset": offset,
        "limit": limit,
    }


def etag_of(data: Any) -> str:
    body = json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
    return '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'


def cached(ctx: Context, data: Any) -> Response:
    """The JSON answer with its ETag, or 304 when the client already has it."""
    tag = etag_of(data)
    if tag in _if_none_match(ctx.request.headers.get("If-None-Match", "")):
        return Response(status=304, headers={"ETag": tag})
    # a signed-in reader's answer is theirs: no shared cache keeps or serves it
    control = "private, no-cache" if ctx.user else "no-cache"
    return json_response(
        data,
        200,
        {"ETag": tag, "Cache-Control": control, "Vary": "Authorization, Cookie"},
    )


def _if_none_match(header: str) -> set[str]:
    tags = {t.strip().removeprefix("W/") for t in header.split(",") if t.strip()}
    return tags


def user(ctx: Context) -> dict[str, Any]:
    if ctx.user is None:  # only on a route wrongly marked public
        raise Unauthenticated()
    return ctx.user
