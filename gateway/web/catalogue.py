"""The local catalogue in the browser: the definitions with their versions,
and the form through which a board secretary proposes (placed on a meeting of
their own board) or the node administrator defines a data element with its
categories, or an indicator.

Every write is the API's: the same schema (:class:`DefinitionInput`), the
same RPC (``propose_definition`` / ``define``), the same meeting scope
(:func:`gateway.routes.boards.scope_meeting`: a meeting of another MRC's
board is refused before anything) and the same agenda item carrying the
definition's reference (its digest), which the board's resolution adopts::

    POST /indicateurs/catalogue/proposer   (or /definir, the administrator)
      sorte=indicator&id=office_share&numerateur=#{office_interventions}&...
    -> indicators.propose_definition({"kind": "indicator", "id": "office_share",
                                      "content": {...}, "by": "<account>"})
    -> boards.add_agenda_item(<meeting>, {"title": "Catalogue : ...",
                                          "definition": <reference>})

An indicator's form can be previewed first (``apercu``): the numerator and
denominator are evaluated over the published (suppressed) cells of the
account's MRC for the last full year, and a term the catalogue does not know
is shown refused with the service's reason, as the proposal would be.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import ValidationError
from werkzeug.wrappers import Response

from gateway.api import Context
from gateway.audit import record_request
from gateway.permissions import allowed
from gateway.routes.boards import scope_meeting
from gateway.routes.common import user
from gateway.web.core import page, page_lang, redirect, render
from gateway.web.entry import localized
from services.indicators.exceptions import ExpressionError
from services.indicators.expression import operands, parse
from services.indicators.schemas import DefinitionInput
from shared.errors import Conflict, Invalid, NotFound

BASE = "/indicateurs/catalogue"
PROPOSE_PAGE = f"{BASE}/proposer"  # a board secretary (the table's propose)
DEFINE_PAGE = f"{BASE}/definir"  # the node administrator (the table's define)
PROPOSE = "indicators.definitions.propose"
DEFINE = "indicators.definitions.define"
VALUE_TYPES = ("integer", "number", "percentage")


def _role(ctx: Context) -> str | None:
    return (ctx.user or {}).get("role")


def _text(lang: str, pair: Any, fallback: str = "") -> str:
    if isinstance(pair, dict):
        return str(pair.get(lang) or pair.get("fr") or fallback)
    return fallback


@page(BASE, action="indicators.read", public=True)
def catalogue_page(ctx: Context) -> Response:
    """Data elements, indicators and proposals, each with its versions."""
    lang = page_lang(ctx)
    body = ctx.rpc("indicators", "catalogue", {"proposed": True})
    groups = []
    for key, title in (
        ("data_elements", "cat.elements"),
        ("indicators", "cat.indicators"),
        ("proposed", "cat.proposed"),
    ):
        rows = []
        for item in body.get(key) or []:
            rows.append(
                {
                    "id": item["id"],
                    "kind": item["kind"],
                    "version": item["version"],
                    "status": item["status"],
                    "name": _text(lang, item.get("name"), item["id"]),
                    "definition": _text(lang, item.get("definition")),
                    "formula": " / ".join(
                        f
                        for f in (item.get("numerator"), item.get("denominator"))
                        if f and f != "1"
                    ),
                    "categories": ", ".join(
                        _text(lang, c.get("name"), c["id"])
                        for c in item.get("categories") or []
                    ),
                    "adopted": item.get("adopted") or {},
                }
            )
        groups.append({"key": key, "title": title, "rows": rows})
    return render(
        ctx,
        "catalogue.html",
        groups=groups,
        write=DEFINE_PAGE
        if allowed(DEFINE, _role(ctx))
        else PROPOSE_PAGE
        if allowed(PROPOSE, _role(ctx))
        else "",
        done=ctx.request.args.get("fait", ""),
    )


@page(f"{BASE}/<kind>/<definition_id>", action="indicators.read", public=True)
def history_page(ctx: Context, kind: str, definition_id: str) -> Response:
    """Every version of one definition, oldest first."""
    lang = page_lang(ctx)
    versions = ctx.rpc("indicators", "definition_history", kind, definition_id)
    rows = [
        {
            "version": v["version"],
            "status": v["status"],
            "digest": v["digest"],
            "name": _text(lang, v.get("name"), definition_id),
            "definition": _text(lang, v.get("definition")),
            "adopted": v.get("adopted") or {},
        }
        for v in versions
    ]
    return render(ctx, "catalogue_history.html", rows=rows, ident=definition_id)


# --- the form ---------------------------------------------------------------------


def _meetings(ctx: Context) -> list[dict[str, Any]]:
    """The scheduled meetings of the boards of the account's MRC."""
    mrc = str((ctx.user or {}).get("mrc") or "")
    rt = ctx.runtime  # type: ignore[attr-defined]
    boards = sorted(
        d["_id"] for d in rt.store.db.board_scopes.find({"mrc": mrc}, {"_id": 1})
    )
    found = []
    for board in boards:
        for m in ctx.rpc("boards", "list_meetings", board):
            if m.get("status") in ("scheduled", "open"):
                found.append(
                    {
                        "id": m["meeting_id"],
                        "label": f"{board} — {str(m.get('starts_at') or '')[:10]}"
                        f" {m.get('place') or ''}".strip(),
                    }
                )
    return found


