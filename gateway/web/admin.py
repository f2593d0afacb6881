"""Administration: node status, federation links and agreements, accounts.

Not public (action ``node.admin``: the accounts module decides who may see it).
Status asks each service's ``health`` (as ``/health`` does); federation is
``federation.status()``::

    {"node_id": "mrc-66023", "links": [{"peer": "region-06", "state": "running",
      "last_seen": "..."}], "agreements": [{"agreement_id": "...", "peer": "...",
      "event_types": ["indicators.value_approved"], "aggregates_only": true,
      "suppression_threshold": 5}]}

Accounts are listed by the gateway's own accounts module when it offers
``list_accounts(ctx)``; otherwise the page says where they are managed.
"""

from __future__ import annotations

import importlib
from typing import Any

from werkzeug.wrappers import Response

from gateway.api import Context
from gateway.rpc import RemoteFailure
from gateway.web.core import page, render
from shared.errors import MaillageError

SERVICES = ("boards", "participation", "offerings", "indicators", "federation")


def service_states(ctx: Context) -> list[dict[str, str]]:
    states = []
    for service in SERVICES:
        try:
            answer = ctx.rpc(service, "health", timeout=3)
            state = str((answer or {}).get("status", "ok"))
        except MaillageError as exc:
            state = exc.code
        except RemoteFailure as exc:
            state = f"error: {exc.exc_type}"
        states.append({"service": service, "state": state})
    return states


def accounts(ctx: Context) -> list[dict[str, Any]] | None:
    try:
        module = importlib.import_module("gateway.routes.accounts")
    except ModuleNotFoundError:
        return None
    lister = getattr(module, "list_accounts", None)
    return list(lister(ctx)) if callable(lister) else None


@page("/admin", action="accounts.list", public=False)
def admin(ctx: Context) -> Response:
    """Node status, federation, accounts."""
    try:
        federation = ctx.rpc("federation", "status")
    except MaillageError as exc:
        federation = {"error": exc.code}
    return render(
        ctx,
        "admin.html",
        states=service_states(ctx),
        federation=federation,
        accounts=accounts(ctx),
    )
