"""DependencyProviders of the participation service beyond the outbox.

``VoterKeys`` holds the node secret of voter pseudonyms. A person is stored only
as ``HMAC-SHA256(BALLOT_KEY, process_id + "\\0" + person)``: whoever copies the
store (and the accounts database) cannot recompute who took part or who
supported what without the secret, which lives outside the store::

    BALLOT_KEY=$(openssl rand -hex 32)   # production: required
    # locally (maillage node run, tests): made once in var/keys/ballot_key (0600)

Losing the secret during an open vote would let a voter vote again (their key
changes), so it is backed up with the node's other keys and never rotated while
a process is open.

``BallotStore`` is the shared :class:`~shared.store.Store` that fails closed: the
unique indexes are what refuse a second ballot (or support) from one person, so
a service whose unique index cannot be built (duplicate rows, a refusal of the
store) does not start, and no worker runs without it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from nameko.extensions import DependencyProvider
from pymongo.errors import ConnectionFailure, PyMongoError

from services.participation import domain
from shared.errors import ConfigError, Unavailable
from shared.keys import node_secret
from shared.store import Store, StoreHandle

log = logging.getLogger(__name__)

KEY_FILE = "ballot_key"


def load_ballot_key(config: Mapping[str, Any]) -> bytes:
    """The node secret of voter keys (see the module docstring and
    :func:`shared.keys.node_secret`)."""
    return node_secret(
        config,
        "BALLOT_KEY",
        KEY_FILE,
        ("secret des clés de votant", "the secret of voter keys"),
    )


class VoterKeyHandle:
    """What a worker sees: ``keys(process, person)`` -> the stored voter key."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def __call__(self, process: Mapping[str, Any], person: str) -> str:
        return domain.person_key(process, person, self._secret)

    def __repr__(self) -> str:  # never the secret, in a log or a traceback
        return "VoterKeyHandle(***)"


class VoterKeys(DependencyProvider):
    """Loads the secret in ``setup()``: a missing one stops the container."""

    def setup(self) -> None:
        self.handle = VoterKeyHandle(load_ballot_key(self.container.config))

    def get_dependency(self, worker_ctx: Any) -> VoterKeyHandle:
        return self.handle


class IndexNotBuilt(ConfigError):
    """A unique index the service relies on could not be built."""

    code = "index_not_built"


class BallotStore(Store):
    """The shared store, refusing to run without its unique indexes."""

    def ensure_indexes(self) -> bool:
        if self.indexes_ready or self.handle is None:
            return self.indexes_ready
        for collection, models in self.indexes.items():
            for model in models:
                try:
                    self.handle.db[collection].create_indexes([model])
                except ConnectionFailure as exc:  # store away: try again later
                    log.warning("indexes of %s not ensured yet: %s", collection, exc)
                    return False
                except PyMongoError as exc:
                    raise _not_built(collection, model.document, exc) from exc
        self.indexes_ready = True
        return True

    def get_dependency(self, worker_ctx: Any) -> StoreHandle:
        if not self.ensure_indexes():
            raise Unavailable(
                "Index d'unicité pas encore en place (magasin injoignable) : "
                "aucun vote accepté sans eux.",
                "Unique indexes not in place yet (store unreachable): no vote is "
                "accepted without them.",
            )
        assert self.handle is not None
        return self.handle


def _not_built(
    collection: str, spec: Mapping[str, Any], exc: PyMongoError
) -> ConfigError:
    keys = ", ".join(spec["key"])
    name = f"{collection}({keys})"
    reason = str(getattr(exc, "details", None) and exc.details.get("errmsg") or exc)  # type: ignore[attr-defined]
    log.critical("unique index %s not built: %s", name, reason)
    return IndexNotBuilt(
        f"L'index {name} n'a pas pu être construit ({reason}) : le service de "
        "participation ne démarre pas sans lui (un bulletin, un appui par personne). "
        "Retirez les doublons puis redémarrez.",
        f"Index {name} could not be built ({reason}): the participation service "
        "does not start without it (one ballot, one support per person). Remove "
        "the duplicates, then restart.",
        details={"index": name, "reason": reason},
    )
