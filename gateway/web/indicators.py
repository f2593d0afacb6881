"""Indicators: the MRC's dashboard over time, as charts and tables, with definitions.

Calls the indicators service::

    indicators.dashboard({"org_unit": "2466", "lang": "fr"})
    -> {"org_unit": {"id": "2466", "name": "Montréal"},
        "indicators": [{"indicator_id": "...", "name": "...", "definition": "...",
                        "numerator": "...", "denominator": "...", "factor": 1000,
                        "unit": "pour 1 000", "chart": "line",
                        "series": [{"name": "MRC", "points": [
                            {"period": "2023", "value": 12.5},
                            {"period": "2024", "value": null, "suppressed": true}]}]}]}

Each indicator is a line or bar chart (server-side SVG, see :mod:`charts`) and
the same numbers in a table; a suppressed cell reads "suppressed", never 0.

Every table downloads as CSV (``/indicateurs/<id>.csv``) and every chart as
SVG (``/indicateurs/<id>.svg``), with the page's own query (``mrc``,
``periode``, ``lang``): the same dashboard answer drawn the same way, so a
download holds exactly the published numbers and a suppressed cell is written
``supprimé`` / ``suppressed`` (never blank, never 0); a period without a value
is left empty in the CSV. An indicator with nothing to draw says there is no
data yet instead of empty axes.

A period picker (``?periode=2026``, a plain GET form) narrows the charts and
tables to one of the periods the dashboard offers. It only ever shows a subset
of the dashboard's own (already suppressed) points: no finer period is asked of
the service, since a quarter shown beside its year would let a suppressed cell
be recovered by difference.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Response

from gateway.api import Context
from gateway.web import charts, views
from gateway.web import directory_views as dv
from gateway.web.core import page, page_lang, render
from gateway.web.messages import translate
from shared.errors import NotFound


def periods_of(series: list[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for item in series:
        for point in item.get("points", []):
            seen.setdefault(str(point.get("period")), None)
    return sorted(seen)


def panel(
    item: dict[str, Any], index: int, lang: str, unit_name: str
) -> dict[str, Any]:
    series = item.get("series")
    if series is None:
        series = [{"name": unit_name, "points": item.get("values", [])}]
    periods = periods_of(series)
    draw = charts.bar_chart if item.get("chart") == "bar" else charts.line_chart
    title = str(item.get("name") or item.get("indicator_id") or "")
    rows: list[dict[str, Any]] = []
    for period in periods:
        cells = []
        for s in series:
            point = {str(p.get("period")): p for p in s.get("points", [])}.get(
                period, {}
            )
            cells.append(
                {
                    "text": views.cell_text(point, lang),
                    "suppressed": bool(point.get("suppressed")),
                    "value": point.get("value"),
                }
            )
        rows.append({"period": period, "cells": cells})
    return {
        "id": item.get("indicator_id") or f"i{index}",
        "title": title,
        "definition": item.get("definition") or "",
        "numerator": item.get("numerator") or "",
        "denominator": item.get("denominator") or "",
        "factor": item.get("factor"),
        "unit": item.get("unit") or "",
        "kind": "bar" if item.get("chart") == "bar" else "line",
        "series": [s.get("name", "") for s in series],
        "rows": rows,
        "svg": draw(
            title,
            periods,
            series,
            lang=lang,
            unit=str(item.get("unit") or ""),
            uid=f"chart{index}",
        ),
        "has_suppressed": any(c["suppressed"] for r in rows for c in r["cells"]),
        "empty": not charts.has_data(series),
    }


def offered_periods(indicators: list[dict[str, Any]]) -> list[str]:
    """Every period any indicator of the dashboard has a point for, in order."""
    return periods_of(
        [s for item in indicators for s in (item.get("series") or [])]
        + [{"points": item.get("values") or []} for item in indicators]
    )


def only_period(item: dict[str, Any], period: str) -> dict[str, Any]:
    """The indicator with its points narrowed to ``period``."""

    def keep(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [p for p in points if str(p.get("period")) == period]

    narrowed = dict(item)
    if item.get("series") is not None:
        narrowed["series"] = [
            {**s, "points": keep(s.get("points") or [])} for s in item["series"]
        ]
    if item.get("values") is not None:
        narrowed["values"] = keep(item["values"])
    return narrowed


def place_choices(mrc: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """What the person picks from, by name: every MRC, and the towns of the
    chosen MRC (people never type a census code)::

        ([("2466", "Montréal"), ...], [("2466023", "Montréal"), ...])
    """
    geo = dv.geography()
    mrcs = sorted(geo.divisions.items(), key=lambda kv: kv[1].casefold())
    towns = sorted(
        (
            (code, name)
            for code, name in geo.municipalities.items()
            if mrc and code[:4] == mrc
        ),
        key=lambda kv: kv[1].casefold(),
    )
    return mrcs, towns


def _place(ctx: Context) -> tuple[str, str, str]:
    """``(mrc, town, org unit asked for)`` from the query: ``mrc`` (an MRC, or
    a town's 7-digit code as links of earlier pages gave) and ``municipalite``
    (a town of that MRC); a town outside the MRC is ignored for the MRC."""
    mrc = (ctx.request.args.get("mrc") or "").strip()
    town = (ctx.request.args.get("municipalite") or "").strip()
    if len(mrc) == 7 and mrc.isdigit():
        mrc, town = mrc[:4], mrc
    if town and not town.startswith(mrc):
        town = ""
    return mrc, town, town or mrc


def _dashboard(ctx: Context) -> dict[str, Any]:
    """The dashboard's panels as the page shows them (period narrowed)."""
    mrc, town, asked = _place(ctx)
    mrc_choices, town_choices = place_choices(mrc)
    chosen = (ctx.request.args.get("periode") or "").strip()
    lang = page_lang(ctx)
    query = {"lang": lang, **({"org_unit": asked} if asked else {})}
    found = ctx.rpc("indicators", "dashboard", query)
    unit = found.get("org_unit") or {}
    indicators = list(found.get("indicators") or [])
    periods = offered_periods(indicators)
    unknown = bool(chosen) and chosen not in periods
    if chosen and not unknown:
        indicators = [only_period(item, chosen) for item in indicators]
    panels = [
        panel(item, i, lang, str(unit.get("name", "")))
        for i, item in enumerate(indicators)
    ]
    keep = {
        k: v
        for k, v in (
            ("mrc", mrc),
            ("municipalite", town),
            ("periode", "" if unknown else chosen),
        )
        if v
    }
    if ctx.request.args.get("lang") in ("fr", "en"):
        keep["lang"] = lang
    suffix = f"?{urlencode(keep)}" if keep else ""
    for p in panels:
        p["csv_url"] = f"/indicateurs/{p['id']}.csv{suffix}"
        p["svg_url"] = f"/indicateurs/{p['id']}.svg{suffix}"
    return {
        "unit": unit,
        "panels": panels,
        "mrc": mrc,
        "town": town,
        "mrc_choices": mrc_choices,
        "town_choices": town_choices,
        "periods": periods,
        "period": "" if unknown else chosen,
        "unknown_period": chosen if unknown else "",
    }


@page("/indicateurs", action="web.indicators")
def dashboard(ctx: Context) -> Response:
    """The MRC's indicators over time, or in the one period chosen."""
    shown = _dashboard(ctx)
    return render(
        ctx,
        "indicators.html",
        status=422 if shown["unknown_period"] else 200,
        **shown,
    )


_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def _one_panel(ctx: Context, indicator: str) -> tuple[dict[str, Any], str]:
    shown = _dashboard(ctx)
    for p in shown["panels"]:
        if p["id"] == indicator:
            parts = [indicator, shown["unit"].get("id", ""), shown["period"]]
            name = "-".join(_SAFE_NAME.sub("_", x) for x in parts if x)
            return p, name
    raise _unknown(indicator)


def _unknown(indicator: str) -> NotFound:
    exc = NotFound("indicator", indicator)
    exc.message_fr = translate("ind.unknown_indicator", "fr", id=indicator)
    exc.message_en = translate("ind.unknown_indicator", "en", id=indicator)
    return exc


def table_csv(p: dict[str, Any], lang: str) -> str:
    """The panel's table as CSV: a period per row, a series per column, the
    published value (a dot for decimals), ``supprimé`` / ``suppressed`` where
    the page says so, empty where there is no value::

        Période,Francheville
        2025,supprimé
        2026,12.5
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    unit = f" ({p['unit']})" if p.get("unit") else ""
    writer.writerow(
        [translate("ind.period", lang)] + [f"{s}{unit}" for s in p["series"]]
    )
    marker = views.cell_text({"suppressed": True}, lang)
    for row in p["rows"]:
        values = []
        for cell in row["cells"]:
            if cell["suppressed"]:
                values.append(marker)
            elif cell["value"] is None:
                values.append("")
            else:
                number = float(cell["value"])
                values.append(
                    str(int(number)) if number == int(number) else repr(number)
                )
        writer.writerow([row["period"], *values])
    return out.getvalue()


def _download(body: str, mimetype: str, filename: str, lang: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Content-Language"] = lang
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@page("/indicateurs/<indicator>.csv", action="web.indicators.csv")
def download_table(ctx: Context, indicator: str) -> Response:
    """One table of the dashboard as CSV (the page's numbers, suppressed said)."""
    p, name = _one_panel(ctx, indicator)
    lang = page_lang(ctx)
    # a byte-order mark so that spreadsheet software reads the accents as UTF-8
    return _download("\ufeff" + table_csv(p, lang), "text/csv", f"{name}.csv", lang)


@page("/indicateurs/<indicator>.svg", action="web.indicators.svg")
def download_chart(ctx: Context, indicator: str) -> Response:
    """One chart of the dashboard as an SVG file (the same drawing as the page)."""
    p, name = _one_panel(ctx, indicator)
    lang = page_lang(ctx)
    response = _download(
        charts.standalone(p["svg"]), "image/svg+xml", f"{name}.svg", lang
    )
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'"
    )
    return response
