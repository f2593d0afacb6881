"""Settings from the environment, read the same way by services, gateway and CLI.

nameko services get their config from ``deploy/config.yaml`` whose values are
``${VAR:default}``; the gateway and CLI call :func:`settings`. Only harmless
defaults exist (a local broker and store); :func:`require` stops start-up with a
message naming the setting when something is missing or malformed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from shared.errors import ConfigError

DEFAULTS: dict[str, Any] = {
    "AMQP_URI": "amqp://guest:guest@127.0.0.1:5672/",
    "MONGODB_URI": "mongodb://127.0.0.1:27017/?directConnection=true",
    "DB_PREFIX": "maillage_",
    "NODE_ID": "local",
    "EVENTS_EXCHANGE": "maillage.events",
    "RPC_TIMEOUT": 10,
    "QUEUE_TYPE": "classic",
}

#: RabbitMQ queue types a node may ask for: ``classic`` on a single broker,
#: ``quorum`` (replicated by Raft) on a cluster.
QUEUE_TYPES = ("classic", "quorum")


def settings(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Defaults overridden by ``MAILLAGE_<NAME>`` or ``<NAME>`` environment variables."""
    env = os.environ if env is None else env
    result = dict(DEFAULTS)
    for key in DEFAULTS:
        for name in (f"MAILLAGE_{key}", key):
            if name in env and env[name] != "":
                result[key] = env[name]
                break
    return result


def require(config: Mapping[str, Any], key: str, scheme: tuple[str, ...] = ()) -> str:
    value = config.get(key)
    if value in (None, ""):
        raise ConfigError(
            f"Paramètre manquant : {key} (variable d'environnement {key}).",
            f"Missing setting: {key} (environment variable {key}).",
        )
    text = str(value)
    if scheme and urlparse(text).scheme not in scheme:
        raise ConfigError(
            f"Paramètre {key} mal formé : « {text} » devrait commencer par {' ou '.join(scheme)}://",
            f"Malformed setting {key}: '{text}' should start with {' or '.join(scheme)}://",
        )
    return text


def positive_int(config: Mapping[str, Any], key: str, default: int) -> int:
    raw = config.get(key, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = -1
    if value <= 0:
        raise ConfigError(
            f"Paramètre {key} mal formé : entier positif attendu, reçu « {raw} ».",
            f"Malformed setting {key}: positive integer expected, got '{raw}'.",
        )
    return value


def queue_type(config: Mapping[str, Any]) -> str:
    """``QUEUE_TYPE``: the type of the durable queues the node declares (event
    queues, their dead-letter queues, the unroutable queue, RPC request queues).

    >>> queue_type({"QUEUE_TYPE": "quorum"})
    'quorum'
    """
    raw = config.get("QUEUE_TYPE")
    value = "classic" if raw in (None, "") else str(raw).strip()
    if value not in QUEUE_TYPES:
        raise ConfigError(
            f"Paramètre QUEUE_TYPE mal formé : « {raw} » n'est pas un type de file "
            f"RabbitMQ connu ({' ou '.join(QUEUE_TYPES)}).",
            f"Malformed setting QUEUE_TYPE: '{raw}' is not a known RabbitMQ queue "
            f"type ({' or '.join(QUEUE_TYPES)}).",
        )
    return value


def queue_arguments(kind: str) -> dict[str, Any]:
    """Declaration arguments for a durable queue of type ``kind``. A classic queue
    gets none, exactly as before ``QUEUE_TYPE`` existed, so queues already on a
    broker are redeclared with equivalent arguments."""
    return {"x-queue-type": "quorum"} if kind == "quorum" else {}
