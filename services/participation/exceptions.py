"""Map the domain's refusals to the shared error types (422, 409, 403, 404)."""

from __future__ import annotations

from services.participation.domain import ParticipationRefused
from shared.errors import Conflict, Forbidden, Invalid, MaillageError, NotFound

__all__ = ["Conflict", "Forbidden", "Invalid", "NotFound", "from_refusal"]


def from_refusal(exc: ParticipationRefused) -> MaillageError:
    r = exc.refusal
    if r.kind == "invalid":
        return Invalid({r.field: [f"{r.fr} / {r.en}"]})
    if r.kind == "forbidden":
        return Forbidden(r.fr, r.en, details={"field": r.field})
    return Conflict(r.fr, r.en, details={"field": r.field})
