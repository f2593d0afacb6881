"""``/openapi.json`` generated with apispec from the routes' marshmallow schemas."""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from gateway.api import Route

_CONVERTER = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            "additionalProperties": True,
        }
    },
}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
        },
    }


def build_spec(routes: list[Route], version: str = "0.1.0") -> dict[str, Any]:
    spec = APISpec(
        title="Maillage",
        version=version,
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={
            "description": "API d'un nœud Maillage (une MRC). / API of one Maillage node (one MRC)."
        },
    )
    spec.components.schema("Error", ERROR_SCHEMA)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        path = _CONVERTER.sub(r"{\1}", route.rule)
        params = [
            {"in": "path", "name": name, "required": True, "schema": {"type": "string"}}
            for name in _CONVERTER.findall(route.rule)
        ]
        for method in route.methods:
            operation: dict[str, Any] = {
                "operationId": f"{route.action}.{method.lower()}".replace(".", "_"),
                "summary": route.summary,
                "tags": list(route.tags),
                "parameters": list(params),
                "responses": {
                    str(route.status): {"description": "OK"},
                    "400": _error("Bad request"),
                    "422": _error("Validation error"),
                    "503": _error("Unavailable"),
                },
            }
            if route.description:
                operation["description"] = route.description
            if route.response is not None:
                schema: Any = route.response
                if isinstance(schema, tuple):  # one form per kind of reader
                    schema = {"oneOf": list(schema)}
                operation["responses"][str(route.status)]["content"] = {
                    "application/json": {"schema": schema}
                }
            if route.query is not None:
                operation["parameters"].append({"in": "query", "schema": route.query})
            if route.body is not None:
                operation["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": route.body}},
                }
            if not route.public:
                operation["security"] = [{"bearer": []}]
                operation["responses"]["401"] = _error("Authentication required")
                operation["responses"]["403"] = _error("Not allowed")
            if "<" in route.rule:
                operation["responses"]["404"] = _error("Not found")
            if method in ("POST", "PUT", "PATCH", "DELETE"):
                operation["responses"]["409"] = _error("Conflict")
                operation["responses"]["413"] = _error("Request too large")
                operation["responses"]["429"] = _error("Too many requests")
                # sign-in is public and answers 401 to a wrong password
                operation["responses"]["401"] = _error("Authentication failed")
            if method == "GET":
                operation["responses"]["304"] = {"description": "Not modified (ETag)"}
                # a read may name an unknown thing in its query (404) or ask what
                # the state does not show yet, e.g. results before the close (409)
                operation["responses"]["404"] = _error("Not found")
                operation["responses"]["409"] = _error("Not available in this state")
            paths.setdefault(path, {})[method.lower()] = operation
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
