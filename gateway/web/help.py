"""Find help: search the directory of services, then read one service.

Calls the offerings service (HSDS 3.0 with the Quebec profile)::

    offerings.search({"search": "dépannage alimentaire", "mrc": "2466",
                      "no_referral_required": True, "open_now": True})
    -> {"total_items": 3, "page_number": 1, "total_pages": 1, "contents": [...]}
    offerings.get_service("3f2…")

Only filters a person set are sent (the service refuses unknown ones).
Confidential locations are shown as such: :func:`views.public_places` never
renders their address or directions, whatever the service returned.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from gateway.api import Context
from gateway.web import views
from gateway.web.core import page, render
from shared.errors import Invalid

OUTREACH = ("at_home", "public_spaces", "community_organizations")
TEXT_FILTERS = ("search", "mrc", "municipality", "language", "outreach_mode")
TICK_FILTERS = ("no_referral_required", "open_now")


def search_params(args: dict[str, str]) -> dict[str, Any]:
    """The form's filters as ``offerings.search`` expects them."""
    params: dict[str, Any] = {}
    for name in TEXT_FILTERS:
        value = (args.get(name) or "").strip()
        if value:
            params[name] = value
    for name in TICK_FILTERS:
        if args.get(name) in ("1", "on", "true"):
            params[name] = True
    page_number = args.get("page", "")
    if page_number.isdigit() and int(page_number) > 0:
        params["page"] = int(page_number)
    return params


@page("/", action="web.home")
def home(ctx: Context) -> Response:
    """Home page: the four ways in."""
    return render(ctx, "home.html")


@page("/aide", action="web.help")
def find_help(ctx: Context) -> Response:
    """Search services by need, place, language and access."""
    args = ctx.request.args.to_dict()
    params = search_params(args)
    searched = any(k != "page" for k in params) or "search" in args
    results: dict[str, Any] | None = None
    errors: dict[str, Any] = {}
    if searched:
        try:
            results = ctx.rpc("offerings", "search", params)
        except Invalid as exc:
            errors = exc.fields
    cards = [
        {
            "id": item.get("id"),
            "name": item.get("name"),
            "organization": (item.get("organization") or {}).get("name"),
            "description": item.get("description") or "",
            "waiting": views.waiting_list(item),
            "no_referral": item.get("no_referral_required") is True,
            "outreach": views.outreach_modes(item),
        }
        for item in (results or {}).get("contents", [])
    ]
    return render(
        ctx,
        "help.html",
        form=args,
        results=results,
        cards=cards,
        errors=errors,
        outreach=OUTREACH,
        status=422 if errors else 200,
    )


@page("/aide/services/<service_id>", action="web.help.service")
def service_page(ctx: Context, service_id: str) -> Response:
    """One service: what, when, where (never a confidential address), waiting list."""
    service = ctx.rpc("offerings", "get_service", service_id)
    return render(
        ctx,
        "service.html",
        service=service,
        organization=service.get("organization") or {},
        places=views.public_places(service),
        schedule=views.schedule_rows(service),
        waiting=views.waiting_list(service),
        languages=views.languages(service),
        outreach=views.outreach_modes(service),
        phones=[
            p.get("number")
            for p in (service.get("phones") or [])
            if isinstance(p, dict) and p.get("number")
        ],
    )
