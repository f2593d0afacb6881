"""Value entry in the browser: practitioners enter their MRC's figures.

A form per org unit and period, for the data elements entered by hand. The
person picks the municipality (or the whole MRC) by name and the period from a
list; the select sends the id (``csd:2437067``, ``202603``), never typed.

Every write is the indicators RPC the JSON API calls, under the API's action
(``indicators.values.enter``, ``indicators.values.approve``), with the API's
body schema (:class:`ValueInput`, :class:`ApprovalInput`,
:class:`UnapprovalInput`), the API's MRC scope
(:func:`gateway.routes.indicators.scope_unit`) and ``by`` set to the account:
the permission table, the CSRF check and the audit are the gateway's, the
validation is the service's. What the service refuses comes back on the form,
the field named, in the person's language::

    POST /indicateurs/saisie  unite=csd:2437067&periode=202603&v-home_interventions=12
    -> indicators.enter_value({"data_element": "home_interventions",
                               "org_unit": "csd:2437067", "period": "202603",
                               "value": 12, "by": "<account>", "confirm": false})

Min/max, outlier and validation-rule warnings come back before anything is
saved (the service's 409 with its ``warnings``); the value is saved only once
the person ticks "I confirm" beside it. The period's approval state is read
from the service's own answer (``evaluate`` says ``approved``): a locked
period's fields are read-only and its values cannot be sent; the roles of the
permission table that may approve see the approval form, and unapproval asks a
reason (the service refuses an empty one).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import ValidationError
from werkzeug.wrappers import Response

from gateway.api import Context
from gateway.audit import record_request
from gateway.permissions import PERMISSIONS, ROLES, allowed
from gateway.routes.common import user
from gateway.routes.indicators import scope_unit
from gateway.web import directory_views as dv
from gateway.web.core import page, page_lang, redirect, render
from gateway.web.messages import translate
from services.indicators.schemas import ApprovalInput, UnapprovalInput, ValueInput
from shared.errors import Conflict, Invalid

BASE = "/indicateurs/saisie"
APPROVALS = "/indicateurs/approbation"  # the same page for approvers who do not enter
ENTER = "indicators.values.enter"
APPROVE = "indicators.values.approve"
# Computed by the indicators service from other services' events
# (IndicatorsService._recompute): a value typed here would be overwritten.
COMPUTED = frozenset(
    {
        "waiting_people",
        "waiting_days",
        "services_without_referral",
        "participation_ballots",
        "participation_turnout_ballots",
        "participation_eligible",
        "decisions_due",
        "decisions_done_on_time",
    }
)
MONTHS = {
    "fr": (
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


# --- choices ---------------------------------------------------------------------


def unit_choices(mrc: str | None, lang: str) -> list[tuple[str, str]]:
    """The account's MRC, whole, then its municipalities, by name::

    [("cd:2437", "Francheville (toute la MRC)"), ("csd:2437067", "Trois-Rivières")]
    """
    if not mrc:
        return []
    towns = sorted(
        (
            (f"csd:{code}", name)
            for code, name in dv.geography().municipalities.items()
            if code.startswith(str(mrc))
        ),
        key=lambda kv: kv[1].casefold(),
    )
    whole = translate("entry.whole_mrc", lang, name=dv.mrc_name(mrc))
    return [(f"cd:{mrc}", whole), *towns]


def period_label(period: str, lang: str) -> str:
    """``202603`` -> ``mars 2026``; ``2026Q1`` -> ``1er trimestre 2026``."""
    if "Q" in period:
        year, quarter = period.split("Q")
        key = "entry.quarter1" if quarter == "1" else "entry.quarter"
        return translate(key, lang, n=quarter, year=year)
    if len(period) == 6:
        month = MONTHS["en" if lang == "en" else "fr"][int(period[4:]) - 1]
        return f"{month} {period[:4]}"
    return period


def period_choices(today: date, lang: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Months of the last two years, quarters and years, newest first, grouped."""
    months, quarters, years = [], [], []
    ordinal = today.year * 12 + today.month - 1
    for back in range(24):
        year, month = divmod(ordinal - back, 12)
        months.append(f"{year}{month + 1:02d}")
    for back in range(8):
        index = (today.month - 1) // 3 - back
        year = today.year + index // 4
        quarters.append(f"{year}Q{index % 4 + 1}")
    years = [str(today.year - back) for back in range(3)]
    return [
        (translate(key, lang), [(p, period_label(p, lang)) for p in group])
        for key, group in (
            ("entry.months", months),
            ("entry.quarters", quarters),
            ("entry.years", years),
        )
    ]


