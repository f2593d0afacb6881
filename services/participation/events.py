"""Events of the participation service (payloads carry no voter identity).

``participation.results_published`` payload, ``schema_version`` 2::

    {"process_id": "p1", "title": "Priorités 2027", "mrc_code": "2423",
     "method": "irv", "ballots": 412, "eligible_count": 2000,
     "priorities": [{"rank": 1, "proposal_id": "a1", "title": "Parc",
                     "elected": true}, …]}

``eligible_count`` is how many could vote, as the process declared it (the
turnout denominator), or ``null`` when it declared none. Version 1 had no such
field: it is read as ``null`` (:func:`_results_v1`).
"""

from __future__ import annotations

from typing import Any

from shared.envelope import register_upcaster

PROCESS_CREATED = "participation.process_created"
PROPOSAL_SUBMITTED = "participation.proposal_submitted"
PROPOSAL_QUALIFIED = "participation.proposal_qualified"
PROPOSAL_HIDDEN = "participation.proposal_hidden"
RESULTS_PUBLISHED = "participation.results_published"


@register_upcaster(RESULTS_PUBLISHED, 1)
def _results_v1(payload: dict[str, Any]) -> dict[str, Any]:
    """v1 -> v2: no eligible count was declared (not zero: unknown)."""
    return {**payload, "eligible_count": None}
