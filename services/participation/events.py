"""Events of the participation service (payloads carry no voter identity).

``participation.results_published`` payload::

    {"process_id": "p1", "title": "Priorités 2027", "mrc_code": "2423",
     "method": "irv", "ballots": 412,
     "priorities": [{"rank": 1, "proposal_id": "a1", "title": "Parc",
                     "elected": true}, …]}
"""

from __future__ import annotations

PROCESS_CREATED = "participation.process_created"
PROPOSAL_SUBMITTED = "participation.proposal_submitted"
PROPOSAL_QUALIFIED = "participation.proposal_qualified"
PROPOSAL_HIDDEN = "participation.proposal_hidden"
RESULTS_PUBLISHED = "participation.results_published"