def containing(period: str) -> list[str]:
    """The approvable periods holding ``period``, widest first: an approval of
    any of them locks it (approvals of one MRC never nest)."""
    year = period[:4]
    if "Q" in period:
        return [year, period]
    if len(period) == 6:
        quarter = f"{year}Q{(int(period[4:]) - 1) // 3 + 1}"
        return [year, quarter, period]
    return [period]


def role_names(action: str, lang: str) -> list[str]:
    """Who the permission table lets perform ``action``, by name."""
    return [dv.role_label(r, lang) for r in ROLES if r in PERMISSIONS[action]]


def localized(reasons: Any, lang: str) -> str:
    """A service's reasons (``"fr / en"`` strings, ``{"fr", "en"}``, lists)."""
    if isinstance(reasons, dict):
        if "fr" in reasons or "en" in reasons:
            return str(reasons.get(lang) or reasons.get("fr") or "")
        return " ".join(localized(v, lang) for v in reasons.values())
    if isinstance(reasons, list | tuple):
        return " ".join(localized(r, lang) for r in reasons)
    fr, sep, en = str(reasons).partition(" / ")
    return (en if lang == "en" else fr) if sep else str(reasons)


# --- reads -----------------------------------------------------------------------


def _elements(ctx: Context, lang: str) -> list[dict[str, Any]]:
    """One row per element, or per category option combo of a disaggregated
    one (``id`` ``visits.f_0_17``, named ``Visites — Femmes, 0-17 ans``)."""
    catalogue = ctx.rpc("indicators", "catalogue")
    combos = ctx.rpc("indicators", "categories").get("elements") or {}
    found = []
    for item in catalogue.get("data_elements") or []:
        if item.get("status") == "retired" or item.get("id") in COMPUTED:
            continue
        name = item.get("name") or {}
        row = {
            "id": item["id"],
            "name": name.get(lang) or name.get("fr") or item["id"],
            "integer": item.get("value_type") == "integer",
            "type": item.get("value_type"),
        }
        for combo in combos.get(item["id"]) or [{"id": ""}]:
            if not combo["id"]:
                found.append(row)
                continue
            label = combo["name"].get(lang) or combo["name"].get("fr") or combo["id"]
            found.append(
                row
                | {
                    "id": f"{item['id']}.{combo['id']}",
                    "name": f"{row['name']} — {label}",
                }
            )
    return found


def _evaluate(ctx: Context, element: str, unit: str, period: str) -> dict[str, Any]:
    return dict(
        ctx.rpc(
            "indicators",
            "evaluate",
            {
                "numerator": f"#{{{element}}}",
                "org_unit": unit,
                "period": period,
                "public": False,
            },
        )
    )


def lock_of(ctx: Context, element: str, mrc_unit: str, period: str) -> str | None:
    """The approved period of the MRC that locks ``period``, if any."""
    for candidate in containing(period):
        if _evaluate(ctx, element, mrc_unit, candidate).get("approved"):
            return candidate
    return None


def _quality(ctx: Context, unit: str, period: str, lang: str) -> list[str] | None:
    """Validation rules broken at the unit and period (``None``: not allowed)."""
    if not allowed("indicators.quality.read", (ctx.user or {}).get("role")):
        return None
    try:
        found = ctx.rpc("indicators", "validate", {"org_unit": unit, "period": period})
    except Invalid:
        return None
    lines = []
    for result in found.get("results") or []:
        message = result.get("message") or result.get("name") or result
        lines.append(localized(message, lang))
    return lines


def _choice(value: str, choices: list[tuple[str, str]]) -> str | None:
    return value if value in {c for c, _ in choices} else None


