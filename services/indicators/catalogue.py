"""The starter catalogue: the first version of the catalogue's data.

The definitions live in ``catalogue.json`` (data, not code): each data element,
indicator and validation rule with its name, readable definition and intended
use in French and English, at the version it was adopted. The service seeds
them into its store (:func:`seed_documents`, idempotent: a version already in
the store is never overwritten), after which the catalogue is edited through
the API (a board proposes and adopts, or the node administrator defines).

Version 2 of ``collective_share`` and ``outreach_share`` corrects their
denominator: "all interventions" now counts ``office_interventions`` too, so
the shift from the community to the office shows; results computed with
version 1 keep it.

    {"kind": "indicator", "id": "home_interventions_per_10k", "version": 1,
     "content": {"numerator": "#{home_interventions}",
                 "denominator": "#{population}", "factor": 10000, ...}}

``DATA_ELEMENTS`` and ``INDICATORS`` are the starter's current versions, for
offline tools (``maillage indicators evaluate`` without a service).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from services.indicators.definitions import (
    ADOPTED,
    Catalogue,
    Definition,
    to_doc,
)
from services.indicators.domain import DataElement
from services.indicators.expression import Indicator

SOURCE = Path(__file__).with_name("catalogue.json")
STARTER = {"by": "starter", "source": "catalogue.json"}


@lru_cache(maxsize=1)
def starter() -> Catalogue:
    data = json.loads(SOURCE.read_text(encoding="utf-8"))
    return Catalogue(
        [
            Definition(
                d["kind"],
                d["id"],
                int(d["version"]),
                d["content"],
                ADOPTED,
                STARTER | {"starter": data["starter"]},
                "",
                d.get("note"),
            )
            for d in data["definitions"]
        ]
    )


def seed_documents() -> list[dict[str, Any]]:
    """The starter as store documents (``_id`` ``kind|id|version``)."""
    return [to_doc(d) for d in starter().definitions]


DATA_ELEMENTS: dict[str, DataElement] = starter().elements()
INDICATORS: dict[str, Indicator] = starter().indicators()
