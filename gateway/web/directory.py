"""Directory editing in the browser: practitioners keep their MRC's services.

Every write is the offerings RPC the JSON API calls, with the same ``actor``
(:func:`gateway.routes.offerings.actor`: the account's MRC, the node's, whether
the role may lift a shelter's confidentiality), under the API's action
(``offerings.services.manage``, ``offerings.import``), so the permission
table, the CSRF check, the audit and the service's validation are the API's.
A refusal of the service (a record of another MRC: 403) is shown in the
person's language; a field the service refuses comes back on the form::

    POST /annuaire/gestion/services/<id>/attente  waiting_list_open=1&length=12
    -> offerings.update_service(id, {"waiting_list_open": true,
                                     "waiting_list_length": 12}, actor)

Reads use the reader's audience (:func:`gateway.routes.offerings.audience`),
so the export of an anonymous visitor is the public view: a confidential
location's address and coordinates never leave in it.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from werkzeug.wrappers import Response

from gateway import audit
from gateway.api import Context
from gateway.routes.offerings import actor, audience
from gateway.web import directory_views as dv
from gateway.web import views
from gateway.web.core import page, page_lang, redirect, render
from services.offerings.domain import quebec_time
from services.offerings.formats import (
    read_json_document,
    tabular_document,
    write_csv_package,
)
from services.offerings.hsds import OUTREACH_MODES, TABLE_BY_PATH
from shared.errors import Invalid

BASE = "/annuaire/gestion"
MANAGE = "offerings.services.manage"
LANGUAGES = ("fr", "en", "es", "ar", "iu", "cr", "moe")
MAX_UPLOAD = 900 * 1024  # under the gateway's 1 MiB body limit


def _staff(ctx: Context) -> str:
    return audience(ctx)


def _who(ctx: Context) -> dict[str, Any]:
    return actor(ctx)


def _all_services(ctx: Context, reader: str, full: bool = False) -> list[dict]:
    found: list[dict[str, Any]] = []
    number = 1
    while True:
        params = {"per_page": 200, "page": number, "full": full}
        chunk = ctx.rpc("offerings", "search", params, reader)
        found.extend(chunk.get("contents") or [])
        if number >= int(chunk.get("total_pages") or 1) or number >= 50:
            return found
        number += 1


def _organizations(ctx: Context) -> list[dict[str, Any]]:
    answer = ctx.rpc("offerings", "list_organizations", {"per_page": 200}, _staff(ctx))
    return list(answer.get("contents") or [])


def _errors(exc: Invalid, lang: str) -> dict[str, str]:
    out = {}
    for name, reasons in exc.fields.items():
        items = reasons if isinstance(reasons, list) else [reasons]
        texts = []
        for reason in items:
            text = str(reason)
            fr, sep, en = text.partition(" / ")
            texts.append((en if lang == "en" else fr) if sep else text)
        out[str(name)] = " ".join(texts)
    return out


def _same_lang(ctx: Context) -> str:
    """``&lang=en`` when the form was sent from a page asked in English, so the
    page after the write stays in the person's language."""
    return "&lang=en" if ctx.request.args.get("lang") == "en" else ""


def _number(text: str | None) -> int | str | None:
    text = (text or "").strip().replace(" ", "")
    if not text:
        return None
    return int(text) if text.isdigit() else text  # the service names a bad one


