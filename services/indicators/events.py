"""Events of the indicators service, and the ones it consumes.

``indicators.values_approved`` (one per counted data element, suppressed
before it leaves: ``count`` is ``null`` where ``suppressed`` is true)::

    {"indicator": "home_interventions", "period": "2026Q1", "mrc_code": "2437",
     "org_unit": "cd:2437", "threshold": 5,
     "cells": [{"org_unit": "csd:2437067", "count": 41, "suppressed": false},
               {"org_unit": "csd:2437220", "count": null, "suppressed": true},
               {"org_unit": "cd:2437", "count": 57, "suppressed": false}]}

``indicators.rollup_published`` (a coordinator's regional roll-up of what
the MRCs approved, suppressed again with the coordinator's threshold)::

    {"indicator": "home_interventions", "period": "2026Q1", "threshold": 5,
     "cells": [{"org_unit": "cd:2402", "count": 31, "suppressed": false},
               {"org_unit": "region:11", "count": null, "suppressed": true}]}

``indicators.values_unapproved``::

    {"org_unit": "cd:2437", "period": "2026Q1", "reason": "erreur de saisie"}
"""

from __future__ import annotations

# the boards' own contract: a public resolution may carry a catalogue
# definition ({"service": "indicators", "kind", "id", "version", "digest",
# "content"}) that its adoption makes current
from services.boards.events import RESOLUTION_ADOPTED

# participation's own module: importing it registers the upcaster of its v1
# results (no eligible count), so old events are read in today's shape here too
from services.participation.events import RESULTS_PUBLISHED

__all__ = [
    "DECISION_STATUS_CHANGED",
    "EVENT_RECEIVED",
    "RESOLUTION_ADOPTED",
    "RESULTS_PUBLISHED",
    "ROLLUP_PUBLISHED",
    "SERVICE_PUBLISHED",
    "SERVICE_WITHDRAWN",
    "VALUES_APPROVED",
    "VALUES_UNAPPROVED",
    "WAITING_LIST_CHANGED",
]

VALUES_APPROVED = "indicators.values_approved"
VALUES_UNAPPROVED = "indicators.values_unapproved"
ROLLUP_PUBLISHED = "indicators.rollup_published"

# consumed (and RESULTS_PUBLISHED, above)
EVENT_RECEIVED = "federation.event_received"
SERVICE_PUBLISHED = "offerings.service_published"
SERVICE_WITHDRAWN = "offerings.service_withdrawn"
WAITING_LIST_CHANGED = "offerings.waiting_list_changed"
DECISION_STATUS_CHANGED = "boards.decision_status_changed"