def _form_page(
    ctx: Context,
    *,
    status: int = 200,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    warnings: dict[str, list[str]] | None = None,
    notice: str = "",
    alert: str = "",
    unit: str | None = None,
    period: str | None = None,
) -> Response:
    lang = page_lang(ctx)
    user = ctx.user or {}
    mrc = str(user.get("mrc") or "")
    units = unit_choices(mrc, lang)
    periods = period_choices(date.today(), lang)
    flat = [p for _, group in periods for p in group]
    asked_unit = unit if unit is not None else ctx.request.args.get("unite", "")
    asked_period = period if period is not None else ctx.request.args.get("periode", "")
    unit = _choice(asked_unit, units)
    period = _choice(asked_period, flat)
    pick_errors = {}
    if asked_unit and unit is None:
        pick_errors["unite"] = translate("entry.unknown_unit", lang)
    if asked_period and period is None:
        pick_errors["periode"] = translate("entry.unknown_period", lang)
    form: dict[str, Any] | None = None
    enters = allowed(ENTER, user.get("role"))
    if unit and period:
        elements = _elements(ctx, lang)
        rows = []
        # unsuppressed values only for those who enter them (as the API's
        # evaluate): an approver without that right sees the state alone
        for element in elements if enters else []:
            current = _evaluate(ctx, element["id"], unit, period)
            rows.append({**element, "current": current.get("value")})
        lock = (
            lock_of(ctx, elements[0]["id"], f"cd:{mrc}", period) if elements else None
        )
        form = {
            "unit": unit,
            "unit_name": dict(units)[unit],
            "period": period,
            "period_name": dict(flat)[period],
            "rows": rows,
            "lock": lock,
            "lock_name": period_label(lock, lang) if lock else "",
            "quality": _quality(ctx, unit, period, lang) if enters else None,
        }
    return render(
        ctx,
        "entry.html",
        status=422 if pick_errors and status == 200 else status,
        units=units,
        periods=periods,
        unit=unit or "",
        period=period or "",
        pick_errors=pick_errors,
        form=form,
        typed=typed or {},
        errors=errors or {},
        warnings=warnings or {},
        notice=notice,
        alert=alert,
        mrc_name=dv.mrc_name(mrc),
        mrc_unit=f"cd:{mrc}",
        approver=allowed(APPROVE, user.get("role")),
        enters=enters,
        base=BASE if enters else APPROVALS,
        approvers=", ".join(role_names(APPROVE, lang)),
    )


@page(BASE, action=ENTER, public=False)
def entry_page(ctx: Context) -> Response:
    """Pick a municipality or the MRC and a period; the form of its values."""
    done = ctx.request.args.get("fait", "")
    lang = page_lang(ctx)
    notices = {
        "approuve": translate("entry.approved", lang),
        "desapprouve": translate("entry.unapproved", lang),
        "rien": translate("entry.nothing", lang),
    }
    notice = notices.get(done, "")
    if done.isdigit():
        notice = translate("entry.saved", lang, n=int(done))
    return _form_page(ctx, notice=notice)


@page(APPROVALS, action=APPROVE, public=False)
def approval_page(ctx: Context) -> Response:
    """A period's approval state and the approval forms, without the values."""
    return entry_page(ctx)


def _number(text: str) -> Any:
    """What the person typed, as the API would receive it (the service names a
    value it refuses; a comma is a decimal point in French)."""
    text = text.strip().replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
    normal = text.replace(",", ".")
    try:
        number = float(normal)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in normal else number


def _back(
    unit: str, period: str, done: str, lang: str, ctx: Context | None = None
) -> str:
    query = f"unite={unit}&periode={period}&fait={done}"
    enters = ctx is None or allowed(ENTER, (ctx.user or {}).get("role"))
    return f"{BASE if enters else APPROVALS}?{query}" + (
        "&lang=en" if lang == "en" else ""
    )