def _form(ctx: Context, **values: Any) -> dict[str, Any]:
    lang = page_lang(ctx)
    cats = ctx.rpc("indicators", "categories")
    existing = [
        {
            "id": c["id"],
            "name": _text(lang, c.get("name"), c["id"]),
            "options": ", ".join(
                _text(lang, o.get("name"), o["id"]) for o in c["options"]
            ),
        }
        for c in cats.get("categories") or []
        if not c.get("attribute")
    ]
    proposes = not allowed(DEFINE, _role(ctx))
    return {
        "action": PROPOSE_PAGE if proposes else DEFINE_PAGE,
        "existing": existing,
        "value_types": VALUE_TYPES,
        "proposes": proposes,
        "meetings": _meetings(ctx) if proposes else [],
        "typed": {},
        "errors": {},
        "alert": "",
        "preview": None,
        **values,
    }


def _writer(ctx: Context) -> None:
    if not (allowed(PROPOSE, _role(ctx)) or allowed(DEFINE, _role(ctx))):
        raise Invalid(
            {
                "role": [
                    "secrétaire d'un conseil ou administration du nœud / a "
                    "board secretary or the node administrator"
                ]
            },
            "Seuls le ou la secrétaire d'un conseil (qui propose) et "
            "l'administration du nœud (qui définit) écrivent le catalogue.",
            "Only a board secretary (who proposes) and the node administrator "
            "(who defines) write the catalogue.",
        )


def new_page(ctx: Context) -> Response:
    """The form of a new data element (with categories) or indicator."""
    _writer(ctx)
    return render(ctx, "catalogue_form.html", **_form(ctx))


@page(PROPOSE_PAGE, action=PROPOSE, public=False)
def propose_page(ctx: Context) -> Response:
    """A secretary's form: a proposal placed on a meeting of their board."""
    return new_page(ctx)


@page(DEFINE_PAGE, action=DEFINE, public=False)
def define_page(ctx: Context) -> Response:
    """The node administrator's form: a definition in force at once."""
    return new_page(ctx)


def _pair(form: Any, name: str) -> dict[str, str]:
    return {
        "fr": form.get(f"{name}_fr", "").strip(),
        "en": form.get(f"{name}_en", "").strip(),
    }


def _options(text: str) -> list[dict[str, Any]]:
    """``f | Femmes | Women`` per line -> ``{"id": "f", "name": {...}}``."""
    found = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        ident = parts[0]
        fr = parts[1] if len(parts) > 1 else ident
        en = parts[2] if len(parts) > 2 else fr
        found.append({"id": ident, "name": {"fr": fr, "en": en}})
    return found


def _content(ctx: Context, kind: str) -> dict[str, Any]:
    form = ctx.request.form
    texts = {k: _pair(form, k) for k in ("name", "definition", "use")}
    if kind == "indicator":
        content: dict[str, Any] = {"numerator": form.get("numerateur", "").strip()}
        if form.get("denominateur", "").strip():
            content["denominator"] = form.get("denominateur", "").strip()
        factor = form.get("facteur", "").strip()
        if factor:
            try:
                content["factor"] = float(factor.replace(",", "."))
            except ValueError:
                content["factor"] = factor  # the service names the field
        return content | texts
    content = {"value_type": form.get("type", "integer")}
    for key, field in (("min", "minimum"), ("max", "maximum")):
        given = form.get(field, "").strip()
        if given:
            try:
                content[key] = float(given.replace(",", "."))
            except ValueError:
                content[key] = given
    cats = ctx.rpc("indicators", "categories").get("categories") or []
    known = {c["id"]: c for c in cats}
    chosen = [known[c] for c in form.getlist("categorie") if c in known]
    categories = [
        {"id": c["id"], "name": c["name"], "options": c["options"]} for c in chosen
    ]
    if form.get("cat_id", "").strip():
        categories.append(
            {
                "id": form.get("cat_id", "").strip(),
                "name": _pair(form, "cat_name"),
                "options": _options(form.get("cat_options", "")),
            }
        )
    if categories:
        content["categories"] = categories
    return content | texts


