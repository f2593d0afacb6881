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
from services.offerings.gazetteer import Gazetteer, load_gazetteer
from services.offerings.imports import load_geo
from services.offerings.repository import LiveIndex

log = logging.getLogger(__name__)

DEFAULT_GEO_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "quebec_geo"
DEFAULT_INDEX_DIR = Path("var") / "search"


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
    """One :class:`LiveIndex` per service process, shared by its workers,
    kept in an SQLite FTS5 file so that a restart is ready at once.

    ``OFFERINGS_INDEX_DIR`` (nameko config or environment; default
    ``var/search``, the node sets ``<data dir>/search``) holds one file per
    directory database, ``<database name>.sqlite3``, opened on the first
    search (the database name is known only then)."""

    def setup(self) -> None:
        self.directory = Path(
            self.container.config.get("OFFERINGS_INDEX_DIR")
            or os.environ.get("OFFERINGS_INDEX_DIR")
            or DEFAULT_INDEX_DIR
        )
        self.live = LiveIndex(directory=self.directory)

    def stop(self) -> None:
        self.live.close()

    def get_dependency(self, worker_ctx: Any) -> LiveIndex:
        return self.live


class Places(DependencyProvider):
    """The gazetteer of "near me" (:mod:`services.offerings.gazetteer`): read on
    the first search near a place, once per process, not at start-up.

    ``OFFERINGS_POSTAL_CODES`` (nameko config or environment) names the
    postal-code file an administrator loaded; without it no postal code is
    offered."""

    def setup(self) -> None:
        config = self.container.config
        self.geo_dir = str(
            config.get("QUEBEC_GEO_DIR")
            or os.environ.get("QUEBEC_GEO_DIR")
            or DEFAULT_GEO_DIR
        )
        self.postal_file = str(
            config.get("OFFERINGS_POSTAL_CODES")
            or os.environ.get("OFFERINGS_POSTAL_CODES")
            or ""
        )

    def get_dependency(self, worker_ctx: Any) -> PlacesHandle:
        return PlacesHandle(self.geo_dir, self.postal_file)


class PlacesHandle:
    def __init__(self, geo_dir: str, postal_file: str) -> None:
        self.geo_dir, self.postal_file = geo_dir, postal_file

    @property
    def gazetteer(self) -> Gazetteer | None:
        return load_gazetteer(self.geo_dir, self.postal_file)
