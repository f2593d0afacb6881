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

Group commit: while one ``run_transaction`` of a service process is committing,
the calls that arrive meanwhile wait, then run together, one after the other, in
ONE transaction (as a database groups its log flushes). Each body still sees the
writes of those before it, as if run alone in that order, and the outbox writes
one row for all their events. Under a burst of votes this turns N commits into a
few; a quiet service runs each call at once, with no added wait. If one body of
a group raises, the group's transaction is dropped and every body runs again
alone, so a refusal (a second vote, a closed phase) reaches only its own caller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from threading import Lock
from typing import Any, Generic, TypeVar

import eventlet
from eventlet.event import Event
from nameko.extensions import DependencyProvider
from pymongo import MongoClient
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import ConnectionFailure, PyMongoError, ServerSelectionTimeoutError
from pymongo.operations import IndexModel
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from shared import logs
from shared.config import positive_int, require
from shared.errors import Unavailable
from shared.mongo import make_client

log = logging.getLogger(__name__)
T = TypeVar("T")


def _unavailable() -> Unavailable:
    return Unavailable(
        "Le magasin de données est injoignable.", "The data store is unreachable."
    )


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


class _Call(Generic[T]):
    """One ``run_transaction`` call waiting for, or leading, a group."""

    def __init__(self, body: Callable[[ClientSession], T]) -> None:
        self.body = body
        self.log_fields = logs.current()
        self.wake: Event = Event()  # sent "done" (by a leader) or "lead"
        self.result: Any = None
        self.error: BaseException | None = None
        self.settled = False

    def run(self, session: ClientSession) -> T:
        logs.bind(**self.log_fields)
        return self.body(session)

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[no-any-return]


class StoreHandle:
    """What a worker sees: the service's database and a transaction helper."""

    def __init__(
        self,
        client: MongoClient[dict[str, Any]],
        db: Database[dict[str, Any]],
        max_group: int = 32,
    ) -> None:
        self.client = client
        self.db = db
        self.max_group = max_group
        self._queue: list[_Call[Any]] = []
        self._leading = False
        self._leader: Any = None
        self._lock = Lock()

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
            raise _unavailable() from exc

    def run_transaction(self, body: Callable[[ClientSession], T]) -> T:
        """Run ``body(session)`` in a transaction, retried on transient conflicts.

        ``body`` may run more than once, and with other calls' bodies in the same
        transaction (group commit, see the module docstring): it must write only
        through ``session`` and keep nothing between runs.
        """
        if self.max_group <= 1 or self._leader is eventlet.getcurrent():
            return self._run_alone(body)  # a body that opens a transaction itself
        call = _Call(body)
        with self._lock:
            self._queue.append(call)
            follow = self._leading
            self._leading = True
        if follow and call.wake.wait() == "done":
            return call.outcome()
        # This call leads: it is first in the queue; take the calls behind it too.
        with self._lock:
            group = self._queue[: self.max_group]
            del self._queue[: len(group)]
        self._leader = eventlet.getcurrent()
        try:
            self._commit_group(group)
        finally:
            self._leader = None
            for follower in group[1:]:  # even if this leader was killed midway
                if not follower.settled:
                    follower.error = Unavailable(
                        "Le service s'arrête ; réessayez.",
                        "The service is stopping; try again.",
                    )
                follower.wake.send("done")
            with self._lock:
                if self._queue:
                    self._queue[0].wake.send("lead")
                else:
                    self._leading = False
            logs.bind(**call.log_fields)
        return call.outcome()

    def _commit_group(self, group: list[_Call[Any]]) -> None:
        """Give every call of ``group`` its outcome (the leader then wakes them)."""
        alone = group
        if len(group) > 1:

            def together(session: ClientSession) -> list[Any]:
                return [call.run(session) for call in group]

            try:
                results = self._run_alone(together)
            except Unavailable as exc:  # the store is away for all of them
                for call in group:
                    call.error = exc
                    call.settled = True
                alone = []
            except Exception:  # noqa: BLE001 - a body refused: each runs alone
                pass
            else:
                for call, result in zip(group, results, strict=True):
                    call.result = result
                    call.settled = True
                alone = []
        for call in alone:
            try:
                call.result = self._run_alone(call.run)
            except Exception as exc:  # noqa: BLE001 - delivered to its own caller
                call.error = exc
            call.settled = True

    def _run_alone(self, body: Callable[[ClientSession], T]) -> T:
        def attempt(session: ClientSession) -> T:
            state = _begin(session)  # fresh for every attempt
            try:
                result = body(session)
                state.finish(session)
            except ServerSelectionTimeoutError as exc:
                # No store for serverSelectionTimeoutMS: say so now rather than let
                # the driver retry the transaction for two minutes.
                raise _unavailable() from exc
            return result

        try:
            with self.client.start_session() as session:
                return session.with_transaction(
                    attempt,
                    read_concern=ReadConcern("snapshot"),
                    write_concern=WriteConcern("majority"),
                )
        except ConnectionFailure as exc:
            raise _unavailable() from exc

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
        self.handle = StoreHandle(
            self.client,
            self.client[self.database_name],
            max_group=positive_int(self.container.config, "STORE_GROUP_COMMIT", 32),
        )

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