def _unknown_term(ctx: Context, content: dict[str, Any], lang: str) -> str | None:
    """The catalogue's own refusal of a term it does not know (or has
    retired), as the proposal would get it (:func:`definitions._formula`)."""
    body = ctx.rpc("indicators", "catalogue")
    active = {
        d["id"] for d in body.get("data_elements") or [] if d["status"] != "retired"
    }
    for key in ("numerator", "denominator"):
        text = content.get(key)
        if not text:
            continue
        try:
            used = operands(parse(text))
        except ExpressionError as exc:
            return localized(str(exc), lang)
        for element in sorted(used - active):
            fr = f"champ « content.{key} » : élément de données inconnu « {element} »"
            en = f'field "content.{key}": unknown data element "{element}"'
            return en if lang == "en" else fr
    return None


def _preview(ctx: Context, content: dict[str, Any], lang: str) -> dict[str, Any]:
    refused = _unknown_term(ctx, content, lang)
    if refused:
        return {"refused": refused}
    mrc = str((ctx.user or {}).get("mrc") or "")
    year = str(date.today().year - 1)
    query = {
        "numerator": content.get("numerator") or "",
        "denominator": content.get("denominator") or "1",
        "factor": content.get("factor") or 1,
        "org_unit": f"cd:{mrc}",
        "period": year,
        "public": True,
    }
    try:
        found = ctx.rpc("indicators", "evaluate", query)
    except Invalid as exc:
        return {"refused": localized(exc.fields, lang) or exc.message(lang)}
    return {
        "value": found.get("value"),
        "suppressed": bool(found.get("suppressed")),
        "period": year,
    }


@page(PROPOSE_PAGE, ("POST",), action=PROPOSE, public=False)
def submit_proposal(ctx: Context) -> Response:
    """Propose (the table's propose action) on a meeting of one's board."""
    return submit(ctx)


@page(DEFINE_PAGE, ("POST",), action=DEFINE, public=False)
def submit_definition(ctx: Context) -> Response:
    """Define (the table's define action): in force at once."""
    return submit(ctx)


def submit(ctx: Context) -> Response:
    """Preview, propose (on a meeting of one's board) or define a definition."""
    _writer(ctx)
    lang = page_lang(ctx)
    form = ctx.request.form
    kind = form.get("sorte", "")
    kind = kind if kind in ("data_element", "indicator") else "data_element"
    typed: dict[str, Any] = {k: v for k, v in form.items() if k != "csrf_token"}
    typed["categorie"] = form.getlist("categorie")
    content = _content(ctx, kind)
    if form.get("apercu") and kind == "indicator":
        return render(
            ctx,
            "catalogue_form.html",
            **_form(ctx, typed=typed, preview=_preview(ctx, content, lang)),
        )
    body = {"kind": kind, "id": form.get("id", "").strip(), "content": content}
    record_request(ctx, body)
    defines = allowed(DEFINE, _role(ctx))
    meeting_id = form.get("reunion", "").strip()
    try:
        DefinitionInput().load(body)
        if not defines and not meeting_id:
            raise ValidationError(
                {"reunion": ["réunion requise / a meeting is required"]}
            )
    except ValidationError as exc:
        return _refused(ctx, typed, localized(exc.messages, lang), exc.messages, lang)
    if meeting_id and not defines:
        scope_meeting(ctx, meeting_id)  # another MRC's board: refused, named
    method = "define" if defines else "propose_definition"
    try:
        done = ctx.rpc("indicators", method, {**body, "by": user(ctx)["sub"]})
    except (Invalid, Conflict, NotFound) as exc:
        fields = exc.fields if isinstance(exc, Invalid) else {}
        message = localized(fields, lang) if fields else exc.message(lang)
        return _refused(ctx, typed, message, fields, lang)
    if not defines:
        name = done.get("name") or {}
        ctx.rpc(
            "boards",
            "add_agenda_item",
            meeting_id,
            {
                "title": f"Catalogue : {name.get('fr') or done['id']} "
                f"(version {done['version']})",
                "definition": done["reference"],
            },
        )
    suffix = "&lang=en" if lang == "en" else ""
    return redirect(f"{BASE}?fait={'propose' if not defines else 'defini'}{suffix}")


def _refused(
    ctx: Context, typed: dict[str, Any], message: str, fields: Any, lang: str
) -> Response:
    names = fields if isinstance(fields, dict) else {}
    errors = {str(k): localized(v, lang) for k, v in names.items()}
    return render(
        ctx,
        "catalogue_form.html",
        status=422,
        **_form(ctx, typed=typed, errors=errors, alert=message),
    )
