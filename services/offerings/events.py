"""Events the offerings service publishes (through the outbox).

Payloads never carry an address: a confidential location is only named by its
MRC and municipality codes, which is what indicators need. Example::

    {"event_type": "offerings.waiting_list_changed", "schema_version": 1,
     "payload": {"service_id": "…", "organization_id": "…",
                 "mrc_codes": ["2466"], "municipality_codes": ["2466023"],
                 "waiting_list_open": true, "waiting_list_length": 12,
                 "typical_wait_days": 30, "capacity": 40,
                 "updated_at": "2026-11-23T14:00:00Z"}}
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, fields

SERVICE_PUBLISHED = "offerings.service_published"
SERVICE_UPDATED = "offerings.service_updated"
SERVICE_WITHDRAWN = "offerings.service_withdrawn"
WAITING_LIST_CHANGED = "offerings.waiting_list_changed"

WAITING_LIST_FIELDS = (
    "waiting_list_open",
    "waiting_list_length",
    "typical_wait_days",
    "capacity",
)


class _Payload(Schema):
    class Meta:
        unknown = RAISE

    service_id = fields.UUID(required=True)
    organization_id = fields.UUID(required=True)
    mrc_codes = fields.List(fields.String(), required=True)
    municipality_codes = fields.List(fields.String(), required=True)


class ServicePublishedPayload(_Payload):
    name = fields.String(required=True)
    no_referral_required = fields.Boolean(required=True)
    outreach_modes = fields.List(fields.String(), required=True)


class ServiceUpdatedPayload(_Payload):
    changed_fields = fields.List(fields.String(), required=True)


class ServiceWithdrawnPayload(_Payload):
    reason = fields.String(allow_none=True, load_default=None)


class WaitingListChangedPayload(_Payload):
    waiting_list_open = fields.Boolean(allow_none=True, load_default=None)
    waiting_list_length = fields.Integer(allow_none=True, load_default=None)
    typical_wait_days = fields.Integer(allow_none=True, load_default=None)
    capacity = fields.Integer(allow_none=True, load_default=None)
    updated_at = fields.String(required=True)


PAYLOADS: dict[str, type[Schema]] = {
    SERVICE_PUBLISHED: ServicePublishedPayload,
    SERVICE_UPDATED: ServiceUpdatedPayload,
    SERVICE_WITHDRAWN: ServiceWithdrawnPayload,
    WAITING_LIST_CHANGED: WaitingListChangedPayload,
}


def payload(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """Check a payload against its schema before it enters the outbox."""
    schema = PAYLOADS[event_type]()
    schema.load(data)
    return data
