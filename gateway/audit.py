"""The audit log: every write through the gateway, who, when, what, before, after.

:func:`install` wraps the handler of every route that is not a GET. The entry is
written BEFORE the handler runs (``outcome: "pending"``) so that no write can
happen unrecorded: if the store cannot take the entry, the request stops with
503 and the service is never called. After the handler, the entry gets the
outcome, the result (``after``) and, when the handler recorded it, the state
before (:func:`record_before`). Secrets are never written:

    {"at": "2026-11-23T14:02:11Z", "actor": {"sub": "01J...", "role":
     "board_secretary", "mrc": "66023"}, "ip": "127.0.0.1", "method": "POST",
     "path": "/meetings/m1/open", "action": "boards.meetings.manage",
     "correlation_id": "9f0c...", "request": {...}, "before": {...},
     "after": {...}, "outcome": "ok", "status": 200}

The node administrator reads it at ``GET /audit`` (see ``routes/accounts.py``).
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from gateway.api import Context, Handler
from gateway.auth import CSRF_FIELD
from gateway.store import GatewayStore, now
from shared.errors import MaillageError, http_status

log = logging.getLogger(__name__)

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Writes whose content must not be joined to a person: a secret ballot's choices
# (and its receipt, which the ballot box stores beside them) never enter the log.
SECRET_BODIES = frozenset({"participation.ballots.cast"})
_SECRET_WORDS = ("password", "token", "secret")
_MAX_DEPTH = 6


def redact(value: Any, depth: int = 0) -> Any:
    """A copy of ``value`` without secrets (keys naming a password, token, secret)."""
    if depth > _MAX_DEPTH:
        return "…"
    if isinstance(value, dict):
        return {
            str(k): "***"
            if any(w in str(k).lower() for w in _SECRET_WORDS)
            else redact(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v, depth + 1) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def record_before(ctx: Context, state: Any) -> None:
    """Called by a handler that read the resource before changing it."""
    ctx.audit_before = state  # type: ignore[attr-defined]


def record_request(ctx: Context, body: Any) -> None:
    """Called by a web page once it has read its form with the API's schema:
    the entry keeps that body as it keeps an API call's."""
    ctx.audit_request = body  # type: ignore[attr-defined]


def _secret(ctx: Context) -> bool:
    return getattr(ctx.route, "action", "") in SECRET_BODIES


def actor(user: dict[str, Any] | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {k: user.get(k) for k in ("sub", "role", "mrc", "name")}


def _sent(ctx: Context) -> Any:
    """What the write carries: the JSON body, or a page's form fields (without
    the CSRF token), so a write through a page is recorded as one by the API."""
    if ctx.body is not None:
        return ctx.body
    request = ctx.request
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return {k: v for k, v in request.form.items() if k != CSRF_FIELD} or None
    return None


def audited(store: GatewayStore, handler: Handler, action: str) -> Handler:
    @functools.wraps(handler)
    def wrapper(ctx: Context, **values: Any) -> Any:
        request = ctx.request
        entry_id = store.audit_begin(
            {
                "at": now(),
                "actor": actor(ctx.user),
                "ip": request.remote_addr,
                "method": request.method,
                "path": request.path,
                "action": action,
                "params": redact(values),
                "correlation_id": ctx.correlation_id,
                "request": "***" if action in SECRET_BODIES else redact(_sent(ctx)),
            }
        )
        try:
            result = handler(ctx, **values)
        except MaillageError as exc:
            _finish(store, entry_id, ctx, exc.code, http_status(exc), None)
            raise
        except Exception as exc:
            _finish(store, entry_id, ctx, type(exc).__name__, None, None)
            raise
        status = getattr(result, "status_code", None)
        if isinstance(status, int) and status >= 400:
            # a page that shows a refusal answers it instead of raising it
            _finish(store, entry_id, ctx, "refused", status, None)
            return result
        after = getattr(result, "audit_after", result)
        _finish(store, entry_id, ctx, "ok", None, after)
        return result

    return wrapper


def _finish(
    store: GatewayStore,
    entry_id: Any,
    ctx: Context,
    outcome: str,
    status: int | None,
    after: Any,
) -> None:
    changes: dict[str, Any] = {"outcome": outcome, "finished_at": now()}
    if status is not None:
        changes["status"] = status
    if ctx.user is not None:  # sign-in learns who it is only in the handler
        changes["actor"] = actor(ctx.user)
    body = getattr(ctx, "audit_request", None)
    if body is not None:  # a web form, read by its page with the API's schema
        changes["request"] = "***" if ctx.route and _secret(ctx) else redact(body)
    if hasattr(ctx, "audit_before"):
        changes["before"] = redact(ctx.audit_before)
    if after is not None and not hasattr(after, "status_code"):
        changes["after"] = redact(after)
    try:
        store.audit_end(entry_id, changes)
    except Exception:  # noqa: BLE001 - the write is done; the entry says "pending"
        log.exception("audit entry %s left pending", entry_id)
