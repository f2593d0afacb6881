"""Server-side SVG charts that read without colour and without JavaScript.

Each series has its own line dash and marker shape (line charts) or fill
pattern (bar charts), every point carries its value as text, and a suppressed
cell is drawn as a labelled gap ("S", hatched outline), never as a zero. The
chart is an ``<svg role="img">`` with a title and a description; the page puts
the same numbers in a data table beside it, which screen readers use.

    line_chart("Taux", ["2023", "2024"], [{"name": "MRC", "points": [
        {"period": "2023", "value": 12.5}, {"period": "2024", "suppressed": True}]}],
        lang="fr")
"""

from __future__ import annotations

import math
from typing import Any
from xml.sax.saxutils import escape

from markupsafe import Markup

from gateway.web.messages import translate
from gateway.web.views import cell_text

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 20, 44
INK = "#1b1b1b"
GRID = "#767676"
COLOURS = ("#0b4f8a", "#8a2f00", "#2d5e1e", "#5b2a86")
DASHES = ("", "8 4", "2 3", "10 3 2 3")
MARKERS = ("circle", "square", "triangle", "diamond")
PATTERNS = ("solid", "hatch", "dots", "cross")


def has_data(series: list[dict[str, Any]]) -> bool:
    """A point to draw: a value or a suppressed cell (drawn as a labelled gap)."""
    return any(
        p.get("suppressed") or p.get("value") is not None
        for s in series
        for p in s.get("points", [])
    )


def empty_chart(title: str, *, lang: str = "fr", uid: str = "c") -> Markup:
    """No axes when nothing is there to read: the chart says there is no data
    yet (and its table, beside it, says the same)."""
    text = translate("ind.no_data", lang)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} 80"'
        f' class="chart empty" role="img" aria-labelledby="{uid}-t {uid}-d">'
        f'<title id="{uid}-t">{escape(title)}</title>'
        f'<desc id="{uid}-d">{escape(text)}</desc>'
        f'<rect x="1" y="1" width="{WIDTH - 2}" height="78" fill="#fff"'
        f' stroke="{GRID}" stroke-dasharray="4 3"/>'
        f'<text x="{WIDTH / 2:.0f}" y="46" text-anchor="middle" font-size="16"'
        f' fill="{INK}">{escape(text)}</text></svg>'
    )


def standalone(svg: Markup) -> str:
    """The chart as an SVG file: the XML declaration, the same drawing and
    text (values, "S" marks, the description naming suppressed periods)."""
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + str(svg) + "\n"


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exponent:
            return step * exponent
    return 10 * exponent


def _values(series: list[dict[str, Any]]) -> list[float]:
    return [
        float(p["value"])
        for s in series
        for p in s.get("points", [])
        if not p.get("suppressed") and p.get("value") is not None
    ]


def _by_period(points: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(p.get("period")): p for p in points}


def _defs(uid: str) -> str:
    return (
        "<defs>"
        f'<pattern id="{uid}-hatch" width="6" height="6" patternUnits="userSpaceOnUse"'
        ' patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{INK}" stroke-width="2"/></pattern>'
        f'<pattern id="{uid}-dots" width="6" height="6" patternUnits="userSpaceOnUse">'
        f'<rect width="6" height="6" fill="#fff"/><circle cx="3" cy="3" r="1.5" fill="{INK}"/>'
        "</pattern>"
        f'<pattern id="{uid}-cross" width="6" height="6" patternUnits="userSpaceOnUse">'
        f'<rect width="6" height="6" fill="#fff"/><path d="M0 3H6M3 0V6" stroke="{INK}"/>'
        "</pattern>"
        f'<pattern id="{uid}-suppressed" width="8" height="8" patternUnits="userSpaceOnUse"'
        ' patternTransform="rotate(-45)"><rect width="8" height="8" fill="#fff"/>'
        f'<line x1="0" y1="0" x2="0" y2="8" stroke="{GRID}" stroke-width="1"/></pattern>'
        "</defs>"
    )


