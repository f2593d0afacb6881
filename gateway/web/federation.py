"""Federation and roll-ups in the browser: the regional coordinator and the
node administrator watch what peers send and publish the regional roll-up.

``/federation`` (action ``federation.read``) reads what the federation service
exposes: ``status()`` (each peer's link state, messages waiting, last event
seen, and the agreements) and ``activity()`` (events received per peer and
type, refusals per reason and per day, the last refusals with why).
``/federation/ententes`` (action ``boards.read``) shows the agreements alone,
so a board's members and secretary read what their node shares, with whom,
at what threshold and until when.

``/federation/cumuls`` (action ``indicators.rollups.publish``) shows, for a
data element and period, what each MRC sent (``received_events`` of
``indicators.values_approved``, the latest approval of each MRC unless an
unapproval came after it, as the indicators service keeps them), each cell as
sent: a suppressed cell is said suppressed, never a number. Publishing posts
the API's :class:`RollupInput` to ``indicators.publish_rollup`` under the API's
action (permission table, CSRF, audit); what was published, and when, is read
back from the audit log's entries of that action (the record of every write
through the gateway)::

    POST /federation/cumuls  indicateur=home_interventions&periode=2026Q1
    -> indicators.publish_rollup({"indicator": "home_interventions",
                                  "period": "2026Q1"})
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from marshmallow import ValidationError
from werkzeug.wrappers import Response

from gateway.api import Context
from gateway.audit import record_request
from gateway.routes.accounts import runtime
from gateway.routes.indicators import RollupInput
from gateway.web import directory_views as dv
from gateway.web.core import page, page_lang, redirect, render
from gateway.web.entry import localized, period_label
from gateway.web.messages import translate
from services.indicators.geo import REGIONS
from shared.errors import Invalid, MaillageError, NotFound


def _field_messages(exc: ValidationError) -> dict[str, Any]:
    """marshmallow's messages by field (a message without a field is _schema)."""
    found = exc.messages
    return dict(found) if isinstance(found, dict) else {"_schema": found}


APPROVED = "indicators.values_approved"
UNAPPROVED = "indicators.values_unapproved"
PUBLISH = "indicators.rollups.publish"


def unit_name(unit: str) -> str:
    """``cd:2437`` -> ``Francheville``; ``region:04`` -> ``Mauricie``;
    ``csd:2437067`` -> ``Trois-Rivières``; ``cd:2437#own`` -> the MRC's own."""
    unit = str(unit)
    base, _, own = unit.partition("#")
    kind, _, code = base.partition(":")
    if kind == "region":
        name = REGIONS.get(code, code)
    elif kind == "cd":
        name = dv.mrc_name(code)
    elif kind == "csd":
        name = dv.geography().municipalities.get(code, code)
    elif base == "qc":
        name = "Québec"
    else:
        name = base
    return f"{name} ({own})" if own else name


def peer_name(peer: str | None, lang: str) -> str:
    """A node id said with its territory's name when it names one:
    ``mrc-2437`` -> ``Francheville (mrc-2437)``."""
    if not peer:
        return translate("fed.unknown_peer", lang)
    kind, _, code = str(peer).partition("-")
    name = ""
    if kind == "mrc" and len(code) == 4:
        name = dv.mrc_name(code) if code in dv.geography().divisions else ""
    elif kind in ("region", "sante") and code in REGIONS:
        name = REGIONS[code]
    return f"{name} ({peer})" if name else str(peer)


def type_name(event_type: str, lang: str) -> str:
    key = f"fed.type.{event_type}"
    text = translate(key, lang)
    return event_type if text == key else text


def reason_name(reason: str | None, lang: str) -> str:
    key = f"fed.reason.{reason}"
    text = translate(key, lang)
    return str(reason) if text == key else text


def moment(text: str | None, lang: str) -> str:
    """An ISO instant as ``2026-04-02 10:00 UTC`` (the page says the zone)."""
    if not text:
        return "—"
    try:
        value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return str(text)
    return value.strftime("%Y-%m-%d %H:%M") + " UTC"


def day_of(text: str | None, last: bool = False) -> str:
    """An agreement's bound as a day: ``valid_until`` is the instant it ends
    (midnight after its last day), so the last day is the day before."""
    if not text:
        return ""
    try:
        value = datetime.fromisoformat(str(text))
    except ValueError:
        return str(text)
    if last and (value.hour, value.minute, value.second) == (0, 0, 0):
        value -= timedelta(days=1)
    return value.date().isoformat()


