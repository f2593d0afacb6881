"""The MongoDB dependency: one database per service, created in ``setup()``.

    class BoardsService:
        name = "boards"
        store = Store(indexes={"members": [IndexModel("board_id")]})

        @rpc
        def adopt(self, ...):
            with self.store.transaction() as session:
                self.store.db.resolutions.insert_one(doc, session=session)
                self.outbox.add(RESOLUTION_ADOPTED, payload, session=session)

The database is ``<DB_PREFIX><service name>``. pymongo is not fork-safe, so
the client is made in ``setup()`` (in the service's own process) and closed
in ``stop()``. Indexes are ensured at ``start()``: with the store unreachable
the service still starts and ensures them later, so a node recovers without a
restart when the store comes back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from nameko.extensions import DependencyProvider
from pymongo import MongoClient
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import ConnectionFailure, PyMongoError
from pymongo.operations import IndexModel
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from shared.config import require
from shared.errors import Unavailable
from shared.mongo import make_client

log = logging.getLogger(__name__)
T = TypeVar("T")


class TxState:
    """Per-attempt state of a transaction opened by :class:`StoreHandle`."""

    def __init__(self) -> None:
        self.hooks: list[Callable[[ClientSession], None]] = []
        self.data: dict[str, Any] = {}

    def finish(self, session: ClientSession) -> None:
        for hook in self.hooks:
            hook(session)


def _begin(session: ClientSession) -> TxState:
    state = TxState()
    session._maillage_tx = state  # type: ignore[attr-defined]
    return state


def tx_state(session: ClientSession) -> TxState | None:
    """The state of the current attempt, or None for a session opened elsewhere."""
    return getattr(session, "_maillage_tx", None)


def ensure_indexes(
    db: Database[dict[str, Any]], indexes: Mapping[str, Sequence[IndexModel]]
) -> None:
    for collection, models in indexes.items():
        if models:
            db[collection].create_indexes(list(models))


class StoreHandle:
    """What a worker sees: the service's database and a transaction helper."""

    def __init__(
        self, client: MongoClient[dict[str, Any]], db: Database[dict[str, Any]]
    ) -> None:
        self.client = client
        self.db = db

    @contextmanager
    def transaction(self) -> Iterator[ClientSession]:
        """One multi-document transaction; a lost store becomes :class:`Unavailable`."""
        try:
            with self.client.start_session() as session:
                with session.start_transaction(
                    read_concern=ReadConcern("snapshot"),
                    write_concern=WriteConcern("majority"),
                ):
                    state = _begin(session)
                    yield session
                    state.finish(session)
        except ConnectionFailure as exc:
            raise Unavailable(
                "Le magasin de données est injoignable.",
                "The data store is unreachable.",
            ) from exc

    def run_transaction(self, body: Callable[[ClientSession], T]) -> T:
        """Run ``body(session)`` in a transaction, retried on transient conflicts.

        ``body`` may run more than once: it must write only through ``session``.
        """

        def attempt(session: ClientSession) -> T:
            state = _begin(session)  # fresh for every attempt
            result = body(session)
            state.finish(session)
            return result

        try:
            with self.client.start_session() as session:
                return session.with_transaction(
                    attempt,
                    read_concern=ReadConcern("snapshot"),
                    write_concern=WriteConcern("majority"),
                )
        except ConnectionFailure as exc:
            raise Unavailable(
                "Le magasin de données est injoignable.",
                "The data store is unreachable.",
            ) from exc

    def ping(self) -> bool:
        try:
            self.client.admin.command("ping")
            return True
        except PyMongoError:
            return False


class Store(DependencyProvider):
    """Owns the pymongo client of one service (see module docstring)."""

    OUTBOX = "outbox"
    PROCESSED = "processed_events"

    def __init__(
        self, indexes: Mapping[str, Sequence[IndexModel]] | None = None
    ) -> None:
        self.indexes: dict[str, list[IndexModel]] = {
            k: list(v) for k, v in (indexes or {}).items()
        }
        self.client: MongoClient[dict[str, Any]] | None = None
        self.handle: StoreHandle | None = None
        self.indexes_ready = False

    @property
    def database_name(self) -> str:
        prefix = self.container.config.get("DB_PREFIX", "maillage_")
        return f"{prefix}{self.container.service_name}"

    def setup(self) -> None:
        uri = require(
            self.container.config, "MONGODB_URI", scheme=("mongodb", "mongodb+srv")
        )
        self.client = make_client(uri)
        self.handle = StoreHandle(self.client, self.client[self.database_name])

    def start(self) -> None:
        self.ensure_indexes()

    def ensure_indexes(self) -> bool:
        if self.indexes_ready or self.handle is None:
            return self.indexes_ready
        try:
            ensure_indexes(self.handle.db, self.indexes)
            self.indexes_ready = True
        except PyMongoError as exc:
            log.warning("indexes of %s not ensured yet: %s", self.database_name, exc)
        return self.indexes_ready

    def stop(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    kill = stop

    def get_dependency(self, worker_ctx: Any) -> StoreHandle:
        assert self.handle is not None
        if not self.indexes_ready:
            self.ensure_indexes()
        return self.handle


def find_store(container: Any) -> Store:
    for dep in container.dependencies:
        if isinstance(dep, Store):
            return dep
    raise LookupError(f"service {container.service_name} has no Store dependency")
