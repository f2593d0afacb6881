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
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from gateway.api import Context
from gateway.web import charts, views
from gateway.web.core import page, page_lang, render


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
    }


@page("/indicateurs", action="web.indicators")
def dashboard(ctx: Context) -> Response:
    """The MRC's indicators over time."""
    mrc = (ctx.request.args.get("mrc") or "").strip()
    lang = page_lang(ctx)
    query = {"lang": lang, **({"org_unit": mrc} if mrc else {})}
    found = ctx.rpc("indicators", "dashboard", query)
    unit = found.get("org_unit") or {}
    panels = [
        panel(item, i, lang, str(unit.get("name", "")))
        for i, item in enumerate(found.get("indicators") or [])
    ]
    return render(ctx, "indicators.html", unit=unit, panels=panels, mrc=mrc)