def _decimal(text: str | None) -> float | str | None:
    text = (text or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return text


# --- the staff's directory --------------------------------------------------------


@page(BASE, action=MANAGE, public=False)
def directory_home(ctx: Context) -> Response:
    """The MRC's organizations and services, drafts included; import, export."""
    services = _all_services(ctx, _staff(ctx))
    return render(
        ctx,
        "directory_home.html",
        organizations=_organizations(ctx),
        services=[{**s, "waiting": views.waiting_list(s)} for s in services],
        report=None,
        mrc=dv.mrc_name((ctx.user or {}).get("mrc")),
    )


@page(f"{BASE}/organismes/nouveau", action=MANAGE, public=False)
def new_organization(ctx: Context) -> Response:
    """The form of a new organization."""
    return render(ctx, "directory_organization.html", form={}, errors={})


@page(f"{BASE}/organismes", ("POST",), action=MANAGE, public=False)
def create_organization(ctx: Context) -> Response:
    """Create (and publish, unless kept as a draft) an organization."""
    form = ctx.request.form
    data = {
        k: form.get(k, "").strip()
        for k in ("name", "description", "email", "website")
        if form.get(k, "").strip()
    }
    try:
        made = ctx.rpc("offerings", "create_organization", data, _who(ctx))
    except Invalid as exc:
        errors = _errors(exc, page_lang(ctx))
        return render(
            ctx,
            "directory_organization.html",
            status=422,
            form=form.to_dict(),
            errors=errors,
        )
    if form.get("publish"):
        ctx.rpc("offerings", "publish_organization", made["id"], _who(ctx))
    return redirect(f"{BASE}/services/nouveau?organisme={made['id']}")


ORGANIZATION_TEXT = ("name", "description", "email", "website")


@page(f"{BASE}/organismes/<organization_id>", action=MANAGE, public=False)
def organization_page(ctx: Context, organization_id: str) -> Response:
    """The organization's form, pre-filled, to correct it or withdraw it."""
    found = ctx.rpc("offerings", "get_organization", organization_id, _staff(ctx))
    done = ctx.request.args.get("fait") or ""
    return render(
        ctx,
        "directory_organization.html",
        form=dict(found),
        errors={},
        done=done if done.replace("_", "").isalpha() else "",
    )


@page(f"{BASE}/organismes/<organization_id>", ("POST",), action=MANAGE, public=False)
def update_organization(ctx: Context, organization_id: str) -> Response:
    """Change the organization: the RPC of ``PATCH /organizations/{id}``."""
    form = ctx.request.form
    data = {k: form.get(k, "").strip() for k in ORGANIZATION_TEXT if k in form}
    data = {k: v for k, v in data.items() if v or k == "name"}
    try:
        ctx.rpc("offerings", "update_organization", organization_id, data, _who(ctx))
    except Invalid as exc:
        return render(
            ctx,
            "directory_organization.html",
            status=422,
            form={**form.to_dict(), "id": organization_id},
            errors=_errors(exc, page_lang(ctx)),
        )
    return redirect(f"{BASE}/organismes/{organization_id}?fait=saved{_same_lang(ctx)}")


@page(
    f"{BASE}/organismes/<organization_id>/retirer",
    ("POST",),
    action=MANAGE,
    public=False,
)
def withdraw_organization(ctx: Context, organization_id: str) -> Response:
    """Withdraw the organization: ``POST /organizations/{id}/withdraw``."""
    ctx.rpc("offerings", "withdraw_organization", organization_id, _who(ctx))
    return redirect(
        f"{BASE}/organismes/{organization_id}?fait=withdrawn{_same_lang(ctx)}"
    )


# --- services ---------------------------------------------------------------------

SERVICE_TEXT = (
    "name",
    "description",
    "eligibility_description",
    "fees_description",
    "application_process",
    "url",
    "email",
    # the English text the offerings service keeps beside the French
    # (services.offerings.hsds.TRANSLATED); a page falls back to the other one
    "name_en",
    "description_en",
    "eligibility_description_en",
    "fees_description_en",
)


def service_changes(form: Any) -> dict[str, Any]:
    """The service fields a form means (the service's own names and types)."""
    data: dict[str, Any] = {
        k: form.get(k, "").strip() for k in SERVICE_TEXT if form.get(k) is not None
    }
    data = {k: v for k, v in data.items() if v or k in ("name",)}
    data["no_referral_required"] = form.get("no_referral_required") == "1"
    data["outreach_modes"] = [m for m in form.getlist("outreach") if m]
    languages = [code for code in form.getlist("language") if code]
    other = form.get("other_languages", "").replace(";", ",")
    languages += [c.strip().lower() for c in other.split(",") if c.strip()]
    data["languages"] = list(dict.fromkeys(languages))
    capacity = _number(form.get("capacity"))
    if capacity is not None:
        data["capacity"] = capacity
    return data


def _service_form(
    ctx: Context,
    template: str,
    service: dict[str, Any],
    errors: dict[str, str] | None = None,
    status: int = 200,
    **extra: Any,
) -> Response:
    lang = page_lang(ctx)
    places = []
    for link in service.get("service_at_locations") or []:
        location = link.get("location") if isinstance(link, dict) else None
        if isinstance(location, dict):
            places.append(location)
    now = quebec_time(datetime.now(UTC))
    schedules = list(service.get("schedules") or [])
    return render(
        ctx,
        template,
        status=status,
        service=service,
        errors=errors or {},
        outreach=OUTREACH_MODES,
        languages=LANGUAGES,
        chosen_languages=[
            (x.get("code") if isinstance(x, dict) else x)
            for x in service.get("languages") or []
        ],
        places=places,
        waiting=views.waiting_list(service),
        schedules=[dv.schedule_text(s, lang) for s in schedules],
        openings=[dv.moment_text(m, lang) for m in dv.next_openings(schedules, now)],
        readers=dv.confidential_readers(lang),
        **extra,
    )


@page(f"{BASE}/services/nouveau", action=MANAGE, public=False)
def new_service(ctx: Context) -> Response:
    """The form of a new service (of one of the organizations)."""
    chosen = ctx.request.args.get("organisme") or ""
    return _service_form(
        ctx,
        "directory_service_new.html",
        {"organization_id": chosen},
        organizations=_organizations(ctx),
    )


@page(f"{BASE}/services", ("POST",), action=MANAGE, public=False)
def create_service(ctx: Context) -> Response:
    """Create a service (a draft until published)."""
    form = ctx.request.form
    data = service_changes(form)
    data["organization_id"] = form.get("organization_id", "")
    try:
        made = ctx.rpc("offerings", "create_service", data, _who(ctx))
    except Invalid as exc:
        return _service_form(
            ctx,
            "directory_service_new.html",
            {**form.to_dict(), "languages": data["languages"]},
            _errors(exc, page_lang(ctx)),
            422,
            organizations=_organizations(ctx),
        )
    return redirect(f"{BASE}/services/{made['id']}?fait=created")


def _service(ctx: Context, service_id: str) -> dict[str, Any]:
    return dict(ctx.rpc("offerings", "get_service", service_id, _staff(ctx)))


@page(f"{BASE}/services/<service_id>", action=MANAGE, public=False)
def service_page(ctx: Context, service_id: str) -> Response:
    """A service as its staff keep it: waiting list first, then the rest."""
    done = ctx.request.args.get("fait") or ""
    return _service_form(
        ctx,
        "directory_service.html",
        _service(ctx, service_id),
        done=done if done.replace("_", "").isalpha() else "",
    )


def _update(ctx: Context, service_id: str, changes: dict[str, Any], done: str) -> Any:
    try:
        ctx.rpc("offerings", "update_service", service_id, changes, _who(ctx))
    except Invalid as exc:
        return _service_form(
            ctx,
            "directory_service.html",
            _service(ctx, service_id),
            _errors(exc, page_lang(ctx)),
            422,
            done="",
        )
    return redirect(f"{BASE}/services/{service_id}?fait={done}")


@page(f"{BASE}/services/<service_id>", ("POST",), action=MANAGE, public=False)
def update_service(ctx: Context, service_id: str) -> Response:
    """Change the service's description, languages, access and capacity."""
    return _update(ctx, service_id, service_changes(ctx.request.form), "saved")


@page(f"{BASE}/services/<service_id>/attente", ("POST",), action=MANAGE, public=False)
def waiting_list(ctx: Context, service_id: str) -> Response:
    """The weekly update: open or closed, how many wait, the typical wait."""
    form = ctx.request.form
    changes: dict[str, Any] = {}
    state = form.get("waiting_list_open")
    if state in ("1", "0"):
        changes["waiting_list_open"] = state == "1"
    for name in ("waiting_list_length", "typical_wait_days"):
        value = _number(form.get(name))
        if value is not None:
            changes[name] = value
    return _update(ctx, service_id, changes, "waiting")


@page(f"{BASE}/services/<service_id>/publier", ("POST",), action=MANAGE, public=False)
def publish_service(ctx: Context, service_id: str) -> Response:
    """Publish: the public finds it from now on."""
    ctx.rpc("offerings", "publish_service", service_id, _who(ctx))
    return redirect(f"{BASE}/services/{service_id}?fait=published")


@page(f"{BASE}/services/<service_id>/retirer", ("POST",), action=MANAGE, public=False)
def withdraw_service(ctx: Context, service_id: str) -> Response:
    """Withdraw: the public no longer finds it (``POST /services/{id}/withdraw``,
    with its optional reason)."""
    reason = (ctx.request.form.get("reason") or "").strip() or None
    ctx.rpc("offerings", "withdraw_service", service_id, _who(ctx), reason)
    return redirect(f"{BASE}/services/{service_id}?fait=withdrawn{_same_lang(ctx)}")


@page(
    f"{BASE}/services/<service_id>/horaires",
    ("POST",),
    action="offerings.import",
    public=False,
)
def add_schedule(ctx: Context, service_id: str) -> Response:
    """Add a weekly or monthly opening rule (an HSDS ``schedule`` row, written
    as the import writes it: checked and authorised the same way)."""
    form = ctx.request.form
    freq = "MONTHLY" if form.get("freq") == "MONTHLY" else "WEEKLY"
    days = [d for d in form.getlist("byday") if d in dv.DAYS]
    nth = (form.get("nth") or "").strip()
    if freq == "MONTHLY" and nth in ("1", "2", "3", "4", "-1"):
        days = [f"{nth}{d}" for d in days]
    row = {
        "id": str(__import__("uuid").uuid4()),
        "service_id": service_id,
        "freq": freq,
        "byday": ",".join(days),
        "opens_at": (form.get("opens_at") or "").strip(),
        "closes_at": (form.get("closes_at") or "").strip(),
        "description": (form.get("description") or "").strip(),
    }
    errors = {}
    if not days:
        errors["byday"] = dv_text(ctx, "dir.sched.no_day")
    for name in ("opens_at", "closes_at"):
        if len(row[name]) != 5 or row[name][2] != ":":
            errors[name] = dv_text(ctx, "dir.sched.bad_time")
    if not errors:
        try:
            ctx.rpc(
                "offerings",
                "import_document",
                {"schedule": [{k: v for k, v in row.items() if v}]},
                _who(ctx),
                "horaire.json",
            )
        except Invalid as exc:
            errors = _errors(exc, page_lang(ctx))
    if errors:
        return _service_form(
            ctx, "directory_service.html", _service(ctx, service_id), errors, 422
        )
    return redirect(f"{BASE}/services/{service_id}?fait=schedule#horaires")


def dv_text(ctx: Context, key: str) -> str:
    from gateway.web.messages import translate

    return translate(key, page_lang(ctx))


# --- locations --------------------------------------------------------------------


def location_changes(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """A location's fields from the form; municipality by name, never a code."""
    errors: dict[str, str] = {}
    data: dict[str, Any] = {
        k: form.get(k, "").strip()
        for k in ("name", "description", "transportation")
        if form.get(k, "").strip()
    }
    data["confidential_location"] = form.get("confidential_location") == "1"
    if form.get("mrc_code"):
        data["mrc_code"] = form.get("mrc_code")
    town = form.get("municipality", "").strip()
    if town:
        code = dv.municipality_code(town)
        if code is None:
            errors["municipality"] = "?"
        else:
            data["municipality_code"] = code
    for name in ("latitude", "longitude"):
        value = _decimal(form.get(name))
        if value is not None:
            data[name] = value
    address = {
        k: form.get(k, "").strip()
        for k in ("address_1", "address_2", "city", "postal_code")
        if form.get(k, "").strip()
    }
    if address:
        data["addresses"] = [address]
    return data, errors


def _location_form(
    ctx: Context,
    service_id: str,
    location: dict[str, Any],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    lang = page_lang(ctx)
    mrc = location.get("mrc_code") or (ctx.user or {}).get("mrc")
    address = (location.get("addresses") or [{}])[0]
    if errors and errors.get("municipality") == "?":
        errors["municipality"] = dv_text(ctx, "dir.loc.unknown_town")
    return render(
        ctx,
        "directory_location.html",
        status=status,
        service_id=service_id,
        location=location,
        address=address,
        errors=errors or {},
        mrcs=dv.mrc_choices(),
        mrc=mrc,
        towns=dv.municipality_choices(mrc),
        town=location.get("municipality")
        or dv.municipality_label(location.get("municipality_code")),
        readers=dv.confidential_readers(lang),
        mrc_label=dv.mrc_name(mrc),
    )


@page(f"{BASE}/services/<service_id>/lieux/nouveau", action=MANAGE, public=False)
def new_location(ctx: Context, service_id: str) -> Response:
    """Where the service is given: a new place (a shelter stays confidential)."""
    _service(ctx, service_id)
    return _location_form(ctx, service_id, {"confidential_location": False})


@page(f"{BASE}/services/<service_id>/lieux", ("POST",), action=MANAGE, public=False)
def create_location(ctx: Context, service_id: str) -> Response:
    """Create the place, publish it and give the service there."""
    form = ctx.request.form
    data, errors = location_changes(form)
    shown = {**form.to_dict(), "confidential_location": data["confidential_location"]}
    if errors:
        return _location_form(ctx, service_id, shown, errors, 422)
    service = _service(ctx, service_id)
    try:
        made = ctx.rpc("offerings", "create_location", data, _who(ctx))
    except Invalid as exc:
        return _location_form(ctx, service_id, shown, _errors(exc, page_lang(ctx)), 422)
    ctx.rpc("offerings", "publish_location", made["id"], _who(ctx))
    linked = [
        link["location"]["id"]
        for link in service.get("service_at_locations") or []
        if isinstance(link, dict) and isinstance(link.get("location"), dict)
    ]
    ctx.rpc(
        "offerings",
        "update_service",
        service_id,
        {"location_ids": [*linked, made["id"]]},
        _who(ctx),
    )
    return redirect(f"{BASE}/services/{service_id}?fait=place")


@page(f"{BASE}/services/<service_id>/lieux/<location_id>", action=MANAGE, public=False)
def location_page(ctx: Context, service_id: str, location_id: str) -> Response:
    """A place of the service, to correct its address or coordinates."""
    location = ctx.rpc("offerings", "get_location", location_id, _staff(ctx))
    return _location_form(ctx, service_id, dict(location))


@page(
    f"{BASE}/services/<service_id>/lieux/<location_id>",
    ("POST",),
    action=MANAGE,
    public=False,
)
def update_location(ctx: Context, service_id: str, location_id: str) -> Response:
    """Change the place (the service refuses lifting confidentiality unless the
    permission table allows the role: the node administrator)."""
    form = ctx.request.form
    data, errors = location_changes(form)
    shown = {**form.to_dict(), "id": location_id, **data}
    if errors:
        return _location_form(ctx, service_id, shown, errors, 422)
    # the audit keeps the place's state before, as PATCH /locations/{id} does
    before = ctx.rpc("offerings", "get_location", location_id, "confidential")
    audit.record_before(ctx, {k: v for k, v in before.items() if k != "metadata"})
    try:
        ctx.rpc("offerings", "update_location", location_id, data, _who(ctx))
    except Invalid as exc:
        return _location_form(ctx, service_id, shown, _errors(exc, page_lang(ctx)), 422)
    return redirect(f"{BASE}/services/{service_id}?fait=place_saved")


@page(
    f"{BASE}/services/<service_id>/lieux/<location_id>/retirer",
    ("POST",),
    action=MANAGE,
    public=False,
)
def withdraw_location(ctx: Context, service_id: str, location_id: str) -> Response:
    """Withdraw the place: ``POST /locations/{id}/withdraw``."""
    ctx.rpc("offerings", "withdraw_location", location_id, _who(ctx))
    return redirect(
        f"{BASE}/services/{service_id}?fait=place_withdrawn{_same_lang(ctx)}"
    )


# --- import and export ------------------------------------------------------------


def upload_document(name: str, data: bytes) -> Any:
    """An uploaded HSDS file as the document ``offerings.import_document`` reads:
    JSON as is; a CSV table named as HSDS names it (``services.csv``); a zip of
    such tables (the CSV package the export gives)."""
    lower = name.lower()
    if lower.endswith(".json"):
        return json.loads(data.decode("utf-8-sig"))
    if lower.endswith(".csv"):
        return {Path(name).name: _csv_rows(data)}
    if lower.endswith(".zip"):
        tables = {}
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.namelist():
                base = Path(member).name
                if base in TABLE_BY_PATH:
                    rows = _csv_rows(archive.read(member))
                    if rows:
                        tables[base] = rows
        return tables
    raise ValueError(name)


def _csv_rows(data: bytes) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    return [
        {k: v for k, v in row.items() if k and v not in (None, "")} for row in reader
    ]


@page(f"{BASE}/import", ("POST",), action="offerings.import", public=False)
def import_file(ctx: Context) -> Response:
    """Upload an HSDS file: all or nothing, the report names file, row, field."""
    lang = page_lang(ctx)
    upload = ctx.request.files.get("file")
    report: dict[str, Any] = {}
    status = 201
    if upload is None or not upload.filename:
        report = {"ok": False, "message": dv_text(ctx, "dir.import.no_file")}
        status = 422
    else:
        name = Path(upload.filename).name
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:120]
        try:
            document = upload_document(safe, upload.read(MAX_UPLOAD + 1))
            report = ctx.rpc(
                "offerings", "import_document", document, _who(ctx), safe or "file"
            )
        except (ValueError, UnicodeDecodeError, zipfile.BadZipFile):
            report = {"ok": False, "message": dv_text(ctx, "dir.import.unreadable")}
            status = 422
        except Invalid as exc:
            report = dict(exc.details.get("report") or {})
            report.setdefault("message", exc.message(lang))
            report["ok"] = False
            status = 422
    problems = [
        {
            "file": p.get("file"),
            "row": p.get("row"),
            "field": p.get("field"),
            "reason": p.get("reason_en") if lang == "en" else p.get("reason_fr"),
        }
        for p in report.get("problems") or []
    ]
    return render(
        ctx,
        "directory_import.html",
        status=status,
        report=report,
        problems=problems,
    )


def export_dataset(ctx: Context) -> Any:
    """The directory as the reader may see it (an anonymous visitor: the public
    view), flattened back into HSDS tables."""
    services = _all_services(ctx, audience(ctx), full=True)
    return read_json_document(services, "services.json").dataset


@page("/annuaire/export.json", action="web.directory.export")
def export_json(ctx: Context) -> Response:
    """The directory as one HSDS 3.0 JSON object keyed by table."""
    body = json.dumps(tabular_document(export_dataset(ctx)), ensure_ascii=False)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="annuaire.json"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@page("/annuaire/export.zip", action="web.directory.export")
def export_csv(ctx: Context) -> Response:
    """The directory as the HSDS CSV package (one CSV per table, zipped)."""
    dataset = export_dataset(ctx)
    buffer = io.BytesIO()
    with TemporaryDirectory() as tmp, zipfile.ZipFile(buffer, "w") as archive:
        write_csv_package(dataset, Path(tmp))
        for file in sorted(Path(tmp).iterdir()):
            archive.write(file, file.name)
    response = Response(buffer.getvalue(), mimetype="application/zip")
    response.headers["Content-Disposition"] = 'attachment; filename="annuaire-csv.zip"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
