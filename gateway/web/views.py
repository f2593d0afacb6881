"""Pure view models: what a page shows, computed from what a service returned.

No I/O here, so the rules people rely on are unit-tested with plain values:
a confidential location never shows an address or a way to find it; the
budget basket tells what remains; a ranking typed in boxes (no drag-and-drop)
becomes an ordered ballot with each error named; a suppressed indicator cell
stays "suppressed", never 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


# --- find help -----------------------------------------------------------------------


def _locations(service: dict[str, Any]) -> list[dict[str, Any]]:
    """HSDS 3.0 nests locations under ``service_at_locations``; accept both."""
    found = []
    for link in service.get("service_at_locations") or []:
        location = link.get("location") if isinstance(link, dict) else None
        if isinstance(location, dict):
            found.append(location)
    found.extend(x for x in service.get("locations") or [] if isinstance(x, dict))
    return found


def public_places(service: dict[str, Any]) -> list[dict[str, Any]]:
    """Where to go, without ever revealing a confidential location.

    >>> public_places({"locations": [{"name": "Refuge", "confidential_location":
    ...     True, "addresses": [{"address_1": "1 rue X", "city": "Y"}]}]})
    [{'name': 'Refuge', 'confidential': True, 'address': [], 'transportation': '', 'accessibility': ''}]
    """
    places = []
    for location in _locations(service):
        confidential = location.get("confidential_location") is True
        address: list[str] = []
        if not confidential:
            for item in location.get("addresses") or []:
                if item.get("address_type", "physical") != "physical":
                    continue
                line = ", ".join(
                    str(item[k]) for k in ("address_1", "address_2") if item.get(k)
                )
                city = " ".join(
                    str(item[k])
                    for k in ("city", "state_province", "postal_code")
                    if item.get(k)
                )
                address.extend(x for x in (line, city) if x)
        places.append(
            {
                "name": location.get("name") or "",
                "confidential": confidential,
                "address": address,
                "transportation": ""
                if confidential
                else str(location.get("transportation") or ""),
                "accessibility": ""
                if confidential
                else "; ".join(
                    str(a.get("description") or "")
                    for a in location.get("accessibility") or []
                    if a.get("description")
                ),
            }
        )
    return places


def waiting_list(service: dict[str, Any]) -> dict[str, Any]:
    """``open``, ``closed`` or ``unknown``, with the length and wait if known."""
    flag = service.get("waiting_list_open")
    state = "unknown" if flag is None else ("open" if flag else "closed")
    return {
        "state": state,
        "length": service.get("waiting_list_length"),
        "wait_days": service.get("typical_wait_days"),
        "updated": service.get("waiting_list_updated_at"),
    }


def schedule_rows(service: dict[str, Any]) -> list[dict[str, Any]]:
    """Opening hours in week order (HSDS ``byday`` like ``MO,TU``)."""
    rows = []
    schedules = list(service.get("schedules") or [])
    for location in _locations(service):
        if location.get("confidential_location") is not True:
            schedules.extend(location.get("schedules") or [])
    for item in schedules:
        days = [d.strip().upper() for d in str(item.get("byday") or "").split(",")]
        days = [d for d in days if d in DAYS]
        rows.append(
            {
                "days": days,
                "opens": str(item.get("opens_at") or "")[:5],
                "closes": str(item.get("closes_at") or "")[:5],
                "note": str(item.get("description") or item.get("notes") or ""),
                "order": DAYS.index(days[0]) if days else len(DAYS),
            }
        )
    return sorted(rows, key=lambda r: (r["order"], r["opens"]))


def languages(service: dict[str, Any]) -> list[str]:
    names = []
    for item in service.get("languages") or []:
        name = item.get("name") or item.get("code") if isinstance(item, dict) else item
        if name:
            names.append(str(name))
    return names


def outreach_modes(service: dict[str, Any]) -> list[str]:
    raw = service.get("outreach_modes") or ""
    items = raw if isinstance(raw, list) else str(raw).split(",")
    return [m.strip() for m in items if m and m.strip()]


# --- take part -----------------------------------------------------------------------


@dataclass
class BallotForm:
    """A ballot read from a form: the choices, or the errors to show per field."""

    choices: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def read_ranking(form: dict[str, str], options: list[str]) -> BallotForm:
    """Ranks typed or chosen per option (``rank-<id>``): 1 first; blank = unranked.

    Works with a keyboard and a screen reader: no drag-and-drop. Ranks must be
    1..n without gaps or repeats, so the ballot means what the person read::

        read_ranking({"rank-a": "2", "rank-b": "1", "rank-c": ""}, ["a", "b", "c"])
        -> BallotForm(choices=["b", "a"], errors={})
    """
    ranks: dict[str, int] = {}
    result = BallotForm()
    for option in options:
        raw = (form.get(f"rank-{option}") or "").strip()
        if not raw:
            continue
        if not raw.isdigit() or not 1 <= int(raw) <= len(options):
            result.errors[f"rank-{option}"] = "rank.range"
            continue
        ranks[option] = int(raw)
    if result.errors:
        return result
    if not ranks:
        result.errors["ranking"] = "rank.empty"
        return result
    by_rank: dict[int, list[str]] = {}
    for option, rank in ranks.items():
        by_rank.setdefault(rank, []).append(option)
    for same in by_rank.values():
        if len(same) > 1:
            for option in same:
                result.errors[f"rank-{option}"] = "rank.repeated"
    if not result.errors and sorted(by_rank) != list(range(1, len(by_rank) + 1)):
        result.errors["ranking"] = "rank.gap"
    if not result.errors:
        result.choices = [by_rank[r][0] for r in sorted(by_rank)]
    return result


def money(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def basket(budget: Any, costs: dict[str, Any], selected: list[str]) -> dict[str, Any]:
    """What the ticked projects cost and what remains; over budget is refused.

    >>> basket(1000, {"a": 600, "b": 300, "c": 500}, ["a", "b"])["remaining"]
    Decimal('100')
    """
    total = sum((money(costs[p]) for p in selected if p in costs), Decimal(0))
    limit = money(budget)
    return {
        "budget": limit,
        "spent": total,
        "remaining": limit - total,
        "over": total > limit,
        "selected": [p for p in selected if p in costs],
    }


def follow_rounds(
    result: dict[str, Any], titles: dict[str, str]
) -> list[dict[str, Any]]:
    """Rounds as rows a person can follow: counts, who left or won, transfers.

    ``result`` is the tally's ``{"method", "winners", "rounds": [{"number",
    "action", "counts", "candidates", "transfers", "exhausted", "threshold"}]}``.
    """
    rows = []
    for item in result.get("rounds") or []:
        counts = item.get("counts") or {}
        ordered = sorted(counts.items(), key=lambda kv: (-float(kv[1]), kv[0]))
        rows.append(
            {
                "number": item.get("number"),
                "action": item.get("action") or "",
                "counts": [
                    {
                        "id": key,
                        "title": titles.get(key, key),
                        "count": value,
                        "transfer": (item.get("transfers") or {}).get(key),
                    }
                    for key, value in ordered
                ],
                "candidates": [titles.get(c, c) for c in item.get("candidates") or []],
                "exhausted": item.get("exhausted") or 0,
                "threshold": item.get("threshold"),
                "note": item.get("note") or "",
            }
        )
    return rows


# --- boards --------------------------------------------------------------------------


def next_meeting(meetings: list[dict[str, Any]], today: str) -> dict[str, Any] | None:
    """The next public meeting not yet held (``scheduled`` or ``open``), if any.

    Accepts the public register's meetings (``date``) or stored ones
    (``scheduled_at``); ``today`` is an ISO date.
    """

    def when(m: dict[str, Any]) -> str:
        return str(m.get("date") or m.get("scheduled_at") or "")

    ahead = [
        m
        for m in meetings
        if m.get("status") in ("scheduled", "open")
        and m.get("kind", "public") != "closed"
        and when(m)[:10] >= today[:10]
    ]
    return min(ahead, key=when) if ahead else None


def public_agenda(meeting: dict[str, Any]) -> list[dict[str, Any]]:
    """Items a citizen may see; in-camera items are counted, never titled.

    Citizens' priorities (``source: participation``) keep their rank, so the
    page can show which came first in the vote.
    """
    items = []
    for item in meeting.get("agenda") or []:
        process = item.get("participation_process") or item.get("process_id")
        citizen = item.get("source") == "participation" or bool(process)
        items.append(
            {
                "title": None if item.get("in_camera") else item.get("title"),
                "in_camera": bool(item.get("in_camera")),
                "citizen_priority": citizen,
                "process": process,
                "rank": item.get("rank"),
                "source": item.get("source") or "",
            }
        )
    return items


# --- published vote figures ----------------------------------------------------------


def whole_number(value: int, lang: str) -> str:
    """``1234`` as read: "1 234" (narrow no-break space) in French, "1,234" in English."""
    text = f"{int(value):,}"
    return text.replace(",", "\u202f") if lang == "fr" else text


def vote_figures(results: dict[str, Any], lang: str) -> dict[str, str | None] | None:
    """Ballots cast and turnout of a closed vote, from ``participation.get_results``.

    Not small-cell suppressed as the indicators are: these are the published
    results of a public vote (the round-by-round counts on the results page
    already add up to them), so a small count gives nothing away that the
    results do not. The turnout uses the eligible count the results carry
    (``None`` when the process declared none, or when the ballots outnumbered
    it): then no turnout is shown, never a guessed one::

        vote_figures({"ballots": 9, "eligible_count": 26}, "fr")
        -> {"ballots": "9", "eligible": "26", "turnout": "34,6\u00a0%"}
    """
    ballots = results.get("ballots")
    if ballots is None:
        return None
    eligible = results.get("eligible_count")
    figures: dict[str, str | None] = {
        "ballots": whole_number(int(ballots), lang),
        "eligible": None,
        "turnout": None,
    }
    if eligible and int(ballots) <= int(eligible):
        share = (Decimal(int(ballots)) * 100 / Decimal(int(eligible))).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )
        figures["eligible"] = whole_number(int(eligible), lang)
        figures["turnout"] = (
            f"{str(share).replace('.', ',')}\u00a0%" if lang == "fr" else f"{share}%"
        )
    return figures


# --- indicators ----------------------------------------------------------------------


def cell_text(point: dict[str, Any], lang: str) -> str:
    """A value as read in a table: suppressed is said, missing is a dash, never 0."""
    if point.get("suppressed"):
        return "supprimé" if lang == "fr" else "suppressed"
    value = point.get("value")
    if value is None:
        return "—"
    number = float(value)
    text = f"{number:,.1f}" if number != int(number) else f"{int(number):,}"
    if lang == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


def utcnow_iso() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat()


def current_phase(phases: dict[str, Any], closed: bool, now_iso: str) -> str | None:
    """The phase whose ``[start, end)`` holds ``now`` (ISO strings, UTC).

    >>> current_phase({"voting": ["2026-01-01T00:00:00+00:00",
    ...                           "2026-02-01T00:00:00+00:00"]}, False,
    ...               "2026-01-15T00:00:00+00:00")
    'voting'
    """
    from datetime import UTC, datetime

    def aware(text: str) -> datetime:
        moment = datetime.fromisoformat(text)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    if closed:
        return "results"
    now = aware(now_iso)
    for name, span in phases.items():
        try:
            start, end = (aware(str(v)) for v in span)
        except (TypeError, ValueError):
            continue
        if start <= now < end:
            return name
    return None
