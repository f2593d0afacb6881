"""What every web page shares: the route table, the language, rendering, errors.

Pages are rendered on the server with Jinja2 (autoescaped) and work without
JavaScript; ``static/site.js`` only adds conveniences (the budget basket's
remaining amount while ticking). French first: the language is ``?lang=en`` or
``?lang=fr`` when given (remembered in a cookie), then the ``lang`` cookie, then
the gateway's Accept-Language choice (``ctx.lang``).

A handler returns ``render(ctx, "template.html", **values)``; a refusal or an
outage of a service becomes an HTML page with the bilingual message and the
status of :data:`shared.errors.HTTP_STATUS`, never a JSON body in a browser::

    @page("/aide", action="web.help")
    def find_help(ctx):
        return render(ctx, "help.html", results=ctx.rpc("offerings", "search", {}))
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from werkzeug.wrappers import Request, Response

from gateway.api import Api, Context
from gateway.auth import CSRF_FIELD, SESSION_COOKIE, csrf_token
from gateway.rpc import RemoteFailure
from gateway.web.messages import MESSAGES, translate
from shared.errors import Invalid, MaillageError, Unauthenticated, http_status

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
STATIC_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
LANGS = ("fr", "en")

api = Api()
settings: dict[str, Any] = {}

env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


# Refusals a browser reads as a page on a web route (API clients keep JSON).
BROWSER_ERRORS = frozenset({401, 403, 404, 422})
SIGN_IN = "/connexion"


def configure(config: dict[str, Any], secret: str) -> None:
    """Called by ``gateway.app.create_app``: keep the node's settings (node id...)
    and the signing secret (for the forms' CSRF tokens). The app answers browsers'
    refusals with :func:`browser_error`, which create_app hands it."""
    settings.clear()
    settings.update(config)
    settings["_secret"] = secret


def prefers_html(request: Request) -> bool:
    """A browser (``Accept: text/html,...``), not an API client (``*/*``, JSON)."""
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html"


def browser_error(ctx: Context, exc: MaillageError) -> Response | None:
    """The page of a refusal met on a web route (or an unknown address) by a
    browser; ``None`` leaves the JSON answer."""
    status = http_status(exc)
    on_web = ctx.route is None or "web" in ctx.route.tags
    if status not in BROWSER_ERRORS or not on_web or not prefers_html(ctx.request):
        return None
    message = exc.message(page_lang(ctx))
    if status == 401 and not _carries_credentials(ctx.request):
        # the API's "Authorization: Bearer" advice means nothing to a person
        message = translate("session.needed", page_lang(ctx))
    return error_page(ctx, message, status, exc)


def _carries_credentials(request: Request) -> bool:
    """A token was sent (then its refusal says why: expired, revoked...)."""
    return bool(
        request.headers.get("Authorization") or request.cookies.get(SESSION_COOKIE)
    )


def csrf_value(ctx: Context) -> str:
    """This session's CSRF token ('' when not signed in with a token)."""
    user = ctx.user or {}
    secret = settings.get("_secret")
    return csrf_token(secret, user) if secret and user.get("jti") else ""


def csrf_input(ctx: Context) -> Markup:
    """The hidden field every POST form of the pages carries:
    ``<form method="post">{{ csrf_field() }}...``."""
    value = csrf_value(ctx)
    if not value:
        return Markup("")
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(value)}">')


def page_lang(ctx: Context) -> str:
    """``?lang=`` wins, then the ``lang`` cookie, then Accept-Language."""
    asked = ctx.request.args.get("lang")
    if asked in LANGS:
        return asked
    cookie = ctx.request.cookies.get("lang")
    if cookie in LANGS:
        return cookie
    return ctx.lang if ctx.lang in LANGS else "fr"


def url_with(ctx: Context, **changes: Any) -> str:
    """This page's address with some query parameters changed (``None`` drops)."""
    args = ctx.request.args.to_dict(flat=False)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = [value]
    query = urlencode(args, doseq=True)
    return ctx.request.path + (f"?{query}" if query else "")


def render(ctx: Context, template: str, status: int = 200, **values: Any) -> Response:
    lang = page_lang(ctx)

    def t(key: str, **kwargs: Any) -> str:
        return translate(key, lang, **kwargs)

    html = env.get_template(template).render(
        lang=lang,
        other_lang="en" if lang == "fr" else "fr",
        t=t,
        ctx=ctx,
        path=ctx.request.path,
        url_with=lambda **kw: url_with(ctx, **kw),
        user=ctx.user,
        node_id=settings.get("NODE_ID", ""),
        csrf_field=lambda: csrf_input(ctx),
        sign_in_url=sign_in_url(ctx),
        **values,
    )
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Content-Language"] = lang
    response.headers["Cache-Control"] = "no-store"
    if ctx.request.args.get("lang") in LANGS:
        response.set_cookie(
            "lang", lang, max_age=365 * 86400, samesite="Lax", httponly=True
        )
    return response


def page(
    rule: str,
    methods: tuple[str, ...] = ("GET",),
    *,
    action: str,
    public: bool = True,
    summary: str = "",
    max_body: int | None = None,
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Register an HTML page; errors of services become HTML error pages."""

    def decorator(handler: Callable[..., Response]) -> Callable[..., Response]:
        @wraps(handler)
        def wrapper(ctx: Context, **values: Any) -> Response:
            try:
                return handler(ctx, **values)
            except MaillageError as exc:
                return error_page(ctx, exc.message(page_lang(ctx)), http_status(exc))
            except RemoteFailure as exc:
                log.error(
                    "service failure %s",
                    exc,
                    extra={"correlation_id": ctx.correlation_id},
                )
                return error_page(ctx, translate("error.service", page_lang(ctx)), 502)

        api.route(
            rule,
            methods,
            action=action,
            public=public,
            summary=summary or (handler.__doc__ or "").strip().split("\n")[0],
            tags=("web",),
            max_body=max_body,
        )(wrapper)
        return wrapper

    return decorator


def error_page(
    ctx: Context, message: str, status: int, exc: MaillageError | None = None
) -> Response:
    lang = page_lang(ctx)
    fields = exc.fields if isinstance(exc, Invalid) else {}
    response = render(
        ctx,
        "error.html",
        status=status,
        message=message,
        status_code=status,
        fields={k: _reasons(v, lang) for k, v in fields.items()},
        sign_in=status == 401 or isinstance(exc, Unauthenticated),
    )
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="maillage"'
    return response


def _reasons(value: Any, lang: str) -> str:
    if isinstance(value, dict):
        value = value.get(lang) or value.get("fr") or list(value.values())
    if isinstance(value, list | tuple):
        return " ".join(_reasons(v, lang) for v in value)
    return str(value)


def sign_in_url(ctx: Context) -> str:
    """The sign-in page, coming back to this page after (GET pages only)."""
    here = ctx.request.full_path.rstrip("?")
    if ctx.request.method != "GET" or ctx.request.path == SIGN_IN:
        here = "/"
    return f"{SIGN_IN}?{urlencode({'suite': here})}"


def redirect(location: str, status: int = 303) -> Response:
    """After a POST, a 303 to the page to read (no resubmission on reload)."""
    return Response("", status=status, headers={"Location": location})


@api.route("/static/web/<name>", action="web.static", public=True, summary="Web assets")
def static(ctx: Context, name: str) -> Response:
    """The pages' CSS and JavaScript: only the files of ``static/``, by name."""
    target = STATIC / name
    kind = STATIC_TYPES.get(target.suffix)
    if kind is None or target.parent != STATIC or not target.is_file():
        return Response("Not found", status=404, mimetype="text/plain")
    response = Response(target.read_bytes(), mimetype=kind)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


__all__ = [
    "MESSAGES",
    "api",
    "csrf_input",
    "error_page",
    "configure",
    "page",
    "page_lang",
    "redirect",
    "render",
    "settings",
]
