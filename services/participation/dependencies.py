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
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nameko.extensions import DependencyProvider
from pymongo.errors import ConnectionFailure, PyMongoError

from services.participation import domain
from shared.errors import ConfigError, Unavailable
from shared.store import Store, StoreHandle

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
KEY_FILE = "ballot_key"
MIN_KEY_LENGTH = 32


def keys_dir(config: Mapping[str, Any]) -> Path:
    """The node's keys directory: ``KEYS_DIR``, else ``<data dir>/keys``."""
    if config.get("KEYS_DIR"):
        return Path(str(config["KEYS_DIR"]))
    data = os.environ.get("MAILLAGE_DATA_DIR") or str(ROOT / "var")
    return Path(data) / "keys"


def _local_key(path: Path) -> bytes:
    """Made once with mode 0600 (like the node's signing key), then reused."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another instance made it first
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
            log.info("new ballot key at %s", path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"La clé {path} est lisible par d'autres (mode {mode:o}) : "
            f"faites chmod 600.",
            f"Key {path} is readable by others (mode {mode:o}): run chmod 600.",
        )
    return path.read_text().strip().encode()


def load_ballot_key(config: Mapping[str, Any]) -> bytes:
    """The node secret of voter keys (see the module docstring).

    ``BALLOT_KEY`` when set (at least 32 characters); otherwise, in production
    (``MAILLAGE_ENV=production``), a :class:`ConfigError` naming the setting;
    otherwise the local key file of the node's keys directory.
    """
    given = str(config.get("BALLOT_KEY") or "")
    if given:
        if len(given) < MIN_KEY_LENGTH:
            raise ConfigError(
                f"Paramètre BALLOT_KEY trop court : au moins {MIN_KEY_LENGTH} "
                "caractères (openssl rand -hex 32).",
                f"Setting BALLOT_KEY too short: at least {MIN_KEY_LENGTH} "
                "characters (openssl rand -hex 32).",
            )
        return given.encode()
    if str(config.get("MAILLAGE_ENV") or "") == "production":
        raise ConfigError(
            "Paramètre manquant : BALLOT_KEY (variable d'environnement BALLOT_KEY, "
            "secret des clés de votant, hors du magasin ; openssl rand -hex 32).",
            "Missing setting: BALLOT_KEY (environment variable BALLOT_KEY, the "
            "secret of voter keys, kept outside the store; openssl rand -hex 32).",
        )
    return _local_key(keys_dir(config) / KEY_FILE)


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
