"""Accounts and the audit log in the browser: the node administrator's pages,
one's own password, and the page a one-time reset link opens.

Each write calls the JSON API's own handler (:mod:`gateway.routes.accounts`)
with the form loaded by the API's own schema, under the API's action, so the
permission table, the CSRF check of the session cookie, the audit and the
validation are the API's (no second path). Nobody ever sees a password: an
account is made with a random one nobody knows, and the administrator hands
the person a one-time link to choose theirs::

    POST /admin/comptes  username=lea&display_name=Léa&role=practitioner&mrc=2456
    -> 200 the account's page with its link /mot-de-passe/nouveau?jeton=eyJ...
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from marshmallow import ValidationError
from werkzeug.wrappers import Response

from gateway.api import Context
from gateway.messages import localize
from gateway.permissions import PERMISSIONS
from gateway.routes import accounts as api_accounts
from gateway.web import directory_views as dv
from gateway.web.core import page, page_lang, redirect, render
from shared.errors import Invalid, MaillageError, http_status

RESET_PAGE = "/mot-de-passe/nouveau"
SEARCH_LIMIT = 500


def _field_errors(exc: ValidationError | Invalid, lang: str) -> dict[str, str]:
    fields = exc.fields if isinstance(exc, Invalid) else exc.messages
    if not isinstance(fields, dict):
        fields = {"_schema": fields}
    found = localize(fields, lang) if isinstance(exc, ValidationError) else fields
    out = {}
    for name, reasons in found.items():
        items = reasons if isinstance(reasons, list) else [reasons]
        out[str(name)] = " ".join(_in(str(r), lang) for r in items)
    return out


def _in(text: str, lang: str) -> str:
    """``"fr / en"`` reasons read in one language."""
    if " / " in text:
        fr, _, en = text.partition(" / ")
        return en if lang == "en" else fr
    return text


def _account_view(account: dict[str, Any], lang: str) -> dict[str, Any]:
    return {
        **account,
        "role_label": dv.role_label(account.get("role"), lang),
        "mrc_name": dv.mrc_name(account.get("mrc")),
    }


def _reset_url(ctx: Context, token: str) -> str:
    return f"{ctx.request.host_url.rstrip('/')}{RESET_PAGE}?jeton={token}"


# --- the list, with search --------------------------------------------------------


@page("/admin/comptes", action="accounts.list", public=False)
def account_list(ctx: Context) -> Response:
    """Accounts, searched by user name or name, filtered by role."""
    lang = page_lang(ctx)
    q = (ctx.request.args.get("q") or "").strip().casefold()
    role = ctx.request.args.get("role") or None
    if role not in PERMISSIONS["accounts.me"]:
        role = None
    rows, _total = api_accounts.runtime(ctx).store.accounts(
        {"role": role, "mrc": None}, 0, SEARCH_LIMIT
    )
    shown = [
        _account_view(api_accounts.public_account(r), lang)
        for r in rows
        if not q
        or q in str(r.get("username", "")).casefold()
        or q in str(r.get("display_name", "")).casefold()
    ]
    return render(
        ctx,
        "accounts.html",
        accounts=shown,
        q=ctx.request.args.get("q") or "",
        role=role or "",
        roles=dv.role_choices(lang),
    )


def _new_form(
    ctx: Context,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    message: str = "",
    status: int = 200,
) -> Response:
    return render(
        ctx,
        "account_new.html",
        status=status,
        form=form or {},
        errors=errors or {},
        message=message,
        roles=dv.role_choices(page_lang(ctx)),
        mrcs=dv.mrc_choices(),
    )


@page("/admin/comptes/nouveau", action="accounts.create", public=False)
def new_account(ctx: Context) -> Response:
    """The form of a new account (no password: the person chooses it)."""
    return _new_form(ctx)


@page("/admin/comptes", ("POST",), action="accounts.create", public=False)
def create_account(ctx: Context) -> Response:
    """Create through the API's handler, then show the one-time link once."""
    lang = page_lang(ctx)
    form = {
        k: (ctx.request.form.get(k) or "").strip()
        for k in ("username", "display_name", "role", "mrc")
    }
    data = {k: v for k, v in form.items() if v or k == "display_name"}
    data["username"] = data.get("username", "").lower()
    data["password"] = secrets.token_urlsafe(32)  # nobody knows it
    try:
        ctx.body = api_accounts.NewAccount().load(data)
        made = api_accounts.create_account(ctx)
    except ValidationError as exc:
        return _new_form(ctx, form, _field_errors(exc, lang), "", 422)
    except MaillageError as exc:
        fields = exc.details.get("fields") or {}
        errors = {k: exc.message(lang) for k in fields} or {
            "_schema": exc.message(lang)
        }
        return _new_form(ctx, form, errors, exc.message(lang), http_status(exc))
    rt = api_accounts.runtime(ctx)
    link = api_accounts.reset_token(rt, rt.store.account(made["id"]))
    return _account_page(ctx, made["id"], link=link, done="created")