@page(BASE, ("POST",), action=ENTER, public=False)
def save_values(ctx: Context) -> Response:
    """Enter each value typed or changed; refusals and warnings come back named."""
    lang = page_lang(ctx)
    form = ctx.request.form
    unit = form.get("unite", "")
    period = form.get("periode", "")
    scope_unit(ctx, unit)  # another MRC's unit: 403, named, before anything
    typed = {k[2:]: v for k, v in form.items() if k.startswith("v-")}
    sent: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    warnings: dict[str, list[str]] = {}
    saved = 0
    for element, text in typed.items():
        if not text.strip() or text.strip() == form.get(f"was-{element}", "").strip():
            continue
        de, _, combo = element.partition(".")  # a combo's row: element.combo
        body = {
            "data_element": de,
            "org_unit": unit,
            "period": period,
            "value": _number(text),
            "confirm": form.get(f"confirm-{element}") == "1",
        }
        if combo:
            body["category_option_combo"] = combo
        try:
            payload = ValueInput().load(body)
        except ValidationError as exc:
            errors[element] = localized(exc.messages, lang)
            continue
        sent.append(body)
        try:
            ctx.rpc("indicators", "enter_value", {**payload, "by": user(ctx)["sub"]})
            saved += 1
        except Invalid as exc:
            errors[element] = localized(exc.fields, lang) or exc.message(lang)
        except Conflict as exc:
            found = exc.details.get("warnings") or []
            if found:
                warnings[element] = [localized(w.get("message"), lang) for w in found]
            else:
                errors[element] = exc.message(lang)
    record_request(ctx, {"org_unit": unit, "period": period, "values": sent})
    if errors or warnings:
        # the service names elements by id: the person reads their names
        rows = _elements(ctx, lang)
        names = {e["id"]: e["name"] for e in rows}
        for e in rows:  # a combo's warning names its element: by its name too
            base, _, combo = e["id"].partition(".")
            if combo:
                names.setdefault(base, e["name"].split(" — ")[0])
        errors = {k: _named(v, names) for k, v in errors.items()}
        warnings = {k: [_named(w, names) for w in v] for k, v in warnings.items()}
        return _form_page(
            ctx,
            status=409 if warnings and not errors else 422,
            typed=typed,
            errors=errors,
            warnings=warnings,
            alert=translate("entry.refused", lang),
            notice=translate("entry.saved", lang, n=saved) if saved else "",
            unit=unit,
            period=period,
        )
    return redirect(_back(unit, period, str(saved) if saved else "rien", lang))


def _named(text: str, names: dict[str, str]) -> str:
    for ident in sorted(names, key=len, reverse=True):
        text = text.replace(ident, names[ident])
    return text


@page(f"{BASE}/approbation", ("POST",), action=APPROVE, public=False)
def approve(ctx: Context) -> Response:
    """Approve the MRC's period (the table names who may): values lock."""
    return _approval(ctx, "approve")


@page(f"{BASE}/desapprobation", ("POST",), action=APPROVE, public=False)
def unapprove(ctx: Context) -> Response:
    """Withdraw an approval, with its reason: the period opens again."""
    return _approval(ctx, "unapprove")


def _approval(ctx: Context, method: str) -> Response:
    lang = page_lang(ctx)
    form = ctx.request.form
    unit = form.get("unite", "")  # the form's unit and period, shown again after
    period = form.get("periode", "")
    body = {"org_unit": form.get("mrc", ""), "period": form.get("approuver", "")}
    if method == "unapprove":
        body["reason"] = form.get("motif", "").strip()
    schema = UnapprovalInput() if method == "unapprove" else ApprovalInput()
    record_request(ctx, body)
    try:
        payload = schema.load(body)
        if method == "unapprove" and not payload["reason"]:
            raise ValidationError({"reason": [translate("entry.reason_needed", lang)]})
    except ValidationError as exc:
        return _form_page(
            ctx,
            status=422,
            errors={"motif": localized(exc.messages, lang)},
            alert=translate("entry.reason_needed", lang)
            if "reason" in exc.messages
            else localized(exc.messages, lang),
            unit=unit,
            period=period,
        )
    scope_unit(ctx, payload["org_unit"])
    try:
        ctx.rpc("indicators", method, {**payload, "by": user(ctx)["sub"]})
    except (Conflict, Invalid) as exc:
        message = exc.message(lang)
        if isinstance(exc, Invalid) and exc.fields:
            message = localized(exc.fields, lang)
        return _form_page(ctx, status=409, alert=message, unit=unit, period=period)
    done = "approuve" if method == "approve" else "desapprouve"
    return redirect(_back(unit, period, done, lang, ctx))
