"""The audit log: every write through the gateway, who, when, what, before, after.

:func:`audited` wraps the handler of every route that is not a GET. When the
handler is done (answered, refused or crashed), ONE entry holds the request, the
state before (:func:`record_before`), the result (``after``) and the outcome,
and the answer leaves only once that entry is durable: acknowledged means
audited. Secrets are never written:

    {"at": "2026-11-23T14:02:11Z", "finished_at": "...", "actor": {"sub":
     "01J...", "role": "board_secretary", "mrc": "66023"}, "ip": "127.0.0.1",
     "method": "POST", "path": "/meetings/m1/open", "action":
     "boards.meetings.manage", "correlation_id": "9f0c...", "request": {...},
     "before": {...}, "after": {...}, "outcome": "ok", "status": 200}

Entries are group-committed (:class:`AuditCommitter`): one thread per gateway
process takes every entry that arrived while the previous batch was being
written and writes them with one ``insert_many``; each request waits for its own
batch. Under load a batch holds as many entries as there are requests in
flight, so the store's fsync is paid once per batch instead of twice per write.

What a crash leaves:

- a handler that raises (a refusal, a service error, a bug) is recorded with
  its outcome (the error code, or the exception's type) before the error
  answer leaves, like a refused page (status >= 400) is recorded as refused;
- when the store cannot take entries, writes are refused with 503 before the
  service is called (the committer's last batch failed and a ping fails), so no
  write runs while the log is known to be down;
- residual risk: if the gateway PROCESS dies (kill -9, OOM) after the service
  committed the write and before the batch is durable, that write has no entry
  (the service's own records and outbox event still have it, under the same
  correlation id). The former design wrote a ``pending`` entry first to close
  this window, at the cost of a second fsynced write per request; the window is
  now one batch (a few milliseconds). A batch that the store refuses is logged
  whole (redacted) at ERROR level, so the entries survive in the gateway's log.

The node administrator reads it at ``GET /audit`` (see ``routes/accounts.py``).
"""

from __future__ import annotations

import functools
import logging
import os
import queue
import secrets
import threading
from collections.abc import Callable
from typing import Any

from gateway.api import Context, Handler
from gateway.auth import CSRF_FIELD
from gateway.store import GatewayStore, now
from shared.errors import MaillageError, Unavailable, http_status

log = logging.getLogger(__name__)

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Writes whose content must not be joined to a person: a secret ballot's choices
# (and its receipt, which the ballot box stores beside them) never enter the log.
SECRET_BODIES = frozenset({"participation.ballots.cast"})
# Anonymous writes: a questionnaire answer (on a page, a kiosk or a paper form
# entered by a practitioner) and a practitioner's report on their conditions
# of practice. Their entry keeps the action, path and outcome only: no actor,
# address, correlation id, body or result, an instant no finer than the month
# (its first) and a random id (an ObjectId starts with a time), so the log
# cannot join an answer to a person or to the instant it was given.
ANONYMOUS = frozenset(
    {
        "indicators.surveys.answer",
        "indicators.surveys.enter",
        "indicators.practice.report",
    }
)
_SECRET_WORDS = ("password", "token", "secret")
_MAX_DEPTH = 6
# How long a request waits for its batch before the answer says the log is down.
COMMIT_TIMEOUT = 10.0


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


class _Pending:
    __slots__ = ("entry", "done", "error")

    def __init__(self, entry: dict[str, Any]) -> None:
        self.entry = entry
        self.done = threading.Event()
        self.error: BaseException | None = None


