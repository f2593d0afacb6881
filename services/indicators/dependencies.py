"""DependencyProviders of the indicators service beyond the store and outbox.

``ReportKeys`` holds the node secret of practitioners' report keys: that a
practitioner reported in a period is stored only as
``HMAC-SHA256(PRACTICE_KEY, "practice" + period + account)``
(:func:`services.indicators.surveys.report_key`), so whoever copies the store
(and the accounts database) cannot recompute who reported without the secret,
which lives outside the store, as participation's ``BALLOT_KEY`` does::

    PRACTICE_KEY=$(openssl rand -hex 32)   # production: required
    # locally (maillage node run, tests): made once in var/keys/practice_key (0600)

Losing the secret during a period lets a practitioner report a second time in
it (their key changes); it is backed up with the node's other keys.
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

from services.indicators.surveys import report_key
from shared.errors import ConfigError

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
KEY_FILE = "practice_key"
MIN_KEY_LENGTH = 32


def keys_dir(config: Mapping[str, Any]) -> Path:
    """The node's keys directory: ``KEYS_DIR``, else ``<data dir>/keys``."""
    if config.get("KEYS_DIR"):
        return Path(str(config["KEYS_DIR"]))
    data = os.environ.get("MAILLAGE_DATA_DIR") or str(ROOT / "var")
    return Path(data) / "keys"


def _local_key(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another instance made it first
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
            log.info("new practice key at %s", path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"La clé {path} est lisible par d'autres (mode {mode:o}) : "
            "faites chmod 600.",
            f"Key {path} is readable by others (mode {mode:o}): run chmod 600.",
        )
    return path.read_text().strip().encode()


def load_practice_key(config: Mapping[str, Any]) -> bytes:
    """``PRACTICE_KEY`` (at least 32 characters); in production a missing one
    is a :class:`ConfigError` naming the setting; otherwise the local file."""
    given = str(config.get("PRACTICE_KEY") or "")
    if given:
        if len(given) < MIN_KEY_LENGTH:
            raise ConfigError(
                f"Paramètre PRACTICE_KEY trop court : au moins {MIN_KEY_LENGTH} "
                "caractères (openssl rand -hex 32).",
                f"Setting PRACTICE_KEY too short: at least {MIN_KEY_LENGTH} "
                "characters (openssl rand -hex 32).",
            )
        return given.encode()
    if str(config.get("MAILLAGE_ENV") or "") == "production":
        raise ConfigError(
            "Paramètre manquant : PRACTICE_KEY (secret des rapports des "
            "intervenant·e·s, hors du magasin ; openssl rand -hex 32).",
            "Missing setting: PRACTICE_KEY (the secret of practitioners' "
            "reports, kept outside the store; openssl rand -hex 32).",
        )
    return _local_key(keys_dir(config) / KEY_FILE)


class ReportKeyHandle:
    """What a worker sees: ``keys(account, period)`` -> the stored key."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def __call__(self, account: str, period: str) -> str:
        return report_key(self._secret, account, period)

    def __repr__(self) -> str:  # never the secret, in a log or a traceback
        return "ReportKeyHandle(***)"


class ReportKeys(DependencyProvider):
    """Loads the secret in ``setup()``: a missing one stops the container."""

    def setup(self) -> None:
        self.handle = ReportKeyHandle(load_practice_key(self.container.config))

    def get_dependency(self, worker_ctx: Any) -> ReportKeyHandle:
        return self.handle
