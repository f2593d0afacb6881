"""``/docs``: the API described for people, rendered on the server from the
same OpenAPI document and the same permission table (no script needed).

One section per tag; each operation shows its method, path, summary, who may
call it (public, or the roles of its action in the table) and its request
fields with their types, e.g.:

    POST /proposals/{proposal_id}/supports   Support a proposal (once per person)
    rôles / roles: citizen, citizen_representative
"""

from __future__ import annotations

from html import escape
from typing import Any

from gateway.api import Route
from gateway.permissions import PERMISSIONS, ROLES


def _fields(schema: dict[str, Any], spec: dict[str, Any]) -> str:
    ref = schema.get("$ref", "")
    if ref:
        schema = spec["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
    required = set(schema.get("required", []))
    rows = []
    for name, prop in schema.get("properties", {}).items():
        kind = prop.get("type", "object" if "$ref" in prop else "")
        if isinstance(kind, list):
            kind = " | ".join(kind)
        mark = " *" if name in required else ""
        rows.append(
            f"<li><code>{escape(name)}</code>{mark} <small>{escape(str(kind))}</small></li>"
        )
    return f"<ul>{''.join(rows)}</ul>" if rows else ""


def render(spec: dict[str, Any], routes: list[Route]) -> str:
    by_operation = {
        f"{r.action}.{m.lower()}".replace(".", "_"): r
        for r in routes
        for m in r.methods
    }
    sections: dict[str, list[str]] = {}
    for path, operations in spec.get("paths", {}).items():
        for method, op in operations.items():
            route = by_operation.get(op.get("operationId", ""))
            if route is None or route.public:
                who = "public"
            else:
                roles = [r for r in ROLES if r in PERMISSIONS.get(route.action, ())]
                who = ", ".join(roles) or "—"
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            fields = _fields(body["schema"], spec) if body else ""
            tag = (op.get("tags") or ["node"])[0]
            sections.setdefault(tag, []).append(
                "<tr>"
                f"<td><code>{method.upper()}</code></td>"
                f"<td><code>{escape(path)}</code></td>"
                f"<td>{escape(op.get('summary', ''))}{fields}</td>"
                f"<td>{escape(who)}</td>"
                "</tr>"
            )
    parts = []
    for tag in sorted(sections):
        parts.append(
            f"<section><h2>{escape(tag)}</h2><table><thead><tr><th>méthode / method"
            "</th><th>adresse / path</th><th>description (* requis / required)</th>"
            "<th>rôles / roles</th></tr></thead><tbody>"
            + "".join(sections[tag])
            + "</tbody></table></section>"
        )
    return _PAGE.format(sections="".join(parts))


_PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width">
<title>API Maillage</title>
<style>body{{font-family:system-ui,sans-serif;margin:1rem auto;max-width:72rem;
padding:0 1rem}}table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px
solid #ccc;padding:.3rem;text-align:left;vertical-align:top}}ul{{margin:.2rem 0}}
</style></head><body><main><h1>API Maillage</h1>
<p>Le document OpenAPI 3.1 est à <a href="/openapi.json">/openapi.json</a>.
Connexion : <code>POST /auth/token</code>, puis l'en-tête
<code>Authorization: Bearer &lt;jeton&gt;</code>. Messages en français par défaut,
en anglais avec <code>Accept-Language: en</code>.</p>
<p lang="en">The OpenAPI 3.1 document is at <a href="/openapi.json">/openapi.json</a>.
Sign in with <code>POST /auth/token</code>, then send
<code>Authorization: Bearer &lt;token&gt;</code>. Messages are French by default,
English with <code>Accept-Language: en</code>.</p>
{sections}</main></body></html>
"""
