"""The gateway's own database, ``<DB_PREFIX>gateway``: accounts, revoked tokens,
the audit log and which MRC each board belongs to.

The gateway is not a nameko service, so it reaches the store with the client of
:meth:`gateway.app.Gateway.store_client` (created on first use, in the worker
process, never at import time). A store that does not answer raises
``PyMongoError``, which the gateway answers with 503; pymongo reconnects by
itself when the store comes back.

An account document:

    {"_id": "01JD...", "username": "marie", "password_hash": "$argon2id$...",
     "role": "board_secretary", "mrc": "66023", "display_name": "Marie",
     "active": true, "created_at": datetime}
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from shared.errors import Conflict, NotFound

REVOCATIONS = "revocations"


def now() -> datetime:
    return datetime.now(UTC)


def _flat(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


class GatewayStore:
    def __init__(self, client_factory: Any, db_name: str) -> None:
        self._client_factory = client_factory
        self.db_name = db_name
        self._ready = False
        self._lock = threading.Lock()
        # called after each revocation (gateway.cache polls again at once)
        self.revoked_hooks: list[Any] = []

    @property
    def db(self) -> Database[dict[str, Any]]:
        db = self._client_factory()[self.db_name]
        if not self._ready:
            with self._lock:
                if not self._ready:
                    db.accounts.create_index([("username", ASCENDING)], unique=True)
                    db.audit.create_index([("at", DESCENDING)])
                    db.audit.create_index([("actor.sub", ASCENDING)])
                    db.revoked.create_index([("expires_at", ASCENDING)])
                    self._ready = True
        return db

    # --- accounts ----------------------------------------------------------------

    def add_account(self, account: dict[str, Any]) -> dict[str, Any]:
        doc = dict(account, _id=account.get("_id") or uuid.uuid4().hex)
        doc.setdefault("active", True)
        doc.setdefault("created_at", now())
        try:
            self.db.accounts.insert_one(doc)
        except DuplicateKeyError as exc:
            raise Conflict(
                f"Le nom d'utilisateur « {doc['username']} » est déjà pris.",
                f"The user name '{doc['username']}' is already taken.",
                details={"fields": {"username": ["taken"]}},
            ) from exc
        return doc

    def account(self, account_id: str) -> dict[str, Any]:
        doc = self.db.accounts.find_one({"_id": account_id})
        if doc is None:
            raise NotFound("account", account_id)
        return doc

    def account_by_username(self, username: str) -> dict[str, Any] | None:
        return self.db.accounts.find_one({"username": username})

    def update_account(
        self, account_id: str, changes: dict[str, Any]
    ) -> dict[str, Any]:
        doc = self.db.accounts.find_one_and_update(
            {"_id": account_id},
            {"$set": changes},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            raise NotFound("account", account_id)
        return doc

    def accounts(
        self, filters: dict[str, Any], offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        query = {k: v for k, v in filters.items() if v is not None}
        total = self.db.accounts.count_documents(query)
        rows = list(
            self.db.accounts.find(query, {"password_hash": 0})
            .sort("username", ASCENDING)
            .skip(offset)
            .limit(limit)
        )
        return rows, total

    # --- revocation ----------------------------------------------------------------

    def revoke_token(self, jti: str, expires_at: int) -> None:
        """Deny ``jti`` until it would expire; marks already past expiry go."""
        self.db.revoked.update_one(
            {"_id": jti},
            {"$set": {"expires_at": datetime.fromtimestamp(expires_at, UTC)}},
            upsert=True,
        )
        # an expired token is refused by its signature check: its mark is dead
        self.db.revoked.delete_many({"expires_at": {"$lt": now()}})
        self.bump({REVOCATIONS: 1})  # after the mark: whoever sees it finds it
        for hook in self.revoked_hooks:
            hook()

    def revoke_account(self, account_id: str, before: int) -> None:
        """Every token of the account issued at or before ``before`` is refused."""
        self.db.revoked.update_one(
            {"_id": f"account:{account_id}"}, {"$set": {"before": before}}, upsert=True
        )
        self.bump({REVOCATIONS: 1})
        for hook in self.revoked_hooks:
            hook()

    def revocation_marks(self) -> tuple[set[str], dict[str, int]]:
        """Every live mark: the revoked token ids, and each revoked account's
        cut-off (``{"01J...": 1795000000}``), for :mod:`gateway.cache`."""
        tokens: set[str] = set()
        accounts: dict[str, int] = {}
        moment = now()
        for mark in self.db.revoked.find({}):
            ident = str(mark["_id"])
            if mark.get("expires_at") is not None and mark["expires_at"] < moment:
                continue  # refused by its signature check anyway
            if ident.startswith("account:"):
                accounts[ident.removeprefix("account:")] = int(mark.get("before", -1))
            else:
                tokens.add(ident)
        return tokens, accounts

    # --- generations: what the gateway processes poll ------------------------------

    def generations(self) -> dict[str, int]:
        """Counters bumped by every revocation (``revocations``) and by every
        batch of writes of an area (``reads.offerings``...): a process that
        polls them knows when its caches must be refreshed.

            {"revocations": 12, "reads.offerings": 804, "reads.boards": 31}
        """
        doc = self.db.generations.find_one({"_id": "gateway"}) or {}
        return {k: int(v) for k, v in _flat(doc).items() if k != "_id"}

    def bump(self, counters: dict[str, int]) -> None:
        self.db.generations.update_one(
            {"_id": "gateway"}, {"$inc": counters}, upsert=True
        )

    # --- boards' MRC -----------------------------------------------------------------

    def set_board_mrc(self, board_id: str, mrc: str) -> None:
        self.db.board_scopes.update_one(
            {"_id": board_id}, {"$set": {"mrc": mrc}}, upsert=True
        )

    def board_mrc(self, board_id: str) -> str | None:
        doc = self.db.board_scopes.find_one({"_id": board_id})
        return None if doc is None else str(doc["mrc"])

    def claim_scope(self, kind: str, ident: str, mrc: str) -> str:
        """Record the MRC of a resource once; the first claim wins (returned)."""
        key = f"{kind}:{ident}"
        try:
            self.db.scopes.insert_one({"_id": key, "mrc": mrc})
        except DuplicateKeyError:
            pass
        doc = self.db.scopes.find_one({"_id": key})
        return mrc if doc is None else str(doc["mrc"])

    def scope(self, kind: str, ident: str) -> str | None:
        doc = self.db.scopes.find_one({"_id": f"{kind}:{ident}"})
        return None if doc is None else str(doc["mrc"])

    # --- audit ---------------------------------------------------------------------

    def audit_insert(self, entries: list[dict[str, Any]]) -> None:
        """One batch of finished entries, one write (see :class:`AuditCommitter`)."""
        self.db.audit.insert_many(entries, ordered=False)

    def ping(self) -> None:
        self.db.command("ping")

    def audit_entries(
        self, filters: dict[str, Any], offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        total = self.db.audit.count_documents(filters)
        rows = list(
            self.db.audit.find(filters)
            .sort([("at", DESCENDING), ("_id", DESCENDING)])
            .skip(offset)
            .limit(limit)
        )
        return rows, total
