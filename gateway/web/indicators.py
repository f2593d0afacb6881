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

A period picker (``?periode=2026``, a plain GET form) narrows the charts and
tables to one of the periods the dashboard offers. It only ever shows a subset
of the dashboard's own (already suppressed) points: no finer period is asked of
the service, since a quarter shown beside its year would let a suppressed cell
be recovered by difference.
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


@page("/indicateurs", action="web.indicators")
def dashboard(ctx: Context) -> Response:
    """The MRC's indicators over time, or in the one period chosen."""
    mrc = (ctx.request.args.get("mrc") or "").strip()
    chosen = (ctx.request.args.get("periode") or "").strip()
    lang = page_lang(ctx)
    query = {"lang": lang, **({"org_unit": mrc} if mrc else {})}
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
    return render(
        ctx,
        "indicators.html",
        status=422 if unknown else 200,
        unit=unit,
        panels=panels,
        mrc=mrc,
        periods=periods,
        period="" if unknown else chosen,
        unknown_period=chosen if unknown else "",
    )
