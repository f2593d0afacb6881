"""Node secrets kept outside the store (``BALLOT_KEY``, ``PRACTICE_KEY``).

A keyed hash under such a secret says that someone voted or reported without
letting whoever copies the store recompute who. In production the secret comes
from the environment and a missing one stops start-up naming the setting;
locally (``maillage node run``, tests) it is made once, mode 0600, in the
node's keys directory and reused::

    secret = node_secret(config, "BALLOT_KEY", "ballot_key",
                         ("secret des clés de votant", "the secret of voter keys"))
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shared.errors import ConfigError

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
MIN_KEY_LENGTH = 32


def keys_dir(config: Mapping[str, Any]) -> Path:
    """The node's keys directory: ``KEYS_DIR``, else ``<data dir>/keys``."""
    if config.get("KEYS_DIR"):
        return Path(str(config["KEYS_DIR"]))
    data = os.environ.get("MAILLAGE_DATA_DIR") or str(ROOT / "var")
    return Path(data) / "keys"


def local_key(path: Path) -> bytes:
    """Made once with mode 0600 (like the node's signing key), then reused;
    a key others may read is refused."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another instance made it first
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
            log.info("new key at %s", path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"La clé {path} est lisible par d'autres (mode {mode:o}) : "
            "faites chmod 600.",
            f"Key {path} is readable by others (mode {mode:o}): run chmod 600.",
        )
    return path.read_text().strip().encode()


def node_secret(
    config: Mapping[str, Any], setting: str, file_name: str, purpose: tuple[str, str]
) -> bytes:
    """``config[setting]`` when set (at least 32 characters); otherwise, in
    production (``MAILLAGE_ENV=production``), a :class:`ConfigError` naming the
    setting; otherwise the local key file ``file_name`` of the keys directory.
    ``purpose`` says what the secret is for, in French and English."""
    given = str(config.get(setting) or "")
    if given:
        if len(given) < MIN_KEY_LENGTH:
            raise ConfigError(
                f"Paramètre {setting} trop court : au moins {MIN_KEY_LENGTH} "
                "caractères (openssl rand -hex 32).",
                f"Setting {setting} too short: at least {MIN_KEY_LENGTH} "
                "characters (openssl rand -hex 32).",
            )
        return given.encode()
    if str(config.get("MAILLAGE_ENV") or "") == "production":
        raise ConfigError(
            f"Paramètre manquant : {setting} (variable d'environnement {setting}, "
            f"{purpose[0]}, hors du magasin ; openssl rand -hex 32).",
            f"Missing setting: {setting} (environment variable {setting}, "
            f"{purpose[1]}, kept outside the store; openssl rand -hex 32).",
        )
    return local_key(keys_dir(config) / file_name)
