"""The gateway: the node's only HTTP entry (WSGI, served by gunicorn).

``create_app()`` is the composition root: it builds every collaborator from
settings (see :mod:`shared.config`): the RPC pool, the signing keys, the
gateway's store, the rate limits, the trusted proxies, the authenticator, the
authoriser and the audit of every write, and hands them to the
:class:`Gateway` and the routes. Importing a module installs nothing, and the
wiring fails closed: a :class:`Gateway` made without an authoriser refuses
every protected route (:func:`deny_all`), and a route module that fails to
import stops start-up.

Each request: the client's address and scheme (from a trusted proxy's
headers only, :func:`gateway.http.forwarded`), a correlation id, the language,
the route's input validated by its schemas (422 naming each field), the
permission of the route's action checked in one place
(:attr:`Gateway.authorize`), then the handler, which calls the services over
RPC. Errors map to status codes in one table (:data:`shared.errors.HTTP_STATUS`);
nothing a client sends yields a 500.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import logging
import math
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from marshmallow import Schema, ValidationError
from pymongo.errors import PyMongoError
from werkzeug.exceptions import (
    HTTPException,
    MethodNotAllowed,
    NotFound,
    RequestEntityTooLarge,
)
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from gateway import audit, metrics
from gateway.api import Api, Context, Route
from gateway.cache import CACHED_ACTIONS, ReadCache, areas_written
from gateway.docs import render as render_docs
from gateway.http import (
    HSTS,
    SECURITY_HEADERS,
    Network,
    correlation_id,
    error_body,
    forwarded,
    json_response,
    language,
    trusted_proxies,
)
from gateway.messages import localize
from gateway.openapi import build_spec
from gateway.routes import accounts
from gateway.rpc import RemoteFailure, RpcPool
from shared.config import settings as load_settings
from shared.errors import Forbidden, Invalid, MaillageError, http_status
from shared.errors import NotFound as UnknownAddressBase
from shared.mongo import make_client

log = logging.getLogger(__name__)

SERVICES = ("boards", "participation", "offerings", "indicators", "federation")
# Route modules of each area, each with an ``api``; one that fails to import
# stops start-up (a node without its accounts routes must not start half-made).
ROUTE_MODULES = (
    "gateway.routes.boards",
    "gateway.routes.participation",
    "gateway.routes.offerings",
    "gateway.routes.hsds",
    "gateway.routes.indicators",
    "gateway.routes.federation",
    "gateway.routes.accounts",
    "gateway.web",
)
MAX_BODY = 1024 * 1024
# Deeper JSON than any schema of the node describes: refused before a handler,
# the audit or an RPC serialiser recurses into it.
MAX_JSON_DEPTH = 32

Authorizer = Callable[[Context, Route], None]
Hook = Callable[[Context], None]
# Turns a refusal into a page for browsers (the web pages install one); None = JSON.
ErrorPage = Callable[[Context, MaillageError], Response | None]


def deny_all(ctx: Context, route: Route) -> None:
    """The authoriser of a Gateway made without one: every protected route is
    refused (fail closed), so a wiring mistake closes the node instead of
    opening it."""
    raise Forbidden(
        "Aucun contrôle d'accès (autorisateur) n'est configuré : accès refusé.",
        "No access check (authoriser) is configured: access denied.",
        details={"action": route.action},
    )


def _schema(schema: type[Schema] | Schema) -> Schema:
    return schema() if isinstance(schema, type) else schema


class Gateway:
    """The WSGI application. What it is not given, it refuses: no ``authorize``
    means every protected route is denied; no ``proxies`` means no forwarding
    header is believed."""

    def __init__(
        self,
        config: dict[str, Any],
        api: Api,
        *,
        authorize: Authorizer | None = None,
        before_request: Sequence[Hook] = (),
        error_page: ErrorPage | None = None,
        proxies: Sequence[Network] = (),
        store: StoreClient | None = None,
        health_checks: dict[str, Callable[[], str]] | None = None,
    ) -> None:
        self.config = config
        self.api = api
        self.rpc = RpcPool(
            config["AMQP_URI"], timeout=float(config.get("RPC_TIMEOUT", 10))
        )
        self.authorize: Authorizer = authorize or deny_all
        self.before_request: list[Hook] = list(before_request)
        self.error_page: ErrorPage | None = error_page
        self.proxies = tuple(proxies)
        self._store = store or StoreClient(config.get("MONGODB_URI", ""))
        # more lines of /health, said but not failing it (e.g. a cache bypassed)
        self.health_checks = dict(health_checks or {})
        core = Api()
        core.route("/health", action="node.health", public=True, summary="Node health")(
            self.health
        )
        core.route(
            "/metrics", action="node.metrics", public=True, summary="Prometheus metrics"
        )(self.metrics)
        core.route(
            "/openapi.json", action="node.openapi", public=True, summary="OpenAPI 3.1"
        )(self.openapi)
        core.route(
            "/docs", action="node.docs", public=True, summary="API documentation"
        )(self.docs)
        self.api.routes[:0] = core.routes
        self.url_map = Map(
            [
                Rule(r.rule, methods=list(r.methods), endpoint=i)
                for i, r in enumerate(self.api.routes)
            ],
            strict_slashes=False,
        )
        self._spec: dict[str, Any] | None = None

    # --- WSGI ----------------------------------------------------------------------

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        forwarded(environ, self.proxies)
        request = Request(environ)
        request.max_content_length = MAX_BODY
        started = time.perf_counter()
        cid = correlation_id(request)
        lang = language(request)
        route_name = "unmatched"
        try:
            adapter = self.url_map.bind_to_environ(environ)
            index, values = adapter.match()
            route = self.api.routes[index]
            route_name = route.rule
            request.max_content_length = route.max_body or MAX_BODY
            response = self.dispatch(request, route, dict(values), cid, lang)
        except (NotFound, MethodNotAllowed) as exc:
            response = self._http_error(exc, lang)
            if isinstance(exc, NotFound) and self.error_page is not None:
                ctx = Context(request, lang, cid, self.rpc.call)
                response = self.error_page(ctx, UnknownAddress()) or response
        except HTTPException as exc:  # routing redirects and the like
            response = exc.get_response(environ)  # type: ignore[assignment]
        response.headers["X-Correlation-Id"] = cid
        response.headers.setdefault("Content-Language", lang)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        if request.is_secure:  # never over plain HTTP
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        metrics.REQUESTS.labels(
            request.method, route_name, str(response.status_code)
        ).inc()
        metrics.LATENCY.labels(request.method, route_name).observe(
            time.perf_counter() - started
        )
        return response(environ, start_response)

    def _http_error(self, exc: HTTPException, lang: str) -> Response:
        if isinstance(exc, MethodNotAllowed):
            return json_response(
                error_body(
                    "method_not_allowed",
                    lang,
                    "Méthode non permise.",
                    "Method not allowed.",
                ),
                405,
                {"Allow": ", ".join(exc.valid_methods or [])},
            )
        return json_response(
            error_body("not_found", lang, "Adresse inconnue.", "Unknown address."), 404
        )

    def dispatch(
        self,
        request: Request,
        route: Route,
        values: dict[str, Any],
        cid: str,
        lang: str,
    ) -> Response:
        ctx = Context(
            request=request,
            lang=lang,
            correlation_id=cid,
            call=self.rpc.call,
            route=route,
        )
        try:
            for hook in self.before_request:
                hook(ctx)
            if not route.public:
                self.authorize(ctx, route)
            if route.query is not None:
                ctx.query = _schema(route.query).load(request.args.to_dict())
            if route.body is not None:
                ctx.body = _schema(route.body).load(self._json_body(request, lang))
            result = route.handler(ctx, **values)
        except ValidationError as exc:
            fields = localize(
                exc.messages
                if isinstance(exc.messages, dict)
                else {"_schema": exc.messages},
                lang,
            )
            err = Invalid(fields)
            page = self.error_page(ctx, err) if self.error_page else None
            return page or json_response({"error": err.to_dict(lang)}, 422)
        except _BadBody as exc:
            return json_response(
                error_body("bad_request", lang, exc.fr, exc.en, field="_body"), 400
            )
        except RequestEntityTooLarge:
            return json_response(
                error_body(
                    "too_large",
                    lang,
                    f"Requête trop volumineuse (max {MAX_BODY} octets).",
                    f"Request too large (max {MAX_BODY} bytes).",
                ),
                413,
            )
        except MaillageError as exc:
            page = self.error_page(ctx, exc) if self.error_page else None
            if page is not None:
                return page
            retry = exc.details.get("retry_after")
            return json_response(
                {"error": exc.to_dict(lang)},
                http_status(exc),
                {"Retry-After": str(retry)} if retry else None,
            )
        except PyMongoError:
            log.exception("store error")
            return json_response(
                error_body(
                    "unavailable",
                    lang,
                    "Magasin de données indisponible.",
                    "Data store unavailable.",
                ),
                503,
            )
        except RemoteFailure as exc:
            log.error("service failure %s", exc, extra={"correlation_id": cid})
            return json_response(
                error_body(
                    "service_error",
                    lang,
                    "Erreur du service.",
                    "Service error.",
                    correlation_id=cid,
                ),
                502,
            )
        if isinstance(result, Response):
            return result
        return json_response(result, route.status)

    def _json_body(self, request: Request, lang: str) -> Any:
        if not request.mimetype == "application/json":
            raise _BadBody(
                "Corps JSON attendu (Content-Type: application/json).",
                "JSON body expected (Content-Type: application/json).",
            )
        try:
            data = json.loads(
                request.get_data(cache=True) or b"null",
                parse_int=_int64,
                parse_float=_finite,
                parse_constant=_no_constant,
            )
        except RecursionError as exc:
            raise _too_deep() from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise _BadBody(f"JSON mal formé : {exc}", f"Malformed JSON: {exc}") from exc
        if _deeper_than(data, MAX_JSON_DEPTH):
            raise _too_deep()
        return data

    # --- core routes ---------------------------------------------------------------

    def store_client(self) -> Any:
        return self._store()

    def health(self, ctx: Context) -> Response:
        report: dict[str, Any] = {"node": self.config.get("NODE_ID"), "services": {}}
        try:
            self.store_client().admin.command("ping")
            report["store"] = "ok"
        except PyMongoError as exc:
            report["store"] = f"unreachable: {type(exc).__name__}"
        broker_ok = True
        for service in SERVICES:
            try:
                answer = self.rpc.call(
                    service, "health", correlation_id=ctx.correlation_id, timeout=3
                )
                report["services"][service] = answer.get("status", "ok")
            except MaillageError as exc:
                report["services"][service] = exc.code
                if exc.code == "unavailable" and "broker" in exc.message_en:
                    broker_ok = False
            except RemoteFailure as exc:
                report["services"][service] = f"error: {exc.exc_type}"
        report["broker"] = "ok" if broker_ok else "unreachable"
        healthy = (
            report["store"] == "ok"
            and broker_ok
            and all(v == "ok" for v in report["services"].values())
        )
        for name, check in self.health_checks.items():
            report[name] = check()
        report["status"] = "ok" if healthy else "degraded"
        return json_response(report, 200 if healthy else 503)

    def metrics(self, ctx: Context) -> Response:
        body, content_type = metrics.render()
        return Response(body, content_type=content_type)

    def openapi(self, ctx: Context) -> dict[str, Any]:
        if self._spec is None:
            self._spec = build_spec(self.api.routes)
        return self._spec

    def docs(self, ctx: Context) -> Response:
        page = render_docs(self.openapi(ctx), self.api.routes)
        return Response(page, mimetype="text/html")


class StoreClient:
    """The gateway's own store client, made on first use: gunicorn forks its
    workers after ``create_app`` and pymongo is not fork-safe."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self._client: Any = None

    def __call__(self) -> Any:
        if self._client is None:
            self._client = make_client(self.uri, timeout_ms=1500)
        return self._client