# --- one account ----------------------------------------------------------------


def _account_page(
    ctx: Context,
    account_id: str,
    *,
    link: dict[str, Any] | None = None,
    done: str = "",
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    lang = page_lang(ctx)
    account = api_accounts.public_account(
        api_accounts.runtime(ctx).store.account(account_id)
    )
    return render(
        ctx,
        "account.html",
        status=status,
        account=_account_view(account, lang),
        roles=dv.role_choices(lang),
        mrcs=dv.mrc_choices(),
        reset_url=_reset_url(ctx, link["token"]) if link else "",
        reset_expires=_when(link["expires_at"], lang) if link else "",
        done=done,
        errors=errors or {},
    )


def _when(stamp: int, lang: str) -> str:
    moment = datetime.fromtimestamp(stamp, UTC)
    return dv.moment_text(moment.replace(tzinfo=None), lang) + " UTC"


@page("/admin/comptes/<account_id>", action="accounts.read", public=False)
def account_page(ctx: Context, account_id: str) -> Response:
    """One account: role, MRC, name, activity; sessions; a reset link."""
    done = ctx.request.args.get("fait") or ""
    return _account_page(ctx, account_id, done=done if done.isalpha() else "")


@page("/admin/comptes/<account_id>", ("POST",), action="accounts.update", public=False)
def update_account(ctx: Context, account_id: str) -> Response:
    """Change role, MRC, name or activity through the API's handler (its
    tokens are revoked when the role or MRC changes)."""
    lang = page_lang(ctx)
    form = ctx.request.form
    data: dict[str, Any] = {
        k: (form.get(k) or "").strip()
        for k in ("role", "mrc", "display_name")
        if form.get(k) is not None
    }
    current = api_accounts.runtime(ctx).store.account(account_id)
    if (form.get("active") == "1") != bool(current.get("active", True)):
        data["active"] = form.get("active") == "1"  # else its sessions stay
    data = {k: v for k, v in data.items() if current.get(k) != v}
    try:
        ctx.body = api_accounts.AccountChange().load(data)
    except ValidationError as exc:
        return _account_page(
            ctx, account_id, errors=_field_errors(exc, lang), status=422
        )
    api_accounts.update_account(ctx, account_id)
    return redirect(f"/admin/comptes/{account_id}?fait=updated")


@page(
    "/admin/comptes/<account_id>/sessions",
    ("POST",),
    action="accounts.revoke",
    public=False,
)
def revoke_sessions(ctx: Context, account_id: str) -> Response:
    """Sign the account out everywhere (every token issued so far)."""
    api_accounts.revoke_account(ctx, account_id)
    return redirect(f"/admin/comptes/{account_id}?fait=revoked")


@page(
    "/admin/comptes/<account_id>/reinitialisation",
    ("POST",),
    action="accounts.update",
    public=False,
)
def reset_link(ctx: Context, account_id: str) -> Response:
    """A one-time link, shown once in this answer (never in an address the
    administrator's browser keeps, nor in the audit)."""
    link = api_accounts.issue_reset(ctx, account_id)
    return _account_page(ctx, account_id, link=link, done="reset")


# --- choosing a password --------------------------------------------------------


def _reset_form(
    ctx: Context, token: str, error: str = "", status: int = 200, done: bool = False
) -> Response:
    return render(
        ctx, "password_reset.html", status=status, token=token, error=error, done=done
    )


@page(RESET_PAGE, action="web.password_reset")
def reset_page(ctx: Context) -> Response:
    """The page a reset link opens: choose a new password (twice)."""
    return _reset_form(ctx, ctx.request.args.get("jeton") or "")


@page(RESET_PAGE, ("POST",), action="auth.password_reset")
def reset_password(ctx: Context) -> Response:
    """Check the link and set the password as ``POST /auth/password-reset`` does;
    the token travels in the form (``token``: the audit masks it)."""
    lang = page_lang(ctx)
    form = ctx.request.form
    token = form.get("token") or ""
    password = form.get("password") or ""
    if password != (form.get("password_again") or ""):
        return _reset_form(ctx, token, _msg("acc.pw.mismatch", lang), 422)
    try:
        body = api_accounts.PasswordReset().load({"token": token, "password": password})
    except ValidationError as exc:
        return _reset_form(ctx, token, _joined(exc, lang), 422)
    rt = api_accounts.runtime(ctx)
    try:
        rt.limits["signin"].take(f"reset:ip:{ctx.request.remote_addr}")
        api_accounts.redeem_reset(rt, body["token"], body["password"])
    except MaillageError as exc:
        return _reset_form(ctx, "", exc.message(lang), http_status(exc))
    return _reset_form(ctx, "", done=True)


def _msg(key: str, lang: str) -> str:
    from gateway.web.messages import translate

    return translate(key, lang)


def _joined(exc: ValidationError, lang: str) -> str:
    errors = _field_errors(exc, lang)
    labels = {"password": _msg("acc.f.new_password", lang), "token": "token"}
    return " ".join(f"{labels.get(k, k)} : {v}" for k, v in errors.items())


@page("/compte/mot-de-passe", action="accounts.me", public=False)
def own_password_page(ctx: Context) -> Response:
    """Change one's own password."""
    return render(ctx, "password_change.html", errors={}, done=False)


@page("/compte/mot-de-passe", ("POST",), action="accounts.me", public=False)
def own_password(ctx: Context) -> Response:
    """The current password, then the new one twice (``POST /accounts/me/password``)."""
    lang = page_lang(ctx)
    form = ctx.request.form
    password = form.get("password") or ""
    if password != (form.get("password_again") or ""):
        errors = {"password_again": _msg("acc.pw.mismatch", lang)}
        return render(ctx, "password_change.html", status=422, errors=errors)
    try:
        ctx.body = api_accounts.PasswordChange().load(
            {
                "current_password": form.get("current_password") or "",
                "password": password,
            }
        )
        api_accounts.change_password(ctx)
    except (ValidationError, Invalid) as exc:
        errors = _field_errors(exc, lang)
        return render(ctx, "password_change.html", status=422, errors=errors)
    return render(ctx, "password_change.html", errors={}, done=True)


# --- the audit log --------------------------------------------------------------


def _day(text: str) -> datetime | None:
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None


def audit_row(row: dict[str, Any], names: dict[str, str], lang: str) -> dict[str, Any]:
    """An entry as read: who by name, what, the fields sent (ballots stay ***)."""
    who = row.get("actor") or {}
    sent = row.get("request")
    if isinstance(sent, dict):
        fields = ", ".join(f"{k}={_short(v)}" for k, v in sorted(sent.items()))
    else:
        fields = _short(sent) if sent is not None else ""
    at = row.get("at")
    return {
        "at": at.strftime("%Y-%m-%d %H:%M:%S") if isinstance(at, datetime) else at,
        "who": names.get(str(who.get("sub")), who.get("name") or who.get("sub") or "—"),
        "role": dv.role_label(who.get("role"), lang) if who.get("role") else "",
        "action": row.get("action", ""),
        "method": row.get("method", ""),
        "path": row.get("path", ""),
        "outcome": row.get("outcome", ""),
        "status": row.get("status"),
        "fields": fields,
    }


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 80 else text[:79] + "…"


@page("/admin/journal", action="audit.read", public=False)
def audit_page(ctx: Context) -> Response:
    """The audit log, newest first: by whom, which action, between two days."""
    lang = page_lang(ctx)
    args = ctx.request.args
    store = api_accounts.runtime(ctx).store
    people, _ = store.accounts({"role": None, "mrc": None}, 0, SEARCH_LIMIT)
    names = {str(p["_id"]): str(p["username"]) for p in people}
    by_name = {v: k for k, v in names.items()}
    filters: dict[str, Any] = {}
    errors: dict[str, str] = {}
    who = (args.get("qui") or "").strip().lower()
    if who:
        if who in by_name:
            filters["actor.sub"] = by_name[who]
        else:
            errors["qui"] = _msg("audit.unknown_person", lang)
    what = (args.get("quoi") or "").strip()
    if what:
        filters["action"] = what
    since, until = args.get("du") or "", args.get("au") or ""
    span: dict[str, Any] = {}
    for key, text, shift in (("$gte", since, 0), ("$lt", until, 1)):
        if text:
            day = _day(text)
            if day is None:
                errors["du" if key == "$gte" else "au"] = _msg("audit.bad_day", lang)
            else:
                span[key] = day + timedelta(days=shift)
    if span:
        filters["at"] = span
    page_number = args.get("page", "1")
    number = (
        int(page_number)
        if page_number.isdigit() and 0 < int(page_number) < 10**5
        else 1
    )
    rows, total = (
        ([], 0) if errors else store.audit_entries(filters, (number - 1) * 50, 50)
    )
    actions = sorted({*PERMISSIONS, "auth.sign_in", "auth.password_reset"})
    return render(
        ctx,
        "audit.html",
        status=422 if errors else 200,
        rows=[audit_row(r, names, lang) for r in rows],
        total=total,
        number=number,
        pages=max(1, (total + 49) // 50),
        form={"qui": who, "quoi": what, "du": since, "au": until},
        errors=errors,
        people=sorted(names.values()),
        actions=actions,
    )