def _frame(
    uid: str, title: str, description: str, top: float, unit: str, lang: str
) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' class="chart" role="img" aria-labelledby="{uid}-t {uid}-d">',
        f'<title id="{uid}-t">{escape(title)}</title>',
        f'<desc id="{uid}-d">{escape(description)}</desc>',
        _defs(uid),
    ]
    for i in range(5):
        value = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}"'
            f' stroke="{GRID}" stroke-width="{1 if i == 0 else 0.5}"/>'
        )
        label = cell_text({"value": round(value, 2)}, lang)
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12"'
            f' fill="{INK}">{escape(label)}</text>'
        )
    if unit:
        parts.append(
            f'<text x="4" y="{TOP - 6}" font-size="12" fill="{INK}">{escape(unit)}</text>'
        )
    return parts


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "square":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}"/>'
    if shape == "triangle":
        return (
            f'<path d="M{x:.1f} {y - 5:.1f}L{x + 5:.1f} {y + 4:.1f}L{x - 5:.1f} {y + 4:.1f}Z"'
            f' fill="{colour}"/>'
        )
    if shape == "diamond":
        return (
            f'<path d="M{x:.1f} {y - 5:.1f}L{x + 5:.1f} {y:.1f}L{x:.1f} {y + 5:.1f}'
            f'L{x - 5:.1f} {y:.1f}Z" fill="{colour}"/>'
        )
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>'


def _legend(series: list[dict[str, Any]], kind: str, uid: str) -> list[str]:
    parts = []
    x = LEFT
    y = HEIGHT - 8
    for i, item in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        if kind == "line":
            dash = DASHES[i % len(DASHES)]
            parts.append(
                f'<line x1="{x}" y1="{y - 4}" x2="{x + 24}" y2="{y - 4}" stroke="{colour}"'
                f' stroke-width="2" stroke-dasharray="{dash}"/>'
            )
            parts.append(_marker(MARKERS[i % len(MARKERS)], x + 12, y - 4, colour))
        else:
            parts.append(
                f'<rect x="{x}" y="{y - 11}" width="24" height="12"'
                f' fill="{_fill(i, uid)}" stroke="{INK}"/>'
            )
        parts.append(
            f'<text x="{x + 30}" y="{y}" font-size="12" fill="{INK}">'
            f"{escape(str(item.get('name', '')))}</text>"
        )
        x += 40 + 8 * len(str(item.get("name", "")))
    return parts


def _fill(index: int, uid: str) -> str:
    pattern = PATTERNS[index % len(PATTERNS)]
    return COLOURS[0] if pattern == "solid" else f"url(#{uid}-{pattern})"


def _suppressed_mark(x: float, base: float, width: float, lang: str) -> list[str]:
    label = "S"
    height = 36
    return [
        f'<rect x="{x - width / 2:.1f}" y="{base - height:.1f}" width="{width:.1f}"'
        f' height="{height}" fill="url(#SUPP)" stroke="{GRID}" stroke-dasharray="3 2"/>',
        f'<text x="{x:.1f}" y="{base - height - 4:.1f}" text-anchor="middle"'
        f' font-size="12" font-weight="bold" fill="{INK}">{label}</text>',
    ]


