"""Values computed from other services' events: pure rules over projections.

The service keeps a small projection of what each event says (one document
per waiting-list state, per closed process, per decision) and recomputes the
affected data values from the whole projection, never by adding deltas. So
the result depends only on the *set* of events: delivered twice, or in another
order, or replayed from the start, the values are the same.

    waiting_totals([{"service_id": "s1", "updated_at": "2026-03-02T10:00:00Z",
                     "month": 24314, "length": 12, "days": 30}], 24314)
    -> (12.0, 360.0)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from services.indicators.domain import Hierarchy


def month_of(moment: str | date | datetime) -> int:
    """Month ordinal (``year * 12 + month - 1``) of an ISO date or datetime."""
    if isinstance(moment, str):
        moment = date.fromisoformat(moment[:10])
    return moment.year * 12 + moment.month - 1


def org_unit_for_codes(
    hierarchy: Hierarchy,
    mrc_codes: Sequence[str] = (),
    municipality_codes: Sequence[str] = (),
) -> str | None:
    """Where a service or process counts: its one municipality if it has
    exactly one, else its first MRC (counting it at each MRC would count it
    several times in the region). Accepts ``2437``/``cd:2437``,
    ``2437067``/``37067``/``csd:2437067``."""
    if len(municipality_codes) == 1:
        unit = municipality_unit(municipality_codes[0])
        if unit in hierarchy:
            return unit
    for code in mrc_codes:
        unit = mrc_unit(code)
        if unit in hierarchy:
            return unit
    return None


def mrc_unit(code: str) -> str:
    code = str(code)
    return code if ":" in code else f"cd:{code}"


def municipality_unit(code: str) -> str:
    code = str(code)
    if ":" in code:
        return code
    return f"csd:{code}" if len(code) == 7 else f"csd:24{code}"


def waiting_totals(
    states: Iterable[Mapping[str, Any]], month: int
) -> tuple[float, float] | None:
    """People waiting and days waited at the end of ``month``: for each service,
    its latest state up to that month (``length`` people, ``days`` typical
    wait each). ``None`` when no service had reported by then."""
    latest: dict[str, Mapping[str, Any]] = {}
    for state in states:
        if state["month"] > month:
            continue
        current = latest.get(state["service_id"])
        if current is None or (state["updated_at"], state["_id"]) > (
            current["updated_at"],
            current["_id"],
        ):
            latest[state["service_id"]] = state
    if not latest:
        return None
    people = sum(float(s.get("length") or 0) for s in latest.values())
    days = sum(
        float(s.get("length") or 0) * float(s.get("days") or 0) for s in latest.values()
    )
    return people, days


def decision_version(payload: Mapping[str, Any], occurred_at: str, event_id: str):
    """Later status changes win, whatever order they arrive in."""
    return [str(payload["on"]), occurred_at, event_id]


def decision_counts(
    decisions: Iterable[Mapping[str, Any]], month: int
) -> tuple[int, int]:
    """Decisions due in ``month`` (cancelled ones excepted) and, of those, the
    ones done by their due date."""
    due = 0
    on_time = 0
    for decision in decisions:
        if decision.get("due_month") != month or decision.get("status") == "cancelled":
            continue
        due += 1
        done_on = decision.get("done_on")
        if decision.get("status") == "done" and done_on and done_on <= decision["due"]:
            on_time += 1
    return due, on_time


def open_without_referral(services: Iterable[Mapping[str, Any]], month: int) -> int:
    """Services published by ``month``, not withdrawn by then, needing no
    referral."""
    return sum(
        1
        for s in services
        if s.get("no_referral")
        and s.get("published_month") is not None
        and s["published_month"] <= month
        and (s.get("withdrawn_month") is None or s["withdrawn_month"] > month)
    )
