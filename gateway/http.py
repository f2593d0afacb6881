"""Request and response helpers of the gateway: language, correlation id, JSON errors.

Messages people read are French by default, English when ``Accept-Language``
prefers it. Every response carries ``X-Correlation-Id`` (taken from the request
or made here) which travels into RPC calls and from there into events.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from werkzeug.wrappers import Request, Response

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
    "Permissions-Policy": "geolocation=(), camera=(), microphone=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
_CID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def language(request: Request) -> str:
    """``fr`` unless the client prefers English over French."""
    best = request.accept_languages.best_match(["fr", "en"], default="fr")
    return "en" if best == "en" else "fr"


def correlation_id(request: Request) -> str:
    given = request.headers.get("X-Correlation-Id", "")
    return given if _CID.match(given) else uuid.uuid4().hex


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    body = json.dumps(data, ensure_ascii=False, default=str)
    return Response(body, status=status, headers=headers, mimetype="application/json")


def error_body(
    code: str, lang: str, fr: str, en: str, **details: Any
) -> dict[str, Any]:
    return {"error": {"code": code, "message": en if lang == "en" else fr, **details}}
