"""Signing in and out from a browser: the page ``/connexion`` and ``/deconnexion``.

A browser cannot send ``Authorization: Bearer``; the sign-in page posts the user
name and password, checks them exactly as ``POST /auth/token`` does (same rate
limit, same accounts) and puts the same signed expiring token in an HttpOnly,
SameSite=Lax cookie (Secure over HTTPS). The gateway's authentication reads the
header or the cookie; a write authenticated by the cookie needs the session's
CSRF token, which every form of the pages carries through ``{{ csrf_field() }}``.

The sign-in form itself, posted before there is a session, carries a random
token also set in a short-lived cookie (double submit), so that another site
cannot sign a visitor in under its own account. Without JavaScript throughout::

    POST /connexion  username=marie&password=...&csrf=...&suite=/participer
    -> 303 Location: /participer
       Set-Cookie: maillage_session=eyJ...; HttpOnly; SameSite=Lax; Path=/
"""

from __future__ import annotations

import hmac
import secrets
import time
import unicodedata
from typing import Any
from urllib.parse import unquote, urlsplit

from markupsafe import Markup, escape
from werkzeug.wrappers import Response

from gateway.api import Context
from gateway.auth import CSRF_FIELD, SESSION_COOKIE
from gateway.routes.accounts import account_claims, password_sign_in, runtime
from gateway.web.core import (
    SIGN_IN,
    csrf_input,
    page,
    page_lang,
    redirect,
    render,
)
from gateway.web.messages import translate
from shared.errors import MaillageError, http_status

FORM_COOKIE = "maillage_csrf_connexion"


def safe_next(value: str | None) -> str:
    """Only a path of this site (``/participer?lang=en``), else ``/``.

    Browsers drop tabs and newlines from a ``Location`` and read a backslash as a
    slash, so ``/<TAB>/evil.example`` or ``/<BACKSLASH>evil.example`` would send
    the visitor to another host: a value is refused if it holds whitespace, a control
    character or a backslash, does not start with one ``/``, has a scheme or a
    host, or would do any of that once percent-decoded (``/%09/evil.example``).
    """
    if not value or len(value) > 2000 or _unsafe(value):
        return "/"
    if not value.startswith("/") or value.startswith("//"):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    path = unquote(parts.path)
    bare = "".join(ch for ch in path if not _invisible(ch))
    if "\\" in path or bare.startswith("//") or any(_control(ch) for ch in path):
        return "/"
    return value


def _control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")


def _invisible(ch: str) -> bool:
    return ch.isspace() or _control(ch)


def _unsafe(value: str) -> bool:
    return "\\" in value or any(_invisible(ch) for ch in value)


def _form(
    ctx: Context,
    status: int = 200,
    error: str = "",
    errors: tuple[str, ...] = (),
    username: str = "",
) -> Response:
    """The sign-in form; before a session, with a fresh double-submit token."""
    next_url = safe_next(ctx.request.values.get("suite"))
    if ctx.user and ctx.user.get("jti"):
        return render(
            ctx,
            "signin.html",
            status=status,
            csrf=csrf_input(ctx),
            next_url=next_url,
            error=error,
            errors=errors,
            username=username,
        )
    token = secrets.token_urlsafe(32)
    field = Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(token)}">')
    response = render(
        ctx,
        "signin.html",
        status=status,
        csrf=field,
        next_url=next_url,
        error=error,
        errors=errors,
        username=username,
    )
    response.set_cookie(
        FORM_COOKIE,
        token,
        max_age=3600,
        path=SIGN_IN,
        httponly=True,
        samesite="Strict",
        secure=ctx.request.is_secure,
    )
    return response


@page(SIGN_IN, action="web.sign_in")
def sign_in_page(ctx: Context) -> Response:
    """The sign-in page: user name and password, labelled, errors announced."""
    return _form(ctx)


@page(SIGN_IN, ("POST",), action="web.sign_in")
def sign_in(ctx: Context) -> Response:
    """Check the password as the API does, then the session cookie and back."""
    lang = page_lang(ctx)
    form = ctx.request.form
    signed_in = bool(ctx.user and ctx.user.get("jti"))  # its CSRF passed already
    if not signed_in and not _form_token_valid(ctx):
        return _form(ctx, 403, translate("session.expired_form", lang))
    username = (form.get("username") or "").strip()
    password = form.get("password") or ""
    missing = tuple(
        name
        for name, value in (("username", username), ("password", password))
        if not value
    )
    if missing:
        return _form(ctx, 422, translate("session.missing", lang), missing, username)
    rt = runtime(ctx)
    try:
        account = password_sign_in(rt, username, password, ctx.request.remote_addr)
    except MaillageError as exc:
        return _form(ctx, http_status(exc), exc.message(lang), (), username)
    issued = rt.tokens.issue(account)
    ctx.user = account_claims(account)  # the audit's actor
    response = redirect(safe_next(form.get("suite")))
    response.set_cookie(
        SESSION_COOKIE,
        issued["token"],
        max_age=max(0, int(issued["expires_at"] - time.time())),
        path="/",
        httponly=True,
        samesite="Lax",
        secure=ctx.request.is_secure,
    )
    response.delete_cookie(FORM_COOKIE, path=SIGN_IN)
    return response


def _form_token_valid(ctx: Context) -> bool:
    cookie = ctx.request.cookies.get(FORM_COOKIE) or ""
    given = ctx.request.form.get(CSRF_FIELD) or ""
    return bool(cookie) and hmac.compare_digest(cookie.encode(), given.encode())


@page("/deconnexion", ("POST",), action="web.sign_out")
def sign_out(ctx: Context) -> Response:
    """Revoke the session's token (its CSRF token checked by the gateway) and
    forget the cookie."""
    user: dict[str, Any] = ctx.user or {}
    if user.get("jti") and user.get("exp"):
        runtime(ctx).store.revoke_token(user["jti"], user["exp"])
    response = redirect("/?lang=en" if page_lang(ctx) == "en" else "/")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