class AuditCommitter:
    """Group commit of audit entries: :meth:`commit` returns once the entry is
    durable (or raises what the store raised).

    One thread per process, started on first use (gunicorn forks its workers
    after ``create_app``: a thread made before the fork would not exist in the
    worker). ``on_batch`` (in memory, cheap) is called before the batch's
    requests are released; ``after_batch`` is called with the batch's entries once their
    requests are released (the read cache's cross-process invalidation,
    :mod:`gateway.cache`, counts the writes there: one more store write per
    batch, kept off the requests' wait).
    """

    def __init__(
        self,
        store: GatewayStore,
        after_batch: Callable[[list[dict[str, Any]]], None] | None = None,
        max_batch: int = 256,
        on_batch: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> None:
        self.store = store
        self.after_batch = after_batch
        self.on_batch = on_batch
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._pid = 0
        self.healthy = True
        self.batches = 0
        self.entries = 0

    def _ensure_thread(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                self._queue = queue.SimpleQueue()
                thread = threading.Thread(
                    target=self._run, name="audit-committer", daemon=True
                )
                thread.start()
                self._pid = os.getpid()

    def ready(self) -> None:
        """Refuse (503) to start a write while the log is known to be down."""
        if self.healthy:
            return
        try:
            self.store.ping()
        except Exception as exc:  # noqa: BLE001 - any store failure closes writes
            raise _log_down() from exc
        self.healthy = True

    def commit(self, entry: dict[str, Any], timeout: float = COMMIT_TIMEOUT) -> None:
        self._ensure_thread()
        pending = _Pending(entry)
        self._queue.put(pending)
        if not pending.done.wait(timeout):
            raise _log_down()
        if pending.error is not None:
            raise pending.error

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)

    def _write(self, batch: list[_Pending]) -> None:
        entries = [p.entry for p in batch]
        error: BaseException | None = None
        try:
            self.store.audit_insert(entries)
            if self.on_batch is not None:  # in memory, before anyone is answered
                self.on_batch(entries)
            self.healthy = True
            self.batches += 1
            self.entries += len(entries)
        except Exception as exc:  # noqa: BLE001 - every waiter hears of it
            self.healthy = False
            error = exc
            for entry in entries:
                log.error("audit entry not stored: %r", entry)
        for pending in batch:
            pending.error = error
            pending.done.set()
        if self.after_batch is not None:
            try:  # off the waiters' path: they are answered already
                self.after_batch(entries)
            except Exception:  # noqa: BLE001 - a missed signal ages out (TTL)
                log.exception("after-batch signal failed")


def _log_down() -> Unavailable:
    return Unavailable(
        "Journal d'audit indisponible : l'écriture est refusée tant qu'elle ne "
        "peut pas être consignée.",
        "Audit log unavailable: the write is refused while it cannot be recorded.",
        details={"field": "audit"},
    )


def audited(committer: AuditCommitter, handler: Handler, action: str) -> Handler:
    @functools.wraps(handler)
    def wrapper(ctx: Context, **values: Any) -> Any:
        committer.ready()
        request = ctx.request
        entry: dict[str, Any] = {
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
        try:
            result = handler(ctx, **values)
        except MaillageError as exc:
            _finish_quietly(committer, entry, ctx, exc.code, http_status(exc))
            raise
        except Exception as exc:
            _finish_quietly(committer, entry, ctx, type(exc).__name__, None)
            raise
        status = getattr(result, "status_code", None)
        if isinstance(status, int) and status >= 400:
            # a page that shows a refusal answers it instead of raising it
            _finish(committer, entry, ctx, "refused", status, None)
            return result
        after = getattr(result, "audit_after", result)
        _finish(committer, entry, ctx, "ok", None, after)
        return result

    return wrapper


def anonymous_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """What the log keeps of an anonymous write (see :data:`ANONYMOUS`)."""
    month = now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    keep = ("method", "path", "action", "params", "outcome", "status")
    return {k: entry[k] for k in keep if k in entry} | {
        "_id": secrets.token_hex(12),
        "at": month,
        "finished_at": month,
        "actor": None,
        "ip": None,
        "correlation_id": None,
        "request": "***",
    }


def _finish(
    committer: AuditCommitter,
    entry: dict[str, Any],
    ctx: Context,
    outcome: str,
    status: int | None,
    after: Any,
) -> None:
    entry.update(outcome=outcome, finished_at=now())
    if status is not None:
        entry["status"] = status
    if ctx.user is not None:  # sign-in learns who it is only in the handler
        entry["actor"] = actor(ctx.user)
    body = getattr(ctx, "audit_request", None)
    if body is not None:  # a web form, read by its page with the API's schema
        entry["request"] = "***" if entry["action"] in SECRET_BODIES else redact(body)
    if hasattr(ctx, "audit_before"):
        entry["before"] = redact(ctx.audit_before)
    if after is not None and not hasattr(after, "status_code"):
        entry["after"] = redact(after)
    if entry["action"] in ANONYMOUS:
        entry = anonymous_entry(entry)
    try:
        committer.commit(entry)
    except Unavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - the store refused the batch
        raise Unavailable(
            "L'entrée d'audit de cette écriture n'a pas pu être enregistrée (elle "
            "est dans le journal de la passerelle) ; l'écriture a pu avoir lieu : "
            "vérifiez avant de recommencer.",
            "This write's audit entry could not be stored (it is in the gateway's "
            "log); the write may have been applied: check before retrying.",
            details={"field": "audit"},
        ) from exc


def _finish_quietly(
    committer: AuditCommitter,
    entry: dict[str, Any],
    ctx: Context,
    outcome: str,
    status: int | None,
) -> None:
    """The entry of a refused or crashed write; the handler's own error is what
    the client hears, even when the log is down (the entry is then logged)."""
    try:
        _finish(committer, entry, ctx, outcome, status, None)
    except Exception:  # noqa: BLE001
        log.exception("audit entry of a failed write not stored")
