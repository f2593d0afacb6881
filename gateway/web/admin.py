"""Administration: node status, federation links and agreements, accounts.

Not public (action ``node.admin``: the accounts module decides who may see it).
Status asks each service's ``health`` (as ``/health`` does); federation is
``federation.status()``::

    {"node_id": "mrc-66023", "links": [{"peer": "region-06", "state": "running",
      "last_seen": "..."}], "agreements": [{"agreement_id": "...", "peer": "...",
      "event_types": ["indicators.value_approved"], "aggregates_only": true,
      "suppression_threshold": 5}]}

Accounts are read through the gateway's accounts module (its store and its
``public_account`` view); without it the page says where they are managed.
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


def accounts(ctx: Context, limit: int = 200) -> list[dict[str, Any]] | None:
    """The node's accounts as the accounts module shows them (no password hash)."""
    try:
        module = importlib.import_module("gateway.routes.accounts")
        rows, _total = module.runtime(ctx).store.accounts(
            {"role": None, "mrc": None}, 0, limit
        )
        return [module.public_account(row) for row in rows]
    except (ModuleNotFoundError, AttributeError):
        return None


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
