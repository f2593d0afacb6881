"""The gateway's route table: each route names its action (for permissions) and
the marshmallow schemas that validate its input, the same schemas that make
``/openapi.json``.

    api = Api()

    @api.route("/services", action="offerings.search", query=SearchQuery,
               response=ServicePage, summary="Search services")
    def search(ctx, ):
        return ctx.rpc("offerings", "search", ctx.query)

Handlers take ``(ctx, **url_values)`` and return JSON-able data or a Response.
A route whose answer depends on the reader names each form, documented as a
``oneOf``: ``response=(MeetingSchema, PublicMeetingSchema)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema
from werkzeug.wrappers import Request

Handler = Callable[..., Any]
SchemaRef = type[Schema] | Schema


@dataclass
class Route:
    rule: str
    methods: tuple[str, ...]
    handler: Handler
    action: str
    summary: str = ""
    body: type[Schema] | Schema | None = None
    query: type[Schema] | Schema | None = None
    response: SchemaRef | tuple[SchemaRef, ...] | None = None
    status: int = 200
    tags: tuple[str, ...] = ()
    public: bool = False
    description: str = ""
    # a larger body limit than the gateway's default, for uploads
    max_body: int | None = None

    @property
    def endpoint(self) -> str:
        return f"{self.action}:{'|'.join(self.methods)}:{self.rule}"


@dataclass
class Context:
    """What a handler sees of one request."""

    request: Request
    lang: str
    correlation_id: str
    call: Callable[..., Any]
    body: Any = None
    query: dict[str, Any] = field(default_factory=dict)
    user: dict[str, Any] | None = None
    route: Route | None = None

    def rpc(self, service: str, method: str, *args: Any, **kwargs: Any) -> Any:
        return self.call(
            service, method, *args, correlation_id=self.correlation_id, **kwargs
        )


class Api:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def route(
        self,
        rule: str,
        methods: tuple[str, ...] | list[str] = ("GET",),
        *,
        action: str,
        summary: str = "",
        body: type[Schema] | Schema | None = None,
        query: type[Schema] | Schema | None = None,
        response: SchemaRef | tuple[SchemaRef, ...] | None = None,
        status: int = 200,
        tags: tuple[str, ...] = (),
        public: bool = False,
        description: str = "",
        max_body: int | None = None,
    ) -> Callable[[Handler], Handler]:
        def decorator(handler: Handler) -> Handler:
            self.routes.append(
                Route(
                    rule,
                    tuple(m.upper() for m in methods),
                    handler,
                    action,
                    summary or (handler.__doc__ or "").strip().split("\n")[0],
                    body,
                    query,
                    response,
                    status,
                    tags or (action.split(".")[0],),
                    public,
                    description,
                    max_body,
                )
            )
            return handler

        return decorator

    def include(self, other: Api) -> None:
        self.routes.extend(other.routes)
