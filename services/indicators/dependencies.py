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
from collections.abc import Mapping
from typing import Any

from nameko.extensions import DependencyProvider

from services.indicators.surveys import report_key
from shared.keys import node_secret

log = logging.getLogger(__name__)

KEY_FILE = "practice_key"


def load_practice_key(config: Mapping[str, Any]) -> bytes:
    """The node secret of practitioners' report keys (see
    :func:`shared.keys.node_secret`)."""
    return node_secret(
        config,
        "PRACTICE_KEY",
        KEY_FILE,
        (
            "secret des rapports des intervenant·e·s",
            "the secret of practitioners' reports",
        ),
    )


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