def line_chart(
    title: str,
    periods: list[str],
    series: list[dict[str, Any]],
    *,
    lang: str = "fr",
    unit: str = "",
    uid: str = "c",
) -> Markup:
    """A line per series; a suppressed or missing period breaks the line."""
    if not periods or not has_data(series):
        return empty_chart(title, lang=lang, uid=uid)
    top = _nice_max(max(_values(series), default=0.0))
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    step = plot_w / max(1, len(periods))
    base = TOP + plot_h

    def x_of(i: int) -> float:
        return LEFT + step * (i + 0.5)

    def y_of(value: float) -> float:
        return base - plot_h * value / top

    parts = _frame(uid, title, _describe(series, periods, lang), top, unit, lang)
    for i, period in enumerate(periods):
        parts.append(
            f'<text x="{x_of(i):.1f}" y="{base + 16}" text-anchor="middle"'
            f' font-size="12" fill="{INK}">{escape(period)}</text>'
        )
    for s_index, item in enumerate(series):
        colour = COLOURS[s_index % len(COLOURS)]
        dash = DASHES[s_index % len(DASHES)]
        points = _by_period(item.get("points", []))
        runs: list[list[tuple[float, float]]] = [[]]
        for i, period in enumerate(periods):
            point = points.get(period, {})
            if point.get("suppressed") or point.get("value") is None:
                if point.get("suppressed"):
                    parts.extend(_suppressed_mark(x_of(i), base, 14, lang))
                runs.append([])
                continue
            runs[-1].append((x_of(i), y_of(float(point["value"]))))
        for run in runs:
            if len(run) > 1:
                coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                parts.append(
                    f'<polyline points="{coords}" fill="none" stroke="{colour}"'
                    f' stroke-width="2.5" stroke-dasharray="{dash}"/>'
                )
        for i, period in enumerate(periods):
            point = points.get(period, {})
            if point.get("suppressed") or point.get("value") is None:
                continue
            x, y = x_of(i), y_of(float(point["value"]))
            parts.append(_marker(MARKERS[s_index % len(MARKERS)], x, y, colour))
            parts.append(
                f'<text x="{x:.1f}" y="{y - 8:.1f}" text-anchor="middle" font-size="11"'
                f' fill="{INK}">{escape(cell_text(point, lang))}</text>'
            )
    parts.extend(_legend(series, "line", uid))
    parts.append("</svg>")
    return Markup("".join(parts).replace("url(#SUPP)", f"url(#{uid}-suppressed)"))


def bar_chart(
    title: str,
    periods: list[str],
    series: list[dict[str, Any]],
    *,
    lang: str = "fr",
    unit: str = "",
    uid: str = "c",
) -> Markup:
    """Grouped bars, one fill pattern per series, values written on each bar."""
    if not periods or not has_data(series):
        return empty_chart(title, lang=lang, uid=uid)
    top = _nice_max(max(_values(series), default=0.0))
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    group = plot_w / max(1, len(periods))
    width = min(48.0, group * 0.8 / max(1, len(series)))
    base = TOP + plot_h
    parts = _frame(uid, title, _describe(series, periods, lang), top, unit, lang)
    for i, period in enumerate(periods):
        centre = LEFT + group * (i + 0.5)
        parts.append(
            f'<text x="{centre:.1f}" y="{base + 16}" text-anchor="middle"'
            f' font-size="12" fill="{INK}">{escape(period)}</text>'
        )
        for s_index, item in enumerate(series):
            point = _by_period(item.get("points", [])).get(period, {})
            x = centre + (s_index - (len(series) - 1) / 2) * width
            if point.get("suppressed"):
                parts.extend(_suppressed_mark(x, base, width - 4, lang))
                continue
            if point.get("value") is None:
                continue
            height = plot_h * float(point["value"]) / top
            parts.append(
                f'<rect x="{x - width / 2 + 2:.1f}" y="{base - height:.1f}"'
                f' width="{width - 4:.1f}" height="{height:.1f}"'
                f' fill="{_fill(s_index, uid)}" stroke="{INK}"/>'
            )
            parts.append(
                f'<text x="{x:.1f}" y="{base - height - 4:.1f}" text-anchor="middle"'
                f' font-size="11" fill="{INK}">{escape(cell_text(point, lang))}</text>'
            )
    parts.extend(_legend(series, "bar", uid))
    parts.append("</svg>")
    return Markup("".join(parts).replace("url(#SUPP)", f"url(#{uid}-suppressed)"))


def _describe(series: list[dict[str, Any]], periods: list[str], lang: str) -> str:
    """The chart said in words (the ``<desc>``): each series, period by period."""
    chunks = []
    for item in series:
        points = _by_period(item.get("points", []))
        values = ", ".join(
            f"{p} : {cell_text(points.get(p, {}), lang)}"
            if lang == "fr"
            else f"{p}: {cell_text(points.get(p, {}), lang)}"
            for p in periods
        )
        chunks.append(f"{item.get('name', '')} — {values}")
    return ". ".join(chunks)
