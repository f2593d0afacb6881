"""Request and response helpers of the gateway: language, correlation id, JSON errors,
and who the client is behind the node's proxies.

Messages people read are French by default, English when ``Accept-Language``
prefers it. Every response carries ``X-Correlation-Id`` (taken from the request
or made here) which travels into RPC calls and from there into events.

Behind a reverse proxy every request comes from the proxy's address. The
setting ``TRUSTED_PROXIES`` (``MAILLAGE_TRUSTED_PROXIES``: addresses or CIDR
networks, comma separated; default none) names the proxies whose
``X-Forwarded-For`` and ``X-Forwarded-Proto`` the gateway believes.
:func:`forwarded` then rewrites the request's ``REMOTE_ADDR`` and scheme once,
before anything reads them (rate limits, audit, cookies' Secure flag, HSTS)::

    peer 10.0.0.1 (trusted), X-Forwarded-For: 6.6.6.6, 203.0.113.5
    -> REMOTE_ADDR 203.0.113.5   (the rightmost hop that is not a trusted proxy;
                                  6.6.6.6 was written by the client itself)

A peer that is not trusted is the client, whatever its headers say.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from werkzeug.wrappers import Request, Response

from shared.errors import ConfigError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# Sent only over HTTPS (a browser ignores it over HTTP, and it must not be sent
# there anyway): a year, the value the HSTS preload list asks at least.
HSTS = "max-age=31536000"

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


def trusted_proxies(
    config: Mapping[str, Any], env: Mapping[str, str] | None = None
) -> tuple[Network, ...]:
    """The networks of ``TRUSTED_PROXIES``, or a :class:`ConfigError` naming the bad
    entry (start-up stops): ``"10.0.0.1, 10.8.0.0/16, ::1"``."""
    env = os.environ if env is None else env
    raw = config.get("TRUSTED_PROXIES")
    if raw is None:
        raw = env.get("MAILLAGE_TRUSTED_PROXIES", "")
    items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
    networks = []
    for item in (str(i).strip() for i in items):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=True))
        except ValueError as exc:
            raise ConfigError(
                f"Paramètre TRUSTED_PROXIES mal formé : « {item} » n'est ni une "
                "adresse IP ni un réseau CIDR (p. ex. 10.0.0.1, 10.8.0.0/16), "
                "séparés par des virgules.",
                f"Malformed setting TRUSTED_PROXIES: '{item}' is neither an IP "
                "address nor a CIDR network (e.g. 10.0.0.1, 10.8.0.0/16), comma "
                "separated.",
            ) from exc
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address of a forwarding header (``1.2.3.4``, ``1.2.3.4:80``, ``[::1]:80``)."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    parsed = _address(address)
    return parsed is not None and any(parsed in net for net in proxies)


def forwarded(environ: dict[str, Any], proxies: Sequence[Network]) -> None:
    """Set ``REMOTE_ADDR`` and ``wsgi.url_scheme`` from the forwarding headers when
    (and only when) the direct peer is a trusted proxy; the peer's own address is
    kept in ``maillage.peer_addr``."""
    peer = str(environ.get("REMOTE_ADDR") or "")
    environ.setdefault("maillage.peer_addr", peer)
    if not proxies or not _trusted(peer, proxies):
        return
    hops = [
        h.strip()
        for h in str(environ.get("HTTP_X_FORWARDED_FOR", "")).split(",")
        if h.strip()
    ]
    client = peer
    while hops and _trusted(client, proxies):
        hop = hops.pop()
        parsed = _address(hop)
        client = str(parsed) if parsed is not None else hop[:100]
    environ["REMOTE_ADDR"] = client
    # the value the trusted peer set or appended last
    proto = str(environ.get("HTTP_X_FORWARDED_PROTO", "")).split(",")[-1]
    proto = proto.strip().lower()
    if proto in ("http", "https"):
        environ["wsgi.url_scheme"] = proto
