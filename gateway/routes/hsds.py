"""The HSDS 3.0 API root and the Quebec profile a node publishes.

HSDS's API reference requires ``GET <root>`` to answer what the API is. The
node's ``/`` is its home page (HTML), so the HSDS API is mounted under
``/hsds/`` (every HSDS path answers there, and at the node's root as before:
:mod:`gateway.routes.offerings`)::

    GET /hsds/
    -> {"version": "3.0", "profile": "https://node.example/hsds/profile",
        "openapi_url": "https://node.example/hsds/openapi.json"}

The profile (:mod:`services.offerings.profile`) is served where ``profile``
points: its description, its patches under ``profile/`` and the merged
schemas under ``schema/``, as Open Referral's profile reference lays out.
``openapi_url`` is the profile's OpenAPI document with ``servers`` naming this
node's ``/hsds``.
"""

from __future__ import annotations

from typing import Any

from gateway.api import Api, Context
from gateway.routes.common import cached
from gateway.routes.offerings import HSDS_ROOT
from services.offerings import profile
from services.offerings.hsds import HSDS_VERSION
from shared.errors import NotFound

api = Api()
TAGS = ("hsds",)
PROFILE_PATH = f"{HSDS_ROOT}/profile"


def _base(ctx: Context) -> str:
    """This node's address as the client reached it (through trusted proxies
    only: ``gateway.http.forwarded`` already rewrote the environ)."""
    return ctx.request.host_url.rstrip("/")


def profile_url(ctx: Context) -> str:
    return _base(ctx) + PROFILE_PATH


def openapi_document(ctx: Context) -> dict[str, Any]:
    document = dict(profile.compiled()["openapi.json"])
    document["servers"] = [
        {"url": _base(ctx) + HSDS_ROOT, "description": "Ce nœud / this node"}
    ]
    return document


@api.route(
    f"{HSDS_ROOT}/",
    action="offerings.read",
    public=True,
    tags=TAGS,
    summary="HSDS API root: version, profile and OpenAPI URLs",
)
def root(ctx: Context) -> Any:
    return cached(
        ctx,
        {
            "version": HSDS_VERSION,
            "profile": profile_url(ctx),
            "openapi_url": _base(ctx) + f"{HSDS_ROOT}/openapi.json",
        },
    )


@api.route(
    f"{HSDS_ROOT}/openapi.json",
    action="offerings.read",
    public=True,
    tags=TAGS,
    summary="The HSDS OpenAPI document of this node (Quebec profile)",
)
def openapi(ctx: Context) -> Any:
    return cached(ctx, openapi_document(ctx))


@api.route(
    PROFILE_PATH,
    action="offerings.read",
    public=True,
    tags=TAGS,
    summary="The Quebec profile: what it is and where its files are",
)
def profile_description(ctx: Context) -> Any:
    return cached(ctx, profile.description(profile_url(ctx)))


@api.route(
    f"{PROFILE_PATH}/profile/<name>",
    action="offerings.read",
    public=True,
    tags=TAGS,
    summary="One of the profile's patches (JSON Merge Patch over HSDS 3.0)",
)
def profile_patch(ctx: Context, name: str) -> Any:
    found = profile.patches()
    if name not in found:
        raise NotFound("profile file", name)
    return cached(ctx, found[name])


@api.route(
    f"{PROFILE_PATH}/schema/<name>",
    action="offerings.read",
    public=True,
    tags=TAGS,
    summary="One of the profile's schemas (HSDS 3.0 with the patches merged)",
)
def profile_schema(ctx: Context, name: str) -> Any:
    if name == "openapi.json":
        return cached(ctx, openapi_document(ctx))
    found = profile.compiled()
    if name not in found:
        raise NotFound("profile file", name)
    return cached(ctx, found[name])
