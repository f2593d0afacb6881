"""Find help: search the directory of services, then read one service.

Calls the offerings service (HSDS 3.0 with the Quebec profile)::

    offerings.search({"search": "dépannage alimentaire", "mrc": "2466",
                      "no_referral_required": True, "open_now": True,
                      "near_municipality": "2456083", "full": True})
    -> {"total_items": 3, ..., "near": {...}, "contents": [{..., "distance_km": 0.4}]}
    offerings.find_places("saint-jean")  -> {"places": [...], "postal_codes": false}
    offerings.get_service("3f2…")

Only filters a person set are sent (the service refuses unknown ones).

"Near me": the person types a municipality's name (a datalist offers every
placed one; without JavaScript it is a plain text field); the page finds it
with ``find_places`` and searches near its census code, which nobody types.
A small script adds "Use my position" (the browser asks the person first);
the page works without it, without the map and without JavaScript.

Confidential locations: every result is the offerings service's public view
(``view_for``), where a shelter has no address and no coordinates; the map
takes points from that view only, and :func:`map_points` checks the flag
again, so a shelter can be neither drawn nor measured.

The map (Leaflet, served by the node from the XStatic-Leaflet package, see
:func:`leaflet_file`) is drawn only when ``MAILLAGE_MAP_TILES`` names a tile
URL template (``https://tiles.example.org/{z}/{x}/{y}.png``, or a path on this
node); without it the page says the map needs that setting and shows the list.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from werkzeug.wrappers import Response

from gateway.api import Context
from gateway.web import hours, views
from gateway.web.core import api, page, page_lang, render, settings
from services.offerings.gazetteer import name_key
from shared.errors import Invalid

OUTREACH = ("at_home", "public_spaces", "community_organizations")
TEXT_FILTERS = (
    "search",
    "mrc",
    "municipality",
    "language",
    "outreach_mode",
    "taxonomy_term_id",
)
TICK_FILTERS = ("no_referral_required", "open_now")
NEAR_ARGS = ("near", "near_code", "near_latitude", "near_longitude", "postal_code")
TRANSLATED = {
    "name": "name_en",
    "description": "description_en",
    "eligibility_description": "eligibility_description_en",
    "fees_description": "fees_description_en",
}
# The browser may ask for the position on this page only (others keep "()").
GEOLOCATION_POLICY = "geolocation=(self), camera=(), microphone=()"


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


def localized(record: dict[str, Any], column: str, lang: str) -> str:
    """A service's text in the reader's language, else in the other one.

    >>> localized({"name": "Popote", "name_en": "Meals on wheels"}, "name", "en")
    'Meals on wheels'
    >>> localized({"name": "Popote"}, "name", "en")
    'Popote'
    """
    english = TRANSLATED.get(column, f"{column}_en")
    first, second = (english, column) if lang == "en" else (column, english)
    return str(record.get(first) or record.get(second) or "")


def texts(record: dict[str, Any], lang: str) -> dict[str, str]:
    return {column: localized(record, column, lang) for column in TRANSLATED}


def map_points(service: dict[str, Any], name: str, url: str) -> list[dict[str, Any]]:
    """The public places of one result that a map may show: never a
    confidential one, and only with both coordinates.

    >>> map_points({"service_at_locations": [{"location": {"latitude": 45.3,
    ...     "longitude": -73.2, "confidential_location": True}}]}, "Refuge", "/x")
    []
    """
    points = []
    for link in service.get("service_at_locations") or []:
        location = link.get("location") if isinstance(link, dict) else None
        if not isinstance(location, dict) or location.get("confidential_location"):
            continue
        lat, lon = location.get("latitude"), location.get("longitude")
        if isinstance(lat, int | float) and isinstance(lon, int | float):
            points.append({"lat": lat, "lon": lon, "name": name, "url": url})
    return points


def map_tiles() -> dict[str, str] | None:
    """The tile setting (``MAILLAGE_MAP_TILES``, node settings or environment)
    and the origin a page's CSP must allow for it; ``None`` when unset or not
    a URL template with ``{z}``, ``{x}`` and ``{y}``."""
    template = str(
        settings.get("MAILLAGE_MAP_TILES") or os.environ.get("MAILLAGE_MAP_TILES") or ""
    ).strip()
    if not template or not all(k in template for k in ("{z}", "{x}", "{y}")):
        return None
    parts = urlsplit(template)
    if parts.scheme and parts.scheme not in ("http", "https"):
        return None
    if not parts.scheme and not template.startswith("/"):
        return None
    attribution = str(
        settings.get("MAILLAGE_MAP_ATTRIBUTION")
        or os.environ.get("MAILLAGE_MAP_ATTRIBUTION")
        or ""
    )
    origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme else ""
    return {"template": template, "attribution": attribution, "origin": origin}


def _places(ctx: Context) -> dict[str, Any]:
    try:
        return dict(ctx.rpc("offerings", "find_places", ""))
    except Invalid:
        return {"places": [], "postal_codes": False, "gazetteer": False}


def _near(
    ctx: Context, args: dict[str, str], lang: str
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, str]]:
    """The starting point the person gave: the search parameters, the
    municipalities to choose from (a name several bear), and errors by field."""
    code = (args.get("near_code") or "").strip()
    name = (args.get("near") or "").strip()
    lat, lon = (
        (args.get("near_latitude") or "").strip(),
        (args.get("near_longitude") or "").strip(),
    )
    postal = (args.get("postal_code") or "").strip()
    if lat or lon:
        try:
            return {"near_latitude": float(lat), "near_longitude": float(lon)}, [], {}
        except ValueError:
            return {}, [], {"near": "help.locate_refused"}
    if postal:
        return {"near_postal_code": postal}, [], {}
    if code:
        return {"near_municipality": code}, [], {}
    if not name:
        return {}, [], {}
    found = ctx.rpc("offerings", "find_places", name[:200])["places"]
    placed = [p for p in found if p.get("placed")]
    exact = [p for p in placed if name_key(p["name"]) == name_key(name)]
    chosen = exact if exact else placed
    if len(chosen) == 1:
        return {"near_municipality": chosen[0]["code"]}, [], {}
    if len(chosen) > 1:
        return {}, chosen, {}
    if found:
        return {}, [], {"near": "help.near.unplaced:" + found[0]["name"]}
    return {}, [], {"near": "help.near.unknown:" + name}


@page("/", action="web.home")
def home(ctx: Context) -> Response:
    """Home page: the four ways in."""
    return render(ctx, "home.html")


@page("/aide", action="web.help")
def find_help(ctx: Context) -> Response:
    """Search services by need, place (near me), theme, language and access."""
    lang = page_lang(ctx)
    args = ctx.request.args.to_dict()
    params = search_params(args)
    near, choices, near_errors = _near(ctx, args, lang)
    params.update(near)
    if near:
        params["full"] = True  # the locations' public coordinates, for the map
    searched = (
        any(k != "page" for k in params)
        or "search" in args
        or any(args.get(k) for k in NEAR_ARGS)
    )
    results: dict[str, Any] | None = None
    errors: dict[str, Any] = {}
    if searched and not near_errors and not choices:
        try:
            results = ctx.rpc("offerings", "search", params)
        except Invalid as exc:
            errors = {_form_field(k): v for k, v in exc.fields.items()}
    messages = {}
    for field, key in near_errors.items():
        key, _, value = key.partition(":")
        messages[field] = key, value
    cards = []
    points: list[dict[str, Any]] = []
    for item in (results or {}).get("contents", []):
        text = texts(item, lang)
        url = f"/aide/services/{item.get('id')}"
        cards.append(
            {
                "id": item.get("id"),
                "name": text["name"],
                "organization": (item.get("organization") or {}).get("name"),
                "description": text["description"],
                "waiting": views.waiting_list(item),
                "no_referral": item.get("no_referral_required") is True,
                "outreach": views.outreach_modes(item),
                "near": "distance_km" in item,
                "distance": _km(item.get("distance_km"), lang),
            }
        )
        points.extend(map_points(item, text["name"], url))
    gazetteer = _places(ctx)
    terms = _terms(ctx)
    tiles = map_tiles()
    response = render(
        ctx,
        "help.html",
        form=args,
        results=results,
        cards=cards,
        errors=errors,
        near_messages=messages,
        choices=choices,
        outreach=OUTREACH,
        places=[p["name"] for p in gazetteer.get("places", [])],
        postal_codes=bool(gazetteer.get("postal_codes")),
        terms=terms,
        term=next(
            (t for t in terms if t["id"] == params.get("taxonomy_term_id")), None
        ),
        near=(results or {}).get("near"),
        tiles=tiles,
        points_json=json.dumps(points) if points else "",
        status=422 if errors or messages else 200,
    )
    response.headers["Permissions-Policy"] = GEOLOCATION_POLICY
    if tiles and tiles["origin"]:
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data: "
            f"{tiles['origin']}; style-src 'self' 'unsafe-inline'; "
            "frame-ancestors 'none'"
        )
    return response


def _form_field(name: str) -> str:
    """The page's field of a service refusal (``near_postal_code`` is typed
    in ``postal_code``; a municipality or position in ``near``)."""
    if name == "near_postal_code":
        return "postal_code"
    if name.startswith("near_") or name == "within_km":
        return "near"
    return name


def _km(value: Any, lang: str) -> str:
    if not isinstance(value, int | float):
        return ""
    text = f"{value:.1f}" if value < 10 else f"{round(value)}"
    return text.replace(".", ",") if lang == "fr" else text


def _terms(ctx: Context) -> list[dict[str, str]]:
    """Taxonomy terms to browse by, by name."""
    try:
        page_ = ctx.rpc("offerings", "list_taxonomy_terms", {"per_page": 200})
    except Invalid:
        return []
    terms = [
        {"id": str(t.get("id")), "name": str(t.get("name") or t.get("code") or "")}
        for t in page_.get("contents", [])
        if t.get("id")
    ]
    return sorted(terms, key=lambda t: name_key(t["name"]))


@page("/aide/services/<service_id>", action="web.help.service")
def service_page(ctx: Context, service_id: str) -> Response:
    """One service: what, when (in words, open now), where (never a
    confidential address), waiting list; in the reader's language."""
    lang = page_lang(ctx)
    service = ctx.rpc("offerings", "get_service", service_id)
    schedules = _public_schedules(service)
    return render(
        ctx,
        "service.html",
        service=service,
        text=texts(service, lang),
        organization=service.get("organization") or {},
        places=views.public_places(service),
        hours=hours.in_words(schedules, lang),
        open_now=hours.open_now(schedules),
        waiting=views.waiting_list(service),
        languages=views.languages(service),
        outreach=views.outreach_modes(service),
        phones=[
            p.get("number")
            for p in (service.get("phones") or [])
            if isinstance(p, dict) and p.get("number")
        ],
    )


