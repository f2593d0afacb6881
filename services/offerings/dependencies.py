"""DependencyProviders of the offerings service.

``Geo`` loads Quebec's census divisions and municipalities once per process,
from ``QUEBEC_GEO_DIR`` (nameko config or environment); without it, MRC and
municipality codes are only checked for their shape (``24xx`` / ``24xxxxx``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from nameko.extensions import DependencyProvider

from services.offerings.domain import GeoReference
from services.offerings.imports import load_geo
from services.offerings.repository import LiveIndex

log = logging.getLogger(__name__)

DEFAULT_GEO_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "quebec_geo"


class Geo(DependencyProvider):
    def setup(self) -> None:
        configured = self.container.config.get("QUEBEC_GEO_DIR") or os.environ.get(
            "QUEBEC_GEO_DIR"
        )
        directory = Path(configured) if configured else DEFAULT_GEO_DIR
        self.reference: GeoReference | None = load_geo(directory)
        if self.reference is None:
            log.warning(
                "no Quebec geography in %s: codes checked by shape only", directory
            )

    def get_dependency(self, worker_ctx: Any) -> GeoReference | None:
        return self.reference


class SearchIndexProvider(DependencyProvider):
    """One :class:`LiveIndex` per service process, shared by its workers."""

    def setup(self) -> None:
        self.live = LiveIndex()

    def get_dependency(self, worker_ctx: Any) -> LiveIndex:
        return self.live
