"""The one event envelope every Maillage event travels in.

Example (as JSON on the wire)::

    {
      "event_id": "01JD3Q8Z6W4K1T7X2M9R5B0C3E",
      "event_type": "participation.results_published",
      "schema_version": 1,
      "origin_node": "mrc-66023",
      "occurred_at": "2026-11-23T14:02:11.123456+00:00",
      "correlation_id": "5f0c1d0c8a0b4f2e",
      "payload": {"process_id": "...", "priorities": [...]},
      "signature": null,
      "key_id": null
    }

``event_id`` is a ULID-style identifier: 48 bits of milliseconds then 80 random
bits, in Crockford base32, so ids sort by creation time and are unique without
coordination. ``signature`` and ``key_id`` are set only on federated events.

A payload change bumps ``schema_version``; readers call :func:`upcast` so that
old events stored in outboxes or sent by older peers are read in today's shape.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates,
)

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
EVENT_TYPE_PATTERN = r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$"


def new_event_id(now_ms: int | None = None) -> str:
    """A 26-character, time-ordered, unique id (ULID layout)."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def event_id_floor(moment: datetime) -> str:
    """The smallest id made at ``moment``: ids below it were all made before."""
    value = int(moment.timestamp() * 1000) << 80
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def event_id_time(event_id: str) -> datetime:
    """When an id was made (millisecond precision)."""
    value = 0
    for char in event_id:
        value = value * 32 + _CROCKFORD.index(char)
    return datetime.fromtimestamp((value >> 80) / 1000, tz=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Envelope:
    event_type: str
    payload: dict[str, Any]
    origin_node: str
    schema_version: int = 1
    event_id: str = field(default_factory=new_event_id)
    occurred_at: datetime = field(default_factory=utcnow)
    correlation_id: str | None = None
    signature: str | None = None
    key_id: str | None = None

    @property
    def service(self) -> str:
        return self.event_type.split(".", 1)[0]

    def to_dict(self) -> dict[str, Any]:
        return _SCHEMA.dump(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Envelope:
        """Validate, then upcast to the current payload version."""
        envelope: Envelope = _SCHEMA.load(data)
        return upcast(envelope)

    def with_signature(self, signature: str, key_id: str) -> Envelope:
        return replace(self, signature=signature, key_id=key_id)

    def as_plain(self) -> dict[str, Any]:
        return asdict(self)


class EnvelopeSchema(Schema):
    """Checks every envelope, whatever its origin; unknown top-level keys are refused."""

    class Meta:
        unknown = RAISE

    event_id = fields.String(
        required=True, validate=validate.Regexp(r"^[0-9A-HJKMNP-TV-Z]{26}$")
    )
    event_type = fields.String(
        required=True, validate=validate.Regexp(EVENT_TYPE_PATTERN)
    )
    schema_version = fields.Integer(required=True, strict=True)
    origin_node = fields.String(required=True, validate=validate.Length(min=1, max=100))
    occurred_at = fields.AwareDateTime(required=True)  # a naive time is refused
    correlation_id = fields.String(allow_none=True, load_default=None)
    payload = fields.Dict(keys=fields.String(), required=True)
    signature = fields.String(allow_none=True, load_default=None)
    key_id = fields.String(allow_none=True, load_default=None)

    @validates("schema_version")
    def _positive(self, value: int, **_: Any) -> None:
        if value < 1:
            raise ValidationError("schema_version must be 1 or more")

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Envelope:
        data["occurred_at"] = data["occurred_at"].astimezone(UTC)
        return Envelope(**data)


_SCHEMA = EnvelopeSchema()  # stateless: one instance serves every call


# --- versioning -----------------------------------------------------------------

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
_UPCASTERS: dict[tuple[str, int], Upcaster] = {}
_CURRENT: dict[str, int] = {}


def register_upcaster(
    event_type: str, from_version: int
) -> Callable[[Upcaster], Upcaster]:
    """Declare how a payload of ``from_version`` becomes ``from_version + 1``.

    The current version of an event type is one more than its newest upcaster.
    """

    def decorator(func: Upcaster) -> Upcaster:
        _UPCASTERS[(event_type, from_version)] = func
        _CURRENT[event_type] = max(_CURRENT.get(event_type, 1), from_version + 1)
        return func

    return decorator


def current_version(event_type: str) -> int:
    return _CURRENT.get(event_type, 1)


def upcast(envelope: Envelope) -> Envelope:
    """Bring an envelope's payload to the current version, one step at a time."""
    payload, version = envelope.payload, envelope.schema_version
    while (envelope.event_type, version) in _UPCASTERS:
        payload = _UPCASTERS[(envelope.event_type, version)](dict(payload))
        version += 1
    if version == envelope.schema_version:
        return envelope
    return replace(envelope, payload=payload, schema_version=version)