def _public_schedules(service: dict[str, Any]) -> list[dict[str, Any]]:
    """The service's schedules and those of its public places (a shelter's
    hours would say when someone is at a secret address)."""
    found = [s for s in service.get("schedules") or [] if isinstance(s, dict)]
    for link in service.get("service_at_locations") or []:
        if not isinstance(link, dict):
            continue
        location = link.get("location") or {}
        if location.get("confidential_location") is True:
            continue
        found.extend(s for s in link.get("schedules") or [] if isinstance(s, dict))
        found.extend(s for s in location.get("schedules") or [] if isinstance(s, dict))
    return found


# --- the map library, served by the node --------------------------------------

LEAFLET_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


def leaflet_dir() -> Path | None:
    """Leaflet's files as the PyPI package XStatic-Leaflet installs them (so
    the Docker image, which installs requirements.txt only, has them too)."""
    try:
        from xstatic.pkg import leaflet
    except ImportError:
        return None
    return Path(leaflet.BASE_DIR)


def leaflet_file(name: str, folder: str = "") -> Response:
    base = leaflet_dir()
    allowed = {"leaflet.js", "leaflet.css"} if not folder else None
    target = (base / folder / name) if base else None
    kind = LEAFLET_TYPES.get(Path(name).suffix)
    if (
        target is None
        or base is None
        or kind is None
        or (allowed is not None and name not in allowed)
        or target.parent != (base / folder if folder else base)
        or not target.is_file()
    ):
        return Response("Not found", status=404, mimetype="text/plain")
    response = Response(target.read_bytes(), mimetype=kind)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@api.route(
    "/static/leaflet/<name>", action="web.leaflet", public=True, summary="Map library"
)
def leaflet_asset(ctx: Context, name: str) -> Response:
    return leaflet_file(name)


@api.route(
    "/static/leaflet/images/<name>",
    action="web.leaflet.images",
    public=True,
    summary="Map library images",
)
def leaflet_image(ctx: Context, name: str) -> Response:
    return leaflet_file(name, "images")