class UnknownAddress(UnknownAddressBase):
    """No route has this address (404), for the browsers' error page."""

    def __init__(self) -> None:
        MaillageError.__init__(self, "Adresse inconnue.", "Unknown address.")


class _BadBody(Exception):
    def __init__(self, fr: str, en: str) -> None:
        super().__init__(en)
        self.fr, self.en = fr, en


def _too_deep() -> _BadBody:
    return _BadBody(
        f"Corps JSON trop imbriqué (au plus {MAX_JSON_DEPTH} niveaux).",
        f"JSON body nested too deeply (at most {MAX_JSON_DEPTH} levels).",
    )


_NUMBER = (
    "Nombre hors limites dans le corps JSON : entiers de -2^63 à 2^63-1 et nombres "
    "finis seulement.",
    "Number out of range in the JSON body: integers from -2^63 to 2^63-1 and finite "
    "numbers only.",
)


def _int64(text: str) -> int:
    """A JSON integer the stores can hold (BSON has no integer beyond 64 bits)."""
    if len(text) > 20 or not -(2**63) <= (value := int(text)) < 2**63:
        raise _BadBody(*_NUMBER)
    return value


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400
        raise _BadBody(*_NUMBER)
    return value


def _no_constant(text: str) -> float:
    raise _BadBody(*_NUMBER)  # NaN, Infinity: not JSON


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests more than ``limit`` arrays/objects (no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Iterable[Any] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def collect_api() -> Api:
    """Every route module's ``api``. A module that fails to import, or has no
    ``api``, stops start-up: nothing is skipped silently."""
    api = Api()
    for name in ROUTE_MODULES:
        module = importlib.import_module(name)
        routes = getattr(module, "api", None)
        if not isinstance(routes, Api):
            raise ImportError(f"route module {name} has no `api` (gateway.api.Api)")
        api.include(routes)
    return api


def create_app(config: dict[str, Any] | None = None) -> Gateway:
    """The composition root: every collaborator is built here and handed over.

    The signing keys, the gateway's store and the rate limits make the accounts'
    :class:`~gateway.routes.accounts.Runtime`; from it come the authenticator,
    the authoriser (the permission table plus the write limit) and the audit
    wrapped around every write. The web pages, when they are part of the
    application, get the node's settings and their error page."""
    config = config or load_settings()
    api = collect_api()
    store = StoreClient(config["MONGODB_URI"])
    runtime = accounts.build_runtime(config, store)
    reads = ReadCache(runtime.poll, config["AMQP_URI"])

    def written_here(entries: list[dict[str, Any]]) -> None:
        reads.bump(areas_written(e["action"] for e in entries))

    def written(entries: list[dict[str, Any]]) -> None:  # for the other processes
        if areas := areas_written(e["action"] for e in entries):
            runtime.store.bump({f"reads.{a}": 1 for a in areas})

    committer = audit.AuditCommitter(
        runtime.store, after_batch=written, on_batch=written_here
    )
    api.routes[:] = [  # every write is answered once audited (gateway.audit)
        dataclasses.replace(r, handler=audit.audited(committer, r.handler, r.action))
        if audit.WRITE_METHODS & set(r.methods)
        else r
        for r in api.routes
    ]
    api.routes[:] = [  # anonymous public reads, kept until an event changes them
        dataclasses.replace(r, handler=reads.wrap(r.handler, CACHED_ACTIONS[r.action]))
        if r.public and r.action in CACHED_ACTIONS and "GET" in r.methods
        else r
        for r in api.routes
    ]
    error_page: ErrorPage | None = None
    if "gateway.web" in ROUTE_MODULES:
        from gateway.web import core as web

        web.configure(config, runtime.tokens.secret)
        error_page = web.browser_error
    app = Gateway(
        config,
        api,
        authorize=accounts.authorizer(runtime),
        before_request=[accounts.authenticator(runtime), accounts.refuse_nul],
        error_page=error_page,
        proxies=trusted_proxies(config),
        store=store,
        health_checks={"read_cache": reads.status},
    )
    app.runtime = runtime  # type: ignore[attr-defined]
    app.reads = reads  # type: ignore[attr-defined]
    app.audit = committer  # type: ignore[attr-defined]
    return app