def agreement_rows(agreements: list[dict[str, Any]], lang: str) -> list[dict]:
    rows = []
    for a in agreements:
        rows.append(
            {
                "id": a.get("agreement_id") or a.get("id"),
                "peer": peer_name(a.get("peer"), lang),
                "direction": translate(f"fed.dir.{a.get('direction')}", lang),
                "types": [
                    {
                        "name": type_name(t, lang),
                        "fields": ", ".join((a.get("fields") or {}).get(t) or []),
                    }
                    for t in a.get("event_types") or []
                ],
                "aggregates_only": bool(a.get("aggregates_only")),
                "threshold": a.get("suppression_threshold"),
                "valid_from": day_of(a.get("valid_from")) or "—",
                "valid_until": day_of(a.get("valid_until"), last=True)
                or translate("fed.no_end", lang),
                "valid_now": bool(a.get("valid_now")),
            }
        )
    return rows


@page("/federation", action="federation.read", public=False)
def federation_page(ctx: Context) -> Response:
    """Each peer, its agreements, link state and lag, events received and refused."""
    lang = page_lang(ctx)
    status = ctx.rpc("federation", "status")
    activity = ctx.rpc("federation", "activity", 20)
    links = [
        {
            **row,
            "peer_name": peer_name(row.get("peer"), lang),
            "direction_name": translate(f"fed.dir.{row.get('direction')}", lang),
            "last_seen_text": moment(row.get("last_seen"), lang),
        }
        for row in status.get("links") or []
    ]
    received = [
        {
            **row,
            "peer_name": peer_name(row.get("peer"), lang),
            "type_name": type_name(row.get("event_type", ""), lang),
            "last_text": moment(row.get("last"), lang),
        }
        for row in activity.get("received") or []
    ]
    refused = [
        {**row, "reason_name": reason_name(row.get("reason"), lang)}
        for row in activity.get("refused") or []
    ]
    by_day = [
        {**row, "reason_name": reason_name(row.get("reason"), lang)}
        for row in activity.get("refused_by_day") or []
    ]
    last = [
        {
            **row,
            "peer_name": peer_name(row.get("peer"), lang),
            "reason_name": reason_name(row.get("reason"), lang),
            "at_text": moment(row.get("at"), lang),
        }
        for row in activity.get("last_refused") or []
    ]
    return render(
        ctx,
        "federation.html",
        node=peer_name(status.get("node_id"), lang),
        federated=bool(status.get("federated")),
        links=links,
        agreements=agreement_rows(status.get("agreements") or [], lang),
        received=received,
        refused=refused,
        by_day=by_day,
        last=last,
    )


@page("/federation/ententes", action="boards.read", public=False)
def agreements_page(ctx: Context) -> Response:
    """The node's data-sharing agreements, for its boards."""
    lang = page_lang(ctx)
    found = ctx.rpc("federation", "agreements")
    return render(
        ctx,
        "federation_agreements.html",
        agreements=agreement_rows(found or [], lang),
    )


# --- roll-ups ----------------------------------------------------------------------


def latest_sent(events: list[dict[str, Any]]) -> dict[tuple[str, str, str], dict]:
    """What stands of what MRCs sent: per (MRC, element, period) the approval
    that occurred last, unless an unapproval of that MRC and period came after
    it (the rule the indicators service applies to what it receives)."""
    ordered = sorted(events, key=lambda e: str(e.get("occurred_at") or ""))
    kept: dict[tuple[str, str, str], dict] = {}
    for event in ordered:
        payload = event.get("payload") or {}
        unit = str(payload.get("org_unit") or _mrc_unit(payload))
        period = str(payload.get("period") or "")
        if event.get("event_type") == UNAPPROVED:
            for key in [k for k in kept if k[0] == unit and k[2] == period]:
                del kept[key]
            continue
        kept[(unit, str(payload.get("indicator") or ""), period)] = event
    return kept


def _mrc_unit(payload: dict[str, Any]) -> str:
    code = payload.get("mrc_code")
    if code:
        return f"cd:{code}"
    cells = payload.get("cells") or []
    units = [
        str(c.get("org_unit"))
        for c in cells
        if str(c.get("org_unit", "")).startswith("cd:")
    ]
    return units[0] if units else ""


def cell_rows(cells: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Each cell as sent, by name; a suppressed one says so (no number)."""
    rows = []
    for cell in cells:
        hidden = bool(cell.get("suppressed")) or cell.get("count") is None
        rows.append(
            {
                "name": unit_name(str(cell.get("org_unit", ""))),
                "suppressed": hidden,
                "text": translate("fed.suppressed", lang)
                if hidden
                else str(cell.get("count")),
                "mrcs": cell.get("mrcs"),
                "mrcs_in_region": cell.get("mrcs_in_region"),
            }
        )
    return rows


def _element_names(ctx: Context, lang: str) -> dict[str, str]:
    catalogue = ctx.rpc("indicators", "catalogue")
    names = {}
    for item in catalogue.get("data_elements") or []:
        name = item.get("name") or {}
        names[item["id"]] = name.get(lang) or name.get("fr") or item["id"]
    return names


def _published(ctx: Context, lang: str, names: dict[str, str]) -> list[dict]:
    """Roll-ups published through the gateway, newest first (the audit log)."""
    rows, _total = runtime(ctx).store.audit_entries(
        {"action": PUBLISH, "outcome": "ok"}, 0, 50
    )
    found = []
    for row in rows:
        after = row.get("after") or {}
        if not isinstance(after, dict) or not after.get("cells"):
            continue
        at = row.get("at")
        found.append(
            {
                "at": at.strftime("%Y-%m-%d %H:%M") + " UTC"
                if isinstance(at, datetime)
                else str(at),
                "element": names.get(
                    str(after.get("indicator")), after.get("indicator")
                ),
                "period": period_label(str(after.get("period", "")), lang),
                "threshold": after.get("threshold"),
                "cells": cell_rows(after.get("cells") or [], lang),
            }
        )
    return found


def _rollup_page(
    ctx: Context,
    *,
    status: int = 200,
    result: dict[str, Any] | None = None,
    alert: str = "",
    errors: dict[str, str] | None = None,
) -> Response:
    lang = page_lang(ctx)
    names = _element_names(ctx, lang)
    events = ctx.rpc("federation", "received_events", APPROVED) + ctx.rpc(
        "federation", "received_events", UNAPPROVED
    )
    standing = latest_sent(events)
    elements = sorted({k[1] for k in standing}, key=lambda e: names.get(e, e))
    periods = sorted({k[2] for k in standing}, reverse=True)
    args = ctx.request.values
    element = args.get("indicateur") or (elements[0] if elements else "")
    period = args.get("periode") or (periods[0] if periods else "")
    sent = []
    for (unit, el, per), event in sorted(
        standing.items(), key=lambda kv: unit_name(kv[0][0])
    ):
        if el != element or per != period:
            continue
        cells = cell_rows((event.get("payload") or {}).get("cells") or [], lang)
        total = next(
            (
                c
                for c, raw in zip(
                    cells,
                    (event.get("payload") or {}).get("cells") or [],
                    strict=True,
                )
                if str(raw.get("org_unit")) == unit
            ),
            None,
        )
        sent.append(
            {
                "mrc": unit_name(unit),
                "peer": peer_name(event.get("peer"), lang),
                "received": moment(event.get("received_at"), lang),
                "total": total,
                "cells": [c for c in cells if c is not total],
            }
        )
    return render(
        ctx,
        "federation_rollups.html",
        status=status,
        elements=[(e, names.get(e, e)) for e in elements],
        periods=[(p, period_label(p, lang)) for p in periods],
        element=element,
        period=period,
        element_name=names.get(element, element),
        period_name=period_label(period, lang) if period else "",
        sent=sent,
        result=None
        if result is None
        else {**result, "rows": cell_rows(result.get("cells") or [], lang)},
        published=_published(ctx, lang, names),
        just_published=ctx.request.args.get("publie") == "1",
        alert=alert,
        errors=errors or {},
    )


@page("/federation/cumuls", action=PUBLISH, public=False)
def rollups_page(ctx: Context) -> Response:
    """What each MRC sent for a data element and period; the published roll-ups."""
    return _rollup_page(ctx)


@page("/federation/cumuls", ("POST",), action=PUBLISH, public=False)
def publish_rollup(ctx: Context) -> Response:
    """Publish the regional roll-up of what the MRCs sent (the API's RPC)."""
    lang = page_lang(ctx)
    form = ctx.request.form
    body = {"indicator": form.get("indicateur", ""), "period": form.get("periode", "")}
    record_request(ctx, body)
    try:
        payload = RollupInput().load(body)
    except ValidationError as exc:
        fields = {
            {"indicator": "indicateur", "period": "periode"}.get(k, k): localized(
                v, lang
            )
            for k, v in _field_messages(exc).items()
        }
        return _rollup_page(
            ctx, status=422, alert=translate("fed.rollup_refused", lang), errors=fields
        )
    try:
        result = ctx.rpc("indicators", "publish_rollup", dict(payload))
    except NotFound:
        return _rollup_page(
            ctx, status=404, alert=translate("fed.rollup_nothing", lang)
        )
    except (Invalid, MaillageError) as exc:
        message = localized(exc.fields, lang) if isinstance(exc, Invalid) else ""
        return _rollup_page(ctx, status=422, alert=message or exc.message(lang))
    # after the redirect the audit entry is finished: the list shows this one
    query = urlencode(
        {"indicateur": payload["indicator"], "periode": payload["period"]}
        | {"publie": "1"}
        | ({"lang": "en"} if lang == "en" else {})
    )
    response = redirect(f"/federation/cumuls?{query}")
    response.audit_after = result  # type: ignore[attr-defined]
    return response
